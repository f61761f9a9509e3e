"""The reference schema, as built by the reference_data DAG's dbt build, against the real register."""

from __future__ import annotations

import pytest

from efficiency_warehouse import warehouse


@pytest.fixture(scope="module", autouse=True)
def _reference(reference_loaded):
    return reference_loaded


def query(sql: str, params=()) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(sql, params).fetchall()


ACTIVE_ON = """
    select council_type, count(*) from reference.councils
    where coalesce(valid_from_date, date '1900-01-01') <= %(day)s
      and coalesce(valid_to_date, date '9999-12-31') >= %(day)s
    group by council_type
"""


def test_353_councils_on_1_october_2010_with_the_domain_type_counts():
    counts = dict(query(ACTIVE_ON, {"day": "2010-10-01"}))
    assert counts == {"county": 27, "district": 201, "unitary": 56, "metropolitan": 36, "london": 33}
    assert sum(counts.values()) == 353


def test_388_councils_during_2008_09_counting_the_abolished_predecessors():
    [(total, predecessors)] = query(
        """
        select count(*), count(*) filter (where is_abolished_in_2009)
        from reference.councils
        where coalesce(valid_from_date, date '1900-01-01') <= date '2009-03-31'
          and coalesce(valid_to_date, date '9999-12-31') >= date '2008-04-01'
        """
    )
    assert (total, predecessors) == (388, 44)


def test_every_council_has_a_region_and_the_15_blanks_are_derived():
    assert query("select count(*) from reference.councils where region_code is null") == [(0,)]
    derived = dict(query("select region_source, count(*) from reference.councils group by region_source"))
    assert derived["ons_district_lookup"] + derived["ons_county_districts"] == 15
    assert query("select region_name from reference.councils where council_code = 'E10000002'") == [("South East",)]


def test_cheshire_county_council_is_apportioned_between_its_two_successors():
    shares = dict(
        query(
            "select successor_code, apportionment_share from reference.council_successions s"
            " join reference.councils c on c.council_code = s.predecessor_code"
            " where c.council_name = 'Cheshire County Council'"
        )
    )
    assert set(shares) == {"E06000049", "E06000050"}
    assert sum(shares.values()) == pytest.approx(1)
    assert query("select count(distinct predecessor_code) from reference.council_successions") == [(44,)]
