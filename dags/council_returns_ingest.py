"""
### Council returns (NI 179) ingest

Takes every file waiting in `data/landing/council_returns/` (CSV or XLSX, template v1), keeps it by
content hash, validates it with the Great Expectations suites `council_returns__landing` (the file as
received) and `council_returns__staged` (typed rows against the warehouse: filing window, council
size, own forecast, previous year), and bulk-loads the accepted rows into `raw.council_returns`.
Stopped rows and files go to `ingest.quarantined_rows` with the reason; rows loaded with a warning
are listed in `ingest.validation_warnings`; every file gets a row in `ingest.load_manifest`.
Re-running is safe: content already processed is never loaded again. When rows were loaded, the
`raw/council_returns` asset triggers the transform.
"""

from airflow.sdk import DAG  # also tells the DAG parser, which skips files that never say "airflow", to read this one

from efficiency_warehouse.assets import RAW_COUNCIL_RETURNS
from efficiency_warehouse.dag_factories import landing_ingest_dag

council_returns_ingest: DAG = landing_ingest_dag(
    "council_returns", RAW_COUNCIL_RETURNS, __doc__, tags=["council_returns"]
)
