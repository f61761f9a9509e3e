"""The council return rules that need the warehouse's context: filing windows, council size, the
council's own forecast and previous year; and resubmissions. Real ingest, real dbt, embedded PostgreSQL."""

from __future__ import annotations

import pytest
from corpus import csv_bytes, drop, outcome_of

from efficiency_warehouse import ingest, pipeline, review, warehouse
from efficiency_warehouse.datasets import COUNCIL_BASELINES, COUNCIL_RETURNS

HEADER = COUNCIL_RETURNS.column_names


def row(code: str, year: str = "2009-10", kind: str = "forecast", value: str = "1000.0", date: str = "") -> dict:
    due = {"forecast": f"{year[:4]}-10-15", "actual": f"{int(year[:4]) + 1}-07-15"}[kind]
    return dict.fromkeys(HEADER, "") | {
        "council_code": code,
        "financial_year": year,
        "return_type": kind,
        "ni179_value_gbp_thousands": value,
        "submitted_date": date or due,
    }


@pytest.fixture(scope="module", autouse=True)
def baselines(reference_loaded, tmp_path_factory):
    """Hartlepool's 2007-08 baseline: £100m, so £50m of gains would be half its spending."""
    landing = tmp_path_factory.mktemp("baselines")
    mp = pytest.MonkeyPatch()
    mp.setenv("LANDING_DIR", str(landing))
    mp.setenv("RECEIVED_DIR", str(landing / "received"))
    line = {"council_code": "E06000001", "baseline_year": "2007-08"}
    content = csv_bytes(
        COUNCIL_BASELINES.column_names,
        [line | {"revenue_gbp_thousands": "80000.0", "capital_gbp_thousands": "20000.0"}],
    )
    drop(landing, COUNCIL_BASELINES, "baselines.csv", content)
    assert [r.status for r in ingest.ingest_landing(COUNCIL_BASELINES)] == ["loaded"]
    mp.undo()


def ingest_rows(folders, name: str, rows: list[dict]):
    drop(folders["landing"], COUNCIL_RETURNS, name, csv_bytes(HEADER, rows))
    ingest.ingest_landing(COUNCIL_RETURNS)
    return outcome_of(name)


def raw_warnings(file_name: str) -> dict[int, list[str]]:
    with warehouse.connect() as conn:
        return dict(
            conn.execute(
                "select source_row_number, validation_warnings from raw.council_returns"
                " join ingest.load_manifest using (manifest_id) where file_name = %s",
                (file_name,),
            ).fetchall()
        )


def test_late_return_loads_flagged_and_early_one_loads_clean(folders):
    outcome = ingest_rows(
        folders,
        "timing.csv",
        [row("E06000002", date="2009-11-20"), row("E06000003", date="2009-09-01"), row("E06000004")],
    )
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 3)
    assert [(w[0], w[3]) for w in outcome.warnings] == [(2, "late_return")]
    assert raw_warnings("timing.csv") == {2: ["late_return"], 3: [], 4: []}


@pytest.mark.parametrize(
    ("kind", "date", "timing"),
    [
        ("actual", "2010-02-01", "actual_before_year_end"),
        ("forecast", "2010-05-01", "forecast_after_year_end"),
        ("forecast", "2009-02-01", "forecast_before_year"),
        ("actual", "2099-07-01", "in_the_future"),
    ],
)
def test_a_date_that_contradicts_the_return_type_stops_the_row(folders, kind, date, timing):
    outcome = ingest_rows(folders, f"contradiction_{timing}.csv", [row("E06000005", kind=kind, date=date)])
    assert (outcome.status, outcome.rows_quarantined) == ("rejected", 1)
    [(row_number, column, value, rule, message)] = outcome.quarantine
    assert (row_number, column, value, rule) == (2, "submission_timing", timing, "submitted_date_fits_return_type")
    assert "after that year has ended on 31 March" in message


