"""Treasury releases: versioned, immutable, gated on dbt tests and GX, revised on resubmission,
read by a Treasury role that sees nothing else. Real pipeline on the embedded warehouse."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from conftest import PROJECT_ROOT, pipeline_clone
from corpus import csv_bytes, drop
from psycopg import sql

from efficiency_warehouse import ingest, outputs_index, pipeline, publish, warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS


@pytest.fixture(scope="module")
def releases(pipeline_snapshots, tmp_path_factory):
    """The releases in a copy of the test run's whole pipeline (every sample file, every DAG)."""
    with pipeline_clone(pipeline_snapshots["full"], tmp_path_factory.mktemp("publication")) as root:
        yield root / "outputs" / "releases"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_release_per_cycle_each_complete_and_self_describing(releases):
    cycles = sorted(p.name for p in releases.iterdir())
    assert cycles == [f"{y}_{t}" for y in ("2008-09", "2009-10", "2010-11") for t in ("actual", "forecast")]
    version = releases / "2010-11_actual" / "v1"
    manifest = json.loads((version / "manifest.json").read_text())
    for entry in manifest["files"]:
        path = version / entry["name"]
        assert (sha256(path), path.stat().st_size) == (entry["sha256"], entry["bytes"])
    sums = dict(reversed(line.split("  ")) for line in (version / "SHA256SUMS").read_text().splitlines())
    assert all(sums[p.name] == sha256(p) for p in version.iterdir() if p.name != "SHA256SUMS")
    assert manifest["git_commit"] and manifest["dbt_invocation_id"]
    with warehouse.connect() as conn:
        known = {sha for (sha,) in conn.execute("select file_sha256 from ingest.load_manifest").fetchall()}
    assert manifest["source_files"] and all(f["sha256"] in known for f in manifest["source_files"])

    for table in publish.TABLES:
        raw = (version / f"{table.name}.csv").read_bytes()
        assert raw.endswith(b"\r\n") and b"\r\n" in raw.split(b"\n")[0] + b"\n"  # RFC 4180 line ends
        header = next(csv.reader(io.StringIO(raw.decode("utf-8"))))
        metadata = json.loads((version / f"{table.name}.csv-metadata.json").read_text())
        assert [c["name"] for c in metadata["tableSchema"]["columns"]] == header
        assert metadata["dc:license"].startswith("http://www.nationalarchives.gov.uk/doc/open-government-licence")
        assert metadata["schema:version"] == "v1"
        assert all(c["dc:description"] for c in metadata["tableSchema"]["columns"]), table.name
        money = [c for c in metadata["tableSchema"]["columns"] if c["name"].endswith("_gbp_millions")]
        assert all(c["schema:unitText"] == "GBP millions" for c in money)
    councils = list(csv.DictReader(io.StringIO((version / "council_efficiency.csv").read_text())))
    assert len(councils) == 353 and all(c["council_code"].startswith("E") for c in councils)


def test_each_release_is_as_at_its_cycle_and_says_so(releases):
    manifests = {p.parent.parent.name: json.loads(p.read_text()) for p in releases.glob("*/v1/manifest.json")}
    # The sample returns replay their arrival: 2009-10's actual had late corrections on 16 August 2010.
    assert manifests["2009-10_forecast"]["as_at"] == "2009-11-01T00:00:00+00:00"
    assert manifests["2009-10_actual"]["closes_at"] == "2010-07-31T23:00:00+00:00"  # end of 31 July, BST
    assert manifests["2009-10_actual"]["as_at"] == "2010-08-16T09:00:00+00:00"
    assert all(m["cut_off_rule"] == publish.CUT_OFF_RULE for m in manifests.values())
    log = list(csv.DictReader(io.StringIO((releases / "2009-10_forecast" / "revisions.csv").read_text())))
    assert log[0]["as_at"] == "2009-11-01T00:00:00+00:00"
    # An October release judges low reporters on the forecast: the July actual came later.
    released = {
        c["council_code"]: c["is_low_reporter"]
        for c in csv.DictReader(
            io.StringIO((releases / "2008-09_forecast" / "v1" / "council_efficiency.csv").read_text())
        )
    }
    with warehouse.connect() as conn:
        judged_on_forecast = dict(
            conn.execute(
                "select council_code, coalesce(forecast_share_of_baseline < low_reporter_threshold_share, false)"
                " from marts.council_efficiency_position where financial_year = '2008-09'"
                " and forecast_share_of_baseline is not null"
            ).fetchall()
        )
        judged_now = dict(
            conn.execute(
                "select council_code, is_low_reporter from marts.council_efficiency_position"
                " where financial_year = '2008-09' and is_low_reporter is not null"
            ).fetchall()
        )
    assert {code: flag == "true" for code, flag in released.items() if flag} == judged_on_forecast
    assert judged_on_forecast != judged_now, "the sample has councils whose actual changed the flag"


