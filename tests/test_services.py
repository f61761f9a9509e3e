"""`make up` and `make down` for real: Airflow's scheduler, dag-processor, triggerer and api-server from the
venv, on this session's embedded PostgreSQL, answering on a port of the test's own; then stopped, with
nothing of theirs left running and nothing else stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

from efficiency_warehouse import local_airflow, services

PROJECT_DAGS = {*local_airflow.PIPELINE_DAG_IDS, *local_airflow.OPERATOR_DAG_IDS}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_services(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "efficiency_warehouse.services", command],
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
        assert f"Airflow's services are up: {base}" in result.stdout
        state = Path(service_env["AIRFLOW_HOME"]) / "services"
        record = json.loads((state / "pids.json").read_text())
        assert set(record["services"]) == set(services.SERVICES)
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

        ours = {pid for pid, _ in processes_with_airflow_home(service_env["AIRFLOW_HOME"])} - {bystander.pid}
        assert len(ours) >= len(services.SERVICES)

        stopped = run_services("down", service_env)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert stopped.stdout.strip() == "stopped: " + ", ".join(services.SERVICES)
        left = [p for p in processes_with_airflow_home(service_env["AIRFLOW_HOME"]) if p[0] != bystander.pid]
        assert left == [], "make down left processes running"
        assert bystander.poll() is None, "make down stopped a process it did not start"
        assert not (state / "pids.json").exists()
        assert run_services("down", service_env).stdout.strip() == "nothing was running"
    finally:
        bystander.send_signal(signal.SIGTERM)
        bystander.wait()
