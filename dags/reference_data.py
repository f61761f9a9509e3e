"""
### Reference data

Loads the reference data as dbt seeds (every council with its GSS code, type, region and dates;
the nine regions and their RIEPs; the April 2009 reorganisation; the programme years; the 2007-08
baseline and the published target path) and builds and tests the `reference` schema that the
ingest quality gates check returns against. It runs once by itself when a deployment first starts;
trigger it when the reference data changes.
"""

from airflow.sdk import dag, task

from efficiency_warehouse.assets import REFERENCE_DATA
from efficiency_warehouse.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule="@once",  # a new deployment builds its reference layer on its first start
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["reference", "dbt"],
    doc_md=__doc__,
)
def reference_data():
    @task(outlets=[REFERENCE_DATA])
    def build_reference_data():
        from efficiency_warehouse import pipeline

        return pipeline.build_reference_data()

    build_reference_data()


reference_data()