def test_publishing_again_with_the_same_figures_publishes_nothing_new(releases):
    before = {p: p.read_bytes() for p in releases.rglob("*") if p.is_file()}
    outcomes = pipeline.publish_releases()
    assert {o["outcome"] for o in outcomes} == {"unchanged"}
    assert {p: p.read_bytes() for p in releases.rglob("*") if p.is_file()} == before


def test_a_failing_gate_blocks_publication_says_why_and_leaves_the_release(releases, monkeypatch, tmp_path):
    """Also when the publication runs on another worker than the build: the build's outcome is read from
    the warehouse, not from dbt's artifacts on the disk of the worker that ran it."""
    before = {p: p.read_bytes() for p in releases.rglob("*") if p.is_file()}
    with warehouse.connect() as conn:  # a row that bypassed ingestion: dbt's relationship test fails
        conn.execute(
            "insert into raw.council_returns (manifest_id, source_row_number, council_code, financial_year,"
            " return_type, ni179_value_gbp_thousands, submitted_date)"
            " select min(manifest_id), 999999, 'E99999999', '2009-10', 'actual', 1.0, date '2010-07-01'"
            " from ingest.load_manifest"
        )
    try:
        with pytest.raises(Exception, match="dbt build .* failed"):
            pipeline.build_marts()
        with monkeypatch.context() as another_worker:
            another_worker.setenv("DBT_TARGET_PATH", str(tmp_path / "another-worker"))
            with pytest.raises(publish.PublicationBlocked, match=r"did not pass in the last build \(marts, "):
                pipeline.publish_releases()
        assert {p: p.read_bytes() for p in releases.rglob("*") if p.is_file()} == before
    finally:
        with warehouse.connect() as conn:
            conn.execute("delete from raw.council_returns where source_row_number = 999999")
        pipeline.build_marts()


def test_a_resubmission_publishes_a_new_version_with_its_changes_and_keeps_the_old(releases, tmp_path, monkeypatch):
    v1 = releases / "2009-10_actual" / "v1"
    v1_bytes = {p.name: p.read_bytes() for p in v1.iterdir()}
    council = next(csv.DictReader(io.StringIO((v1 / "council_efficiency.csv").read_text())))
    new_value = f"{float(council['ni179_value_gbp_thousands']) + 5000:.1f}"
    monkeypatch.setenv("LANDING_DIR", str(tmp_path / "landing"))
    row = dict.fromkeys(COUNCIL_RETURNS.column_names, "") | {
        "council_code": council["council_code"],
        "financial_year": "2009-10",
        "return_type": "actual",
        "ni179_value_gbp_thousands": new_value,
        "submitted_date": "2010-07-30",
    }
    drop(tmp_path / "landing", COUNCIL_RETURNS, "resubmission.csv", csv_bytes(COUNCIL_RETURNS.column_names, [row]))
    assert [r.status for r in ingest.ingest_landing(COUNCIL_RETURNS)] == ["loaded"]
    pipeline.build_marts()

    outcomes = {o["cycle"]: o for o in pipeline.publish_releases()}

    assert outcomes["2009-10_actual"]["outcome"] == "published" and outcomes["2009-10_actual"]["version"] == "v2"
    assert {o["outcome"] for c, o in outcomes.items() if c != "2009-10_actual"} == {"unchanged"}
    assert {p.name: p.read_bytes() for p in v1.iterdir()} == v1_bytes, "a published version is never changed"
    v2 = releases / "2009-10_actual" / "v2"
    changes = list(csv.DictReader(io.StringIO((v2 / "changes.csv").read_text())))
    changed = {(c["table"], c["column"]): c for c in changes}
    assert changed[("council_efficiency", "ni179_value_gbp_thousands")]["new"] == new_value
    assert changed[("council_efficiency", "ni179_value_gbp_thousands")]["key"].startswith(council["council_code"])
    assert ("national_efficiency", "reported_gains_gbp_millions") in changed
    log = list(csv.DictReader(io.StringIO((releases / "2009-10_actual" / "revisions.csv").read_text())))
    assert [(e["version"], e["reason"]) for e in log] == [
        ("v1", "first publication"),
        ("v2", f"late correction received {datetime.now(UTC).date().isoformat()}"),
    ]
    assert log[1]["as_at"][:10] == datetime.now(UTC).date().isoformat(), "as at the late correction's arrival"
    with warehouse.connect() as conn:
        published = conn.execute(
            "select version, ni179_value_gbp_thousands::text from published.council_efficiency"
            " where cycle = '2009-10_actual' and council_code = %s",
            (council["council_code"],),
        ).fetchall()
    assert published == [("v2", new_value)]


