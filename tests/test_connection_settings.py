"""What `make dsn` prints: a URL any PostgreSQL client takes, without the password."""

from __future__ import annotations

import psycopg
import pytest

from efficiency_warehouse import warehouse

pytestmark = pytest.mark.fast  # needs no pipeline run: part of `make test-fast`


def test_embedded_socket_dsn_becomes_a_url_that_connects(warehouse_database):
    url = warehouse.as_url(warehouse.warehouse_dsn())
    assert url.startswith("postgresql://") and "?host=/" in url
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_database()").fetchone()[0].startswith("test_")


def test_tcp_dsn_becomes_a_url_without_its_password():
    url = warehouse.as_url("host=db.example.org port=5433 user=warehouse password=secret dbname=efficiency_warehouse")
    assert url == "postgresql://warehouse@db.example.org:5433/efficiency_warehouse"


def test_a_url_is_left_as_given():
    assert warehouse.as_url("postgresql://u@h:5432/d") == "postgresql://u@h:5432/d"
