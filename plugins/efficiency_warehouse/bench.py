"""`make bench`: wall time of each stage of one full cycle, and of each DAG file's import.

The cycle runs on a fresh embedded warehouse in a temporary folder (initdb included, install
excluded), so the figures do not depend on, or disturb, the developer's warehouse. Figures are
printed, never asserted: they vary with the machine.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_REPEATS = 5


def dag_import_times(dags_dir: Path, plugins_dir: Path) -> dict[str, float]:
    """Seconds to execute each DAG file once airflow.sdk is imported (what the DAG parser pays per file)."""
    probe = (
        "import runpy, sys, time\n"
        f"sys.path.insert(0, {str(plugins_dir)!r})\n"
        "import airflow.sdk\n"
        "started = time.perf_counter()\n"
        "runpy.run_path(sys.argv[1])\n"
        "print(time.perf_counter() - started)\n"
    )
    times = {}
    for dag_file in sorted(dags_dir.glob("*.py")):
        samples = []
        for _ in range(IMPORT_REPEATS):
            command = [sys.executable, "-c", probe, str(dag_file)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            samples.append(float(out.stdout.strip().splitlines()[-1]))
        times[dag_file.name] = statistics.median(samples)
    return times


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="ew-bench-"))
    for variable in ("WAREHOUSE_DSN", "PGHOST", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        os.environ.pop(variable, None)
    os.environ.update(
        {
            "EMBEDDED_PGDATA": str(scratch / "pgdata"),
            "WAREHOUSE_DATA_DIR": str(scratch / "data"),
            "OUTPUTS_DIR": str(scratch / "outputs"),
            "AIRFLOW_HOME": str(scratch / "airflow"),
            "DBT_TARGET_PATH": str(scratch / "dbt-target"),
            "DBT_LOG_PATH": str(scratch / "dbt-logs"),
        }
    )
    from efficiency_warehouse import cli, settings, warehouse

    print(f"Full cycle on a fresh embedded warehouse in {scratch} (sample returns, install excluded):")
    started = time.perf_counter()
    try:
        with cli.output_to_log(scratch / "bench.log") as console:
            timings = cli.run_pipeline(console)
    finally:
        try:
            from airflow import settings as airflow_settings

            airflow_settings.dispose_orm()
        except ImportError:
            pass
        warehouse.stop_embedded()
    total = time.perf_counter() - started
    print(f"  {'total':<40} {total:6.1f}s  (stages: {sum(timings.values()):.1f}s)")

    print(f"\nDAG file import (median of {IMPORT_REPEATS}, after `import airflow.sdk`):")
    for name, seconds in dag_import_times(settings.dags_dir(), settings.PROJECT_ROOT / "plugins").items():
        print(f"  {name:<40} {seconds * 1000:7.1f} ms")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