REGIONAL_CORRECTION = (
    "regional assignment corrected: Derbyshire CC and Lincolnshire CC to East Midlands; Bedfordshire CC split"
)


def test_a_reference_correction_publishes_a_new_version_that_says_so(releases):
    """A release published before the regional correction is superseded, never rewritten: as if v1 of
    one cycle had been published then (its manifest reflects no correction, and its East Midlands
    figure is short of Derbyshire and Lincolnshire County Councils), the next run publishes v2 with the
    correction as the reason and the regional figure among the changes."""
    cycle_dir = releases / "2010-11_forecast"
    v1 = cycle_dir / "v1"
    manifest = json.loads((v1 / "manifest.json").read_text())
    assert manifest.pop("reference_corrections") == [1]
    (v1 / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    rows = list(csv.DictReader(io.StringIO((v1 / "regional_efficiency.csv").read_text())))
    east_midlands = next(r for r in rows if r["region_code"] == "E12000004")
    corrected_figure = east_midlands["reported_gains_gbp_millions"]
    east_midlands["reported_gains_gbp_millions"] = f"{float(corrected_figure) * 0.6:.1f}"
    with (v1 / "regional_efficiency.csv").open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    v1_bytes = {p.name: p.read_bytes() for p in v1.iterdir()}

    outcomes = {o["cycle"]: o for o in pipeline.publish_releases()}

    assert (outcomes["2010-11_forecast"]["outcome"], outcomes["2010-11_forecast"]["version"]) == ("published", "v2")
    assert {p.name: p.read_bytes() for p in v1.iterdir()} == v1_bytes, "a published version is never changed"
    v2 = cycle_dir / "v2"
    assert json.loads((v2 / "manifest.json").read_text())["reference_corrections"] == [1]
    changes = list(csv.DictReader(io.StringIO((v2 / "changes.csv").read_text())))
    assert {"table": "regional_efficiency", "column": "reported_gains_gbp_millions", "new": corrected_figure} in [
        {k: c[k] for k in ("table", "column", "new")} for c in changes if c["key"].startswith("E12000004")
    ]
    log = list(csv.DictReader(io.StringIO((cycle_dir / "revisions.csv").read_text())))
    assert [(e["version"], e["reason"]) for e in log] == [("v1", "first publication"), ("v2", REGIONAL_CORRECTION)]


def test_treasury_role_reads_the_published_tables_and_nothing_else(releases):
    pipeline.publish_releases()  # each publication makes sure of the Treasury's role and its privileges
    password = secrets.token_urlsafe(16)
    with warehouse.connect(autocommit=True) as conn:
        conn.execute("drop role if exists treasury_reader")
        conn.execute(
            sql.SQL("create role treasury_reader login password {} in role hm_treasury").format(sql.Literal(password))
        )
    params = psycopg.conninfo.conninfo_to_dict(warehouse.warehouse_dsn()) | {"user": "treasury_reader"}
    params.pop("passfile", None)
    dsn = psycopg.conninfo.make_conninfo(**params | {"password": password})
    with psycopg.connect(dsn, autocommit=True) as treasury:
        for table in ("published.releases", "published.national_efficiency", "published.council_efficiency"):
            assert treasury.execute(f"select count(*) from {table}").fetchone()[0] > 0  # noqa: S608
        for table in ("marts.national_efficiency_position", "raw.council_returns", "ingest.load_manifest"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                treasury.execute(f"select 1 from {table} limit 1")  # noqa: S608
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            treasury.execute("delete from published.releases")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            treasury.execute("create table published.mine (x int)")


# A publisher killed as by `kill -9` (os._exit: no cleanup, no finally) at one step of writing a version.
KILLED_PUBLISHER = """
import os, sys
from pathlib import Path
from efficiency_warehouse import pipeline

step = sys.argv[1]
real_write_bytes, real_rename, real_replace = Path.write_bytes, os.rename, os.replace

def write_bytes(path, content):  # the version's files, written into its hidden .vN.partial folder
    if step == "while_writing_the_version" and path.parent.name.endswith(".partial") and any(path.parent.iterdir()):
        os._exit(137)
    return real_write_bytes(path, content)

def rename(source, target):  # the version folder appearing
    real_rename(source, target)
    if step == "after_the_version_folder" and Path(target).name.startswith("v"):
        os._exit(137)

def replace(source, target):  # the cycle's revisions.csv taking the new line
    if step == "before_the_log_line" and Path(target).name == "revisions.csv":
        os._exit(137)
    real_replace(source, target)

Path.write_bytes, os.rename, os.replace = write_bytes, rename, replace
pipeline.publish_releases()
"""


def change_latest_figures(cycle_dir):
    """Make the figures to publish differ from the latest version's, so the next run writes a new one."""
    latest = publish.latest_version(cycle_dir) / "regional_efficiency.csv"
    rows = list(csv.DictReader(io.StringIO(latest.read_text())))
    rows[0]["reported_gains_gbp_millions"] = f"{float(rows[0]['reported_gains_gbp_millions']) + 1:.1f}"
    with latest.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def versions(cycle_dir) -> list[str]:
    return sorted((p.name for p in cycle_dir.glob("v*") if p.is_dir()), key=lambda name: int(name[1:]))


def logged_versions(path) -> list[str]:
    return [entry["version"] for entry in csv.DictReader(io.StringIO(path.read_text()))] if path.exists() else []


@pytest.mark.parametrize("step", ["while_writing_the_version", "after_the_version_folder", "before_the_log_line"])
def test_a_publisher_killed_at_any_step_leaves_log_and_versions_agreeing_after_the_next_run(releases, step):
    cycle_dir = releases / "2008-09_forecast"
    published_before = versions(cycle_dir)
    change_latest_figures(cycle_dir)

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_PUBLISHER, step],
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT / "plugins")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == 137, f"the publisher was not killed at {step}: {killed.stderr[-2000:]}"
    if step != "while_writing_the_version":
        assert len(versions(cycle_dir)) == len(published_before) + 1  # the version is out, its log line not

    pipeline.publish_releases()

    after = versions(cycle_dir)
    assert after == [f"v{n}" for n in range(1, len(published_before) + 2)]
    assert [p.name for p in cycle_dir.iterdir() if p.name.startswith(".")] == [], "nothing half-written is left"
    assert logged_versions(cycle_dir / "revisions.csv") == after, "the log lists every version, once, in order"
    assert (cycle_dir / "revisions.csv").read_bytes() == (cycle_dir / after[-1] / "revisions.csv").read_bytes()
    with warehouse.connect() as conn:
        assert conn.execute("select version from published.releases where cycle = '2008-09_forecast'").fetchone() == (
            after[-1],
        )


