"""What each DAG task does, as plain functions: DAG files call these, tests can too."""

from __future__ import annotations

from typing import Any

from efficiency_warehouse import dbt_runner, extracts, ingest
from efficiency_warehouse.datasets import DATASETS


def build_reference_data() -> dict[str, int]:
    """Load the reference seeds and build and test the reference schema the quality gates use."""
    return dbt_runner.summarise(
        dbt_runner.run_dbt("build", "--select", "tag:reference", "--indirect-selection", "cautious")
    )


def ingest_dataset(dataset_name: str, dag_run_id: str | None = None) -> list[dict[str, Any]]:
    """Process every file waiting in the dataset's landing folder; one result per file."""
    return ingest.as_dicts(ingest.ingest_landing(DATASETS[dataset_name], dag_run_id))


def rows_loaded(results: list[dict[str, Any]]) -> int:
    return sum(result["rows_loaded"] for result in results)


def build_marts() -> dict[str, int]:
    """Staging, intermediate and marts with their tests; the reference schema is its own DAG's."""
    return dbt_runner.summarise(dbt_runner.run_dbt("build", "--exclude", "tag:reference"))


def publish_national_extract() -> dict[str, Any]:
    return extracts.write_national_extract()
