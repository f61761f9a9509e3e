"""Airflow Assets that connect producer and consumer DAGs. Light to import: DAG files use it at parse time."""

from airflow.sdk import Asset

REFERENCE_DATA = Asset("warehouse://reference/councils")
RAW_COUNCIL_RETURNS = Asset("warehouse://raw/council_returns")
RAW_COUNCIL_BASELINES = Asset("warehouse://raw/council_baselines")
RAW_RIEP_ANNUAL_REPORTS = Asset("warehouse://raw/riep_annual_reports")
RAW_RIEP_ALLOCATIONS = Asset("warehouse://raw/riep_allocations")
RAW_SIMPLIFICATION_STATUS_UPDATES = Asset("warehouse://raw/simplification_status_updates")
# Any new rows: the transform rebuilds the marts.
RAW_DATA = (
    RAW_COUNCIL_RETURNS
    | RAW_COUNCIL_BASELINES
    | RAW_RIEP_ANNUAL_REPORTS
    | RAW_RIEP_ALLOCATIONS
    | RAW_SIMPLIFICATION_STATUS_UPDATES
)
# A decision on a held return (review_decision DAG): the marts rebuild with it, and publication follows.
REVIEW_DECISIONS = Asset("warehouse://ingest/review_items")
NATIONAL_POSITION = Asset("warehouse://marts/national_efficiency_position")
