"""
### RIEP annual reports ingest

Each of the nine RIEPs' annual report (2008-09 to 2010-11) from `data/landing/riep_annual_reports/`:
a workbook with one sheet per section (Summary, Funding, Spend, Standards, Priorities), or one CSV
per section. Each section has its own Great Expectations suite and raw table (`raw.riep_report_*`);
the summary's totals are checked against the other sections, and all five minimum standards must be
answered. A resubmitted report supersedes the earlier one; both stay queryable.
"""

from airflow.sdk import DAG  # also tells the DAG parser, which skips files that never say "airflow", to read this one

from efficiency_warehouse.assets import RAW_RIEP_ANNUAL_REPORTS
from efficiency_warehouse.dag_factories import landing_ingest_dag

riep_annual_reports_ingest: DAG = landing_ingest_dag(
    "riep_annual_reports", RAW_RIEP_ANNUAL_REPORTS, __doc__, tags=["riep", "riep_annual_reports"]
)
