"""
### Council returns (NI 179) ingest

Takes every file waiting in `data/landing/council_returns/`, keeps it by content hash, validates it
with the `council_returns__landing` Great Expectations suite and bulk-loads the accepted rows into
`raw.council_returns`; stopped rows and files go to `ingest.quarantined_rows` with the reason, and
every file gets a row in `ingest.load_manifest`. Re-running is safe: content already processed is
never loaded again. When rows were loaded, the `raw/council_returns` asset triggers the transform.
"""

from datetime import timedelta

from airflow.sdk import dag, task

from efficiency_warehouse.assets import RAW_COUNCIL_RETURNS
from efficiency_warehouse.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule=timedelta(hours=1),
    start_date=START_DATE,
    catchup=False,  # each run sweeps the landing folder; missed hours have nothing of their own
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "council_returns", "great_expectations"],
    doc_md=__doc__,
)
def council_returns_ingest():
    @task
    def ingest_landing_files(**context):
        from efficiency_warehouse import pipeline

        return pipeline.ingest_council_returns(dag_run_id=context["run_id"])

    @task(outlets=[RAW_COUNCIL_RETURNS])
    def announce_new_rows(results):
        from airflow.sdk.exceptions import AirflowSkipException

        from efficiency_warehouse import pipeline

        if not pipeline.rows_loaded(results):
            raise AirflowSkipException("no new rows: the transform is not triggered")
        return pipeline.rows_loaded(results)

    announce_new_rows(ingest_landing_files())


council_returns_ingest()
