"""`make up` and `make down` for real: Airflow's scheduler, dag-processor, triggerer and api-server from the
venv, on this session's embedded PostgreSQL, answering on a port of the test's own; then stopped, with
nothing of theirs left running and nothing else stopped."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from conftest import PROJECT_ROOT, recreate_warehouse
from psycopg import sql

from efficiency_warehouse import dag_defaults, local_airflow, services

pytestmark = pytest.mark.services
PROJECT_DAGS = {*local_airflow.PIPELINE_DAG_IDS, *local_airflow.OPERATOR_DAG_IDS}
INGEST_DAG_IDS = dag_defaults.INGEST_DAG_IDS
VALIDATION_LINK = re.compile(r"validations/[^'\"\s]+\.html")  # in the GX index page's table data


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_services(command: str, env: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "efficiency_warehouse.services", command, *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    )


def api(url: str, token: str | None = None, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def processes_with_airflow_home(airflow_home: str) -> list[tuple[int, str]]:
    """Live processes whose environment names this AIRFLOW_HOME: anything `make up` started, however forked."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if f"AIRFLOW_HOME={airflow_home}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
        if stat.rsplit(") ", 1)[1].split()[0] != "Z" and int(entry.name) != os.getpid():
            found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]))
    return found


def started_before_the_api_answered(record: dict) -> list[str]:
    """Services that start tasks but started before the api-server answered (a task's first call is to it)."""
    answered = datetime.fromisoformat(record["api_answered_at"])
    return [
        name
        for name, service in record["services"].items()
        if name not in ("redis", "api-server") and datetime.fromisoformat(service["started_at"]) <= answered
    ]


@pytest.fixture
def service_env(warehouse_database, folders, tmp_path):
    """The environment `make up` runs in, with ports of the test's own (a developer's `make up` may be up)."""
    env = os.environ | {
        "PYTHONPATH": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW_API_PORT": str(free_port()),
        "AIRFLOW_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW_TRIGGER_LOG_SERVER_PORT": str(free_port()),
    }
    yield env
    run_services("down", env)  # whatever the test did


def test_make_up_serves_the_dags_and_make_down_stops_exactly_what_it_started(service_env):
    bystander = subprocess.Popen(["sleep", "600"], env=service_env)  # same AIRFLOW_HOME, not started by up
    try:
        started = time.monotonic()
        result = run_services("up", service_env)
        assert result.returncode == 0, result.stdout + result.stderr
        base = f"http://127.0.0.1:{service_env['AIRFLOW_API_PORT']}"
        assert f"Airflow's services are up (LocalExecutor): {base}" in result.stdout
        state = Path(service_env["AIRFLOW_HOME"]) / "services"
        record = json.loads((state / "pids.json").read_text())
        assert set(record["services"]) == set(services.SERVICES)
        assert started_before_the_api_answered(record) == []
        for name, service in record["services"].items():
            assert Path(service["log"]).parent == state, name
        assert (state / "passwords.json").stat().st_mode & 0o077 == 0, "the admin's password is the owner's alone"

        again = run_services("up", service_env)
        assert again.returncode == 1
        assert f"already running since {record['started_at']}" in again.stderr

        assert api(f"{base}/api/v2/monitor/health")["metadatabase"]["status"] == "healthy"
        password = json.loads((state / "passwords.json").read_text())["admin"]
        token = api(f"{base}/auth/token", body={"username": "admin", "password": password})["access_token"]
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:  # the dag-processor parses the folder after it starts
            dags = {d["dag_id"]: d for d in api(f"{base}/api/v2/dags?limit=100", token)["dags"]}
            if PROJECT_DAGS <= set(dags):
                break
            time.sleep(3)
        assert set(dags) == PROJECT_DAGS
        assert not any(d["is_paused"] for d in dags.values()), "the DAGs run without an operator unpausing them"
        assert api(f"{base}/api/v2/importErrors", token)["total_entries"] == 0
        print(f"make up to every DAG listed: {time.monotonic() - started:.0f} s")

        # Every process of the services' sessions (make down's own means) is seen by its environment too, even
        # after it renamed itself (the api-server does at once). Scanned again if one started or ended between.
        for _ in range(5):
            sessions = {
                pid for service in record["services"].values() for pid in services.session_members(service["pid"])
            }
            ours = {pid for pid, _ in processes_with_airflow_home(service_env["AIRFLOW_HOME"])} - {bystander.pid}
            if sessions <= ours:
                break
            time.sleep(1)
        assert {service["pid"] for service in record["services"].values()} <= ours
        assert sessions <= ours, "a process of a service's session does not carry its AIRFLOW_HOME"

        stopped = run_services("down", service_env)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert stopped.stdout.strip() == "stopped: " + ", ".join(services.SERVICES)
        left = [p for p in processes_with_airflow_home(service_env["AIRFLOW_HOME"]) if p[0] != bystander.pid]
        assert left == [], "make down left processes running"
        # (A zombie has ended: orphans wait for their reaper, which in a container may be slow.)
        assert [pid for pid in sessions if services.alive(pid)] == [], "make down left processes running"
        assert bystander.poll() is None, "make down stopped a process it did not start"
        assert not (state / "pids.json").exists()
        assert run_services("down", service_env).stdout.strip() == "nothing was running"
    finally:
        bystander.send_signal(signal.SIGTERM)
        bystander.wait()


