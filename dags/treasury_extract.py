"""
### HM Treasury extract

Writes the national position mart as CSV to `outputs/extracts/` whenever the marts are rebuilt.
"""

from airflow.sdk import dag, task

from efficiency_warehouse.assets import NATIONAL_POSITION
from efficiency_warehouse.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule=[NATIONAL_POSITION],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["publish", "treasury"],
    doc_md=__doc__,
)
def treasury_extract():
    @task
    def write_national_extract():
        from efficiency_warehouse import pipeline

        return pipeline.publish_national_extract()

    write_national_extract()


treasury_extract()
