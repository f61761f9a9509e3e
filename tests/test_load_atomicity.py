"""Nothing loaded half: a load that fails part-way leaves no rows and no manifest row claiming
success, the file waits in the landing folder, and the retry loads it exactly once.

The failure is real, injected in the warehouse itself: a trigger that raises (the database failing
mid-statement), or one that stalls so the loading process can be killed mid-load.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from corpus import csv_bytes, drop

from efficiency_warehouse import ingest, settings, warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS

HEADER = COUNCIL_RETURNS.column_names
ROWS = [
    dict.fromkeys(HEADER, "")
    | {
        "council_code": code,
        "financial_year": "2009-10",
        "return_type": "forecast",
        "ni179_value_gbp_thousands": "1500.0",
        "submitted_date": "2009-10-20",
    }
    for code in ("E08000001", "E08000002", "E08000003", "E08000004")
]


@pytest.fixture(autouse=True)
def _reference(reference_loaded):
    with warehouse.connect() as conn:
        from efficiency_warehouse.schema import ensure_ingest_tables

        ensure_ingest_tables(conn)
    return reference_loaded


def install_trigger(body: str) -> None:
    with warehouse.connect(autocommit=True) as conn:
        conn.execute(
            f"""
            create or replace function test_interrupt_load() returns trigger language plpgsql as $$
            begin {body}; return new; end $$;
            create or replace trigger test_interrupt_load before insert on raw.council_returns
            for each row when (new.source_row_number = 4) execute function test_interrupt_load();
            """
        )


def remove_trigger() -> None:
    with warehouse.connect(autocommit=True) as conn:
        conn.execute("drop trigger if exists test_interrupt_load on raw.council_returns")


def traces_of(file_sha256: str, file_name: str) -> tuple[int, int, int]:
    with warehouse.connect() as conn:
        return conn.execute(
            """
            select (select count(*) from ingest.load_manifest where file_sha256 = %(sha)s),
                   (select count(*) from raw.council_returns r join ingest.load_manifest m using (manifest_id)
                     where m.file_sha256 = %(sha)s),
                   (select count(*) from ingest.quarantined_rows where file_name = %(name)s)
                 + (select count(*) from ingest.validation_warnings where file_name = %(name)s)
            """,
            {"sha": file_sha256, "name": file_name},
        ).fetchone()


def test_database_failure_mid_load_leaves_nothing_and_the_retry_completes(folders):
    path = drop(folders["landing"], COUNCIL_RETURNS, "interrupted.csv", csv_bytes(HEADER, ROWS))
    sha = ingest.sha256_of(path)
    install_trigger("raise exception 'simulated failure: the warehouse went away mid-load'")
    try:
        with pytest.raises(Exception, match="simulated failure"):
            ingest.ingest_landing(COUNCIL_RETURNS)
        assert traces_of(sha, path.name) == (0, 0, 0)
        assert path.exists(), "the file waits in the landing folder for the retry"
    finally:
        remove_trigger()

    [result] = ingest.ingest_landing(COUNCIL_RETURNS)

    assert (result.status, result.rows_loaded) == ("loaded", 4)
    assert traces_of(sha, path.name) == (1, 4, 0)
    assert not path.exists()


def test_task_killed_mid_load_leaves_nothing_and_the_retry_completes(folders):
    path = drop(
        folders["landing"],
        COUNCIL_RETURNS,
        "killed.csv",
        csv_bytes(HEADER, [r | {"ni179_value_gbp_thousands": "1600.0"} for r in ROWS]),
    )
    sha = ingest.sha256_of(path)
    install_trigger("perform pg_sleep(120)")
    env = os.environ | {"PYTHONPATH": str(settings.PROJECT_ROOT / "plugins")}
    loader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from efficiency_warehouse import ingest, datasets; ingest.ingest_landing(datasets.COUNCIL_RETURNS)",
        ],
        env=env,
    )
    try:
        backend = None
        deadline = time.monotonic() + 60
        while backend is None and time.monotonic() < deadline:
            with warehouse.connect() as conn:
                found = conn.execute(
                    "select pid from pg_stat_activity"
                    " where wait_event = 'PgSleep' and application_name = 'efficiency_warehouse'"
                ).fetchone()
            backend = found[0] if found else None
            time.sleep(0.2)
        assert backend, "the load never reached the stalled row"
        loader.send_signal(signal.SIGKILL)  # the task is killed mid-load
        loader.wait(timeout=30)
        with warehouse.connect(autocommit=True) as conn:  # the server notices the lost client
            conn.execute("select pg_terminate_backend(%s)", (backend,))
        assert traces_of(sha, path.name) == (0, 0, 0)
        assert path.exists()
    finally:
        remove_trigger()
        if loader.poll() is None:
            loader.kill()

    [result] = ingest.ingest_landing(COUNCIL_RETURNS)

    assert (result.status, result.rows_loaded) == ("loaded", 4)
    assert traces_of(sha, path.name) == (1, 4, 0)
