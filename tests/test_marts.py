"""The ICE Programme Board's marts on the sample data, built by the whole pipeline through Airflow.

The warehouse is caught in autumn 2010: the 2010-11 actuals (due July 2011) have not arrived, and one
council never sent its 2009-10 forecast. So the marts must flag missing returns and project 2010-11's
outturn from forecasts.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from conftest import councils_held_without_fallback

from efficiency_warehouse import local_airflow, pipeline, warehouse
from efficiency_warehouse.datasets import COUNCIL_BASELINES, COUNCIL_RETURNS
from efficiency_warehouse.ingest import landing_folder
from efficiency_warehouse.sample_data import generate_returns, write_sample_baselines, write_sample_returns

YEARS = ("2008-09", "2009-10", "2010-11")
COUNCILS_EXPECTED = {"2008-09": 388, "2009-10": 353, "2010-11": 353}
NOT_YET_ARRIVED = "ni179_2010-11_actual.csv"
FORECAST_FILE_WITH_A_GAP = "ni179_2009-10_forecast.csv"


# The DAGs that build the efficiency marts, in the order the Assets chain them, after the reference data
# (a copy of the test run's reference template); the RIEP and simplification ingests feed other marts
# and are left out to keep the module quick.
EFFICIENCY_DAG_IDS = ("council_baselines_ingest", "council_returns_ingest", "warehouse_transform")


@pytest.fixture(scope="module")
def pipeline_run(reference_loaded, airflow_metadata, tmp_path_factory):
    root = tmp_path_factory.mktemp("marts")
    mp = pytest.MonkeyPatch()
    mp.setenv("LANDING_DIR", str(root / "landing"))
    mp.setenv("RECEIVED_DIR", str(root / "received"))
    mp.setenv("OUTPUTS_DIR", str(root / "outputs"))
    write_sample_baselines(landing_folder(COUNCIL_BASELINES))  # what make run seeds for these two datasets
    write_sample_returns(landing_folder(COUNCIL_RETURNS))
    returns_landing = landing_folder(COUNCIL_RETURNS)
    (returns_landing / NOT_YET_ARRIVED).unlink()
    forecasts = returns_landing / FORECAST_FILE_WITH_A_GAP
    lines = forecasts.read_text(encoding="utf-8").splitlines(keepends=True)
    missing_council = lines[101].split(",", 1)[0]  # one council's 2009-10 forecast never arrives
    forecasts.write_text("".join(lines[:101] + lines[102:]), encoding="utf-8")
    dags = local_airflow.load_dags()
    for dag_id in EFFICIENCY_DAG_IDS:
        local_airflow.run_dag(dags[dag_id])  # raises if the run fails
    yield {"root": root, "missing_council": missing_council}
    mp.undo()


def query(statement: str, *params) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(statement, params).fetchall()


def as_dicts(statement: str) -> list[dict]:
    with warehouse.connect() as conn:
        cursor = conn.execute(statement)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def national() -> dict[tuple[str, str], dict]:
    rows = as_dicts("select * from marts.national_efficiency_position")
    return {(r["financial_year"], r["return_type"]): r for r in rows}


def test_council_mart_has_one_row_per_expected_council_per_year(pipeline_run):
    counts = dict(
        query(
            "select financial_year, count(distinct council_code) from marts.council_efficiency_position"
            " group by financial_year"
        )
    )
    assert counts == COUNCILS_EXPECTED
    assert query("select count(*) from marts.council_efficiency_position") == [(388 + 353 + 353,)]
    abolished = dict(
        query(
            "select financial_year, count(*) from marts.council_efficiency_position"
            " where is_abolished_in_2009 group by financial_year"
        )
    )
    assert abolished == {"2008-09": 44}


def test_council_mart_flags_missing_returns(pipeline_run):
    missing = defaultdict(set)
    for code, year, forecast_missing, actual_missing in query(
        "select council_code, financial_year, is_forecast_missing, is_actual_missing"
        " from marts.council_efficiency_position"
    ):
        if forecast_missing:
            missing[(year, "forecast")].add(code)
        if actual_missing:
            missing[(year, "actual")].add(code)
    held = councils_held_without_fallback()  # their only return is held for review: missing until decided
    assert missing[("2009-10", "forecast")] == {pipeline_run["missing_council"]} | held.get(
        ("2009-10", "forecast"), set()
    )
    assert len(missing[("2010-11", "actual")]) == 353
    assert set(missing) == {("2009-10", "forecast"), ("2010-11", "actual")} | set(held)
    for cycle, codes in held.items():
        assert codes <= missing[cycle]
    for (year, kind), row in national().items():
        assert row["councils_missing"] == len(missing[(year, kind)])


def test_variance_is_actual_minus_forecast(pipeline_run):
    rows = query(
        "select forecast_gbp_thousands, actual_gbp_thousands, variance_gbp_thousands"
        " from marts.council_efficiency_position"
    )
    for forecast, actual, variance in rows:
        assert variance == (actual - forecast if forecast is not None and actual is not None else None)


def test_low_reporters_are_the_councils_far_below_the_path(pipeline_run):
    rows = as_dicts(
        "select council_code, financial_year, forecast_share_of_baseline, actual_share_of_baseline,"
        " target_cumulative_rate, low_reporter_threshold_share, is_low_reporter from marts.council_efficiency_position"
    )
    delayed = {  # the sample's councils whose savings programmes slipped: a twentieth of their peers' gains
        (row["council_code"], row["financial_year"])
        for file_rows in generate_returns().values()
        for row in file_rows
        if row.get("comment", "").startswith("Savings programme delayed")
    }
    flagged = {(r["council_code"], r["financial_year"]) for r in rows if r["is_low_reporter"]}
    assert delayed and delayed <= flagged
    assert len(flagged) < 0.05 * len(rows)
    for r in rows:
        assert float(r["low_reporter_threshold_share"]) == pytest.approx(
            float(r["target_cumulative_rate"]) / 3, abs=1e-6
        )
        share = (
            r["actual_share_of_baseline"]
            if r["actual_share_of_baseline"] is not None
            else r["forecast_share_of_baseline"]
        )
        assert r["is_low_reporter"] == (None if share is None else share < r["low_reporter_threshold_share"])


def test_series_rolls_predecessors_up_to_the_353_councils(pipeline_run):
    assert dict(
        query("select financial_year, count(*) from marts.council_efficiency_series group by financial_year")
    ) == dict.fromkeys(YEARS, 353)
    filed = dict(
        query(
            "select financial_year, sum(coalesce(forecast_gbp_thousands, 0)) from marts.council_efficiency_position"
            " group by financial_year"
        )
    )
    series = dict(
        query(
            "select financial_year, sum(coalesce(forecast_gbp_thousands, 0)) from marts.council_efficiency_series"
            " group by financial_year"
        )
    )
    for year in YEARS:
        assert float(series[year]) == pytest.approx(float(filed[year]), abs=1.0)
    # Cheshire East in 2008-09: its share of Cheshire County Council plus its three districts, whole
    (expected,) = query(
        "select sum(p.forecast_gbp_thousands * s.apportionment_share)"
        " from marts.council_efficiency_position p"
        " join reference.council_successions s on p.council_code = s.predecessor_code"
        " where s.successor_code = 'E06000049' and p.financial_year = '2008-09'"
    )[0]
    (rolled_up, includes_predecessors, returns_expected) = query(
        "select forecast_gbp_thousands, includes_predecessors, returns_expected_count"
        " from marts.council_efficiency_series where council_code = 'E06000049' and financial_year = '2008-09'"
    )[0]
    assert float(rolled_up) == pytest.approx(float(expected), abs=0.051)
    assert (includes_predecessors, returns_expected) == (True, 4)


def test_regional_totals_add_up_to_national(pipeline_run):
    regional = defaultdict(lambda: [Decimal(0), 0, 0, Decimal(0)])
    for year, kind, gains, expected, reported, share in query(
        "select financial_year, return_type, reported_gains_gbp_millions, councils_expected, councils_reported,"
        " coalesce(share_of_national_gains, 0) from marts.regional_efficiency_position"
    ):
        totals = regional[(year, kind)]
        totals[0] += gains
        totals[1] += expected
        totals[2] += reported
        totals[3] += share
    positions = national()
    assert set(regional) == set(positions)
    for key, (gains, expected, reported, share) in regional.items():
        assert float(gains) == pytest.approx(float(positions[key]["reported_gains_gbp_millions"]), abs=0.5)
        assert (expected, reported) == (positions[key]["councils_expected"], positions[key]["councils_reported"])
        assert float(share) == pytest.approx(1 if reported else 0, abs=1e-4)
    assert query("select count(distinct region_code) from marts.regional_efficiency_position") == [(9,)]


def test_scorecard_follows_six_cycles_for_england_and_nine_regions(pipeline_run):
    cycles = query("select cycle_number, cycle_label, financial_year, return_type from marts.return_cycles order by 1")
    assert [(c[0], c[2], c[3]) for c in cycles] == [
        (1, "2008-09", "forecast"),
        (2, "2008-09", "actual"),
        (3, "2009-10", "forecast"),
        (4, "2009-10", "actual"),
        (5, "2010-11", "forecast"),
        (6, "2010-11", "actual"),
    ]
    assert cycles[0][1] == "October 2008: 2008-09 forecast"
    assert cycles[5][1] == "July 2011: 2010-11 actual"
    rows = as_dicts("select * from marts.board_scorecard order by cycle_number, area_code")
    assert len(rows) == 6 * 10
    england = {r["cycle_number"]: r for r in rows if r["area_level"] == "england"}
    assert sorted(england) == [1, 2, 3, 4, 5, 6]
    positions = national()
    for number, _, year, kind in cycles:
        row = england[number]
        assert row["reported_gains_gbp_millions"] == positions[(year, kind)]["reported_gains_gbp_millions"]
        regions_judged = [r["is_on_target_path"] for r in rows if r["cycle_number"] == number and r["riep_name"]]
        assert row["regions_on_target_path"] == regions_judged.count(True)
        assert row["regions_behind_target_path"] == regions_judged.count(False)
    assert england[6]["councils_reported"] == 0  # the July 2011 actuals have not arrived
    assert {r["is_on_target_path"] for r in rows if r["cycle_number"] == 6} == {None}
    assert england[2]["is_on_target_path"] is True  # 2008-09's actual beat the path, as it did in reality


def test_projected_outturn_is_the_actual_or_the_forecast_adjusted_by_earlier_outturn(pipeline_run):
    positions = national()
    for year in ("2008-09", "2009-10"):
        for kind in ("forecast", "actual"):
            row = positions[(year, kind)]
            assert row["projection_basis"] == "actual"
            assert row["projected_outturn_gbp_millions"] == positions[(year, "actual")]["reported_gains_gbp_millions"]
    # 2010-11 has forecasts only: scaled by how outturn compared with forecast, council by council, before
    paired = query(
        "select sum(actual_gbp_thousands), sum(forecast_gbp_thousands) from marts.council_efficiency_position"
        " where financial_year in ('2008-09', '2009-10') and not is_forecast_missing and not is_actual_missing"
    )[0]
    ratio = paired[0] / paired[1]
    forecast_total = positions[("2010-11", "forecast")]["reported_gains_gbp_millions"]
    for kind in ("forecast", "actual"):
        row = positions[("2010-11", kind)]
        assert row["projection_basis"] == "forecast_adjusted"
        assert float(row["outturn_to_forecast_ratio"]) == pytest.approx(float(ratio), abs=1e-6)
        assert float(row["projected_outturn_gbp_millions"]) == pytest.approx(float(forecast_total * ratio), abs=0.15)
        assert float(row["projected_gap_to_target_gbp_millions"]) == pytest.approx(
            float(row["projected_outturn_gbp_millions"] - row["target_gains_gbp_millions"]), abs=0.11
        )
    assert 1.05 < ratio < 1.15  # the sample's actuals come in about 10% above forecast


def test_docs_site_is_one_offline_html_file(pipeline_run):
    result = pipeline.generate_docs()
    html = (pipeline_run["root"] / "outputs" / "docs" / "dbt" / "index.html").read_text(encoding="utf-8")
    assert result["path"].endswith("outputs/docs/dbt/index.html")
    assert "<html" in html[:2000].lower()
    for name in (
        "model.efficiency_warehouse.board_scorecard",
        "exposure.efficiency_warehouse.hm_treasury_national_extract",
    ):
        assert name in html  # manifest inlined: nothing to fetch


def test_bedford_runs_on_across_april_2009_without_an_implausibility_flag(pipeline_run):
    """Bedfordshire County Council's functions went to Bedford and Central Bedfordshire. With Bedford's
    share of the county in its 2008-09 figures and in its baseline, its series does not jump at April
    2009 (it jumped fifteenfold when the county went wholly to Central Bedfordshire) and its own returns
    are not flagged as too big for the council."""
    actuals = dict(
        query(
            "select financial_year, actual_gbp_thousands from marts.council_efficiency_series"
            " where council_code = 'E06000055' order by financial_year"
        )
    )
    national_actuals = {
        year: rows["reported_gains_gbp_millions"] for (year, kind), rows in national().items() if kind == "actual"
    }
    bedford_growth = actuals["2009-10"] / actuals["2008-09"]
    national_growth = national_actuals["2009-10"] / national_actuals["2008-09"]
    assert national_growth / 2 < bedford_growth < national_growth * 2
    flags = query("select validation_warnings from raw.council_returns where council_code = 'E06000055'")
    assert flags and all("implausible_for_council_size" not in warnings for (warnings,) in flags)
