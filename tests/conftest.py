"""Test session: its own embedded PostgreSQL, its own Airflow metadata, its own folders.

Everything is set up before Airflow is imported (Airflow reads its settings at import), and the
developer's warehouse, landing folder and outputs are never touched: connection settings from the
environment are dropped so the tests always run against the embedded server they start.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "plugins"))

SESSION_DIR = Path(tempfile.mkdtemp(prefix="ew-tests-"))
for variable in (
    "WAREHOUSE_DSN",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
):
    os.environ.pop(variable, None)
os.environ.update(
    {
        "EMBEDDED_PGDATA": str(SESSION_DIR / "pgdata"),
        "WAREHOUSE_DATA_DIR": str(SESSION_DIR / "data"),
        "OUTPUTS_DIR": str(SESSION_DIR / "outputs"),
        "AIRFLOW_HOME": str(SESSION_DIR / "airflow"),
        "DBT_TARGET_PATH": str(SESSION_DIR / "dbt-target"),
        "DBT_LOG_PATH": str(SESSION_DIR / "dbt-logs"),
    }
)

from efficiency_warehouse import local_airflow, warehouse  # noqa: E402

logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs from atexit, after pytest closed the streams

local_airflow.configure_environment()


@pytest.fixture(scope="session", autouse=True)
def embedded_server():
    """Start the session's server (done above, for Airflow) and stop and remove it at the end."""
    yield
    try:
        from airflow import settings as airflow_settings

        airflow_settings.dispose_orm()  # close Airflow's pooled connections before the server goes
    except ImportError:
        pass
    warehouse.stop_embedded()
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_metadata():
    local_airflow.migrate_metadata_database()


def _fresh_database(name: str) -> str:
    from psycopg import sql

    admin = warehouse.embedded_server_dsn("postgres")
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    return warehouse.embedded_server_dsn(name)


@pytest.fixture(scope="module")
def warehouse_database(request):
    """A fresh, empty warehouse database for one test module, named after it."""
    name = "test_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    dsn = _fresh_database(name)
    saved = os.environ.get("WAREHOUSE_DSN")
    os.environ["WAREHOUSE_DSN"] = dsn
    yield dsn
    if saved is None:
        os.environ.pop("WAREHOUSE_DSN", None)
    else:
        os.environ["WAREHOUSE_DSN"] = saved


@pytest.fixture(scope="module")
def reference_loaded(warehouse_database):
    """The module's warehouse with the reference schema built and tested by dbt."""
    from efficiency_warehouse import pipeline

    pipeline.build_reference_data()
    return warehouse_database


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Landing, received and outputs folders of the test's own."""
    paths = {name: tmp_path / name for name in ("landing", "received", "outputs")}
    monkeypatch.setenv("LANDING_DIR", str(paths["landing"]))
    monkeypatch.setenv("RECEIVED_DIR", str(paths["received"]))
    monkeypatch.setenv("OUTPUTS_DIR", str(paths["outputs"]))
    return paths