def test_make_down_stops_what_a_service_started_in_a_process_group_of_its_own(tmp_path, monkeypatch):
    """Airflow gives each task and DAG-file parser a process group of its own inside the service's session;
    a helper of theirs that ignores SIGTERM (multiprocessing's resource tracker does) outlived a stop by
    process group. Here a stand-in service starts such a child."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setattr(services, "STOP_GRACE_SECONDS", 2)
    child_code = "import os, signal as s, time; os.setpgid(0, 0); s.signal(s.SIGTERM, s.SIG_IGN); time.sleep(99)"
    service_code = f"import subprocess as p, sys, time; p.Popen([sys.executable, '-c', {child_code!r}]); time.sleep(99)"
    service = subprocess.Popen([sys.executable, "-c", service_code], start_new_session=True)
    deadline = time.monotonic() + 30
    while len(services.session_members(service.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    child = set(services.session_members(service.pid)) - {service.pid}
    assert len(child) == 1 and os.getpgid(child.pop()) != service.pid, "the child has a process group of its own"
    services.state_dir().mkdir(parents=True)
    record = {"started_at": "now", "services": {"stand-in": {"pid": service.pid, "log": "", "command": []}}}
    services.pids_file().write_text(json.dumps(record))

    assert services.down() == ["stand-in"]
    assert services.session_members(service.pid) == []


@pytest.fixture
def empty_deployment(warehouse_database, folders, tmp_path):
    """A new deployment on this machine: an empty warehouse, empty folders, an Airflow metadata database
    and home of its own, ingests ticking every minute (the default is every five) to keep the test short."""
    from efficiency_warehouse import warehouse

    recreate_warehouse()  # the module's database, empty again: each executor's run starts from nothing
    metadata = "airflow_services_test"
    admin = warehouse.embedded_server_dsn("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(metadata)))
    env = os.environ | {
        "PYTHONPATH": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": local_airflow._sqlalchemy_url(warehouse.embedded_server_dsn(metadata)),
        "AIRFLOW_API_PORT": str(free_port()),
        "AIRFLOW_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW_TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        "INGEST_SCHEDULE": "* * * * *",
        "BUILD_DATA_DOCS": "1",
        "GX_VALIDATION_RESULTS_DIR": str(tmp_path / "gx-results"),
        "AIRFLOW_REDIS_PORT": str(free_port()),
    }
    yield {"env": env, "folders": folders}
    run_services("down", env)


class Airflow:
    """The api-server's REST API, logged in as the admin `make up` created."""

    def __init__(self, env: dict[str, str]):
        self.base = f"http://127.0.0.1:{env['AIRFLOW_API_PORT']}"
        password = json.loads((Path(env["AIRFLOW_HOME"]) / "services" / "passwords.json").read_text())["admin"]
        self.token = api(f"{self.base}/auth/token", body={"username": "admin", "password": password})["access_token"]

    def runs(self, dag_id: str) -> list[dict]:
        url = f"{self.base}/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=start_date"
        try:
            return api(url, self.token)["dag_runs"]
        except urllib.error.HTTPError as error:
            if error.code == 404:  # not parsed yet: the api-server answers before the dag-processor has run
                return []
            raise

    def triggered_runs(self, dag_id: str) -> list[dict]:
        """Runs an Asset started (not the nightly publication, which also runs once at first start)."""
        return [run for run in self.runs(dag_id) if run["run_type"] == "asset_triggered"]

    def task_instances(self, dag_id: str) -> list[dict]:
        instances = []
        for run in self.runs(dag_id):
            url = f"{self.base}/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run['dag_run_id'])}/taskInstances"
            instances += api(url, self.token)["task_instances"]
        return instances

    def task_states(self, dag_id: str, task_id: str) -> list[str]:
        states = []
        for run in self.runs(dag_id):
            url = f"{self.base}/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run['dag_run_id'])}/taskInstances"
            states += [t["state"] for t in api(url, self.token)["task_instances"] if t["task_id"] == task_id]
        return states


ENDED = {"success", "skipped", "failed", "upstream_failed"}


