-- The nine regions' reported gains add up to the national figure for every year and return type
-- (predecessors are rolled up to successors in the same region, so no money is lost or counted twice),
-- and so do the councils expected and reported. Each mart rounds to £0.1m, so the sum of nine rounded
-- regional figures may differ from the rounded national one by up to 10 x £0.05m. Returns the rows
-- that do not reconcile.
with

regional as (

    select
        financial_year,
        return_type,
        sum(reported_gains_gbp_millions) as reported_gains_gbp_millions,
        sum(councils_expected) as councils_expected,
        sum(councils_reported) as councils_reported

    from {{ ref('regional_efficiency_position') }}
    group by financial_year, return_type

),

national as (

    select financial_year, return_type, reported_gains_gbp_millions, councils_expected, councils_reported
    from {{ ref('national_efficiency_position') }}

)

select
    national.financial_year,
    national.return_type,
    national.reported_gains_gbp_millions as national_gains_gbp_millions,
    regional.reported_gains_gbp_millions as regional_gains_gbp_millions,
    national.councils_expected as national_councils_expected,
    regional.councils_expected as regional_councils_expected,
    national.councils_reported as national_councils_reported,
    regional.councils_reported as regional_councils_reported

from national
full outer join regional
    on national.financial_year = regional.financial_year
    and national.return_type = regional.return_type
where regional.financial_year is null
   or national.financial_year is null
   or abs(national.reported_gains_gbp_millions - regional.reported_gains_gbp_millions) > 0.5
   or national.councils_expected <> regional.councils_expected
   or national.councils_reported <> regional.councils_reported
