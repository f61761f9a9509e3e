"""The DAG files: they import cleanly, say who owns them, retry, and stay thin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from efficiency_warehouse import local_airflow, settings

pytestmark = pytest.mark.fast  # needs no pipeline run: part of `make test-fast`

DAG_FILES = sorted(p for p in settings.dags_dir().glob("*.py"))
HEAVY_MODULES = ("great_expectations", "dbt", "pandas", "psycopg", "pgserver")


# A failing dbt data test fails the same way on a retry; the next delivery's Asset starts the next build.
DELIBERATELY_NOT_RETRIED = {("warehouse_transform", "dbt_build")}


@pytest.fixture(scope="module")
def dags(airflow_metadata):
    return local_airflow.load_dags()


def test_every_dag_file_imports_without_errors_and_defines_its_dag(dags):
    assert {p.stem for p in DAG_FILES} == set(dags), "one DAG per file, file name = dag_id"
    assert set(local_airflow.PIPELINE_DAG_IDS + local_airflow.OPERATOR_DAG_IDS) == set(dags)


@pytest.mark.parametrize("dag_id", local_airflow.PIPELINE_DAG_IDS + local_airflow.OPERATOR_DAG_IDS)
def test_dag_has_owner_tags_retries_docs_and_deliberate_catchup(dags, dag_id):
    dag = dags[dag_id]
    assert dag.tags, "tags let operators filter the UI"
    assert dag.doc_md and dag.doc_md.strip()
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.owner == "data-engineering"
        if (dag_id, task.task_id) in DELIBERATELY_NOT_RETRIED:
            assert task.retries == 0
        else:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_assets_chain_the_dags_in_pipeline_order(dags):
    produced = {dag_id: {o.uri for t in dags[dag_id].tasks for o in t.outlets} for dag_id in dags}
    assert "warehouse://raw/council_returns" in produced["council_returns_ingest"]
    assert "warehouse://marts/national_efficiency_position" in produced["warehouse_transform"]
    assert "warehouse://reference/councils" in produced["reference_data"]
    transform_schedule = str(dags["warehouse_transform"].timetable.asset_condition)
    assert "warehouse://raw/council_returns" in transform_schedule
    assert "warehouse://ingest/review_items" in produced["review_decision"]
    assert "warehouse://ingest/review_items" in transform_schedule, "a decision rebuilds the marts"
    assert "warehouse://marts/national_efficiency_position" in str(dags["publish_releases"].timetable.asset_condition)


# One interpreter imports airflow.sdk once, then forks a clean child per DAG file (8 subprocesses took 20 s).
HEAVY_IMPORT_PROBE = """
import json, os, runpy, sys
sys.path.insert(0, sys.argv[1])
import airflow.sdk
heavy_roots, found = set(json.loads(sys.argv[2])), {}
for dag_file in sys.argv[3:]:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        before = set(sys.modules)
        runpy.run_path(dag_file)
        heavy = sorted({m.split(".")[0] for m in set(sys.modules) - before} & heavy_roots)
        os.write(write, json.dumps(heavy).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        output = pipe.read()
    _, status = os.waitpid(child, 0)
    found[os.path.basename(dag_file)] = json.loads(output) if status == 0 and output else "failed to import"
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def heavy_imports_by_dag_file() -> dict[str, list[str] | str]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            HEAVY_IMPORT_PROBE,
            str(settings.PROJECT_ROOT / "plugins"),
            json.dumps(HEAVY_MODULES),
            *map(str, DAG_FILES),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_nothing_heavy_at_parse_time(heavy_imports_by_dag_file, dag_file: Path):
    """Parsing a DAG file must not import GX, dbt, pandas or a database driver: the parser runs it often."""
    assert heavy_imports_by_dag_file[dag_file.name] == [], (
        f"{dag_file.name} imports {heavy_imports_by_dag_file[dag_file.name]}"
    )
