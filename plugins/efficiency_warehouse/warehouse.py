"""Connections to the warehouse: the Airflow Connection ``warehouse``, or the embedded PostgreSQL.

One setting names the warehouse for everything (ingest, dbt's profile, publication, `make psql`): the
Airflow Connection ``warehouse``, read through the Postgres provider's hook at call time (never at
import). It is found wherever Airflow looks for Connections: ``AIRFLOW_CONN_WAREHOUSE`` (a URI such as
``postgresql://user:password@host:5432/efficiency_warehouse``, or Airflow's JSON form), a secrets
backend, or, inside a task, the Connections an operator added in Airflow.

Without it, the warehouse is the embedded PostgreSQL 16 (pgserver) in ``.warehouse/pgdata``, started on
demand and left running so analysts can query it: right for one machine, wrong for a worker of a
distributed executor, which would quietly start an empty warehouse of its own. Under any executor but
LocalExecutor a missing Connection is therefore an error, not a fallback.

The embedded server listens on a Unix socket only, and accepts password logins only (SCRAM-SHA-256):
pgserver creates it with trust authentication, so on its first start here the superuser is given a
generated password, kept in a libpq password file only its owner can read (``.warehouse/pgdata.pgpass``),
and pg_hba.conf is replaced. Connection strings name that file (``passfile=``), never the password.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from efficiency_warehouse import settings

if TYPE_CHECKING:
    from airflow.sdk import Connection

EMBEDDED_DATABASE = "efficiency_warehouse"
CONNECTION_ID = "warehouse"
CONNECTION_VARIABLE = "AIRFLOW_CONN_WAREHOUSE"
# Settings earlier versions read. Ignoring one would quietly build an embedded warehouse instead of the
# one the operator meant, so their presence stops the run with the new name instead.
RETIRED_SETTINGS = ("WAREHOUSE_DSN", "PGHOST")
_EXAMPLE_URI = "postgresql://warehouse:PASSWORD@db.example.org:5432/efficiency_warehouse"


class WarehouseNotConfigured(RuntimeError):
    """No usable warehouse setting; the message says what to set."""


def warehouse_connection() -> Connection | None:
    """The Airflow Connection ``warehouse`` as Airflow resolves it, or None when none is defined."""
    _refuse_retired_settings()
    from efficiency_warehouse import local_airflow

    local_airflow.point_airflow_at_project()  # before the first import of airflow, which reads them
    from airflow.exceptions import AirflowNotFoundException
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    try:
        return PostgresHook.get_connection(CONNECTION_ID)
    except AirflowNotFoundException:
        return None


def _refuse_retired_settings() -> None:
    for variable in RETIRED_SETTINGS:
        if os.environ.get(variable):
            raise WarehouseNotConfigured(
                f"{variable} is set, but the warehouse is now named by the Airflow Connection"
                f" '{CONNECTION_ID}' alone: set {CONNECTION_VARIABLE}='{_EXAMPLE_URI}' (or add the"
                f" Connection in Airflow) and unset {variable}"
            )


def is_embedded() -> bool:
    return warehouse_connection() is None


def distributed_executors() -> list[str]:
    """The configured executors other than LocalExecutor (whose tasks all run on this machine)."""
    from airflow.configuration import conf

    configured = [name.strip() for name in conf.get("core", "executor").split(",") if name.strip()]
    # Each entry is a name, a class path, or alias:class path.
    return [name for name in configured if name.split(":")[-1].rsplit(".", 1)[-1] != "LocalExecutor"]


def dsn_from_connection(connection: Connection) -> str:
    """The Connection as a libpq connection string; extras that are libpq parameters (sslmode, ...)
    are passed on, the hook's own extras are not."""
    if not connection.schema:
        raise WarehouseNotConfigured(
            f"the Airflow Connection '{CONNECTION_ID}' names no database: set its schema (Airflow's name"
            f" for a Postgres Connection's database), e.g. {_EXAMPLE_URI}"
        )
    libpq_keywords = {option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults()}
    extras = {name: str(value) for name, value in connection.extra_dejson.items() if name in libpq_keywords}
    params = {
        "host": connection.host,
        "port": connection.port,
        "user": connection.login,
        "password": connection.password,
        "dbname": connection.schema,
    }
    return make_conninfo(**{name: value for name, value in params.items() if value not in (None, "")}, **extras)


def connection_json(dsn: str) -> str:
    """``dsn`` in Airflow's JSON form for ``AIRFLOW_CONN_WAREHOUSE`` (a socket folder needs no escaping)."""
    params = conninfo_to_dict(dsn)
    fields = {
        "conn_type": "postgres",
        "host": params.pop("host", None),
        "port": int(params.pop("port")) if params.get("port") else None,
        "login": params.pop("user", None),
        "password": params.pop("password", None),
        "schema": params.pop("dbname", None),
        "extra": params or None,
    }
    return json.dumps({name: value for name, value in fields.items() if value is not None})