@pytest.mark.fast
def test_numbers_in_the_revision_files_stay_numbers():
    content = publish._csv_bytes(["old", "new", "note"], [{"old": "-64.6", "new": "+1.5e3", "note": "-2+3"}])
    assert content.decode().splitlines()[1] == "-64.6,+1.5e3,'-2+3"


@pytest.mark.fast
@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+44 20 7946 0000", "-2+3", "@SUM(A1)", "\tTabbed"])
def test_text_that_a_spreadsheet_would_run_is_defused(text):
    frame = pd.DataFrame({"council_name": [text], "gap_gbp_millions": [Decimal("-31.8")]}, dtype=object)
    [row] = list(csv.reader(io.StringIO(publish.render_csv(frame).decode("utf-8"))))[1:]
    assert row == ["'" + text, "-31.8"]  # text defused; a negative number stays a number


def test_outputs_index_links_the_board_packs_and_both_docs_sites(releases):
    outputs = releases.parent
    page = (outputs / "index.html").read_text()
    for target in ("board_packs/index.html", "docs/dbt/index.html", "docs/gx/index.html", "releases/2010-11_actual"):
        assert f'href="{target}"' in page
        assert (outputs / target).exists(), target
    packs = sorted(p.name for p in (outputs / "board_packs").glob("board_pack_*.html"))
    assert len(packs) == 6
    assert "<svg" in (outputs / "board_packs" / packs[0]).read_text()
    assert list((outputs / "docs" / "gx" / "validations").rglob("*.html")), "GX Data Docs hold the validations run"
    assert re.search(r"Returns held for review: [1-9]\d* pending</h2><p>As at \d", page), "the sample data holds some"
    assert "make review" in page


