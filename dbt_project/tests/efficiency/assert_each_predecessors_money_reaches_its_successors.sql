-- For every council abolished in April 2009, the money it reported (each year and return type) equals
-- the sum its successors receive in the roll-up: none created, none lost, none left behind. Returns a
-- row for each predecessor, year and type whose totals differ.
with

filed as (

    select
        council_code,
        financial_year,
        return_type,
        ni179_value_gbp_thousands

    from {{ ref('int_council_returns_deduplicated') }}
    where council_code in (select predecessor_code from {{ ref('council_successions') }})

),

received as (

    select
        reporting_council_code as council_code,
        financial_year,
        return_type,
        sum(ni179_value_gbp_thousands) as ni179_value_gbp_thousands

    from {{ ref('int_council_returns_rolled_up') }}
    where is_from_predecessor
    group by reporting_council_code, financial_year, return_type

)

select
    coalesce(filed.council_code, received.council_code) as council_code,
    coalesce(filed.financial_year, received.financial_year) as financial_year,
    coalesce(filed.return_type, received.return_type) as return_type,
    filed.ni179_value_gbp_thousands as filed_gbp_thousands,
    received.ni179_value_gbp_thousands as received_gbp_thousands

from filed
full outer join received
    on
        filed.council_code = received.council_code
        and filed.financial_year = received.financial_year
        and filed.return_type = received.return_type
where abs(coalesce(filed.ni179_value_gbp_thousands, 0) - coalesce(received.ni179_value_gbp_thousands, 0)) > 0.001
