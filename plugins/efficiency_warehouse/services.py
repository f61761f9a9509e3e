"""Airflow's real services on this machine: `make up`, `make down`, `make status`.

The scheduler, dag-processor, triggerer and api-server run from the project's venv, each in a session
of its own, with the same settings `make run` uses (local_airflow): metadata in the
database ``airflow`` on the embedded PostgreSQL (or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN), DAGs from
``dags/``. Their PIDs go to ``$AIRFLOW_HOME/services/pids.json`` and their logs beside it, so `make down`
stops exactly the sessions `make up` started (the LocalExecutor's task processes are in the
scheduler's) and nothing else.

With ``--executor celery`` the scheduler hands tasks to two ``airflow celery worker`` processes through a
Redis (Debian's ``redis-server``, on a port of its own, nothing saved to disk), each a service of its own
that `make down` stops too. Every service and task is given the one warehouse as the Airflow Connection
``warehouse`` (a Celery worker refuses to fall back to an embedded server), and shares the storage root.

The settings are sized for the documented machine (2 cores): see README "Airflow's own services".
Every value is a default: an AIRFLOW__* variable already in the environment wins.

    python -m efficiency_warehouse.services up [--executor local|celery] | down | status
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from efficiency_warehouse import local_airflow, settings, warehouse

API_HOST = "127.0.0.1"
ADMIN_USER = "admin"
STOP_GRACE_SECONDS = 30
START_WAIT_SECONDS = 180
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}
CELERY_WORKERS = 2
WORKER_NAME_VARIABLE = "EFFICIENCY_WAREHOUSE_WORKER"


class ServicesError(RuntimeError):
    """The services could not be started or stopped; the message says what to do."""


def state_dir() -> Path:
    return Path(os.environ["AIRFLOW_HOME"]) / "services"


def pids_file() -> Path:
    return state_dir() / "pids.json"


def passwords_file() -> Path:
    return state_dir() / "passwords.json"


def api_port() -> int:
    return int(os.environ.get("AIRFLOW_API_PORT", "8080"))


def base_url() -> str:
    return f"http://{API_HOST}:{api_port()}"


def _owner_only_file(path: Path, initial: str = "") -> Path:
    """Create ``path`` readable by its owner only (0600) if it is not there yet."""
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(initial)
    return path


def _secret(name: str) -> str:
    """A random secret generated once and kept in the git-ignored state folder, owner-only."""
    return _owner_only_file(state_dir() / f"{name}.secret", secrets.token_urlsafe(32)).read_text().strip()


def worker_hostname() -> str:
    """The host name a task instance records (AIRFLOW__CORE__HOSTNAME_CALLABLE): the Celery worker's name
    and the machine's, so the UI and the API say which of two workers on one machine ran each task."""
    name = os.environ.get(WORKER_NAME_VARIABLE)
    return f"{name}@{socket.getfqdn()}" if name else socket.getfqdn()