def wait_for(what: str, condition, seconds: float, every: float = 5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(every)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


def deliver(samples: Path, landing: Path, datasets: list[str], airflow: Airflow) -> None:
    """Move the sample files of ``datasets`` into landing together, between two ticks of the ingest schedule
    (this minute's ingests have all finished, the next is a while off), so one tick takes them all. On a
    busy machine a tick's ingests start seconds late: files dropped then would split across two ticks."""

    def between_ticks() -> bool:
        if not 15 <= time.localtime().tm_sec <= 45:
            return False
        return all(run["end_date"] for dag_id in INGEST_DAG_IDS for run in airflow.runs(dag_id))

    wait_for("a moment between two ticks", between_ticks, 120, every=1)
    for name in datasets:
        (landing / name).mkdir(parents=True, exist_ok=True)
        for path in sorted((samples / name).iterdir()):
            path.rename(landing / name / path.name)


@pytest.mark.parametrize("executor", ["local", "celery"])
def test_make_up_on_an_empty_warehouse_turns_dropped_files_into_a_release(executor, empty_deployment, tmp_path):
    """On LocalExecutor, and on CeleryExecutor with two workers (Redis as the broker): tasks run in processes
    of their own, on either worker, and still every validation reaches the Data Docs."""
    from efficiency_warehouse import sample_data, sample_riep_data, warehouse

    env, folders = empty_deployment["env"], empty_deployment["folders"]
    samples = tmp_path / "samples"
    sample_data.write_sample_baselines(samples / "council_baselines")
    sample_data.write_sample_returns(samples / "council_returns")
    sample_riep_data.write_sample_allocations(samples / "riep_allocations")
    sample_riep_data.write_sample_riep_reports(samples / "riep_annual_reports")
    sample_riep_data.write_sample_status_updates(samples / "simplification_status_updates")

    result = run_services("up", env, "--executor", executor)
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads((Path(env["AIRFLOW_HOME"]) / "services" / "pids.json").read_text())
    assert started_before_the_api_answered(record) == []
    airflow = Airflow(env)

    # Day one: the reference layer builds by itself; the transform it starts has nothing to build.
    wait_for("the reference build", lambda: [r for r in airflow.runs("reference_data") if r["state"] == "success"], 300)
    # Its sensor waits for a gap between ticks' ingests (here every minute): on a busy machine, a few ticks.
    wait_for("the first transform", lambda: set(airflow.task_states("warehouse_transform", "dbt_build")) & ENDED, 300)
    assert airflow.task_states("warehouse_transform", "dbt_build") == ["skipped"]

    # Baselines first (the returns' size check reads them), as the first-day runbook says.
    deliver(samples, folders["landing"], ["council_baselines"], airflow)
    wait_for(
        "the baselines' transform",
        lambda: len([t for t in airflow.task_states("warehouse_transform", "dbt_build") if t in ENDED]) > 1,
        400,
    )
    wait_for("every run to finish", lambda: all(r["end_date"] for r in airflow.runs("warehouse_transform")), 300)
    time.sleep(20)  # a publication it started
    wait_for("every publication to finish", lambda: all(r["end_date"] for r in airflow.runs("publish_releases")), 300)
    publications_before = len(airflow.triggered_runs("publish_releases"))
    with warehouse.connect() as conn:
        builds_before = conn.execute("select count(*) from ingest.builds where kind = 'marts'").fetchone()[0]

    # Then four datasets in one tick: one build, then one publication, and the releases, with no command.
    dropped = time.monotonic()
    deliver(
        samples,
        folders["landing"],
        ["council_returns", "riep_allocations", "riep_annual_reports", "simplification_status_updates"],
        airflow,
    )
    releases = folders["outputs"] / "releases"
    wait_for("a release", lambda: releases.is_dir() and list(releases.glob("*/v1/manifest.json")), 900)
    latency = time.monotonic() - dropped
    wait_for("the publication to finish", lambda: all(r["end_date"] for r in airflow.runs("publish_releases")), 300)
    time.sleep(65)  # a further tick: nothing new must build or publish again
    with warehouse.connect() as conn:
        builds = conn.execute("select count(*) from ingest.builds where kind = 'marts'").fetchone()[0]
    assert builds - builds_before == 1, "one tick's files make one build"
    publications = airflow.triggered_runs("publish_releases")
    assert len(publications) - publications_before == 1, "and one publication"
    assert publications[-1]["state"] == "success"
    assert sorted(p.parent.parent.name for p in releases.glob("*/v*/manifest.json")) == [
        f"{year}_{kind}" for year in ("2008-09", "2009-10", "2010-11") for kind in ("actual", "forecast")
    ]
    print(f"file drop to release under the real services ({executor}): {latency:.0f} s")

    gx_docs = folders["outputs"] / "docs" / "gx"
    listed = {link.removeprefix("validations/").removesuffix(".html") for link in VALIDATION_LINK.findall(
        (gx_docs / "index.html").read_text())}  # fmt: skip
    results = Path(env["GX_VALIDATION_RESULTS_DIR"])
    stored = {str(p.relative_to(results).with_suffix("")) for p in results.rglob("*.json")}
    assert stored and listed == stored, "the Data Docs list every validation of the run"
    assert all((gx_docs / "validations" / f"{key}.html").exists() for key in stored)

    if executor == "celery":
        ran_on = [ti["hostname"] for dag_id in PROJECT_DAGS for ti in airflow.task_instances(dag_id) if ti["hostname"]]
        workers = {hostname.split("@")[0] for hostname in ran_on}
        print("tasks per worker:", {worker: sum(h.startswith(f"{worker}@") for h in ran_on) for worker in workers})
        assert workers == {"worker1", "worker2"}, "tasks ran on both Celery workers"

    stopped = run_services("down", env)
    assert stopped.returncode == 0, stopped.stderr
    assert processes_with_airflow_home(env["AIRFLOW_HOME"]) == []
