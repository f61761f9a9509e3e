"""Nothing a task needs lives on one worker: one storage root for files, validation results kept as
files so every task's validations reach the Data Docs, the build's outcome read from the warehouse."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_dags_in_a_fresh_interpreter

from efficiency_warehouse import sample_data, settings

VALIDATION_LINK = re.compile(r"validations/[^'\"\s]+\.html")  # in the index's table data


def test_everything_kept_on_disk_is_under_the_storage_root(monkeypatch, tmp_path):
    for variable in ("WAREHOUSE_DATA_DIR", "OUTPUTS_DIR", "LANDING_DIR", "RECEIVED_DIR", "SET_ASIDE_DIR",
                     "GX_VALIDATION_RESULTS_DIR", "DBT_TARGET_PATH"):  # fmt: skip
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("WAREHOUSE_STORAGE_ROOT", str(tmp_path / "shared"))
    kept = {
        "landing": settings.landing_dir(),
        "received": settings.received_dir(),
        "set aside": settings.set_aside_dir(),
        "outputs": settings.outputs_dir(),
        "validation results": settings.validation_results_dir(),
        "dbt artifacts": settings.dbt_target_dir(),
    }
    assert {name: path.is_relative_to(tmp_path / "shared") for name, path in kept.items()} == dict.fromkeys(kept, True)


def test_the_data_docs_list_the_validations_of_every_task_process(
    airflow_metadata, reference_loaded, folders, monkeypatch, tmp_path
):
    """Two ingest DAGs, each in a Python process of its own (as each task is under a real executor): the
    index lists the validations of both, one entry per validation stored."""
    monkeypatch.setenv("BUILD_DATA_DOCS", "1")
    monkeypatch.setenv("GX_VALIDATION_RESULTS_DIR", str(tmp_path / "gx-results"))
    sample_data.write_sample_baselines(folders["landing"] / "council_baselines")
    sample_data.write_sample_returns(folders["landing"] / "council_returns")
    run_dags_in_a_fresh_interpreter(("council_baselines_ingest",), tmp_path / "baselines.log")
    run_dags_in_a_fresh_interpreter(("council_returns_ingest",), tmp_path / "returns.log")

    index = (folders["outputs"] / "docs" / "gx" / "index.html").read_text()
    listed = set(VALIDATION_LINK.findall(index))
    stored = {p.relative_to(tmp_path / "gx-results").with_suffix("") for p in (tmp_path / "gx-results").rglob("*.json")}
    assert {Path(link).relative_to("validations").with_suffix("") for link in listed} == stored
    suites = {Path(link).parts[1] for link in listed}
    assert {"council_baselines__landing", "council_returns__landing", "council_returns__staged"} <= suites
    assert all((folders["outputs"] / "docs" / "gx" / link).exists() for link in listed)
