"""Static checks of docker-compose.yml, docker/airflow.Dockerfile, the postgres init script and .env.example.

No Docker engine is needed: everything here reads files. The one check that needs the Compose CLI
(`docker compose config`) skips itself when `docker compose version` does not work. No network, no
database, no fixtures from conftest.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.fast  # needs no pipeline run: part of `make test-fast`

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "airflow.Dockerfile"
INIT_DIR = ROOT / "docker" / "postgres-init"
ENV_EXAMPLE = ROOT / ".env.example"

AIRFLOW_VERSION = "3.3.2"
# Long-running Airflow 3 components, plus the one-shot init and the optional CLI.
AIRFLOW_DAEMONS = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",  # profile "celery"
)
CELERY_PROFILE = {"redis", "airflow-worker"}
AIRFLOW_SERVICES = (*AIRFLOW_DAEMONS, "airflow-init", "airflow-cli")
# Bind-mount sources that are runtime folders (files arrive / extracts are written), not in git:
# Compose creates them on first start and airflow-init creates and chowns them.
RUNTIME_DIRS = {"data", "outputs"}
# The one default allowed inside ${VAR:-default} for a secret-looking variable: empty (the Fernet key).
DEV_ONLY_DEFAULTS = {""}
# Variables that must have no default at all (compose fails with ${VAR:?message} when unset).
REQUIRED_SECRETS = {
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "POSTGRES_PASSWORD",
    "AIRFLOW_DB_PASSWORD",
    "WAREHOUSE_DB_PASSWORD",
}
SECRETISH = re.compile(r"(PASSWORD|SECRET|FERNET|TOKEN|_KEY)(?!.*_(FILE|PATH)$)", re.IGNORECASE)
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}, ${NAME?err}; "$${" is a literal "$" for compose.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    """The file as parsed, with each ${NAME:?message} shortened to ${NAME}: a message's "?" and spaces
    would otherwise end a URI's netloc for urlsplit. The raw text is checked for them separately."""
    return yaml.safe_load(re.sub(r"\$\{(\w+):\?[^}]*\}", r"${\1}", COMPOSE_FILE.read_text()))


def _with_defaults(value: str) -> str:
    """``value`` as compose renders it with nothing set: ${NAME:-default} -> default."""
    return INTERPOLATION.sub(lambda m: m["arg"] if m["op"] in (":-", "-") else "", value)


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host source, container target) of every bind mount (short syntax, relative host path)."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
            continue
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/", "$")):
            mounts.append((source, target))
    return mounts


def _named_volumes(service: dict) -> list[str]:
    names = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str) and not volume.startswith((".", "/", "$")):
            names.append(volume.split(":")[0])
    return names


def _compose_variables(text: str) -> dict[str, list[tuple[str | None, str | None]]]:
    found: dict[str, list[tuple[str | None, str | None]]] = {}
    for match in INTERPOLATION.finditer(text):
        found.setdefault(match["name"], []).append((match["op"], match["arg"]))
    return found


# --- structure -------------------------------------------------------------------------------------


def test_compose_parses_and_has_expected_services(compose: dict, services: dict) -> None:
    assert isinstance(compose, dict)
    expected = {"postgres", *AIRFLOW_SERVICES, *CELERY_PROFILE}
    assert expected <= set(services), f"missing services: {expected - set(services)}"
    # The Celery pieces start only with the profile "celery"; LocalExecutor (the default) needs none.
    assert {name for name, service in services.items() if "celery" in service.get("profiles", [])} == CELERY_PROFILE
    assert "flower" not in services
    # Airflow 3 has no webserver command any more.
    assert "airflow-webserver" not in services


def test_airflow_services_share_the_common_anchor(compose: dict, services: dict) -> None:
    common = compose["x-airflow-common"]
    common_env = _env(common)
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["image"] == common["image"], name
        assert service["build"] == common["build"], name
        assert service["volumes"] == common["volumes"], name
        env = _env(service)
        # Every service carries the whole common environment (it may add to it, never change it).
        assert {key: env.get(key) for key in common_env} == common_env, name
    raw = COMPOSE_FILE.read_text()
    for name in AIRFLOW_SERVICES:
        block = raw.split(f"\n  {name}:\n", 1)[1].split("\n  ", 1)[0]
        assert block.strip() == "<<: *airflow-common", f"{name} should start with '<<: *airflow-common'"