def service_environment(executor: str = "local") -> dict[str, str]:
    """The environment every service, and every task they run, shares."""
    local_airflow.configure_environment()
    state_dir().mkdir(parents=True, exist_ok=True)
    state_dir().chmod(0o700)
    _owner_only_file(passwords_file())  # the api-server writes the admin's generated password into it
    port = api_port()
    defaults = {
        "AIRFLOW__CORE__EXECUTOR": EXECUTORS[executor],
        # 2 cores: a dbt build or a GX validation keeps a core busy; more tasks at once than that only
        # queue on the CPU and make their calls to the api-server time out. The default is 32.
        "AIRFLOW__CORE__PARALLELISM": "2",
        # The DAGs run as soon as they are parsed: an operator does not unpause nine DAGs by hand.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": API_HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",  # one operator and a few task calls at a time: one worker is plenty
        "AIRFLOW__API__BASE_URL": base_url(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url()}/execution/",
        # A task's calls to the api-server wait for a busy CPU rather than giving up after 5 s.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        # Every component must sign and check task tokens with the same secret.
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret("jwt"),
        "AIRFLOW__API__SECRET_KEY": _secret("api"),
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file()),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(Path(os.environ["AIRFLOW_HOME"]) / "logs"),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": os.environ.get("AIRFLOW_LOG_SERVER_PORT", "8793"),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": os.environ.get("AIRFLOW_TRIGGER_LOG_SERVER_PORT", "8794"),
        "PYTHONPATH": str(settings.PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "efficiency_warehouse.services.worker_hostname",
        # Airflow renames its processes (setproctitle), which by default writes over /proc/<pid>/environ:
        # the AIRFLOW_HOME there is how an operator (and make down's test) tells this deployment's
        # processes from another's. Titles are then cut to the length of the command line.
        "SPT_NOENV": "1",
    }
    if warehouse.warehouse_connection() is None:
        # The one warehouse for every service and worker, as docker-compose gives it: the embedded server,
        # started here (before any service: see up()), named as the Connection.
        defaults[warehouse.CONNECTION_VARIABLE] = warehouse.connection_json(
            warehouse.embedded_server_dsn(warehouse.EMBEDDED_DATABASE)
        )
    if executor == "celery":
        redis_port = os.environ.get("AIRFLOW_REDIS_PORT", "6390")  # not 6379: a system Redis is left alone
        metadata = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        defaults |= {
            "AIRFLOW_REDIS_PORT": redis_port,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{API_HOST}:{redis_port}/0",
            # Task states go to the metadata database Airflow already has (Celery's SQLAlchemy backend).
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata,
            # One task at a time per worker: two workers on 2 cores, as parallelism 2 above.
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        }
    return defaults | dict(os.environ)


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _commands(environment: dict[str, str]) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each service's command line and the environment variables of its own, in the order they start."""
    airflow = _airflow()
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    celery = environment["AIRFLOW__CORE__EXECUTOR"] == EXECUTORS["celery"]
    if celery:
        redis = shutil.which("redis-server")
        if not redis:
            raise ServicesError("CeleryExecutor needs Redis as its broker: `make redis` (apt-get install redis-server)")
        port = environment["AIRFLOW_REDIS_PORT"]
        # In memory only: queued task messages are re-sent by the scheduler after a restart.
        options = ["--bind", API_HOST, "--port", port, "--save", "", "--appendonly", "no", "--dir", str(state_dir())]
        commands["redis"] = ([redis, *options], {})
    commands |= {
        "api-server": ([airflow, "api-server", "--host", API_HOST, "--port", environment["AIRFLOW__API__PORT"]], {}),
        "scheduler": ([airflow, "scheduler"], {}),
        "dag-processor": ([airflow, "dag-processor"], {}),
        "triggerer": ([airflow, "triggerer"], {}),
    }
    for number in range(1, CELERY_WORKERS + 1) if celery else ():
        name = f"worker{number}"
        command = [airflow, "celery", "worker", "--celery-hostname", f"{name}@%h"]
        command += ["--concurrency", environment["AIRFLOW__CELERY__WORKER_CONCURRENCY"]]
        # One log server port per machine: the first worker serves the task logs (the workers share the folder).
        command += ["--skip-serve-logs"] if number > 1 else []
        commands[f"celery-worker-{number}"] = (command, {WORKER_NAME_VARIABLE: name})
    return commands


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    return state != "Z"


def session_members(sid: int) -> list[int]:
    """Live processes in the session ``sid``: the service and everything it started. Not its process group:
    Airflow puts each task and DAG-file parser in a group of its own (within the session), and a helper of
    theirs (multiprocessing's resource tracker, which ignores SIGTERM) outlived a stop by group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (FileNotFoundError, IndexError, ProcessLookupError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def running() -> dict:
    """What `up` recorded: {"started_at", "base_url", "services": {name: {"pid", "log", "command"}}}."""
    try:
        return json.loads(pids_file().read_text())
    except FileNotFoundError:
        return {}


def up(executor: str = "local", wait_seconds: float = START_WAIT_SECONDS) -> dict:
    """Start the services unless they already run; wait for the api-server; return the record."""
    environment = service_environment(executor)
    current = running()
    still_running = [name for name, s in current.get("services", {}).items() if session_members(s["pid"])]
    if still_running:
        raise ServicesError(
            f"Airflow's services are already running since {current['started_at']} ({', '.join(still_running)}):"
            " `make status` lists them, `make down` stops them"
        )
    # The warehouse before any service: a task must never be the one that starts the embedded server, or
    # the server would be a child in that service's session and `make down` would stop it too.
    warehouse.warehouse_dsn()
    subprocess.run([_airflow(), "db", "migrate"], check=True, stdout=subprocess.DEVNULL, env=environment)
    unpause_known_dags()
    started: dict[str, dict] = {}
    record = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "base_url": environment["AIRFLOW__API__BASE_URL"],
        "executor": environment["AIRFLOW__CORE__EXECUTOR"],
        "services": started,
    }
    # A task's first act is to call the api-server (the Task Execution API): a task started before it
    # answered failed with "connection refused" and waited out its retry delay, holding a new deployment's
    # first build back five minutes. So (Redis and) the api-server start, and the api-server answers,
    # before anything that starts tasks.
    try:
        for name, (command, own_environment) in _commands(environment).items():
            started[name] = _start(name, command, own_environment, environment)
            pids_file().write_text(json.dumps(record, indent=2))  # written as each starts: a crash leaves it
            if name == "api-server":
                _wait_for_api(wait_seconds, started, record["base_url"])
                record["api_answered_at"] = datetime.now(UTC).isoformat()
        _wait_for_api(wait_seconds, started, record["base_url"])  # still answering, and nothing else stopped
    except BaseException:
        down()
        raise
    return record


def _start(name: str, command: list[str], own_environment: dict[str, str], environment: dict[str, str]) -> dict:
    log_path = state_dir() / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            env=environment | own_environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a session of its own: `down` stops everything in it
        )
    return {"pid": process.pid, "log": str(log_path), "command": command, "started_at": datetime.now(UTC).isoformat()}


def unpause_known_dags() -> list[str]:
    """Unpause the project's DAGs the metadata already knows (`make run` records them paused, Airflow's
    default); DAGs parsed for the first time start unpaused (DAGS_ARE_PAUSED_AT_CREATION above)."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    project_dags = (*local_airflow.PIPELINE_DAG_IDS, *local_airflow.OPERATOR_DAG_IDS)
    with create_session() as session:
        paused = session.query(DagModel).filter(DagModel.dag_id.in_(project_dags), DagModel.is_paused).all()
        for dag in paused:
            dag.is_paused = False
    return [dag.dag_id for dag in paused]


