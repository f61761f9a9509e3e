"""Run dbt against whichever warehouse the environment names."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from efficiency_warehouse import settings, warehouse

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    pass


@contextmanager
def _profile_environment() -> Iterator[None]:
    """Expose the warehouse connection to profiles.yml for the length of one dbt call."""
    params = warehouse.connection_parameters()
    values = {
        "WAREHOUSE_HOST": params["host"],
        "WAREHOUSE_PORT": params["port"],
        "WAREHOUSE_USER": params["user"],
        "DBT_ENV_SECRET_WAREHOUSE_PASSWORD": params["password"],
        "WAREHOUSE_DBNAME": params["dbname"],
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_dbt(*args: str) -> list[dict]:
    """Invoke dbt in-process (its documented programmatic API); raise if anything failed.

    Returns one dict per node: its name, status and, for tests, the failures count.
    """
    from dbt.cli.main import dbtRunner  # heavy import: only when a task actually runs dbt

    project_dir = str(settings.dbt_project_dir())
    with _profile_environment():
        result = dbtRunner().invoke(
            [*args, "--project-dir", project_dir, "--profiles-dir", project_dir, "--no-use-colors"]
        )
    nodes = []
    if result.result is not None and hasattr(result.result, "results"):
        for node_result in result.result.results:
            nodes.append(
                {
                    "name": node_result.node.name,
                    "status": str(node_result.status),
                    "failures": node_result.failures,
                    "message": node_result.message,
                }
            )
    if not result.success:
        failed = [n for n in nodes if n["status"] in ("error", "fail")]
        detail = "; ".join(f"{n['name']}: {n['message']}" for n in failed) or str(result.exception)
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    return nodes


def summarise(nodes: list[dict]) -> dict[str, int]:
    """Counts of node results by status, small enough for an XCom."""
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node["status"]] = counts.get(node["status"], 0) + 1
    return counts


def target_dir() -> Path:
    return Path(os.environ.get("DBT_TARGET_PATH", settings.dbt_project_dir() / "target"))


def last_invocation_id() -> str | None:
    """The invocation id of dbt's last run in the target folder (its run_results.json), if any."""
    path = target_dir() / "run_results.json"
    return json.loads(path.read_text())["metadata"]["invocation_id"] if path.exists() else None
