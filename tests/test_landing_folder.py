"""The landing folder as an attacker, a careless sender and a tired operator leave it: every entry is
accounted for in the manifest, none is followed, none stops the rest, arrival is the warehouse's clock.

The ingest runs in a child Python here when the test needs what only a process of its own gives: the
peak memory of the ingest alone (its own VmHWM), or a process that cannot read a file its owner locked
(the tests may run as root, which reads anything: the child then runs without root's file capabilities).
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import recreate_warehouse
from corpus import csv_bytes, drop, xlsx_bytes
from psycopg.conninfo import conninfo_to_dict

from efficiency_warehouse import dbt_runner, ingest, settings, warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS
from efficiency_warehouse.readers import sheet_name_for

SECRET = b"WAREHOUSE_PASSWORD=not-for-any-council\nAIRFLOW__CORE__FERNET_KEY=not-for-any-council\n"


@pytest.fixture(autouse=True)
def _reference(reference_loaded, reference_template):
    """Each test on a warehouse of its own: the reference data and nothing received yet."""
    recreate_warehouse(reference_template)
    return reference_loaded


@pytest.fixture
def landing_folders(folders, tmp_path, monkeypatch):
    monkeypatch.setenv("SET_ASIDE_DIR", str(tmp_path / "set_aside"))
    folders["set_aside"] = tmp_path / "set_aside"
    folders["returns"] = folders["landing"] / COUNCIL_RETURNS.name
    folders["returns"].mkdir(parents=True)
    return folders


RETURN_ROW = dict.fromkeys(COUNCIL_RETURNS.column_names, "") | {
    "council_code": "E06000001",
    "financial_year": "2010-11",
    "return_type": "actual",
    "ni179_value_gbp_thousands": "1500.0",
    "submitted_date": "2011-07-20",
}


def return_csv(code: str, value: float = 1500.0) -> bytes:
    row = RETURN_ROW | {"council_code": code, "ni179_value_gbp_thousands": f"{value:.1f}"}
    return csv_bytes(COUNCIL_RETURNS.column_names, [row])


GOOD_COUNCILS = ("E06000001", "E06000002", "E06000003", "E06000004", "E06000005")


def manifest_rows() -> dict[str, dict]:
    """The manifest's latest row for each file name."""
    with warehouse.connect() as conn:
        cursor = conn.execute("select * from ingest.load_manifest order by manifest_id")
        names = [d.name for d in cursor.description]
        return {row[names.index("file_name")]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def loaded_councils() -> set[str]:
    with warehouse.connect() as conn:
        return {row[0] for row in conn.execute("select council_code from raw.council_returns").fetchall()}


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]


# The child reports its own peak: VmHWM starts afresh at exec, while ru_maxrss (getrusage, wait4) carries
# the forking parent's resident size over, which under xdist is a worker's several hundred MiB.
CHILD_INGEST = """
import json, re, sys
from pathlib import Path
from efficiency_warehouse import datasets, ingest
results = ingest.ingest_landing(datasets.DATASETS[sys.argv[1]])
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"results": ingest.as_dicts(results), "peak_kib": peak_kib}))
"""


@contextmanager
def socket_reachable_without_capabilities():
    """Root's child without its capabilities is an owner like any other: it cannot pass the embedded
    server's folders, owned by the server's own user (0700). While the child runs, they may be passed
    (o+x: no listing, no reading); the socket's own mode is what guards it then, as on any server."""
    host = conninfo_to_dict(warehouse.warehouse_dsn()).get("host", "")
    folders = [Path(host), *Path(host).parents] if os.geteuid() == 0 and host.startswith("/") else []
    modes = {folder: stat.S_IMODE(folder.stat().st_mode) for folder in folders}
    try:
        for folder, mode in modes.items():
            folder.chmod(mode | stat.S_IXOTH)
        yield
    finally:
        for folder, mode in modes.items():
            folder.chmod(mode)


