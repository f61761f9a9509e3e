"""
### RIEP funding allocations ingest

Allocations of improvement and efficiency funding per RIEP, financial year and stream (RSG top-slice;
Communities and Local Government), with their status (indicative, firm, final) and the date set,
from `data/landing/riep_allocations/`. Every file is kept, so an indicative allocation later made
firm keeps its history; the marts use the latest set.
"""

from airflow.sdk import DAG  # also tells the DAG parser, which skips files that never say "airflow", to read this one

from efficiency_warehouse.assets import RAW_RIEP_ALLOCATIONS
from efficiency_warehouse.dag_factories import landing_ingest_dag

riep_allocations_ingest: DAG = landing_ingest_dag(
    "riep_allocations", RAW_RIEP_ALLOCATIONS, __doc__, tags=["riep", "riep_allocations"]
)
