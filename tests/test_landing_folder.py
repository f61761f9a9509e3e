"""The landing folder as an attacker, a careless sender and a tired operator leave it: every entry is
accounted for in the manifest, none is followed, none stops the rest, arrival is the warehouse's clock.

The ingest runs in a child Python here when the test needs what only a process of its own gives: the
peak memory of the ingest alone (``os.wait4``), or a process that cannot read a file its owner locked
(the tests may run as root, which reads anything: the child then runs without root's file capabilities).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import recreate_warehouse
from corpus import csv_bytes, drop
from psycopg.conninfo import conninfo_to_dict

from efficiency_warehouse import ingest, settings, warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS

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


def return_csv(code: str, value: float = 1500.0) -> bytes:
    row = dict.fromkeys(COUNCIL_RETURNS.column_names, "") | {
        "council_code": code,
        "financial_year": "2010-11",
        "return_type": "actual",
        "ni179_value_gbp_thousands": f"{value:.1f}",
        "submitted_date": "2011-07-20",
    }
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


CHILD_INGEST = """
import json, sys
from efficiency_warehouse import datasets, ingest
results = ingest.ingest_landing(datasets.DATASETS[sys.argv[1]])
print(json.dumps(ingest.as_dicts(results)))
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
    with socket_reachable_without_capabilities(), tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # the child's own peak, not any other child's
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        assert child.returncode == 0, err.read().decode(errors="replace")[-3000:]
        return json.loads(out.read().decode().splitlines()[-1]), usage.ru_maxrss


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
