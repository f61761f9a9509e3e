"""A year of returns replayed on the warehouse's clock (WAREHOUSE_CLOCK), publishing as the scheduled
DAGs would: October forecasts, a late forecast, July actuals, a correction after publication, and a
resubmission of the earlier cycle. After each step, exactly which release versions exist and what they
hold. Real ingest, real dbt build, real publication gate, embedded PostgreSQL."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from corpus import csv_bytes, drop

from efficiency_warehouse import board_pack, ingest, pipeline, publish, warehouse
from efficiency_warehouse.datasets import COUNCIL_BASELINES, COUNCIL_RETURNS

SOUTH_EAST = "E12000008"
COUNCILS = 40  # one late return moves the national total under the movement gate's 5%


@pytest.fixture(scope="module")
def councils(reference_loaded) -> list[str]:
    """Forty South East councils that existed through the programme; the first three play parts."""
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select council_code from reference.councils where region_code = %s"
            " and (valid_from_date is null or valid_from_date <= '2009-04-01')"
            " and (valid_to_date is null or valid_to_date >= '2011-03-31') order by council_code limit %s",
            (SOUTH_EAST, COUNCILS),
        ).fetchall()
    return [code for (code,) in rows]


@pytest.fixture
def clock(monkeypatch):
    def set_clock(moment: str) -> None:
        monkeypatch.setenv("WAREHOUSE_CLOCK", moment)

    return set_clock


def deliver(folders, name: str, dataset, rows: list[dict]) -> None:
    drop(folders["landing"], dataset, name, csv_bytes(dataset.column_names, rows))
    assert [r.status for r in ingest.ingest_landing(dataset)] == ["loaded"]


def returns(codes: list[str], kind: str, values: dict[str, float], submitted: str) -> list[dict]:
    return [
        dict.fromkeys(COUNCIL_RETURNS.column_names, "")
        | {
            "council_code": code,
            "financial_year": "2009-10",
            "return_type": kind,
            "ni179_value_gbp_thousands": f"{values.get(code, 3000.0):.1f}",
            "submitted_date": submitted,
        }
        for code in codes
    ]


def publish_now(rebuild: bool = True) -> dict[str, str]:
    """What the scheduled DAGs do after a delivery: the marts, then publication. {cycle: outcome}."""
    if rebuild:
        pipeline.build_marts()
    return {o["cycle"]: o["outcome"] for o in pipeline.publish_releases()}


def versions() -> dict[str, list[str]]:
    root = publish.releases_dir()
    return (
        {
            cycle.name: sorted(v.name for v in cycle.iterdir() if v.is_dir() and v.name.startswith("v"))
            for cycle in sorted(root.iterdir())
        }
        if root.exists()
        else {}
    )


def released(cycle: str, version: str) -> dict[str, dict[str, str]]:
    text = (publish.releases_dir() / cycle / version / "council_efficiency.csv").read_text(encoding="utf-8")
    return {row["council_code"]: row for row in csv.DictReader(io.StringIO(text))}


def packs(folder) -> dict[str, str]:
    """The board packs as the publication DAG writes them now: {file name: html}."""
    return {path.name: path.read_text(encoding="utf-8") for path in board_pack.write_board_packs(folder)}


def national_figure(html: str, cycle: str) -> str:
    """The national gains a pack's table shows for a cycle ("2009-10|forecast")."""
    [value] = re.findall(
        rf'<td class="num" data-chart="national" data-key="{re.escape(cycle)}"'
        r' data-measure="reported_gains_gbp_millions" data-value="([^"]*)"',
        html,
    )
    return value


def released_total(cycle: str, version: str) -> str:
    """The national gains a release's national table gives, £ millions."""
    text = (publish.releases_dir() / cycle / version / "national_efficiency.csv").read_text(encoding="utf-8")
    [row] = csv.DictReader(io.StringIO(text))
    return row["reported_gains_gbp_millions"]