def ingest_in_a_child(dataset_name: str) -> tuple[list[dict], int]:
    """The ingest in a Python of its own, without root's power to read any file: its results and its peak
    resident memory in KiB."""
    command = [sys.executable, "-c", CHILD_INGEST, dataset_name]
    if os.geteuid() == 0:  # root reads files whatever their mode: drop the capabilities that allow it
        command = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *command]
    env = os.environ | {"PYTHONPATH": str(settings.PROJECT_ROOT / "plugins")}
    with socket_reachable_without_capabilities():
        finished = subprocess.run(command, env=env, capture_output=True, check=False, timeout=600)
    assert finished.returncode == 0, finished.stderr.decode(errors="replace")[-3000:]
    report = json.loads(finished.stdout.decode().splitlines()[-1])
    return report["results"], report["peak_kib"]


def bomb_workbook(expanded_megabytes: int) -> bytes:
    """A council return workbook whose sheet holds one return, then ``expanded_megabytes`` of rows of one
    repeated cell: a few hundred KB on disk, as the zip compresses repeats a thousandfold."""
    sheet = sheet_name_for(COUNCIL_RETURNS)
    template = zipfile.ZipFile(io.BytesIO(xlsx_bytes(COUNCIL_RETURNS.column_names, [RETURN_ROW], sheet=sheet)))
    filler = b'<row><c t="inlineStr"><is><t>0</t></is></c></row>' * 20_000  # ~1 MB
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in template.infolist():
            content = template.read(item)
            if item.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(item, content)
                continue
            head, tail = content.split(b"</sheetData>")
            with bomb.open(item.filename, "w", force_zip64=True) as part:
                part.write(head)
                for _ in range(expanded_megabytes):
                    part.write(filler)
                part.write(b"</sheetData>" + tail)
    return out.getvalue()


# --- 1. links and other entries that are not files ------------------------------------------------


def test_a_link_a_folder_or_a_pipe_is_never_opened_only_recorded_and_set_aside(landing_folders, tmp_path):
    secret = tmp_path / "secret.env"
    secret.write_bytes(SECRET)
    secret.chmod(0o600)
    returns = landing_folders["returns"]
    (returns / "return_E06000002.csv").symlink_to(secret)
    (returns / "environ.csv").symlink_to("/proc/self/environ")
    (returns / "folder.csv").mkdir()
    os.mkfifo(returns / "pipe.csv")  # opening it for reading would wait for a writer for ever
    drop(landing_folders["landing"], COUNCIL_RETURNS, "return_E06000001.csv", return_csv("E06000001"))

    results = {r.file_name: r for r in ingest.ingest_landing(COUNCIL_RETURNS)}

    assert results["return_E06000001.csv"].status == "loaded"
    assert loaded_councils() == {"E06000001"}
    manifest = manifest_rows()
    reasons = {
        "return_E06000002.csv": f"a symbolic link (to {secret})",
        "environ.csv": "a symbolic link (to /proc/self/environ)",
        "folder.csv": "a folder, not a file",
        "pipe.csv": "a named pipe, not a file",
    }
    for name, reason in reasons.items():
        row = manifest[name]
        assert (row["status"], row["file_sha256"], row["kept_at_path"]) == ("refused", None, None), name
        assert reason in row["error_message"] and row["set_aside_path"] in row["error_message"]
        set_aside = landing_folders["set_aside"] / row["set_aside_path"]
        assert os.path.lexists(set_aside) and set_aside.name == name
    assert (landing_folders["set_aside"] / manifest["return_E06000002.csv"]["set_aside_path"]).is_symlink()
    assert stat.S_ISFIFO((landing_folders["set_aside"] / manifest["pipe.csv"]["set_aside_path"]).lstat().st_mode)
    assert list(returns.iterdir()) == [], "every entry was taken out of the landing folder"
    set_aside = landing_folders["set_aside"]
    set_aside_folders = [set_aside, set_aside / COUNCIL_RETURNS.name, *(set_aside / COUNCIL_RETURNS.name).iterdir()]
    assert {stat.S_IMODE(folder.stat().st_mode) for folder in set_aside_folders} == {0o700}
    assert all(b"not-for-any-council" not in p.read_bytes() for p in files_under(landing_folders["received"]))
    assert secret.read_bytes() == SECRET, "a link's target is never touched"

    assert ingest.ingest_landing(COUNCIL_RETURNS) == [], "refused entries are recorded once"


