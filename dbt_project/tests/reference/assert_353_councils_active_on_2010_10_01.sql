-- From 1 April 2009 there were 353 councils: 27 county, 201 district, 56 unitary (with the Isles of
-- Scilly), 36 metropolitan and 33 London (with the City of London). Returns rows where a count differs.
with

expected (council_type, expected_count) as (

    values ('county', 27), ('district', 201), ('unitary', 56), ('metropolitan', 36), ('london', 33)

),

active as (

    select council_type, count(*) as active_count
    from {{ ref('councils') }}
    where coalesce(valid_from_date, date '1900-01-01') <= date '2010-10-01'
      and coalesce(valid_to_date, date '9999-12-31') >= date '2010-10-01'
    group by council_type

)

select *
from expected
full outer join active using (council_type)
where expected.expected_count is distinct from active.active_count
