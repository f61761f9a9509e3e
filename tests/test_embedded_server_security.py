"""The embedded server takes password logins only (SCRAM-SHA-256): its superuser's password is generated,
kept in a file only its owner can read, and never printed; `make dsn` and `make psql` still work."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest
from conftest import PROJECT_ROOT
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from efficiency_warehouse import settings, warehouse

REFUSED = "password authentication failed|no password supplied"


@pytest.fixture
def no_password_from_elsewhere(monkeypatch, tmp_path):
    """libpq would also look in ~/.pgpass and PGPASSWORD: neither may log a test in by accident."""
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    monkeypatch.delenv("PGPASSWORD", raising=False)


def test_the_password_file_is_the_owners_alone_and_the_server_stores_only_a_scram_verifier(warehouse_database):
    passfile = settings.embedded_passfile()
    assert passfile.stat().st_mode & 0o777 == 0o600
    assert passfile.stat().st_uid == os.geteuid()
    with psycopg.connect(warehouse_database) as conn:
        rules = conn.execute("select distinct type, auth_method from pg_hba_file_rules").fetchall()
        stored = conn.execute("select rolpassword from pg_authid where rolname = current_user").fetchone()[0]
        listening_on = conn.execute("show listen_addresses").fetchone()[0]
    assert rules == [("local", "scram-sha-256")]
    assert stored.startswith("SCRAM-SHA-256$")
    assert warehouse.password_from_file(passfile, "postgres") not in stored
    assert listening_on == ""  # no TCP address: the socket is the only way in


@pytest.mark.parametrize(
    "attempt",
    [{}, {"password": "postgres"}, {"user": "board_analyst"}, {"user": "nobody", "password": "x"}],
    ids=["superuser without a password", "superuser with a guessed one", "a reader role", "an unknown role"],
)
def test_a_login_without_the_password_is_refused(warehouse_database, no_password_from_elsewhere, attempt):
    params = conninfo_to_dict(warehouse_database)
    params.pop("passfile")
    with pytest.raises(psycopg.OperationalError, match=REFUSED):
        psycopg.connect(make_conninfo(**params | attempt)).close()


def test_make_dsn_prints_no_secret_and_make_psql_logs_in(warehouse_database, no_password_from_elsewhere):
    password = warehouse.password_from_file(settings.embedded_passfile(), "postgres")
    env = {name: value for name, value in os.environ.items() if name != warehouse.CONNECTION_VARIABLE}  # embedded

    dsn = subprocess.run(["make", "-s", "dsn"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True)
    url = dsn.stdout.strip()
    assert password not in dsn.stdout + dsn.stderr
    assert url.startswith("postgresql://postgres@/efficiency_warehouse?") and "passfile=" in url

    psql = [warehouse.psql_executable(), url, "-tAc", "select current_user"]
    assert subprocess.run(psql, env=env, capture_output=True, text=True, check=True).stdout.strip() == "postgres"

    session = subprocess.run(
        ["make", "-s", "psql"],
        cwd=PROJECT_ROOT,
        env=env,
        input="select current_database();\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert "efficiency_warehouse" in session.stdout
    assert password not in session.stdout + session.stderr


def _in_a_fresh_process(code: str, pgdata) -> subprocess.CompletedProcess:
    """As an operator's next command would: a new process, this server's data folder."""
    env = {name: value for name, value in os.environ.items() if name != warehouse.CONNECTION_VARIABLE}
    env |= {"EMBEDDED_PGDATA": str(pgdata), "PYTHONPATH": str(PROJECT_ROOT / "plugins")}
    return subprocess.run(
        [sys.executable, "-c", f"from efficiency_warehouse import warehouse\n{code}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_server_made_with_trust_is_converted_and_a_lost_password_file_is_said(tmp_path, no_password_from_elsewhere):
    """A warehouse made before this change (pgserver's trust authentication) takes passwords from its next
    use; losing the password file later stops with what to do, and doing it gives a new password."""
    pgdata = tmp_path / "pgdata"
    stop = "warehouse.stop_embedded()"
    made_before = _in_a_fresh_process(
        "import pgserver; print(pgserver.get_server(str(warehouse.settings.embedded_pgdata()), cleanup_mode=None)"
        ".get_uri())",
        pgdata,
    )
    assert made_before.returncode == 0, made_before.stderr
    trusting = made_before.stdout.strip().splitlines()[-1]
    psycopg.connect(trusting).close()  # trust: no password asked
    try:
        converted = _in_a_fresh_process("print(warehouse.embedded_server_dsn('postgres'))", pgdata)
        assert converted.returncode == 0, converted.stderr
        passfile = pgdata.with_name("pgdata.pgpass")
        assert "passfile=" in converted.stdout and passfile.stat().st_mode & 0o777 == 0o600
        with pytest.raises(psycopg.OperationalError, match=REFUSED):
            psycopg.connect(trusting).close()
        psycopg.connect(converted.stdout.strip().splitlines()[-1]).close()

        passfile.unlink()
        lost = _in_a_fresh_process("warehouse.embedded_server_dsn('postgres')", pgdata)
        assert lost.returncode != 0
        assert f"its password file {passfile} is missing" in lost.stderr and "make stop" in lost.stderr

        assert _in_a_fresh_process(stop, pgdata).returncode == 0
        hba = pgdata / "pg_hba.conf"
        hba.write_text(hba.read_text().rsplit("local", 1)[0] + "local all all trust\n")
        renewed = _in_a_fresh_process("print(warehouse.embedded_server_dsn('postgres'))", pgdata)
        assert renewed.returncode == 0, renewed.stderr
        assert hba.read_text() == warehouse.PASSWORD_HBA
        psycopg.connect(renewed.stdout.strip().splitlines()[-1]).close()
        with pytest.raises(psycopg.OperationalError, match=REFUSED):
            psycopg.connect(trusting).close()
    finally:
        _in_a_fresh_process(stop, pgdata)
