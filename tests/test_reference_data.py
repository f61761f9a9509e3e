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
    blanks = query(
        "select councils.region_source from staging.stg_reference__local_authority_register as register"
        " join reference.councils as councils using (council_code) where register.register_region_name is null"
    )
    assert len(blanks) == 15
    assert {source for (source,) in blanks} <= {"ons_district_lookup", "ons_county_districts"}
    assert query("select region_name from reference.councils where council_code = 'E10000002'") == [("South East",)]


def test_regions_come_from_ons_wherever_it_covers_a_council_and_the_register_only_after():
    """The register puts Derbyshire CC in the West Midlands and Lincolnshire CC in Yorkshire and The
    Humber; ONS puts every one of their districts in the East Midlands, and ONS wins."""
    wrong_in_register = query(
        "select council_code, region_name, region_source from reference.councils"
        " where council_code in ('E10000007', 'E10000019') order by council_code"
    )
    assert wrong_in_register == [
        ("E10000007", "East Midlands", "ons_county_districts"),
        ("E10000019", "East Midlands", "ons_county_districts"),
    ]
    # every council of the programme years is in the ONS lookups; only councils created since lean on the register
    assert query(
        "select count(*) from reference.councils where region_source = 'register'"
        " and coalesce(valid_from_date, date '1900-01-01') <= date '2011-03-31'"
    ) == [(0,)]
    east_midlands_2009_10 = dict(
        query(
            "select council_type, count(*) from reference.councils where region_name = 'East Midlands'"
            " and coalesce(valid_from_date, date '1900-01-01') <= date '2010-03-31'"
            " and coalesce(valid_to_date, date '9999-12-31') >= date '2009-04-01' group by council_type"
        )
    )
    assert east_midlands_2009_10 == {"county": 5, "unitary": 4, "district": 36}


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
