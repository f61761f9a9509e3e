-- Rolling predecessors' returns up to their successors moves money between councils; it must
-- neither create nor lose any. Returns a row for each year and type whose totals differ.
with

before as (

    select financial_year, return_type, sum(ni179_value_gbp_thousands) as total
    from {{ ref('int_council_returns_deduplicated') }}
    group by financial_year, return_type

),

after as (

    select financial_year, return_type, sum(ni179_value_gbp_thousands) as total
    from {{ ref('int_council_returns_rolled_up') }}
    group by financial_year, return_type

)

select *
from before
full outer join after using (financial_year, return_type)
where abs(coalesce(before.total, 0) - coalesce(after.total, 0)) > 0.01
