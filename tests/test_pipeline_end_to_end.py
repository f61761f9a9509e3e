"""The whole pipeline through Airflow: every DAG run with dag.test() against the embedded warehouse."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import pytest
from conftest import pipeline_clone

from efficiency_warehouse import local_airflow, warehouse
from efficiency_warehouse.datasets import COUNCIL_BASELINES, COUNCIL_RETURNS
from efficiency_warehouse.sample_data import write_sample_baselines, write_sample_returns

BASELINE_GBP_MILLIONS = 53_000


def expected_totals_from_files(
    files: dict[str, bytes], held: frozenset[tuple[str, str, str, str]] = frozenset()
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], int]]:
    """National totals and councils reporting, worked out from the sample files alone: a later file's
    row for the same council, year and type replaces an earlier one; rows that are not returns
    (unknown keys, unparseable values, other layouts) and rows held for review (``held``: file,
    council, year, type) do not count."""
    latest: dict[tuple[str, str, str], float] = {}
    for name in sorted(files):
        if not name.startswith(("ni179", "aes")):
            continue
        for row in csv.DictReader(io.StringIO(files[name].decode("utf-8"))):
            key = (row.get("council_code"), row.get("financial_year"), row.get("return_type"))
            if (name, *key) in held:
                continue
            try:
                value = float(row["ni179_value_gbp_thousands"])
            except (KeyError, ValueError):
                continue
            is_cycle_file = name == f"ni179_{key[1]}_{key[2]}.csv"
            if is_cycle_file or key in latest:
                latest[key] = value
    totals: dict[tuple[str, str], float] = defaultdict(float)
    reporting: dict[tuple[str, str], int] = defaultdict(int)
    for (_, year, kind), value in latest.items():
        totals[(year, kind)] += value / 1000
        reporting[(year, kind)] += 1
    return totals, reporting


def rows_held_for_review() -> frozenset[tuple[str, str, str, str]]:
    with warehouse.connect() as conn:
        return frozenset(
            conn.execute(
                "select manifest.file_name, items.council_code, items.financial_year, items.return_type"
                " from ingest.review_items as items join ingest.load_manifest as manifest using (manifest_id)"
                " where items.decision <> 'confirmed'"
            ).fetchall()
        )


@pytest.fixture(scope="module")
def pipeline_run(pipeline_snapshots, tmp_path_factory):
    """A copy of the test run's whole pipeline: every sample file `make run` seeds, through every DAG."""
    snapshot = pipeline_snapshots["full"]
    with pipeline_clone(snapshot, tmp_path_factory.mktemp("pipeline")) as root:
        yield {"root": root, "sample_files": snapshot.sample_files}


def mart_rows() -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select financial_year, return_type, councils_expected, councils_reported, reported_gains_gbp_millions,"
            " target_cumulative_rate, target_gains_gbp_millions, gap_to_target_gbp_millions, is_target_met"
            " from marts.national_efficiency_position order by programme_year, return_type"
        ).fetchall()


def manifest_rows() -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select file_name, status, rows_read, rows_loaded, rows_quarantined"
            " from ingest.load_manifest order by manifest_id"
        ).fetchall()


def test_manifest_accounts_for_every_file_and_row(pipeline_run):
    manifest = {name: rest for name, *rest in manifest_rows()}
    assert set(manifest) == set(pipeline_run["sample_files"])
    for _status, read, loaded, quarantined in manifest.values():
        assert read == loaded + quarantined
    assert manifest["ni179_2008-09_forecast.csv"] == ["loaded", 388, 388, 0]
    assert manifest["ni179_2010-11_actual.csv"] == ["loaded", 353, 353, 0]
    assert manifest["ni179_2009-10_actual_late_corrections.csv"] == ["loaded_with_quarantine", 5, 1, 4]
    assert manifest["aes_backward_look_2007-08.csv"] == ["rejected", 2, 0, 2]
    assert manifest["council_baselines_sample.csv"] == ["loaded", 794, 794, 0]


def test_national_mart_holds_the_reported_totals_against_the_compounding_target(pipeline_run):
    rows = mart_rows()
    expected, reporting = expected_totals_from_files(pipeline_run["sample_files"], rows_held_for_review())
    assert [(r[0], r[1]) for r in rows] == [
        (year, kind) for year in ("2008-09", "2009-10", "2010-11") for kind in ("actual", "forecast")
    ]
    for year, kind, councils_expected, councils_reported, reported, rate, target, gap, met in rows:
        programme_year = int(year[:4]) - 2007
        assert councils_expected == (388 if year == "2008-09" else 353)
        assert councils_reported == reporting[(year, kind)]  # all of them, less any held for review
        assert councils_reported >= councils_expected - 10
        assert float(reported) == pytest.approx(expected[(year, kind)], abs=0.051)
        assert float(rate) == pytest.approx(1.03**programme_year - 1, abs=1e-6)
        assert float(target) == pytest.approx(BASELINE_GBP_MILLIONS * (1.03**programme_year - 1), abs=0.051)
        assert float(gap) == pytest.approx(float(reported) - float(target), abs=0.11)
        assert met == (float(reported) >= float(target))


def test_target_reproduces_table_b1_within_rounding(pipeline_run):
    published = {"2008-09": 1.5, "2009-10": 3.2, "2010-11": 4.9}  # £bn, seeds' table B.1
    for year, _, _, _, _, _, target, _, _ in mart_rows():
        assert abs(float(target) / 1000 - published[year]) < 0.1


def test_extract_is_the_national_mart_as_csv(pipeline_run):
    path = pipeline_run["root"] / "outputs" / "extracts" / "national_efficiency_position.csv"
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")  # RFC 4180 line endings
    extract = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert len(extract) == 6
    by_key = {(r["financial_year"], r["return_type"]): r for r in extract}
    for year, kind, _, reported_n, reported, _, target, _, _ in mart_rows():
        assert by_key[(year, kind)]["reported_gains_gbp_millions"] == str(reported)
        assert by_key[(year, kind)]["target_gains_gbp_millions"] == str(target)
        assert int(by_key[(year, kind)]["councils_reported"]) == reported_n


def test_ingest_announced_new_rows_as_an_asset_event(pipeline_run):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        uris = {
            uri for (uri,) in session.query(AssetModel.uri).join(AssetEvent, AssetEvent.asset_id == AssetModel.id).all()
        }
    assert {"warehouse://raw/council_returns", "warehouse://marts/national_efficiency_position"} <= uris


def test_running_everything_again_changes_nothing(pipeline_run):
    root = pipeline_run["root"]
    extract = root / "outputs" / "extracts" / "national_efficiency_position.csv"
    before = (manifest_rows(), mart_rows(), extract.read_bytes())
    write_sample_baselines(root / "landing" / COUNCIL_BASELINES.name)  # the same files delivered again
    write_sample_returns(root / "landing" / COUNCIL_RETURNS.name)

    dags = local_airflow.load_dags()
    for dag_id in local_airflow.PIPELINE_DAG_IDS:
        local_airflow.run_dag(dags[dag_id])  # raises if the run fails

    assert (manifest_rows(), mart_rows(), extract.read_bytes()) == before
    assert not any((root / "landing" / COUNCIL_RETURNS.name).iterdir())