def test_outputs_index_lists_the_validations_without_needing_the_internet(releases):
    """GX's own index builds its table with scripts from CDNs: offline it lists nothing. The outputs index
    lists every validation, newest first, linked to its page where one was rendered, with no script."""
    outputs = releases.parent
    page = outputs_index.write_index(outputs).read_text()  # as at now: earlier tests here validated more
    results = Path(os.environ["GX_VALIDATION_RESULTS_DIR"])
    stored = [json.loads(p.read_text()) | {"key": p.relative_to(results).with_suffix("").as_posix()}
              for p in results.rglob("*.json")]  # fmt: skip
    assert any(not r["success"] for r in stored) and any(r["success"] for r in stored), "the samples fail some"
    newest = sorted(stored, key=lambda r: (r["meta"]["validation_time"], r["key"]), reverse=True)
    pages = outputs / "docs" / "gx" / "validations"
    expected = [
        ((r["key"] if (pages / f"{r['key']}.html").exists() else ""), "passed" if r["success"] else "FAILED")
        for r in newest[: outputs_index.VALIDATIONS_LISTED]
    ]
    assert f"Quality gate validations: {len(stored)}</h2><p>As at " in page
    section = page[page.index("Quality gate validations") :]
    rows = re.findall(
        r'<tr><td>[^<]+ UTC</td><td>(?:<a href="docs/gx/validations/([^"]+)\.html">)?[^<]+(?:</a>)?</td>'
        r"<td>(passed|FAILED)</td>",
        section,
    )
    assert rows == expected
    assert sum(bool(key) for key, _ in rows) >= 10, "the pipeline run's validations have pages"
    assert "<script" not in page


def test_board_scorecard_and_regional_mart_carry_the_riep_and_simplification_measures(releases):
    with warehouse.connect() as conn:
        delivered_by_2011 = conn.execute(
            "select count(*) from (select distinct on (commitment_id) status from raw.simplification_status_updates"
            " where as_at_date <= date '2011-07-31' order by commitment_id, as_at_date desc) as latest"
            " where status = 'delivered'"
        ).fetchone()[0]
        scorecard = conn.execute(
            "select commitments_delivered, riep_spend_gbp_thousands, riep_standards_answered"
            " from marts.board_scorecard where cycle_number = 6 and area_code = 'E92000001'"
        ).fetchone()
        spend_2010_11 = conn.execute(
            "select sum(total_spend_gbp_thousands) from intermediate.int_riep_reports_current"
            " where financial_year = '2010-11'"
        ).fetchone()[0]
        regional = conn.execute(
            "select count(*), count(riep_cost_per_pound_of_savings) from marts.regional_efficiency_position"
            " where financial_year = '2010-11' and return_type = 'actual'"
        ).fetchone()
    assert scorecard == (delivered_by_2011, spend_2010_11, 45)
    assert regional == (9, 9)