# --- 2. odd names and unreadable files --------------------------------------------------------------


def test_odd_names_are_recorded_safely_and_loaded(landing_folders):
    long_name = "return_E06000002_" + "x" * (250 - len("return_E06000002_.csv")) + ".csv"
    assert len(long_name.encode()) == 250  # ".partial" beside it is past the 255-byte limit of a name
    not_utf8 = os.fsdecode(b"return_E06000003_caf\xe9.csv")  # Latin-1 bytes, as an old zip tool writes them
    returns = landing_folders["returns"]
    (returns / long_name).write_bytes(return_csv("E06000002"))
    (returns / not_utf8).write_bytes(return_csv("E06000003"))
    drop(landing_folders["landing"], COUNCIL_RETURNS, "return_E06000001.csv", return_csv("E06000001"))

    results = {r.file_name: r for r in ingest.ingest_landing(COUNCIL_RETURNS)}

    shown_name = "return_E06000003_caf\\xe9.csv"
    assert {name: r.status for name, r in results.items()} == {
        "return_E06000001.csv": "loaded",
        long_name: "loaded",
        shown_name: "loaded",
    }
    assert loaded_councils() == {"E06000001", "E06000002", "E06000003"}
    manifest = manifest_rows()
    for name in (long_name, shown_name):
        assert (landing_folders["received"] / manifest[name]["kept_at_path"]).name == name
    assert list(returns.iterdir()) == []


@pytest.mark.skipif(shutil.which("setpriv") is None and os.geteuid() == 0, reason="needs setpriv to run as non-root")
def test_an_unreadable_file_is_refused_with_what_to_do_and_the_rest_load(landing_folders):
    returns = landing_folders["returns"]
    locked = returns / "return_E06000002.csv"
    locked.write_bytes(return_csv("E06000002"))
    locked.chmod(0)
    drop(landing_folders["landing"], COUNCIL_RETURNS, "return_E06000001.csv", return_csv("E06000001"))

    results, _ = ingest_in_a_child(COUNCIL_RETURNS.name)

    assert {r["file_name"]: r["status"] for r in results} == {
        "return_E06000001.csv": "loaded",
        "return_E06000002.csv": "refused",
    }
    row = manifest_rows()["return_E06000002.csv"]
    assert "cannot read it (Permission denied): give the warehouse's user read access" in row["error_message"]
    assert (landing_folders["set_aside"] / row["set_aside_path"]).exists()
    assert loaded_councils() == {"E06000001"}


# --- 3. limits ---------------------------------------------------------------------------------------

# The ingest child's peak resident memory, whatever the folder holds: Python, pandas, Great Expectations
# and psycopg loaded take ~300 MiB of it; a good return adds little. Before the limits, the bomb below took
# the same child past 3 GiB.
PEAK_MEMORY_BOUND_KIB = 400 * 1024


