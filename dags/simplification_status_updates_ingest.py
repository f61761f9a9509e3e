"""
### Simplification commitment status updates ingest

Status updates on the national strategy's simplification commitments (`reference.simplification_commitments`),
filed over time by the board secretariat into `data/landing/simplification_status_updates/`: commitment,
as-at date, status (not started, on track, at risk, delivered, dropped) and evidence. Every update is
kept: the full history of status changes.
"""

from airflow.sdk import DAG  # also tells the DAG parser, which skips files that never say "airflow", to read this one

from efficiency_warehouse.assets import RAW_SIMPLIFICATION_STATUS_UPDATES
from efficiency_warehouse.dag_factories import landing_ingest_dag

simplification_status_updates_ingest: DAG = landing_ingest_dag(
    "simplification_status_updates", RAW_SIMPLIFICATION_STATUS_UPDATES, __doc__, tags=["simplification"]
)
