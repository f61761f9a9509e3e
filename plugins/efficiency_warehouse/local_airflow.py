"""Airflow on this machine without services: its settings, its metadata database, DAG runs by dag.test().

`make run` and the tests use this. In a deployment (docker-compose.yml) the scheduler runs the same
DAGs and Assets chain them; here the chain is run in the same order, each DAG for real: a DAG run
recorded in Airflow's metadata database, tasks executed by Airflow's task runner.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from efficiency_warehouse import settings, warehouse

AIRFLOW_METADATA_DATABASE = "airflow"
# The order the Assets chain the DAGs in: reference data, then ingests, then transform, then extract.
PIPELINE_DAG_IDS = (
    "reference_data",
    "council_baselines_ingest",  # before the returns: the returns' size check reads the baselines
    "council_returns_ingest",
    "riep_allocations_ingest",
    "riep_annual_reports_ingest",
    "simplification_status_updates_ingest",
    "warehouse_transform",
    "publish_releases",
)
# DAGs an operator triggers from the UI with Params; not part of a pipeline run.
OPERATOR_DAG_IDS = ("review_decision",)


def _sqlalchemy_url(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn)
    user = quote(params.get("user", "postgres"))
    password = f":{quote(params['password'])}" if params.get("password") else ""
    host = params.get("host", "")
    # libpq parameters SQLAlchemy has no place for go in the query: the socket folder, the password file.
    query = {"host": host} if host.startswith("/") else {}
    query |= {"passfile": params["passfile"]} if params.get("passfile") else {}
    query_string = ("?" + "&".join(f"{name}={quote(value)}" for name, value in query.items())) if query else ""
    if host.startswith("/"):
        return f"postgresql+psycopg2://{user}{password}@/{params['dbname']}{query_string}"
    port = params.get("port", "5432")
    return f"postgresql+psycopg2://{user}{password}@{host}:{port}/{params['dbname']}{query_string}"


def point_airflow_at_project() -> None:
    """Airflow's home and folders for this project, unless already set; no database is touched.
    Airflow reads them when first imported, so this runs before that."""
    os.environ.setdefault("AIRFLOW_HOME", str(settings.PROJECT_ROOT / ".airflow"))
    os.makedirs(os.environ["AIRFLOW_HOME"], exist_ok=True)
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(settings.dags_dir()))
    os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(settings.PROJECT_ROOT / "plugins"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")


def configure_environment() -> None:
    """Point Airflow at this project and its metadata database. Must run before anything imports airflow."""
    point_airflow_at_project()
    if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in os.environ:
        # Airflow's run history lives in its own database on the embedded server: the same engine
        # as production, and a warehouse rebuild never touches it.
        dsn = warehouse.embedded_server_dsn(AIRFLOW_METADATA_DATABASE)
        os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = _sqlalchemy_url(dsn)


def migrate_metadata_database() -> None:
    """`airflow db migrate`: creates or upgrades the metadata schema; a no-op when current."""
    from airflow.utils.db import upgradedb

    upgradedb()


def load_dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.dags_dir()))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags


class DagRunFailed(RuntimeError):
    pass


def run_dag(dag, run_conf: dict | None = None) -> str:
    """Run one DAG to completion with dag.test(); return the run's state or raise if it failed.

    Retries are for a deployment's passing faults; here a failure should surface at once rather
    than after the retry delays, so the local run makes one attempt per task.
    """
    for task in dag.tasks:
        task.retries = 0
    dag_run = dag.test(run_conf=run_conf)
    state = str(getattr(dag_run.state, "value", dag_run.state))
    if state != "success":
        raise DagRunFailed(f"DAG {dag.dag_id} run {dag_run.run_id} ended {state}: the task log says why")
    return state