def test_files_past_a_limit_are_rejected_before_the_costly_part_is_read(landing_folders, monkeypatch):
    monkeypatch.setenv("LANDING_MAX_ROWS", "50")  # the other limits at their defaults
    landing = landing_folders["landing"]
    drop(landing, COUNCIL_RETURNS, "bomb.xlsx", bomb_workbook(300))
    wide_header = ",".join([*COUNCIL_RETURNS.column_names, *(f"c{i}" for i in range(100_000))])
    drop(landing, COUNCIL_RETURNS, "wide.csv", (wide_header + "\n").encode() + return_csv("E06000002").split(b"\n")[1])
    drop(
        landing,
        COUNCIL_RETURNS,
        "long_cell.csv",
        csv_bytes(
            COUNCIL_RETURNS.column_names,
            [RETURN_ROW | {"council_code": "E06000003", "comment": "a comment pasted over and over " * 400}],
        ),
    )
    many = [RETURN_ROW | {"council_code": f"E0600{n:04d}"} for n in range(60)]
    drop(landing, COUNCIL_RETURNS, "many_rows.csv", csv_bytes(COUNCIL_RETURNS.column_names, many))
    drop(landing, COUNCIL_RETURNS, "many_rows.xlsx", xlsx_bytes(COUNCIL_RETURNS.column_names, many, sheet="Return"))
    drop(landing, COUNCIL_RETURNS, "return_E06000001.csv", return_csv("E06000001"))

    results, peak_kib = ingest_in_a_child(COUNCIL_RETURNS.name)

    assert {r["file_name"]: r["status"] for r in results} == {
        "bomb.xlsx": "rejected",
        "wide.csv": "rejected",
        "long_cell.csv": "rejected",
        "many_rows.csv": "rejected",
        "many_rows.xlsx": "rejected",
        "return_E06000001.csv": "loaded",
    }
    assert loaded_councils() == {"E06000001"}
    manifest = manifest_rows()
    with warehouse.connect() as conn:
        rules = dict(
            conn.execute("select file_name, rule from ingest.quarantined_rows where row_number is null").fetchall()
        )
    assert rules == {
        "bomb.xlsx": "workbook_too_large",
        "wide.csv": "too_many_columns",
        "long_cell.csv": "cell_too_long",
        "many_rows.csv": "too_many_rows",
        "many_rows.xlsx": "too_many_rows",
    }
    assert " bytes but expands to 294,017,357 bytes" in manifest["bomb.xlsx"]["error_message"]
    assert "LANDING_MAX_WORKBOOK_EXPANDED_BYTES" in manifest["bomb.xlsx"]["error_message"]
    assert "100,010 columns" in manifest["wide.csv"]["error_message"]
    assert "row 2, column 'comment'" in manifest["long_cell.csv"]["error_message"]
    assert all(len(row["error_message"] or "") < 2_100 for row in manifest.values())
    assert peak_kib < PEAK_MEMORY_BOUND_KIB, f"the ingest peaked at {peak_kib / 1024:.0f} MiB"
    print(f"peak resident memory of the ingest: {peak_kib / 1024:.0f} MiB")


# --- 4. hidden files, and arrival on the warehouse's clock --------------------------------------------


def test_a_hidden_file_is_left_to_finish_then_refused_never_ignored(landing_folders, caplog):
    in_progress = landing_folders["returns"] / ".return_E06000002.csv.f3Kq9x"  # as rsync writes it
    in_progress.write_bytes(return_csv("E06000002"))
    drop(landing_folders["landing"], COUNCIL_RETURNS, "return_E06000001.csv", return_csv("E06000001"))

    with caplog.at_level(logging.WARNING, logger="efficiency_warehouse.landing"):
        results = ingest.ingest_landing(COUNCIL_RETURNS)

    assert [(r.file_name, r.status) for r in results] == [("return_E06000001.csv", "loaded")]
    assert in_progress.exists(), "an upload in progress is left to finish"
    assert f"{in_progress.name}: a hidden file, taken for an upload still being written" in caplog.text
    with warehouse.connect() as conn:
        waiting = conn.execute("select file_name from ingest.landing_arrivals").fetchall()
        assert waiting == [(in_progress.name,)], "seen, and its arrival kept"
        # a day on, unchanged: no upload is still being written
        conn.execute("update ingest.landing_arrivals set first_seen_at = first_seen_at - interval '25 hours'")
        conn.commit()

    [result] = ingest.ingest_landing(COUNCIL_RETURNS)

    assert (result.file_name, result.status) == (in_progress.name, "refused")
    assert "a hidden file (its name starts with a dot), unchanged since it was first seen" in result.error_message
    assert "rename it without the leading dot" in result.error_message
    assert not in_progress.exists()
    assert (landing_folders["set_aside"] / manifest_rows()[in_progress.name]["set_aside_path"]).exists()
    assert loaded_councils() == {"E06000001"}