def _wait_for_api(wait_seconds: float, started: dict, url_root: str) -> None:
    deadline = time.monotonic() + wait_seconds
    url = f"{url_root}/api/v2/monitor/health"
    while time.monotonic() < deadline:
        for name, service in started.items():
            if not alive(service["pid"]):
                tail = Path(service["log"]).read_text(errors="replace").splitlines()[-20:]
                raise ServicesError(f"{name} stopped while starting; the end of {service['log']}:\n" + "\n".join(tail))
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(2)
    raise ServicesError(f"the api-server did not answer {url} within {wait_seconds:.0f} s: see {state_dir()}/*.log")


def down() -> list[str]:
    """Stop every session `up` started (TERM, then KILL after a grace period); return the services' names."""
    services = running().get("services", {})
    for service in services.values():
        _signal_session(service["pid"], signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for service in services.values():
        while session_members(service["pid"]) and time.monotonic() < deadline:
            time.sleep(0.5)
        if session_members(service["pid"]):
            _signal_session(service["pid"], signal.SIGKILL)
            kill_deadline = time.monotonic() + 10
            while session_members(service["pid"]) and time.monotonic() < kill_deadline:
                time.sleep(0.2)
    for service in services.values():
        try:  # reap our own children (when up and down ran in one process) so none is left a zombie
            os.waitpid(service["pid"], os.WNOHANG)
        except ChildProcessError:
            pass
    left = {name: members for name, s in services.items() if (members := session_members(s["pid"]))}
    if left:
        raise ServicesError(f"still running after SIGKILL: {left}; {pids_file()} is kept")
    pids_file().unlink(missing_ok=True)
    return list(services)


def _signal_session(sid: int, signum: int) -> None:
    for pid in session_members(sid):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def admin_password() -> str | None:
    """The admin's password, generated by the api-server on its first start."""
    try:
        return json.loads(passwords_file().read_text() or "{}").get(ADMIN_USER)
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m efficiency_warehouse.services", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--executor", choices=sorted(EXECUTORS), default="local", help="up: which executor")
    args = parser.parse_args(argv)
    local_airflow.configure_environment()
    try:
        if args.command == "up":
            record = up(args.executor)
            print(f"Airflow's services are up ({record['executor']}): {record['base_url']}")
            print(f"  login: {ADMIN_USER}, password in {passwords_file()} (generated on the first start)")
            for name, service in record["services"].items():
                print(f"  {name:<14} pid {service['pid']:<8} log {service['log']}")
            print(f"  drop a file in {settings.landing_dir()}/<dataset>/ and watch it in the UI")
            print("  `make down` stops them")
        elif args.command == "down":
            stopped = down()
            print("stopped: " + ", ".join(stopped) if stopped else "nothing was running")
        else:
            current = running()
            if not current:
                print("not running")
            for name, service in current.get("services", {}).items():
                state = "up" if alive(service["pid"]) else "STOPPED (see its log)"
                print(f"  {name:<14} pid {service['pid']:<8} {state}")
    except (ServicesError, warehouse.WarehouseNotConfigured) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