def manifest(cycle: str, version: str) -> dict:
    return json.loads((publish.releases_dir() / cycle / version / "manifest.json").read_text(encoding="utf-8"))


def test_a_year_of_returns_publishes_each_cycle_as_at_its_close(folders, clock, councils, tmp_path):
    low, late, corrected = councils[0], councils[1], councils[2]
    on_time = [code for code in councils if code != late]
    baselines = [
        dict.fromkeys(COUNCIL_BASELINES.column_names, "")
        | {
            "council_code": code,
            "baseline_year": "2007-08",
            "revenue_gbp_thousands": "80000.0",
            "capital_gbp_thousands": "20000.0",
        }
        for code in councils
    ]
    clock("2009-09-01T09:00:00+00:00")
    deliver(folders, "baselines.csv", COUNCIL_BASELINES, baselines)

    # October 2009: forecasts in the window; the cycle is open, so nothing is published.
    clock("2009-10-20T09:00:00+00:00")
    deliver(folders, "forecasts.csv", COUNCIL_RETURNS, returns(on_time, "forecast", {low: 1500.0}, "2009-10-20"))
    assert publish_now() == {}
    assert versions() == {}

    # The close has passed: the October release, as at the close, with the late council missing and
    # the low reporter judged on its forecast (1.5% of baseline, under a third of 6.09%).
    clock("2009-11-02T09:00:00+00:00")
    assert publish_now(rebuild=False) == {"2009-10_forecast": "published"}
    october_v1 = released("2009-10_forecast", "v1")
    assert october_v1[late]["is_return_missing"] == "true"
    assert october_v1[low]["is_low_reporter"] == "true"
    assert manifest("2009-10_forecast", "v1")["as_at"] == "2009-11-01T00:00:00+00:00"

    # A late forecast: the October release's next version, as at its arrival.
    clock("2009-11-03T09:00:00+00:00")
    deliver(folders, "late_forecast.csv", COUNCIL_RETURNS, returns([late], "forecast", {}, "2009-11-02"))
    assert publish_now() == {"2009-10_forecast": "published"}
    assert versions() == {"2009-10_forecast": ["v1", "v2"]}
    assert released("2009-10_forecast", "v2")[late]["ni179_value_gbp_thousands"] == "3000.0"
    assert manifest("2009-10_forecast", "v2")["as_at"] == "2009-11-03T09:00:00+00:00"
    assert manifest("2009-10_forecast", "v2")["reason"] == "late correction received 2009-11-03"

    # July 2010: the actuals arrive. The October release does not move (the low reporter's actual of 2.5%
    # would clear it, but October did not know it), and July is not published before its close.
    clock("2010-07-20T09:00:00+00:00")
    actuals = returns(councils, "actual", {low: 2500.0, corrected: 3200.0}, "2010-07-20")
    deliver(folders, "actuals.csv", COUNCIL_RETURNS, actuals)
    assert publish_now() == {"2009-10_forecast": "unchanged"}
    with warehouse.connect() as conn:
        [(now_low,)] = conn.execute(
            "select is_low_reporter from marts.council_efficiency_position"
            " where council_code = %s and financial_year = '2009-10'",
            (low,),
        ).fetchall()
    assert now_low is False, "as at now, the actual clears it"
    assert list(packs(tmp_path / "july_open")) == ["board_pack_2009-10_forecast.html"], "no pack for an open cycle"

    # After the close (the end of 31 July, British Summer Time): the July release.
    clock("2010-08-02T09:00:00+00:00")
    assert publish_now(rebuild=False) == {"2009-10_forecast": "unchanged", "2009-10_actual": "published"}
    assert manifest("2009-10_actual", "v1")["as_at"] == "2010-07-31T23:00:00+00:00"
    assert released("2009-10_actual", "v1")[corrected]["ni179_value_gbp_thousands"] == "3200.0"

    # A correction after publication: July's next version; October stays.
    clock("2010-08-10T09:00:00+00:00")
    correction = returns([corrected], "actual", {corrected: 3264.0}, "2010-08-09")
    deliver(folders, "correction.csv", COUNCIL_RETURNS, correction)
    assert publish_now() == {"2009-10_forecast": "unchanged", "2009-10_actual": "published"}
    assert released("2009-10_actual", "v2")[corrected]["ni179_value_gbp_thousands"] == "3264.0"
    assert manifest("2009-10_actual", "v2")["reason"] == "late correction received 2010-08-10"

    # A resubmission of the earlier cycle's return: October's next version; July stays.
    clock("2010-09-01T09:00:00+00:00")
    # dated in March, within the year (a forecast dated after the year ends is impossible), arriving now
    resubmitted = returns([corrected], "forecast", {corrected: 3060.0}, "2010-03-15")
    deliver(folders, "forecast_resubmitted.csv", COUNCIL_RETURNS, resubmitted)
    assert publish_now() == {"2009-10_forecast": "published", "2009-10_actual": "unchanged"}

    assert versions() == {"2009-10_actual": ["v1", "v2"], "2009-10_forecast": ["v1", "v2", "v3"]}
    october_v3 = released("2009-10_forecast", "v3")
    assert october_v3[corrected]["ni179_value_gbp_thousands"] == "3060.0"
    assert october_v3[low]["is_low_reporter"] == "true", "an October release never uses a July actual"
    assert manifest("2009-10_forecast", "v3")["as_at"] == "2010-09-01T09:00:00+00:00"
    assert [m["as_at"] for m in (manifest("2009-10_actual", v) for v in ("v1", "v2"))] == [
        "2010-07-31T23:00:00+00:00",
        "2010-08-10T09:00:00+00:00",
    ]
    with warehouse.connect() as conn:
        as_at_october = dict(
            conn.execute(
                "select council_code, ni179_value_gbp_thousands::text from marts.council_efficiency_as_at_cycle"
                " where cycle_label = 'October 2009: 2009-10 forecast' and not is_return_missing"
            ).fetchall()
        )
    # The national series a board pack shows: October's forecast as each later cycle knew it. July 2010's
    # as-at time (the August correction) came before the September resubmission; October 2010 after it.
    with warehouse.connect() as conn:
        october_as_known = dict(
            conn.execute(
                "select as_at_cycle_number, reported_gains_gbp_millions::text"
                " from marts.national_efficiency_as_at_cycle where cycle_label = 'October 2009: 2009-10 forecast'"
            ).fetchall()
        )
    assert october_as_known == {3: "118.6", 4: "118.5", 5: "118.6", 6: "118.6"}
    assert as_at_october == {
        code: row["ni179_value_gbp_thousands"] for code, row in october_v3.items() if row["ni179_value_gbp_thousands"]
    }, "the as-at mart is what the release shows"

    # The board packs: October's as at the resubmission, July's as at its correction, and July's pack shows
    # October's forecast as July knew it, not as it is now.
    written = packs(tmp_path / "packs")
    assert list(written) == ["board_pack_2009-10_forecast.html", "board_pack_2009-10_actual.html"]
    october_pack, july_pack = written["board_pack_2009-10_forecast.html"], written["board_pack_2009-10_actual.html"]
    late = "London time, when this cycle&#x27;s latest late return arrived"
    assert f"as at 1 September 2010, 10:00 {late}" in october_pack
    assert f"as at 10 August 2010, 10:00 {late}" in july_pack
    assert national_figure(october_pack, "2009-10|forecast") == "118.6"
    assert national_figure(july_pack, "2009-10|forecast") == "118.5"
    assert national_figure(july_pack, "2009-10|actual") == released_total("2009-10_actual", "v2")
    assert f"Cut-off rule: {html.escape(publish.CUT_OFF_RULE)}" in july_pack
