"""Airflow Assets that connect producer and consumer DAGs. Light to import: DAG files use it at parse time."""

from airflow.sdk import Asset

REFERENCE_DATA = Asset("warehouse://reference/councils")
RAW_COUNCIL_RETURNS = Asset("warehouse://raw/council_returns")
RAW_COUNCIL_BASELINES = Asset("warehouse://raw/council_baselines")
NATIONAL_POSITION = Asset("warehouse://marts/national_efficiency_position")
