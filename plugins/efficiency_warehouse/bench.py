r"""`make bench`: wall time of each stage of one full cycle, of each DAG file's import, and ingest throughput.

The cycle runs on a fresh embedded warehouse in a temporary folder (initdb included, install
excluded), so the figures do not depend on, or disturb, the developer's warehouse. Figures are
printed, never asserted: they vary with the machine.

Ingest throughput, on the warehouse the cycle built: a synthetic CSV of a million rows in template v1
goes through ``ingest.ingest_file`` (hash, keep a copy, read, Great Expectations gate, COPY, manifest)
in a child process (so its peak RSS is the ingest's own), and the same rows go into the same table with
plain ``psql \copy``. Every row passes the gate, with the warehouse's own reference sets: council and
year pairs that exist. But a file may hold one row per council, year and return type, and the register
has ~2,200 such keys, so a million valid rows cannot be one file. As ~460 files of real size, the
gate's fixed cost per file would take the bench far past its few minutes. So the big file repeats the
real keys and is checked by the landing suite minus that one rule (a copy of the committed suite made
at run time, under ``EFFICIENCY_WAREHOUSE_HOME`` in the temporary folder); every other rule runs on
every row. Files the size of a real return (every key once, the whole suite) are timed too: the
per-file cost the big figure leaves out, and what a million rows in such files would take.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

IMPORT_REPEATS = 5

# Ingest throughput; the environment variables are for quick local runs.
INGEST_ROWS = int(os.environ.get("BENCH_INGEST_ROWS", 1_000_000))
REAL_SIZE_FILES = int(os.environ.get("BENCH_REAL_SIZE_FILES", 3))
# Opt-in (a minute or more): a file of this many rows with the keys repeated, under the whole suite, which
# must stop every row: the quarantine path.
QUARANTINE_ROWS = int(os.environ.get("BENCH_QUARANTINE_ROWS", 0))
# The ingest child is stopped after this long (its statements a little before): the bench reports that
# rather than hang on a regression. A healthy run took about 210 s on 2026-12-06 (2 cores).
INGEST_TIMEOUT_SECONDS = int(os.environ.get("BENCH_INGEST_TIMEOUT", 400))
SEED = 179
CHILD_APPLICATION_NAME = "efficiency_warehouse bench ingest"


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
    for variable in ("AIRFLOW_CONN_WAREHOUSE", "WAREHOUSE_DSN", "PGHOST", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
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
        try:
            with cli.output_to_log(scratch / "bench.log") as console:
                timings = cli.run_pipeline(console)
        finally:
            try:
                from airflow import settings as airflow_settings

                airflow_settings.dispose_orm()
            except ImportError:
                pass
        total = time.perf_counter() - started
        print(f"  {'total':<40} {total:6.1f}s  (stages: {sum(timings.values()):.1f}s)")

        print(f"\nDAG file import (median of {IMPORT_REPEATS}, after `import airflow.sdk`):")
        for name, seconds in dag_import_times(settings.dags_dir(), settings.PROJECT_ROOT / "plugins").items():
            print(f"  {name:<40} {seconds * 1000:7.1f} ms")

        # On the warehouse the cycle built, before it stops (pgserver will not start it again in this process).
        ingest_throughput(scratch / "throughput")
    finally:
        warehouse.stop_embedded()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


# --- ingest throughput --------------------------------------------------------------------------


def synthetic_returns(rng, keys, size: int):
    """A template v1 frame of ``size`` rows cycling through ``keys`` (council_code, financial_year,
    return_type, council_name), shuffled.

    Values look like returns: cumulative £ thousands with one decimal, a revenue/capital split for most
    rows, an SR04 carry-over for some, a submitted date in the return's window, now and then a comment
    (with a comma, so the CSV quotes it). Vectorised: a million rows take a couple of seconds.
    """
    import numpy as np
    import pandas as pd

    from efficiency_warehouse.datasets import COUNCIL_RETURNS

    frame = keys.iloc[rng.permutation(size) % len(keys)].reset_index(drop=True)

    def tenths(values) -> pd.Series:
        values = pd.Series(np.asarray(values).astype("int64"))
        return (values // 10).astype(str) + "." + (values % 10).astype(str)

    def blank_unless(share: float, values: pd.Series) -> pd.Series:
        return values.where(rng.random(size) < share, "")

    value = rng.integers(1_000, 5_000_000, size)  # £100.0k to £500,000.0k, in tenths
    revenue = (value * rng.uniform(0.7, 0.85, size)).astype("int64")
    split = rng.random(size) < 0.6
    actual = (frame["return_type"] == "actual").to_numpy()
    year = frame["financial_year"].str[:4].astype(int).to_numpy() + actual  # actuals come the year after
    frame["ni179_value_gbp_thousands"] = tenths(value)
    frame["revenue_gbp_thousands"] = tenths(revenue).where(split, "")
    frame["capital_gbp_thousands"] = tenths(value - revenue).where(split, "")
    frame["sr04_carry_over_gbp_thousands"] = blank_unless(0.25, tenths(value * rng.uniform(0.02, 0.2, size)))
    frame["submitted_date"] = (
        pd.Series(year).astype(str)
        + np.where(actual, "-07-", "-10-")
        + pd.Series(rng.integers(1, 29, size)).map("{:02d}".format)
    )
    frame["comment"] = blank_unless(0.05, pd.Series("Includes shared-service gains, agreed with the RIEP", range(size)))
    return frame[COUNCIL_RETURNS.column_names]


def real_keys(conn, parameters: dict[str, list[Any]]):
    """Every key a file can validly hold: each council-year pair the reference allows, forecast and actual."""
    import pandas as pd

    names = dict(conn.execute("select council_code, council_name from reference.councils").fetchall())
    keys = pd.DataFrame(sorted(parameters["council_years"]), columns=["council_code", "financial_year"])
    keys = keys.merge(pd.DataFrame({"return_type": ["forecast", "actual"]}), how="cross")
    keys["council_name"] = keys["council_code"].map(names)
    return keys


def bench_home(home: Path, suite: str) -> tuple[str, list[str]]:
    """A project home whose expectations are the committed ones plus ``suite`` without its key rule.

    Everything else links to the real project. Returns the new suite's name and the rules left out.
    """
    from efficiency_warehouse import settings
    from efficiency_warehouse.datasets import COUNCIL_RETURNS

    home.mkdir(parents=True, exist_ok=True)
    for entry in settings.PROJECT_ROOT.iterdir():
        if entry.name != "expectations" and not entry.name.startswith("."):
            (home / entry.name).symlink_to(entry)
    shutil.copytree(settings.expectations_dir(), home / "expectations")
    definition = json.loads((settings.expectations_dir() / f"{suite}.json").read_text(encoding="utf-8"))
    keys = set(COUNCIL_RETURNS.key_columns)
    kept, left_out = [], []
    for expectation in definition["expectations"]:
        kwargs = expectation.get("kwargs", {})
        if expectation["type"] == "expect_compound_columns_to_be_unique" and set(kwargs.get("column_list", [])) == keys:
            left_out.append((expectation.get("meta") or {}).get("rule", expectation["type"]))
        else:
            kept.append(expectation)
    name = f"{suite}__bench_keys_repeat"
    definition.update(name=name, expectations=kept)
    (home / "expectations" / f"{name}.json").write_text(json.dumps(definition), encoding="utf-8")
    return name, left_out


def _clone_manifest_row(conn, file_name: str, file_sha256: str, size: int, rows: int) -> int:
    """A manifest row for the psql baseline's rows (the table's foreign key needs one): a copy of the
    latest loaded council returns row with this file's name, hash and counts, whatever columns the
    manifest has."""
    from psycopg import sql

    from efficiency_warehouse.datasets import COUNCIL_RETURNS

    columns = [
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'ingest' and table_name = 'load_manifest'"
            " and is_identity = 'NO' and is_generated = 'NEVER' and column_name <> 'processed_at'"
            " order by ordinal_position"
        )
    ]
    overrides = {
        "dataset": COUNCIL_RETURNS.name,
        "file_name": file_name,
        "file_sha256": file_sha256,
        "file_size_bytes": size,
        "status": "loaded",
        "rows_read": rows,
        "rows_loaded": rows,
        "rows_quarantined": 0,
        "error_message": None,
        "duplicate_of": None,
        "dag_run_id": "bench-psql-copy",
    }
    statement = sql.SQL(
        "insert into ingest.load_manifest ({}) select {} from ingest.load_manifest"
        " where status = 'loaded' and dataset = %(dataset)s order by manifest_id desc limit 1 returning manifest_id"
    ).format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) if c in overrides else sql.Identifier(c) for c in columns),
    )
    row = conn.execute(statement, {c: v for c, v in overrides.items() if c in columns or c == "dataset"}).fetchone()
    if row is None:
        raise RuntimeError("no loaded manifest row to copy: did the cycle's ingest load anything?")
    conn.commit()
    return row[0]


def prepare_throughput_files(workdir: Path) -> dict[str, Any]:
    """Write the synthetic files, the psql baseline file and the plan the child process follows."""
    import numpy as np

    from efficiency_warehouse import ingest, warehouse
    from efficiency_warehouse.datasets import COUNCIL_RETURNS

    rng = np.random.default_rng(SEED)
    landing = workdir / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    plan: dict[str, Any] = {"home": str(workdir / "home"), "results": str(workdir / "results.json")}
    plan["big_suite"], plan["left_out"] = bench_home(workdir / "home", COUNCIL_RETURNS.landing_suite)
    with warehouse.connect() as conn:
        keys = real_keys(conn, ingest.suite_parameters(conn, COUNCIL_RETURNS))
        plan["keys"] = len(keys)
        plan["real_size"] = []
        for i in range(REAL_SIZE_FILES):
            path = landing / f"bench_real_size_{i + 1}.csv"
            synthetic_returns(rng, keys, len(keys)).to_csv(path, index=False, lineterminator="\n")
            plan["real_size"].append(str(path))

        started = time.perf_counter()
        frame = synthetic_returns(rng, keys, INGEST_ROWS)
        big = landing / f"bench_{INGEST_ROWS}_rows.csv"
        frame.to_csv(big, index=False, lineterminator="\n")
        plan.update(big=str(big), big_rows=len(frame), big_bytes=big.stat().st_size)
        plan["generate_seconds"] = time.perf_counter() - started

        # The psql baseline: the same rows plus the two columns the table needs besides the template's,
        # numbered as the ingest numbers them (line in the file), under a manifest row of their own.
        baseline = workdir / "psql_baseline.csv"
        manifest_id = _clone_manifest_row(
            conn, baseline.name, f"bench-psql-copy-{time.time_ns()}", plan["big_bytes"], len(frame)
        )
        columns = ["manifest_id", "source_row_number", *frame.columns]
        del frame
        with big.open(encoding="utf-8") as source, baseline.open("w", encoding="utf-8") as target:
            target.write(",".join(columns) + "\n")
            next(source)  # the header; no value spans lines, so a line is a row
            target.writelines(f"{manifest_id},{number},{line}" for number, line in enumerate(source, start=2))
        plan.update(baseline=str(baseline), baseline_columns=columns, baseline_manifest_id=manifest_id)

        if QUARANTINE_ROWS:
            path = landing / f"bench_{QUARANTINE_ROWS}_rows_keys_repeat.csv"
            synthetic_returns(rng, keys, QUARANTINE_ROWS).to_csv(path, index=False, lineterminator="\n")
            plan["quarantine"] = str(path)
    (workdir / "plan.json").write_text(json.dumps(plan))
    return plan


def _rss_now_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def ingest_child(workdir: Path) -> int:
    """In a fresh process (EFFICIENCY_WAREHOUSE_HOME set to the plan's home): ingest the planned files."""
    import dataclasses

    from efficiency_warehouse import ingest, warehouse
    from efficiency_warehouse.datasets import COUNCIL_RETURNS

    plan = json.loads((workdir / "plan.json").read_text())
    results: dict[str, Any] = {}

    def timed(conn, dataset, path: str, parameters) -> dict[str, Any]:
        print(f"{time.strftime('%H:%M:%S')} ingesting {Path(path).name}", flush=True)  # the log says where it is
        started = time.perf_counter()
        outcome = ingest.ingest_file(conn, dataset, Path(path), parameters, dag_run_id="bench")
        seconds = time.perf_counter() - started
        print(f"{time.strftime('%H:%M:%S')} {seconds:.1f}s: {outcome}", flush=True)
        return {"seconds": seconds, **ingest.as_dicts([outcome])[0]}

    with warehouse.connect() as conn:
        conn.execute(f"set statement_timeout = '{INGEST_TIMEOUT_SECONDS - 10}s'")
        conn.execute(f"set application_name = '{CHILD_APPLICATION_NAME}'")
        conn.commit()
        parameters = ingest.suite_parameters(conn, COUNCIL_RETURNS)
        # The first file pays for starting Great Expectations, as each ingest task does once; the big
        # file comes after, so its figure does not include that.
        results["real_size"] = [timed(conn, COUNCIL_RETURNS, path, parameters) for path in plan["real_size"]]
        results["rss_before_kib"] = _rss_now_kib()
        results["maxrss_before_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        big_dataset = dataclasses.replace(COUNCIL_RETURNS, landing_suite=plan["big_suite"])
        results["big"] = timed(conn, big_dataset, plan["big"], parameters)
        results["maxrss_after_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if plan.get("quarantine"):
            results["quarantine"] = timed(conn, COUNCIL_RETURNS, plan["quarantine"], parameters)
    Path(plan["results"]).write_text(json.dumps(results))
    return 0


def psql_copy(plan: dict[str, Any]) -> tuple[int, float]:
    r"""Seconds for psql to \copy the baseline file into the raw table, and the rows it reports."""
    from efficiency_warehouse import warehouse

    columns = ", ".join(plan["baseline_columns"])
    command = [
        warehouse.psql_executable(),
        warehouse.warehouse_dsn(),
        "-X",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        f"\\copy raw.council_returns ({columns}) from '{plan['baseline']}' with (format csv, header true)",
    ]
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    return int(out.stdout.split()[-1]), seconds  # psql reports "COPY <rows>"


def _line(label: str, rows: int, seconds: float, note: str = "") -> None:
    rate = rows / seconds if seconds else 0.0
    print(f"  {label:<44} {rows:>10,} rows {seconds:7.1f}s {rate:>9,.0f} rows/s{note}")


def _unclean(results: list[dict[str, Any]]) -> str | None:
    """Why these ingests are not clean loads of every row, or None."""
    odd = [r for r in results if r["status"] != "loaded" or r["rows_loaded"] != r["rows_read"]]
    if not odd:
        return None
    return "NOT clean loads: " + "; ".join(
        f"{r['file_name']}: {r['status']}, {r['rows_quarantined']:,} quarantined ({r['error_message']})" for r in odd
    )


def _stop_child_statements() -> list[str]:
    """End what a stopped child left running in the server (it would run on until statement_timeout);
    say what that was."""
    from efficiency_warehouse import warehouse

    with warehouse.connect(autocommit=True) as conn:
        running = conn.execute(
            "select state, extract(epoch from now() - query_start), regexp_replace(query, '\\s+', ' ', 'g'),"
            " pg_terminate_backend(pid)"
            " from pg_stat_activity where application_name = %s",
            (CHILD_APPLICATION_NAME,),
        ).fetchall()
    return [f"{state} for {seconds:.0f}s: {query[:150]}" for state, seconds, query, _ in running]


def run_ingest_child(workdir: Path, plan: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The child's results, or why there are none (with the end of its log)."""
    log_path = workdir / "ingest.log"
    child = [sys.executable, "-m", "efficiency_warehouse.bench", "--ingest-child", str(workdir)]
    with log_path.open("w") as log:
        try:
            subprocess.run(
                child,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=INGEST_TIMEOUT_SECONDS,
                env={
                    **os.environ,
                    "EFFICIENCY_WAREHOUSE_HOME": plan["home"],
                    # The big file is far past what one return may be: the bench measures the work, not the limit.
                    "LANDING_MAX_FILE_BYTES": str(max(plan["big_bytes"], 1) * 2),
                    "LANDING_MAX_ROWS": str(max(plan["big_rows"], INGEST_ROWS, QUARANTINE_ROWS) * 2),
                },
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            running = _stop_child_statements()
            reason = f"stopped after {error.timeout:.0f}s" if isinstance(error, subprocess.TimeoutExpired) else error
            tail = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()][-12:]
            tail += [f"in the server then: {statement}" for statement in running]
            return None, f"the ingest did not finish ({reason}); the end of its log:\n    " + "\n    ".join(tail)
    return json.loads(Path(plan["results"]).read_text()), None


def ingest_throughput(workdir: Path) -> None:
    print(f"\nIngest throughput (synthetic CSV in template v1, seed {SEED}, every row valid):")
    plan = prepare_throughput_files(workdir)
    results, failure = run_ingest_child(workdir, plan)
    psql_rows, psql_seconds = psql_copy(plan)  # after the ingest, so the ingest sees the table as it was

    left_out = ", ".join(plan["left_out"]) or "none found"
    print(
        f"  A file may hold one row per council, year and return type: the register allows {plan['keys']:,}.\n"
        f"  The big file repeats them, so it is gated by the landing suite without that rule ({left_out});\n"
        "  every other rule runs on every row, against the warehouse's reference sets."
    )
    print(
        f"  big file: {plan['big_rows']:,} rows, {plan['big_bytes'] / 1e6:.0f} MB"
        f" (written in {plan['generate_seconds']:.1f}s, not timed below)"
    )
    if results is None:
        print(f"  {failure}")
        _line("psql \\copy, same rows, same table", psql_rows, psql_seconds, "  (+ manifest_id, source_row_number)")
        return
    big = results["big"]
    _line("ingest_file (hash, keep, read, gate, COPY)", big["rows_read"], big["seconds"])
    if problem := _unclean([big]):
        print(f"    {problem}")
    _line("psql \\copy, same rows, same table", psql_rows, psql_seconds, "  (+ manifest_id, source_row_number)")
    if big["rows_read"] and psql_rows:
        ratio = (big["rows_read"] / big["seconds"]) / (psql_rows / psql_seconds)
        print(f"  {'ratio ingest/psql (rows/s)':<44} {ratio:10.3f}       (the ingest takes {1 / ratio:.1f}x as long)")
    peak, before = results["maxrss_after_kib"], results["rss_before_kib"]
    label = "peak RSS of the ingest process"
    print(f"  {label:<44} {peak / 2**20:10.2f} GiB   ({before / 2**20:.2f} GiB before the file)")
    if peak <= results["maxrss_before_kib"]:
        print("    (that peak came before the big file: the big file's own is lower)")

    if real := results["real_size"]:
        rows = real[0]["rows_read"]
        print(f"  real-size files ({rows:,} rows: every key once, the whole suite):")
        _line("  first (starts Great Expectations)", rows, real[0]["seconds"])
        if len(real) > 1:
            median = statistics.median(r["seconds"] for r in real[1:])
            _line(f"  next {len(real) - 1}, median", rows, median)
            if rows:
                files = -(-big["rows_read"] // rows)
                print(f"    ({big['rows_read']:,} rows as {files} such files: about {files * median / 60:.0f} minutes)")
        if problem := _unclean(real):
            print(f"    {problem}")
    if quarantine := results.get("quarantine"):
        _line("keys repeated, whole suite", quarantine["rows_read"], quarantine["seconds"])
        print(
            f"    {quarantine['status']}: {quarantine['rows_loaded']:,} loaded, {quarantine['rows_quarantined']:,}"
            " quarantined (the one-row-per-return rule should stop them all)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="efficiency_warehouse.bench", description=__doc__)
    parser.add_argument("--ingest-child", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    sys.exit(ingest_child(arguments.ingest_child) if arguments.ingest_child else main())
