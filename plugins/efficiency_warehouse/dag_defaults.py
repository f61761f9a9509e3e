"""Defaults every DAG shares. Light to import: DAG files use it at parse time."""

from datetime import timedelta

import pendulum

START_DATE = pendulum.datetime(2008, 4, 1, tz="Europe/London")  # the CSR07 programme's first day

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}
