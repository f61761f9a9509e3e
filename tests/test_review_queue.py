"""The review queue: a figure a thousand times too big loads, is held for a decision, and moves no
mart that feeds a release until an engineer confirms it. Real ingest and dbt, on a copy of the test
run's whole pipeline (releases published)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import pipeline_clone
from corpus import send_return

from efficiency_warehouse import local_airflow, outputs_index, pipeline, review, warehouse

YEAR, KIND = "2010-11", "actual"


@pytest.fixture(scope="module")
def published(pipeline_snapshots, tmp_path_factory):
    with pipeline_clone(pipeline_snapshots["full"], tmp_path_factory.mktemp("review_queue")) as root:
        yield root


def query(statement: str, *params) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(statement, params).fetchall()


def national_figure() -> Decimal:
    return query(
        "select reported_gains_gbp_millions from marts.national_efficiency_position"
        " where financial_year = %s and return_type = %s",
        YEAR,
        KIND,
    )[0][0]


def council_figure(code: str) -> Decimal:
    return query(
        "select actual_gbp_thousands from marts.council_efficiency_position"
        " where council_code = %s and financial_year = %s",
        code,
        YEAR,
    )[0][0]


def pending_item(code: str) -> dict:
    with warehouse.connect() as conn:
        [item] = [i for i in review.pending(conn) if i["council_code"] == code]
    return item


def test_a_figure_in_pounds_not_thousands_is_held_and_moves_no_mart(published):
    code = "E06000001"
    national_before, council_before = national_figure(), council_figure(code)

    send_return(published / "landing", code, council_before * 1000, "hartlepool_in_pounds.csv")

    item = pending_item(code)
    assert (item["financial_year"], item["return_type"], item["rules"]) == (
        YEAR,
        KIND,
        ["far_from_previous_return", "implausible_for_council_size"],
    )
    assert Decimal(item["value_received"]) == council_before * 1000
    pipeline.build_marts()
    assert (national_figure(), council_figure(code)) == (national_before, council_before)
    kept = query(
        "select count(*) from raw.council_returns where council_code = %s and financial_year = %s and return_type = %s",
        code,
        YEAR,
        KIND,
    )
    assert kept[0][0] == 2, "the held row stays in the warehouse's history beside the one that stands"


def test_a_rejected_figure_never_reaches_the_marts_and_a_confirmed_one_does(published):
    rejected_code, confirmed_code = "E06000002", "E06000003"
    national_before = national_figure()
    rejected_before, confirmed_before = council_figure(rejected_code), council_figure(confirmed_code)
    send_return(published / "landing", rejected_code, rejected_before * 1000, "middlesbrough_in_pounds.csv")
    send_return(published / "landing", confirmed_code, confirmed_before * 1000, "redcar_very_large.csv")

    with warehouse.connect() as conn:
        review.decide(conn, pending_item(rejected_code)["review_id"], "rejected", "a.engineer", "given in pounds")
        confirmed_id = pending_item(confirmed_code)["review_id"]
        review.decide(conn, confirmed_id, "confirmed", "a.engineer", "council confirmed by phone")
    pipeline.build_marts()

    assert council_figure(rejected_code) == rejected_before
    assert council_figure(confirmed_code) == confirmed_before * 1000
    moved = (confirmed_before * 1000 - confirmed_before) / 1000
    assert abs(national_figure() - (national_before + moved)) <= Decimal("0.1")
    [(decision, by, reason, decided)] = query(
        "select decision, decided_by, decision_reason, decided_at is not null from ingest.review_items"
        " where review_id = %s",
        confirmed_id,
    )
    assert (decision, by, reason, decided) == ("confirmed", "a.engineer", "council confirmed by phone", True)


def test_a_decision_needs_a_reason_and_is_made_once(published):
    code = "E06000004"
    send_return(published / "landing", code, council_figure(code) * 1000, "stockton_in_pounds.csv")
    review_id = pending_item(code)["review_id"]
    with warehouse.connect() as conn:
        with pytest.raises(review.ReviewError, match="who decides and why"):
            review.decide(conn, review_id, "rejected", "a.engineer", " ")
        with pytest.raises(review.ReviewError, match="must be one of"):
            review.decide(conn, review_id, "maybe", "a.engineer", "unsure")
        review.decide(conn, review_id, "rejected", "a.engineer", "given in pounds")
        with pytest.raises(review.ReviewError, match="already rejected"):
            review.decide(conn, review_id, "confirmed", "b.engineer", "changed my mind")


def test_the_command_line_and_the_airflow_dag_decide_in_the_same_table(published, airflow_metadata, capsys):
    by_cli, by_dag = "E06000005", "E06000006"
    send_return(published / "landing", by_cli, council_figure(by_cli) * 1000, "darlington_in_pounds.csv")
    send_return(published / "landing", by_dag, council_figure(by_dag) * 1000, "halton_very_large.csv")
    assert review.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert by_cli in listed and by_dag in listed and "implausible_for_council_size" in listed
    cli_id, dag_id = pending_item(by_cli)["review_id"], pending_item(by_dag)["review_id"]

    assert review.main(["reject", str(cli_id), "--by", "a.engineer", "--reason", "given in pounds"]) == 0
    decision = {"review_id": dag_id, "decision": "confirmed", "decided_by": "b.engineer", "reason": "council confirmed"}
    local_airflow.run_dag(local_airflow.load_dags()["review_decision"], run_conf=decision)

    recorded = query(
        "select review_id, decision, decided_by, decision_reason from ingest.review_items"
        " where review_id in (%s, %s) order by review_id",
        cli_id,
        dag_id,
    )
    assert recorded == [
        (cli_id, "rejected", "a.engineer", "given in pounds"),
        (dag_id, "confirmed", "b.engineer", "council confirmed"),
    ]
    assert review.main(["confirm", str(cli_id), "--by", "c.engineer", "--reason", "second thoughts"]) == 2
    assert "already rejected" in capsys.readouterr().err


@pytest.mark.fast
def test_the_outputs_index_says_how_many_are_held_and_how_to_decide(tmp_path):
    items = [
        {"financial_year": "2010-11", "return_type": "actual", "council_code": code}
        for code in ("E06000001", "E06000002")
    ] + [{"financial_year": "2009-10", "return_type": "forecast", "council_code": "E06000003"}]
    page = outputs_index.write_index(tmp_path, held_for_review=items).read_text()
    assert "Returns held for review: 3 pending" in page
    assert "<li>2009-10 forecast: 1</li><li>2010-11 actual: 2</li>" in page
    assert "make review" in page and "review_decision" in page
    assert "Returns held for review</h2><p>None, as at" in outputs_index.write_index(tmp_path).read_text()
