"""Test session: its own embedded PostgreSQL, its own Airflow metadata, its own folders.

Everything is set up before Airflow is imported (Airflow reads its settings at import), and the
developer's warehouse, landing folder and outputs are never touched: connection settings from the
environment are dropped so the tests always run against the embedded server they start.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "plugins"))

SESSION_DIR = Path(tempfile.mkdtemp(prefix="ew-tests-"))
for variable in (
    "AIRFLOW_CONN_WAREHOUSE",
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
        "BUILD_DATA_DOCS": "0",  # rendered only in the pipeline run whose pages a test checks
    }
)

from efficiency_warehouse import local_airflow, warehouse  # noqa: E402

logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs from atexit, after pytest closed the streams


def pytest_configure(config):
    if _is_xdist_controller(config):
        return  # it only hands out tests: each worker starts its own server, Airflow and folders
    local_airflow.configure_environment()


def pytest_unconfigure(config):
    if not _is_xdist_controller(config):
        # pytest_configure started this process's server; a worker given no tests (a `-k` run) never used the
        # session fixture below that stops it, and left it running.
        warehouse.stop_embedded()
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


def _is_xdist_controller(config) -> bool:
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


# `make test` runs two pytest-xdist workers. Every test of a module goes to the same worker (its module
# fixtures are built once), and the modules that copy the pipeline snapshots all go to one worker, so the
# whole pipeline still runs once per test run. (xdist's own --dist loadgroup cannot group under pytest 9:
# it renames items through an attribute pytest 9 no longer reads.)
PIPELINE_SNAPSHOT_MODULES = frozenset(
    {
        "test_board_pack.py",
        "test_pipeline_end_to_end.py",
        "test_publication.py",
        "test_release_review.py",
        "test_review_queue.py",
    }
)


PIPELINE_SNAPSHOTS_SCOPE = "pipeline snapshots"
# The scopes that run a pipeline of their own go out first, one to each worker, so neither is left
# running alone at the end; the rest follow, the scopes with most tests first.
LONGEST_SCOPES_FIRST = (PIPELINE_SNAPSHOTS_SCOPE, "tests/test_hostile_content.py")


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByModuleAndPipelineSnapshots(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return PIPELINE_SNAPSHOTS_SCOPE if Path(module).name in PIPELINE_SNAPSHOT_MODULES else module

        def _assign_work_unit(self, node) -> None:
            for scope in LONGEST_SCOPES_FIRST:
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
                    break
            super()._assign_work_unit(node)

    return ByModuleAndPipelineSnapshots(config, log)


def pytest_collection_modifyitems(items):
    for item in items:
        if "pipeline_snapshots" in item.fixturenames and item.path.name not in PIPELINE_SNAPSHOT_MODULES:
            raise pytest.UsageError(
                f"{item.path.name} copies the pipeline snapshots: add it to PIPELINE_SNAPSHOT_MODULES in"
                " tests/conftest.py, or a second worker runs the whole pipeline again"
            )


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


# One database name for every module (each gets its own copy under it): dbt's profile, and so its
# partial parse, stays the same from module to module. It starts with "test_" so nobody mistakes it.
WAREHOUSE_UNDER_TEST = "test_warehouse"
FOLDER_VARIABLES = {
    "landing": "LANDING_DIR",
    "received": "RECEIVED_DIR",
    "outputs": "OUTPUTS_DIR",
    "gx_results": "GX_VALIDATION_RESULTS_DIR",
}


def _admin_execute(*statements: sql.Composable) -> None:
    with psycopg.connect(warehouse.embedded_server_dsn("postgres"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def recreate_warehouse(template: str | None = None) -> str:
    """Drop the database under test and create it again: empty, or as a copy of ``template``
    (CREATE DATABASE ... TEMPLATE copies the whole warehouse in a tenth of a second)."""
    name = sql.Identifier(WAREHOUSE_UNDER_TEST)
    create = sql.SQL("create database {}").format(name)
    if template:
        create = sql.SQL("create database {} template {}").format(name, sql.Identifier(template))
    _admin_execute(sql.SQL("drop database if exists {} with (force)").format(name), create)
    return warehouse.embedded_server_dsn(WAREHOUSE_UNDER_TEST)


def snapshot_warehouse(template: str) -> str:
    """Keep the database under test, as it is now, as ``template`` for later modules to copy."""
    _admin_execute(
        sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(template)),
        # a template may have no other sessions while it is copied
        sql.SQL("select pg_terminate_backend(pid) from pg_stat_activity where datname = {}").format(
            sql.Literal(WAREHOUSE_UNDER_TEST)
        ),
        sql.SQL("create database {} template {}").format(
            sql.Identifier(template), sql.Identifier(WAREHOUSE_UNDER_TEST)
        ),
    )
    return template


# Councils whose only returns for a year and type are held for review (pending or rejected): the marts
# count them as missing. The holding itself is tested in test_review_queue.py.
HELD_WITHOUT_FALLBACK_SQL = """
    select held.financial_year, held.return_type, held.council_code
    from ingest.review_items as held
    where held.decision <> 'confirmed'
      and not exists (
          select 1 from raw.council_returns as other
          where other.council_code = held.council_code
            and other.financial_year = held.financial_year
            and other.return_type = held.return_type
            and not exists (
                select 1 from ingest.review_items as item
                where item.manifest_id = other.manifest_id
                  and item.source_row_number = other.source_row_number
                  and item.decision <> 'confirmed'
            )
      )
