"""The national efficiency-returns warehouse: ingestion, quality gates, dbt and extracts.

DAG files under dags/ stay thin and call into this package; tests import it without Airflow.
"""