def test_arrival_is_when_the_warehouse_first_saw_a_file_and_sets_precedence(landing_folders):
    sent_in_2011 = datetime(2011, 7, 20, 9, 0, tzinfo=UTC).timestamp()
    drop(landing_folders["landing"], COUNCIL_RETURNS, "return_E06000001.csv", return_csv("E06000001", 1500))
    ingest.ingest_landing(COUNCIL_RETURNS)
    # The correction comes copied with its timestamps kept (unzip, cp -p, rsync -a): modified years back.
    correction = drop(
        landing_folders["landing"], COUNCIL_RETURNS, "return_E06000001_corrected.csv", return_csv("E06000001", 1650)
    )
    os.utime(correction, (sent_in_2011, sent_in_2011))
    # Two returns for one council first seen together: the later modification time is the later return,
    # whatever the names say.
    for name, value, modified in (("a_later.csv", 1800, 3600), ("b_earlier.csv", 1700, 0)):
        path = drop(landing_folders["landing"], COUNCIL_RETURNS, name, return_csv("E06000002", value))
        os.utime(path, (sent_in_2011 + modified, sent_in_2011 + modified))
    ingest.ingest_landing(COUNCIL_RETURNS)

    manifest = manifest_rows()
    first, corrected = manifest["return_E06000001.csv"], manifest["return_E06000001_corrected.csv"]
    assert corrected["received_at"] > first["received_at"], "arrival, not the file's own clock"
    assert corrected["file_modified_at"] == datetime.fromtimestamp(sent_in_2011, UTC), "its own clock, kept beside"
    assert manifest["a_later.csv"]["received_at"] == manifest["b_earlier.csv"]["received_at"]
    assert manifest["a_later.csv"]["manifest_id"] > manifest["b_earlier.csv"]["manifest_id"]
    dbt_runner.run_dbt("run", "--select", "+int_council_returns_deduplicated", "--exclude", "tag:reference")
    with warehouse.connect() as conn:
        counted = conn.execute(
            "select council_code, ni179_value_gbp_thousands::float, file_name"
            " from intermediate.int_council_returns_deduplicated order by council_code"
        ).fetchall()
    assert counted == [
        ("E06000001", 1650.0, "return_E06000001_corrected.csv"),
        ("E06000002", 1800.0, "a_later.csv"),
    ]


# --- all of it at once ---------------------------------------------------------------------------------


def test_one_run_takes_the_good_returns_past_every_odd_entry_and_copies_no_secret(landing_folders, tmp_path):
    secret = tmp_path / "secret.env"
    secret.write_bytes(SECRET)
    secret.chmod(0o600)
    returns = landing_folders["returns"]
    (returns / "return_E06000010.csv").symlink_to(secret)
    locked = returns / "return_E06000011.csv"
    locked.write_bytes(return_csv("E06000011"))
    locked.chmod(0)
    long_name = "return_E06000012_" + "x" * (250 - len("return_E06000012_.csv")) + ".csv"
    (returns / long_name).write_bytes(return_csv("E06000012"))
    (returns / os.fsdecode(b"return_E06000013_caf\xe9.csv")).write_bytes(return_csv("E06000013"))
    drop(landing_folders["landing"], COUNCIL_RETURNS, "return_E06000014.xlsx", bomb_workbook(300))
    for code in GOOD_COUNCILS:
        drop(landing_folders["landing"], COUNCIL_RETURNS, f"return_{code}.csv", return_csv(code))

    results, peak_kib = ingest_in_a_child(COUNCIL_RETURNS.name)

    statuses = {r["file_name"]: r["status"] for r in results}
    assert statuses == {
        **{f"return_{code}.csv": "loaded" for code in GOOD_COUNCILS},
        "return_E06000010.csv": "refused",
        "return_E06000011.csv": "refused",
        long_name: "loaded",
        "return_E06000013_caf\\xe9.csv": "loaded",
        "return_E06000014.xlsx": "rejected",
    }
    assert loaded_councils() == {*GOOD_COUNCILS, "E06000012", "E06000013"}
    assert all(b"not-for-any-council" not in p.read_bytes() for p in files_under(landing_folders["received"]))
    assert list(returns.iterdir()) == []
    assert peak_kib < PEAK_MEMORY_BOUND_KIB, f"the ingest peaked at {peak_kib / 1024:.0f} MiB"