"""


def councils_held_without_fallback() -> dict[tuple[str, str], set[str]]:
    held: dict[tuple[str, str], set[str]] = {}
    with warehouse.connect() as conn:
        for year, kind, code in conn.execute(HELD_WITHOUT_FALLBACK_SQL).fetchall():
            held.setdefault((year, kind), set()).add(code)
    return held


@contextmanager
def environment(**values: str):
    mp = pytest.MonkeyPatch()
    for name, value in values.items():
        mp.setenv(name, value)
    try:
        yield
    finally:
        mp.undo()


def warehouse_setting(dsn: str) -> dict[str, str]:
    """The one warehouse setting, as an operator gives it: the Airflow Connection `warehouse`."""
    return {warehouse.CONNECTION_VARIABLE: warehouse.connection_json(dsn)}


def folder_environment(root: Path) -> dict[str, str]:
    return {variable: str(root / name) for name, variable in FOLDER_VARIABLES.items()}


@pytest.fixture(scope="module")
def warehouse_database():
    """A fresh, empty warehouse database for one test module."""
    dsn = recreate_warehouse()
    with environment(**warehouse_setting(dsn)):
        yield dsn


@pytest.fixture(scope="session")
def reference_template() -> str:
    """The reference schema built and tested by dbt once per test run, kept as a template."""
    from efficiency_warehouse import pipeline

    with environment(**warehouse_setting(recreate_warehouse())):
        pipeline.build_reference_data()
    return snapshot_warehouse("template_reference")


@pytest.fixture(scope="module")
def reference_loaded(warehouse_database, reference_template):
    """The module's warehouse with the reference schema built and tested by dbt (a copy of the template)."""
    recreate_warehouse(reference_template)
    return warehouse_database


@dataclass(frozen=True)
class PipelineSnapshot:
    """The warehouse and the folders (landing, received, outputs) as a pipeline run left them."""

    template: str
    folders: Path
    sample_files: dict[str, bytes]  # every file the run was given, by name, as delivered


# The board pack's state: everything `make run` seeds, less one RIEP annual report, through the marts.
WITHHELD_RIEP_REPORT = ("E12000001", "2010-11")  # North East's 2010-11 annual report
BOARD_PACK_DAG_IDS = local_airflow.PIPELINE_DAG_IDS[: local_airflow.PIPELINE_DAG_IDS.index("warehouse_transform") + 1]
# Then the withheld report arrives: its ingest, the marts again, and publication make the whole pipeline.
LATE_REPORT_DAG_IDS = ("riep_annual_reports_ingest", "warehouse_transform", "publish_releases")


