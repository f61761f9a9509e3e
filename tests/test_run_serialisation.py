"""One run, one build, one publication at a time, and a first day that does no harm.

Real embedded PostgreSQL, real advisory locks held by other processes, the real transform DAG run with
dag.test() on a warehouse that has its reference data and no returns yet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from conftest import PROJECT_ROOT, run_dags_in_a_fresh_interpreter

from efficiency_warehouse import cli, pipeline, warehouse

HOLD_LOCK = """
import sys, time
from efficiency_warehouse import warehouse
with warehouse.exclusive(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", time.time(), flush=True)
"""


def hold(lock: str, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, lock, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT / "plugins")},
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_second_make_run_stops_at_once_naming_the_run_in_progress(warehouse_database, folders, capsys):
    holder = hold("pipeline_run", 120)
    try:
        started = time.monotonic()
        assert cli.run_and_report(verbose=False) == 2
        assert time.monotonic() - started < 15, "the second run does not wait for the first"
        said = capsys.readouterr().out
        assert re.search(
            rf"NOT RUN: another run is in progress since \d{{4}}-\d\d-\d\d [\d:]+ \S+ \(pid {holder.pid}\)", said
        )
    finally:
        holder.kill()  # killed mid-run: its lock goes with its connection
        holder.wait()
    with warehouse.exclusive("pipeline_run", wait=False):
        pass


def test_a_build_waits_for_the_publication_step_in_progress(reference_loaded):
    holder = hold("build_and_publish", 4)
    try:
        started = time.monotonic()
        assert pipeline.build_marts() == {"skipped": pipeline.NOTHING_TO_BUILD}
        assert time.monotonic() - started > 3, "the build ran while a publication step held the lock"
    finally:
        holder.wait()


def test_first_day_the_transform_skips_until_returns_arrive(airflow_metadata, reference_loaded, tmp_path):
    """A new deployment: the reference build's Asset starts the transform before any file has arrived."""
    with warehouse.connect() as conn:  # as on a new deployment: no file has been ingested, no raw table exists
        conn.execute("drop schema if exists raw cascade")
    run_dags_in_a_fresh_interpreter(("warehouse_transform",), tmp_path / "dag.log")  # raises if the run failed
    log = (tmp_path / "dag.log").read_text(errors="replace")
    assert pipeline.NOTHING_TO_BUILD in log
    with warehouse.connect() as conn:
        assert conn.execute("select to_regclass('raw.council_returns')").fetchone()[0] is not None
        assert conn.execute("select to_regclass('marts.national_efficiency_position')").fetchone()[0] is None


def test_the_extract_and_packs_are_not_written_from_a_build_other_than_the_one_published(reference_loaded):
    for step in (pipeline.publish_national_extract, pipeline.write_board_packs_and_index):
        outcome = step("an-earlier-build")
        assert outcome["skipped"].startswith("a newer dbt build (")
