"""
### Council baselines ingest

Per-council baseline expenditure (2007-08, the CSR07 baseline; 2004-05, the SR04 baseline behind
the 7.5% carry-over rule) from `data/landing/council_baselines/`, through the same gate, quarantine
and manifest as the returns (suite `council_baselines__landing`). The sample figures are generated;
real ones replace them by being dropped in the same folder: the latest file wins per council and year.
"""

from airflow.sdk import DAG  # also tells the DAG parser, which skips files that never say "airflow", to read this one

from efficiency_warehouse.assets import RAW_COUNCIL_BASELINES
from efficiency_warehouse.dag_factories import landing_ingest_dag

council_baselines_ingest: DAG = landing_ingest_dag(
    "council_baselines", RAW_COUNCIL_BASELINES, __doc__, tags=["reference", "council_baselines"]
)
