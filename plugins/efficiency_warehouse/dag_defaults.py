"""Defaults every DAG shares. Light to import: DAG files use it at parse time."""

import os
from datetime import timedelta

import pendulum

START_DATE = pendulum.datetime(2008, 4, 1, tz="Europe/London")  # the CSR07 programme's first day

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}

# The ingest DAGs sweep their landing folders on the clock, all at the same minutes, so the files of one
# delivery arrive in one tick: every 5 minutes by default (README: Airflow's own services).
INGEST_SCHEDULE = os.environ.get("INGEST_SCHEDULE", "*/5 * * * *")
INGEST_DAG_IDS = tuple(
    f"{name}_ingest"
    for name in (
        "council_baselines",
        "council_returns",
        "riep_allocations",
        "riep_annual_reports",
        "simplification_status_updates",
    )
)
