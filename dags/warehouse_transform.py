"""
### Warehouse transform

Runs `dbt build` (staging, intermediate and marts, with their data tests) when new council
rows of any dataset have been loaded, the reference data has changed, or a held return was decided.
A failing test fails the task, and the marts asset is not updated, so nothing downstream publishes
from untested data. Before the first council returns are loaded (a new deployment's first reference
build) the task skips, saying so. One build or publication step runs at a time (the warehouse lock
`build_and_publish`). It first waits until no ingest run is queued or running, so one tick's files make
one build; Asset events that arrive during a build start one more run after it, which builds only if
something new came in (files, review decisions, the reference build, the dbt project).
"""

from airflow.sdk import dag, task

from efficiency_warehouse.assets import NATIONAL_POSITION, RAW_DATA, REFERENCE_DATA, REVIEW_DECISIONS
from efficiency_warehouse.dag_defaults import DEFAULT_ARGS, INGEST_DAG_IDS, START_DATE


@dag(
    schedule=(RAW_DATA | REFERENCE_DATA | REVIEW_DECISIONS),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["transform", "dbt"],
    doc_md=__doc__,
)
def warehouse_transform():
    # Freed between pokes (reschedule): the ingests it waits for need the worker slots.
    @task.sensor(poke_interval=10, timeout=30 * 60, mode="reschedule")
    def ingests_finished(**context) -> bool:
        """The files of one tick are all in before the build, so they make one build, not one each."""
        ti = context["ti"]
        return not any(ti.get_dr_count(dag_id=d, states=["queued", "running"]) for d in INGEST_DAG_IDS)

    # No retries: a failing data test fails the same way again; the next delivery's Asset event starts the
    # next build (a retry would also hold back, for its delay, the build that delivery needs).
    @task(outlets=[NATIONAL_POSITION], retries=0)
    def dbt_build():
        from airflow.sdk.exceptions import AirflowSkipException

        from efficiency_warehouse import pipeline

        built = pipeline.build_marts(skip_if_unchanged=True)
        if "skipped" in built:  # skipped, the marts Asset is not updated: nothing publishes
            raise AirflowSkipException(built["skipped"])
        return built

    ingests_finished() >> dbt_build()


warehouse_transform()
