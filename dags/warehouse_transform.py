"""
### Warehouse transform

Runs `dbt build` (staging, intermediate and marts, with their data tests) when new council
rows of any dataset have been loaded, the reference data has changed, or a held return was decided.
A failing test fails the task, and the marts asset is not updated, so nothing downstream publishes
from untested data. Before the first council returns are loaded (a new deployment's first reference
build) the task skips, saying so. One build or publication step runs at a time (the warehouse lock
`build_and_publish`); Asset events that arrive during a build start one build after it.
"""

from airflow.sdk import dag, task

from efficiency_warehouse.assets import NATIONAL_POSITION, RAW_DATA, REFERENCE_DATA, REVIEW_DECISIONS
from efficiency_warehouse.dag_defaults import DEFAULT_ARGS, START_DATE


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
    @task(outlets=[NATIONAL_POSITION])
    def dbt_build():
        from airflow.sdk.exceptions import AirflowSkipException

        from efficiency_warehouse import pipeline

        built = pipeline.build_marts()
        if "skipped" in built:  # skipped, the marts Asset is not updated: nothing publishes
            raise AirflowSkipException(built["skipped"])
        return built

    dbt_build()


warehouse_transform()
