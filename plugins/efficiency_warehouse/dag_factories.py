"""The ingest DAG, once, for every dataset that arrives in a landing folder.

Light to import (DAG files call it at parse time): the work happens in efficiency_warehouse.pipeline,
imported inside the tasks.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from efficiency_warehouse.dag_defaults import DEFAULT_ARGS, INGEST_SCHEDULE, START_DATE


def landing_ingest_dag(dataset_name: str, outlet: Asset, doc_md: str, tags: list[str]):
    @dag(
        dag_id=f"{dataset_name}_ingest",
        schedule=INGEST_SCHEDULE,
        start_date=START_DATE,
        catchup=False,  # each run sweeps the landing folder; missed ticks have nothing of their own
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["ingest", "great_expectations", *tags],
        doc_md=doc_md,
    )
    def ingest():
        @task
        def ingest_landing_files(**context):
            from efficiency_warehouse import pipeline

            return pipeline.ingest_dataset(dataset_name, dag_run_id=context["run_id"])

        @task(outlets=[outlet])
        def announce_new_rows(results):
            from airflow.sdk.exceptions import AirflowSkipException

            from efficiency_warehouse import pipeline

            loaded = pipeline.rows_loaded(results)
            if not loaded:
                raise AirflowSkipException("no new rows: downstream DAGs are not triggered")
            return loaded

        announce_new_rows(ingest_landing_files())

    return ingest()