def test_negative_and_implausibly_large_values_load_flagged(folders):
    outcome = ingest_rows(folders, "size.csv", [row("E06000001", value="50000.0"), row("E06000006", value="-250.0")])
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2)
    found = {(w[0], w[3]): w for w in outcome.warnings}
    assert set(found) == {(2, "implausible_for_council_size"), (3, "negative_value")}
    assert found[(2, "implausible_for_council_size")][2] == "0.500"  # half of its £100m baseline
    assert "£ rather than £ thousands" in found[(2, "implausible_for_council_size")][4]


def test_actual_far_below_the_councils_own_forecast_is_flagged(folders):
    ingest_rows(folders, "forecast.csv", [row("E06000007", value="1000.0"), row("E06000008", value="1000.0")])
    outcome = ingest_rows(
        folders,
        "actual.csv",
        [row("E06000007", kind="actual", value="300.0"), row("E06000008", kind="actual", value="900.0")],
    )
    assert outcome.status == "loaded"
    assert [(w[0], w[3], w[2]) for w in outcome.warnings] == [(2, "actual_far_below_forecast", "0.300")]


def test_a_cumulative_figure_that_falls_from_one_year_to_the_next_is_flagged(folders):
    ingest_rows(folders, "year_one.csv", [row("E06000009", year="2009-10", kind="actual", value="1000.0")])
    outcome = ingest_rows(folders, "year_two.csv", [row("E06000009", year="2010-11", kind="actual", value="800.0")])
    assert [(w[3], w[2]) for w in outcome.warnings] == [("cumulative_value_fell", "-200.0")]


def test_a_resubmission_far_from_the_return_it_replaces_is_held_and_judged_against_the_one_that_stands(folders):
    ingest_rows(folders, "first.csv", [row("E06000013", value="1000.0"), row("E06000014", value="1000.0")])
    outcome = ingest_rows(
        folders,
        "resubmitted.csv",
        [row("E06000013", value="3000.0", date="2009-10-30"), row("E06000014", value="1900.0", date="2009-10-30")],
    )
    assert [(w[0], w[3], w[2]) for w in outcome.warnings] == [(2, "far_from_previous_return", "3.0")]
    with warehouse.connect() as conn:
        [(held_id,)] = conn.execute(
            "select review_id from ingest.review_items where council_code = 'E06000013' and decision = 'pending'"
        ).fetchall()
        review.decide(conn, held_id, "rejected", "a.engineer", "a typing slip")

    # the correction is compared with the 1000 that stands, not the rejected 3000
    corrected = ingest_rows(folders, "corrected.csv", [row("E06000013", value="1100.0", date="2009-10-31")])
    assert corrected.warnings == []


def test_resubmission_supersedes_and_history_stays_queryable(folders):
    ingest_rows(folders, "first_submission.csv", [row("E06000010", value="1000.0")])
    ingest_rows(folders, "resubmission.csv", [row("E06000010", value="1200.0", date="2009-10-30")])

    pipeline.build_marts()

    with warehouse.connect() as conn:
        history = conn.execute(
            "select file_name, ni179_value_gbp_thousands::text, is_current, superseded_at is not null"
            " from marts.council_return_submissions where council_code = 'E06000010' order by received_at, manifest_id"
        ).fetchall()
        current = conn.execute(
            "select ni179_value_gbp_thousands::text, submissions_count"
            " from intermediate.int_council_returns_deduplicated"
            " where council_code = 'E06000010' and financial_year = '2009-10' and return_type = 'forecast'"
        ).fetchall()
    assert history == [("first_submission.csv", "1000.0", False, True), ("resubmission.csv", "1200.0", True, False)]
    assert current == [("1200.0", 2)]


def test_a_corrected_file_sent_later_loads_normally(folders):
    bad = ingest_rows(folders, "with_error.csv", [row("E06000011", value="1,000"), row("E06000012")])
    assert (bad.status, bad.rows_loaded, bad.rows_quarantined) == ("loaded_with_quarantine", 1, 1)

    fixed = ingest_rows(folders, "corrected.csv", [row("E06000011", value="1000.0"), row("E06000012")])

    assert (fixed.status, fixed.rows_loaded, fixed.quarantine) == ("loaded", 2, [])
    assert outcome_of("with_error.csv").quarantine  # the first file's quarantine stays, as history