def _embedded_server():
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs every handle at exit
    # pgserver warns when XDG_RUNTIME_DIR is unset; its fallback is fine for a lock file.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # heavy-ish and only needed for the embedded default

    pgdata = settings.embedded_pgdata()
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so `make run` leaves it up for analysts.
    return pgserver.get_server(str(pgdata), cleanup_mode=None)


def embedded_server_dsn(database: str) -> str:
    """Start the embedded server if needed, make sure ``database`` exists, return its DSN."""
    server = _embedded_server()
    params = conninfo_to_dict(server.get_uri())
    params.pop("password", None)  # pgserver's URI has an empty one
    params["passfile"] = str(require_passwords(params))
    ensure_database(make_conninfo(**params), database)
    params["dbname"] = database
    return make_conninfo(**params)


# Replaces pgserver's trust authentication. The server listens on no TCP address (pgserver starts it
# with -h ""), so the socket is the only way in.
PASSWORD_HBA = """\
# Written by efficiency_warehouse.warehouse.require_passwords: every connection, on the Unix socket (the
# only one: the server listens on no TCP address), logs in with its role's password, SCRAM-SHA-256.
# The superuser's password is generated and kept in the libpq password file beside this data folder.
local   all   all   scram-sha-256
"""


def require_passwords(params: dict[str, str]) -> Path:
    """Make the embedded server take password logins only; return the password file that logs its
    superuser in. Idempotent, and safe in several processes at once (a file lock): a server made before
    (trust authentication) is converted on its next use."""
    passfile = settings.embedded_passfile()
    hba = settings.embedded_pgdata() / "pg_hba.conf"
    if passfile.exists() and hba.read_text() == PASSWORD_HBA:
        return passfile
    user = params.get("user") or "postgres"
    with _file_lock(passfile.with_name(passfile.name + ".lock")):
        if not passfile.exists():
            if hba.read_text() == PASSWORD_HBA:  # a new password would not be the server's
                raise WarehouseNotConfigured(
                    f"the embedded warehouse takes password logins, but its password file {passfile} is missing:"
                    f" restore it from a backup; or, to set a new password, `make stop`, put 'local all all trust'"
                    f" in place of {hba}'s last line and run again (a new password is generated, the line put back)"
                )
            _write_owner_only(passfile, f"*:*:*:{user}:{secrets.token_urlsafe(32)}\n")
        if hba.read_text() != PASSWORD_HBA:
            password = password_from_file(passfile, user)
            # Password first, then pg_hba.conf: killed in between, the next call finds trust and finishes.
            with psycopg.connect(make_conninfo(**params, passfile=str(passfile)), autocommit=True) as conn:
                # Hashed here (libpq's PQencryptPasswordConn): the password itself never reaches the server.
                verifier = conn.pgconn.encrypt_password(password.encode(), user.encode(), b"scram-sha-256")
                conn.execute(
                    sql.SQL("alter role {} password {}").format(sql.Identifier(user), sql.Literal(verifier.decode()))
                )
                _replace_keeping_owner(hba, PASSWORD_HBA)
                conn.execute("select pg_reload_conf()")
    return passfile