@pytest.fixture(scope="session")
def pipeline_snapshots(airflow_metadata, tmp_path_factory) -> dict[str, PipelineSnapshot]:
    """The whole pipeline run once per test run, through Airflow, in two stages, each kept as a template:
    "board_pack" (one RIEP report still to come, no releases yet) and "full" (what `make run` leaves)."""
    from efficiency_warehouse.cli import seed_landing_if_empty

    working = tmp_path_factory.mktemp("pipeline_run")
    log = tmp_path_factory.getbasetemp() / "pipeline-run.log"
    snapshots: dict[str, PipelineSnapshot] = {}
    with environment(**warehouse_setting(recreate_warehouse()), BUILD_DATA_DOCS="1", **folder_environment(working)):
        assert seed_landing_if_empty() > 9  # what make run does: sample files for every dataset
        delivered = {p.name: p for p in (working / "landing").rglob("*") if p.is_file()}
        sample_files = {name: path.read_bytes() for name, path in delivered.items()}
        region, year = WITHHELD_RIEP_REPORT
        withheld = delivered[f"riep_annual_report_{region}_{year}.xlsx"]
        held_back = tmp_path_factory.mktemp("held_back") / withheld.name
        withheld.rename(held_back)

        run_dags_in_a_fresh_interpreter(BOARD_PACK_DAG_IDS, log)
        snapshots["board_pack"] = _keep(
            "board_pack", working, {k: v for k, v in sample_files.items() if k != withheld.name}, tmp_path_factory
        )

        held_back.rename(withheld)
        run_dags_in_a_fresh_interpreter(LATE_REPORT_DAG_IDS, log)
        snapshots["full"] = _keep("full", working, sample_files, tmp_path_factory)
    return snapshots


DAG_RUNNER = """
import sys
from efficiency_warehouse import local_airflow
local_airflow.configure_environment()
dags = local_airflow.load_dags()
for dag_id in sys.argv[1:]:
    local_airflow.run_dag(dags[dag_id])
"""


def run_dags_in_a_fresh_interpreter(dag_ids: tuple[str, ...], log: Path) -> None:
    """Run DAGs with dag.test(), in order, in a child Python with this session's environment: the same
    runs inside pytest's process took 1.5-2x as long."""
    with log.open("ab") as output:
        finished = subprocess.run(
            [sys.executable, "-c", DAG_RUNNER, *dag_ids],
            env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT / "plugins")},
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if finished.returncode:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        raise RuntimeError(f"DAG runs {', '.join(dag_ids)} failed; last lines of {log}:\n" + "\n".join(tail))


def _keep(stage: str, working: Path, sample_files: dict[str, bytes], tmp_path_factory) -> PipelineSnapshot:
    folders = tmp_path_factory.mktemp(f"snapshot_{stage}")
    shutil.copytree(working, folders, dirs_exist_ok=True)
    return PipelineSnapshot(snapshot_warehouse(f"template_{stage}"), folders, sample_files)


@contextmanager
def pipeline_clone(snapshot: PipelineSnapshot, root: Path):
    """The module's own copy of a pipeline snapshot: the database under test (its builds recorded in it)
    and folders under ``root``."""
    shutil.copytree(snapshot.folders, root, dirs_exist_ok=True)
    with environment(**warehouse_setting(recreate_warehouse(snapshot.template)), **folder_environment(root)):
        yield root


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Landing, received and outputs folders of the test's own."""
    paths = {name: tmp_path / name for name in ("landing", "received", "outputs")}
    monkeypatch.setenv("LANDING_DIR", str(paths["landing"]))
    monkeypatch.setenv("RECEIVED_DIR", str(paths["received"]))
    monkeypatch.setenv("OUTPUTS_DIR", str(paths["outputs"]))
    return paths
