"""The one warehouse setting (the Airflow Connection `warehouse`), the refusal to fall back to an embedded
server under a distributed executor, and what `make dsn` prints: a URL any PostgreSQL client takes,
without the password."""

from __future__ import annotations

from urllib.parse import quote

import psycopg
import pytest
from conftest import run_dags_in_a_fresh_interpreter
from psycopg.conninfo import conninfo_to_dict

from efficiency_warehouse import dbt_runner, warehouse

pytestmark = pytest.mark.fast  # needs no pipeline run: part of `make test-fast`


def test_embedded_socket_dsn_becomes_a_url_that_connects(warehouse_database):
    url = warehouse.as_url(warehouse.warehouse_dsn())
    assert url.startswith("postgresql://") and "?host=/" in url
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_database()").fetchone()[0].startswith("test_")


def test_tcp_dsn_becomes_a_url_without_its_password():
    url = warehouse.as_url("host=db.example.org port=5433 user=warehouse password=secret dbname=efficiency_warehouse")
    assert url == "postgresql://warehouse@db.example.org:5433/efficiency_warehouse"


def test_a_url_is_printed_without_its_password():
    assert warehouse.as_url("postgresql://u:secret@h:5432/d") == "postgresql://u@h:5432/d"


def _connection_uri(dsn: str) -> str:
    """The test database as the URI an operator writes into AIRFLOW_CONN_WAREHOUSE (socket folder escaped)."""
    params = conninfo_to_dict(dsn)
    address = f"postgresql://{params['user']}@{quote(params['host'], safe='')}/{params['dbname']}"
    return f"{address}?passfile={quote(params['passfile'], safe='')}"  # the embedded server's password file


def test_the_warehouse_is_the_airflow_connection_for_ingest_and_dbt(warehouse_database, monkeypatch):
    """Both of Airflow's forms (URI, JSON) name the warehouse for connections and for dbt's profile."""
    for value in (_connection_uri(warehouse_database), warehouse.connection_json(warehouse_database)):
        monkeypatch.setenv(warehouse.CONNECTION_VARIABLE, value)
        assert not warehouse.is_embedded()
        with warehouse.connect() as conn:
            database = conn.execute("select current_database()").fetchone()[0]
        assert database == conninfo_to_dict(warehouse_database)["dbname"]
        assert warehouse.connection_parameters()["dbname"] == database
        assert dbt_runner.run_dbt("debug", "--connection") == []  # dbt's profile reaches the same database


def test_libpq_extras_of_the_connection_are_kept_and_the_hooks_own_are_not(monkeypatch):
    monkeypatch.setenv(
        warehouse.CONNECTION_VARIABLE,
        '{"conn_type": "postgres", "host": "db.example.org", "login": "warehouse", "password": "s3cret",'
        ' "schema": "efficiency_warehouse", "extra": {"sslmode": "verify-full", "cursor": "dictcursor"}}',
    )
    params = conninfo_to_dict(warehouse.warehouse_dsn())
    assert params == {
        "host": "db.example.org",
        "user": "warehouse",
        "password": "s3cret",
        "dbname": "efficiency_warehouse",
        "sslmode": "verify-full",
    }


def test_a_connection_without_a_database_is_refused(monkeypatch):
    monkeypatch.setenv(warehouse.CONNECTION_VARIABLE, "postgresql://warehouse@db.example.org:5432")
    with pytest.raises(warehouse.WarehouseNotConfigured, match="names no database"):
        warehouse.warehouse_dsn()


@pytest.mark.parametrize("executor", ["CeleryExecutor", "LocalExecutor,KubernetesExecutor"])
def test_a_distributed_executor_never_falls_back_to_an_embedded_server(executor, monkeypatch, tmp_path):
    monkeypatch.delenv(warehouse.CONNECTION_VARIABLE, raising=False)
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    monkeypatch.setenv("EMBEDDED_PGDATA", str(tmp_path / "pgdata"))
    with pytest.raises(warehouse.WarehouseNotConfigured) as refused:
        warehouse.warehouse_dsn()
    message = str(refused.value)
    assert "AIRFLOW_CONN_WAREHOUSE=" in message and executor.split(",")[-1] in message
    assert not (tmp_path / "pgdata").exists()  # no server was started, not even an empty folder


def test_on_local_executor_no_connection_means_the_embedded_server(monkeypatch, tmp_path):
    monkeypatch.delenv(warehouse.CONNECTION_VARIABLE, raising=False)
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    assert warehouse.is_embedded()
    assert conninfo_to_dict(warehouse.warehouse_dsn())["dbname"] == warehouse.EMBEDDED_DATABASE


@pytest.mark.parametrize("retired", ["WAREHOUSE_DSN", "PGHOST"])
def test_a_retired_setting_stops_with_the_new_name(retired, warehouse_database, monkeypatch):
    """Ignoring it would quietly build the embedded warehouse instead of the one the operator meant."""
    monkeypatch.setenv(retired, "db.example.org")
    with pytest.raises(warehouse.WarehouseNotConfigured, match=rf"{retired} is set.*AIRFLOW_CONN_WAREHOUSE="):
        warehouse.warehouse_dsn()


def test_a_task_on_a_celery_worker_without_the_connection_fails_saying_what_to_set(
    airflow_metadata, warehouse_database, monkeypatch, tmp_path
):
    """The same refusal inside Airflow's task runner: the DAG run fails and its log says what to set."""
    monkeypatch.delenv(warehouse.CONNECTION_VARIABLE)
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    with pytest.raises(RuntimeError, match="DAG runs warehouse_transform failed"):
        run_dags_in_a_fresh_interpreter(("warehouse_transform",), tmp_path / "dag.log")
    log = (tmp_path / "dag.log").read_text(errors="replace")
    assert "no warehouse Connection: set AIRFLOW_CONN_WAREHOUSE=" in log and "CeleryExecutor" in log