def password_from_file(passfile: Path, user: str) -> str:
    """The password a libpq password file gives ``user`` (host, port and database: any)."""
    for line in passfile.read_text().splitlines():
        fields = line.split(":", 4)
        if len(fields) == 5 and fields[3] in ("*", user):
            return fields[4]
    raise WarehouseNotConfigured(f"{passfile} has no password for role {user}")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_owner_only(path: Path, content: str) -> None:
    """Created with mode 0600 from the start (never readable by others, not even for a moment)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
    os.replace(partial, path)


def _replace_keeping_owner(path: Path, content: str) -> None:
    """Rewrite a file of the data folder whole, with its owner and mode (as root, pgserver runs the
    server as its own system user, who must still read it)."""
    status = path.stat()
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(content)
    os.chmod(partial, status.st_mode & 0o777)
    if os.geteuid() == 0:
        os.chown(partial, status.st_uid, status.st_gid)
    os.replace(partial, path)


def ensure_database(admin_dsn: str, database: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))


def warehouse_dsn() -> str:
    if (connection := warehouse_connection()) is not None:
        return dsn_from_connection(connection)
    if distributed := distributed_executors():
        raise WarehouseNotConfigured(
            f"no warehouse Connection: set {CONNECTION_VARIABLE}='{_EXAMPLE_URI}' (or add the Airflow"
            f" Connection '{CONNECTION_ID}') on every machine that runs tasks. The executor here is"
            f" {', '.join(distributed)}, whose workers may be on other machines, so this process does not"
            " fall back to an embedded PostgreSQL: it would be an empty warehouse of its own"
        )
    return embedded_server_dsn(EMBEDDED_DATABASE)


def connection_parameters(dsn: str | None = None) -> dict[str, str]:
    """host/port/user/password/dbname for tools that will not take a DSN (dbt's profile)."""
    dsn = warehouse_dsn() if dsn is None else dsn
    params = conninfo_to_dict(dsn)
    user = params.get("user") or "postgres"
    password = params.get("password") or ""
    if not password and params.get("passfile"):  # dbt's profile takes no password file: read it here
        password = password_from_file(Path(params["passfile"]), user)
    return {
        "host": params.get("host") or "localhost",
        "port": str(params.get("port") or "5432"),
        "user": user,
        "password": password,
        "dbname": params["dbname"],
    }


def as_url(dsn: str) -> str:
    """The connection as a postgresql:// URL (what `make dsn` prints); the password is left out, the
    password file that holds it (the embedded server's) named."""
    params = conninfo_to_dict(dsn)
    user, database = quote(params.get("user") or "postgres"), quote(params["dbname"])
    host = params.get("host") or "localhost"
    query = {"host": host} if host.startswith("/") else {}  # unix socket folder, as the embedded server uses
    query |= {"passfile": params["passfile"]} if params.get("passfile") else {}
    query_string = "&".join(f"{name}={quote(value, safe='/')}" for name, value in query.items())
    if host.startswith("/"):
        return f"postgresql://{user}@/{database}?{query_string}"
    address = f"postgresql://{user}@{host}:{params.get('port') or '5432'}/{database}"
    return f"{address}?{query_string}" if query_string else address


@contextmanager
def connect(autocommit: bool = False) -> Iterator[psycopg.Connection]:
    with psycopg.connect(warehouse_dsn(), autocommit=autocommit, application_name="efficiency_warehouse") as conn:
        yield conn


# Warehouse-wide session locks (pg_advisory_lock): held on a connection of their own, so they go with
# their holder's connection, also when its process is killed. One namespace for this project's locks.
_LOCK_NAMESPACE = 179  # NI 179
LOCKS = {
    "pipeline_run": 1,  # one `make run` at a time
    "build_and_publish": 2,  # one dbt build or publication step at a time, whoever runs it
}


class AnotherRunInProgress(RuntimeError):
    """The lock is held and the caller chose not to wait; the message names the holder."""


@contextmanager
def exclusive(lock: str, wait: bool = True) -> Iterator[None]:
    """Hold the warehouse-wide lock ``lock`` for the block.

    ``wait=False`` raises AnotherRunInProgress naming the holder (since when, which pid) instead of waiting.
    """
    key = LOCKS[lock]
    name = f"efficiency_warehouse {lock} pid={os.getpid()}"
    with psycopg.connect(warehouse_dsn(), autocommit=True, application_name=name[:63]) as conn:
        if wait:
            conn.execute("select pg_advisory_lock(%s, %s)", (_LOCK_NAMESPACE, key))
        elif not conn.execute("select pg_try_advisory_lock(%s, %s)", (_LOCK_NAMESPACE, key)).fetchone()[0]:
            raise AnotherRunInProgress(_holder_message(conn, key))
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s, %s)", (_LOCK_NAMESPACE, key))


def _holder_message(conn: psycopg.Connection, key: int) -> str:
    holder = conn.execute(
        """
        select activity.backend_start, activity.application_name
        from pg_locks as locks
        join pg_stat_activity as activity using (pid)
        where locks.locktype = 'advisory' and locks.granted
          and locks.classid = %s and locks.objid = %s and locks.objsubid = 2
        """,
        (_LOCK_NAMESPACE, key),
    ).fetchone()
    if holder is None:  # it finished between the two statements
        return "another run was in progress a moment ago; run again"
    since, application = holder
    pid = application.rpartition("pid=")[2] or "unknown"
    return f"another run is in progress since {since:%Y-%m-%d %H:%M:%S %Z} (pid {pid}); wait for it to finish"


def stop_embedded() -> bool:
    """Stop the embedded server if it is running; True if it was."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from pgserver._commands import pg_ctl

    pgdata = settings.embedded_pgdata()
    if not (pgdata / "postmaster.pid").exists():
        return False
    # As root, pgserver runs postgres as its own system user, and pg_ctl must run as that user too.
    run_as = {"user": "pgserver"} if os.geteuid() == 0 else {}
    pg_ctl(["-w", "stop"], pgdata=pgdata, **run_as)
    return True


def psql_executable() -> str:
    """The psql that ships with pgserver, so `make psql` needs no system PostgreSQL client."""
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")
