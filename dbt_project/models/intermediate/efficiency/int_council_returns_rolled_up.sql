-- The latest returns with each abolished council's figures carried to its successor(s), for time
-- series and regional totals. A predecessor's return passes whole to its one successor; Cheshire's and
-- Bedfordshire's County Councils' are apportioned between their two by reference.council_successions. Councils that
-- were not abolished map to themselves. Money is apportioned; counts of returns are not.
with

returns as (

    select * from {{ ref('int_council_returns_deduplicated') }}

),

successions as (

    select * from {{ ref('council_successions') }}

),

mapped as (

    select
        returns.council_code as reporting_council_code,
        coalesce(successions.successor_code, returns.council_code) as council_code,
        coalesce(successions.apportionment_share, 1) as apportionment_share,
        returns.financial_year,
        returns.return_type,
        returns.ni179_value_gbp_thousands * coalesce(successions.apportionment_share, 1) as ni179_value_gbp_thousands,
        returns.revenue_gbp_thousands * coalesce(successions.apportionment_share, 1) as revenue_gbp_thousands,
        returns.capital_gbp_thousands * coalesce(successions.apportionment_share, 1) as capital_gbp_thousands,
        returns.sr04_carry_over_gbp_thousands * coalesce(successions.apportionment_share, 1)
            as sr04_carry_over_gbp_thousands,
        returns.is_late,
        returns.has_validation_warnings,
        successions.predecessor_code is not null as is_from_predecessor

    from returns
    left join successions
        on returns.council_code = successions.predecessor_code

)

select * from mapped