def test_airflow_commands_are_airflow_3_components(services: dict) -> None:
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-scheduler"]["command"] == "scheduler"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"
    assert services["airflow-triggerer"]["command"] == "triggerer"
    assert services["airflow-worker"]["command"] == "celery worker"


def test_celery_profile_has_two_workers_on_redis(compose: dict, services: dict) -> None:
    env = _env(compose["x-airflow-common"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
    assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+"))
    assert (backend.hostname, backend.path) == ("postgres", "/airflow")
    worker = services["airflow-worker"]
    assert worker["deploy"]["replicas"] == "${AIRFLOW_CELERY_WORKERS:-2}"
    assert worker["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert "inspect ping" in " ".join(worker["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_startup_order(services: dict) -> None:
    for name in AIRFLOW_DAEMONS:
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}, name
    # LocalExecutor runs tasks in the scheduler, and tasks need the Execution API.
    assert services["airflow-scheduler"]["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}
    assert services["airflow-init"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_healthchecks(services: dict) -> None:
    for name in ("postgres", *AIRFLOW_DAEMONS):
        check = services[name].get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "/api/v2/monitor/health" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    scheduler_check = " ".join(services["airflow-scheduler"]["healthcheck"]["test"])
    assert ":8974/health" in scheduler_check
    assert _env(services["airflow-scheduler"])["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_api_server_port_published_on_this_machine_only_by_default(services: dict) -> None:
    ports = [str(port) for port in services["airflow-apiserver"].get("ports", [])]
    assert any(port.split(":")[-1] == "8080" for port in ports), ports
    assert [_with_defaults(port) for port in ports] == ["127.0.0.1:8080:8080"]
    for name, service in services.items():  # nothing else published on every interface either
        for port in map(_with_defaults, map(str, service.get("ports", []))):
            assert port.startswith("127.0.0.1:") and port.count(":") == 2, f"{name}: {port}"


# --- Airflow 3 and project configuration ------------------------------------------------------------


def test_airflow_environment(compose: dict, services: dict) -> None:
    env = _env(compose["x-airflow-common"])
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("simple_auth_manager.SimpleAuthManager")
    execution_api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert execution_api.hostname == "airflow-apiserver" and execution_api.hostname in services
    assert execution_api.port == 8080 and execution_api.path == "/execution/"
    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert metadata.scheme.startswith("postgresql") and metadata.hostname == "postgres"
    assert metadata.path == "/airflow"
    assert _env(services["airflow-init"])["_AIRFLOW_DB_MIGRATE"] == "true"
    # The SimpleAuthManager passwords file must live on a volume shared with the api-server.
    password_file = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    shared = [volume.split(":")[1] for volume in compose["x-airflow-common"]["volumes"]]
    assert any(password_file.startswith(target + "/") for target in shared)


def test_project_environment(compose: dict) -> None:
    env = _env(compose["x-airflow-common"])
    assert env["EFFICIENCY_WAREHOUSE_HOME"] == "/opt/airflow/project"
    dsn = urlsplit(env["AIRFLOW_CONN_WAREHOUSE"])
    assert dsn.scheme in {"postgresql", "postgres"} and dsn.hostname == "postgres"
    assert dsn.path == "/efficiency_warehouse"
    # data/ and outputs/ under the one storage root, each a bind mount every container shares.
    assert env["WAREHOUSE_STORAGE_ROOT"] == "/opt/airflow/project"
    targets = {target for _, target in _bind_mounts(compose["x-airflow-common"])}
    assert {"/opt/airflow/project/data", "/opt/airflow/project/outputs"} <= targets
    assert "dbt-artifacts" in _named_volumes(compose["x-airflow-common"])
    assert env["DBT_TARGET_PATH"].startswith("/opt/airflow/dbt-artifacts/")


def test_volume_targets(compose: dict) -> None:
    targets = {target: source for source, target in _bind_mounts(compose["x-airflow-common"])}
    assert targets["/opt/airflow/dags"] == "./dags"
    assert targets["/opt/airflow/plugins"] == "./plugins"
    for folder in ("dags", "plugins", "dbt_project", "expectations", "data", "outputs"):
        assert targets[f"/opt/airflow/project/{folder}"] == f"./{folder}", folder


def test_bind_mount_sources_exist(services: dict) -> None:
    init_script = services["airflow-init"]["command"][-1]
    for name, service in services.items():
        for source, target in _bind_mounts(service):
            relative = Path(source).as_posix().removeprefix("./")
            if relative in RUNTIME_DIRS:
                assert f"/opt/airflow/project/{relative}" in init_script, f"airflow-init must create {target}"
                continue
            assert (ROOT / relative).exists(), f"{name}: host path {source} (-> {target}) is not in the repo"


def test_named_volumes_declared(compose: dict, services: dict) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in _named_volumes(service):
            assert volume in declared, f"{name} uses undeclared volume {volume}"


# --- image -------------------------------------------------------------------------------------------


def test_dockerfile_installs_requirements(compose: dict) -> None:
    build = compose["x-airflow-common"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    text = DOCKERFILE.read_text()
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert instructions[0] == f"FROM apache/airflow:{AIRFLOW_VERSION}-python3.11"
    copy = next(line for line in instructions if line.startswith("COPY"))
    assert "requirements.txt" in copy.split()[-2]
    requirements_in_image = copy.split()[-1]
    run = " ".join(line for line in instructions if not line.startswith(("FROM", "COPY", "USER")))
    assert re.search(rf"pip install\b.*--no-cache-dir.*-r {re.escape(requirements_in_image)}", run), run
    assert (ROOT / "requirements.txt").exists()
    # The image carries the project, so a worker on another machine runs the same code.
    copied = {tuple(line.split()[-2:]) for line in instructions if line.startswith("COPY")}
    for folder in ("dags", "plugins", "dbt_project", "expectations"):
        assert (folder, f"/opt/airflow/project/{folder}") in copied, folder
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".warehouse", "data", "outputs", ".env"} <= set(ignored)


def test_requirements_pin_the_image_airflow_version() -> None:
    pins = (ROOT / "requirements.txt").read_text().splitlines()
    assert f"apache-airflow=={AIRFLOW_VERSION}" in pins


# --- postgres ----------------------------------------------------------------------------------------


def test_postgres_service_and_init_script(compose: dict, services: dict) -> None:
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert ("./docker/postgres-init", "/docker-entrypoint-initdb.d") in _bind_mounts(postgres)
    scripts = sorted(p for p in INIT_DIR.iterdir() if p.suffix in {".sh", ".sql"})
    assert scripts, "no init script in docker/postgres-init"
    sql = "\n".join(p.read_text() for p in scripts)
    env = _env(compose["x-airflow-common"])
    for uri in (env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], env["AIRFLOW_CONN_WAREHOUSE"]):
        parts = urlsplit(uri)
        database, role = parts.path.lstrip("/"), parts.username
        assert re.search(rf"CREATE DATABASE {database} OWNER {role}\b", sql), database
        assert re.search(rf"CREATE ROLE {role} LOGIN", sql), role
    # Every password the init script reads is handed to the container.
    for variable in set(re.findall(r"\$\{(\w+_PASSWORD)", sql)) - {"POSTGRES_PASSWORD"}:
        assert variable in _env(postgres), variable


def test_init_script_withholds_from_readers_what_the_pipeline_does() -> None:
    """The pipeline's role in compose ("warehouse") is no superuser and cannot revoke on catalog
    functions, so the init script does it: the same list as efficiency_warehouse.roles."""
    from efficiency_warehouse import roles

    script = "\n".join(p.read_text() for p in INIT_DIR.glob("*.sh"))
    for function in roles.WITHHELD_FUNCTIONS:
        assert f"pg_catalog.{function}" in script, function
    for relation in (*roles.WITHHELD_CATALOGS, *roles.WITHHELD_VIEWS):
        assert f"pg_catalog.{relation}" in script, relation
    assert "REVOKE CONNECT ON DATABASE postgres, template1 FROM PUBLIC" in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not available")
def test_shell_scripts_parse() -> None:
    for script in INIT_DIR.glob("*.sh"):
        subprocess.run(["bash", "-n", str(script)], check=True, timeout=10)
    init_command = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["airflow-init"]["command"][-1]
    # What compose hands to bash: "$$" -> "$", compose-time ${VAR...} -> a value.
    rendered = INTERPOLATION.sub("1000", init_command).replace("$$", "$")
    subprocess.run(["bash", "-n"], input=rendered, text=True, check=True, timeout=10)


# --- secrets -----------------------------------------------------------------------------------------


def _secret_values(services: dict) -> list[tuple[str, str, str]]:
    values = []
    for name, service in services.items():
        for key, value in _env(service).items():
            if SECRETISH.search(key):
                values.append((name, key, value))
            elif "://" in value and urlsplit(value).password is not None:
                values.append((name, f"{key} (password in URI)", urlsplit(value).password))
    return values


def test_no_literal_secrets(services: dict) -> None:
    for name, key, value in _secret_values(services):
        match = INTERPOLATION.fullmatch(value)
        assert match, f"{name}.{key} must come from the environment (${{VAR...}}), found {value!r}"
        if match["op"] in (":-", "-"):
            assert match["arg"] in DEV_ONLY_DEFAULTS, f"{name}.{key}: undocumented default {match['arg']!r}"
    variables = _compose_variables(COMPOSE_FILE.read_text())
    for required in REQUIRED_SECRETS:
        assert variables.get(required), f"{required} not used"
        assert all(op == ":?" for op, _ in variables[required]), f"{required} must be ${{{required}:?...}}"
    text = COMPOSE_FILE.read_text()
    assert not re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", text)
    # A Fernet key (32 url-safe base64 bytes) pasted as a literal.
    assert not re.search(r"[A-Za-z0-9_-]{43}=", text)


def test_required_secrets_are_documented_as_required() -> None:
    header = COMPOSE_FILE.read_text().split("\n---\n", 1)[0]
    for variable in REQUIRED_SECRETS:
        line = next(line for line in header.splitlines() if line.startswith(f"#   {variable} "))
        assert "REQUIRED" in line, line


def test_env_example_has_placeholders_only() -> None:
    entries = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            entries[key.strip()] = value.strip()
    for key, value in entries.items():
        if SECRETISH.search(key):
            assert value == "" or value.startswith("change-me"), f".env.example {key}={value!r} looks like a secret"
    # Every variable docker-compose.yml interpolates is explained in .env.example.
    missing = set(_compose_variables(COMPOSE_FILE.read_text())) - set(entries)
    assert not missing, f"not in .env.example: {sorted(missing)}"


# --- the real validator, when there is one ---------------------------------------------------------


def _compose_cli() -> list[str] | None:
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        try:
            probe = subprocess.run(
                [*command, "version"],
                check=False,
                capture_output=True,
                text=True,
                timeout=20,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return command
    return None


def _compose_config(command: list[str], profile: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*command, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), *profile, "config", "--quiet"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


@pytest.mark.parametrize("profile", [[], ["--profile", "celery"]], ids=["local", "celery"])
def test_docker_compose_config_validates(profile: list[str]) -> None:
    command = _compose_cli()
    if command is None:
        pytest.skip("`docker compose version` does not work here (no Compose CLI plugin); cannot run `config`")
    env = {
        **os.environ,
        **{name: "test-only-not-a-secret" for name in REQUIRED_SECRETS},
    }
    result = _compose_config(command, profile, env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED_SECRETS))
def test_docker_compose_config_stops_naming_a_missing_secret(missing: str) -> None:
    command = _compose_cli()
    if command is None:
        pytest.skip("`docker compose version` does not work here (no Compose CLI plugin); cannot run `config`")
    env = {name: value for name, value in os.environ.items() if name not in REQUIRED_SECRETS}
    env |= {name: "test-only-not-a-secret" for name in REQUIRED_SECRETS - {missing}}
    result = _compose_config(command, [], env)
    assert result.returncode != 0
    assert f"set {missing} in .env" in result.stderr, result.stderr
