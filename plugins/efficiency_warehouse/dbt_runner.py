"""Run dbt against whichever warehouse the environment names."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from efficiency_warehouse import settings, warehouse

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    def __init__(self, message: str, failed_nodes: list[str]):
        super().__init__(message)
        self.failed_nodes = failed_nodes  # unique ids of the nodes that errored, failed or were skipped


@contextmanager
def _profile_environment() -> Iterator[None]:
    """Expose the warehouse connection to profiles.yml, and the target folder, for the length of one dbt call."""
    params = warehouse.connection_parameters()
    values = {
        "WAREHOUSE_HOST": params["host"],
        "WAREHOUSE_PORT": params["port"],
        "WAREHOUSE_USER": params["user"],
        "DBT_ENV_SECRET_WAREHOUSE_PASSWORD": params["password"],
        "WAREHOUSE_DBNAME": params["dbname"],
        # The artifacts go where every task finds them (settings.dbt_target_dir), unless a call names its own.
        "DBT_TARGET_PATH": str(target_dir()),
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
                    "unique_id": node_result.node.unique_id,
                    "name": node_result.node.name,
                    "status": str(node_result.status),
                    "failures": node_result.failures,
                    "message": node_result.message,
                }
            )
    if not result.success:
        failed = [n for n in nodes if n["status"] in ("error", "fail")]
        detail = "; ".join(f"{n['name']}: {n['message']}" for n in failed) or str(result.exception)
        not_passed = [n["unique_id"] for n in nodes if n["status"] in ("error", "fail", "runtime error", "skipped")]
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}", not_passed)
    return nodes


def invocation_id() -> str:
    """The id of this process's last dbt invocation (dbt's own, as in its artifacts)."""
    from dbt_common.invocation import get_invocation_id

    return get_invocation_id()


def summarise(nodes: list[dict]) -> dict[str, int]:
    """Counts of node results by status, small enough for an XCom."""
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node["status"]] = counts.get(node["status"], 0) + 1
    return counts


def target_dir() -> Path:
    return settings.dbt_target_dir()
