-- National NI 179 position per financial year and return type against the CSR07 target: 3% a year
-- net cash-releasing gains, compounding, on the £53.0bn 2007-08 baseline (cumulative 3.0%, 6.1%, 9.3%).
with

years as (

    select * from {{ ref('financial_years') }}

),

councils as (

    select * from {{ ref('councils') }}

),

returns as (

    select * from {{ ref('int_council_returns_deduplicated') }}

),

baseline as (

    select * from {{ ref('efficiency_baseline') }}

),

return_types as (

    select return_type from (values ('forecast'), ('actual')) as types (return_type)

),

-- Councils in existence at the end of each year are the ones expected to report for it:
-- 388 for 2008-09 (before the April 2009 reorganisation), 353 after.
expected as (

    select
        years.financial_year,
        count(*) as councils_expected

    from years
    inner join councils
        on coalesce(councils.valid_from_date, date '1900-01-01') <= years.year_end_date
        and coalesce(councils.valid_to_date, date '9999-12-31') >= years.year_end_date
    group by years.financial_year

),

reported as (

    select
        financial_year,
        return_type,
        count(*) as councils_reported,
        sum(ni179_value_gbp_thousands) as ni179_gbp_thousands,
        sum(revenue_gbp_thousands) as revenue_gbp_thousands,
        sum(capital_gbp_thousands) as capital_gbp_thousands,
        count(revenue_gbp_thousands) as councils_giving_split,
        sum(sr04_carry_over_gbp_thousands) as sr04_carry_over_gbp_thousands

    from returns
    group by financial_year, return_type

),

positioned as (

    select
        years.financial_year,
        years.programme_year,
        return_types.return_type,
        expected.councils_expected,
        coalesce(reported.councils_reported, 0) as councils_reported,
        coalesce(reported.ni179_gbp_thousands, 0) / 1000 as reported_gains_gbp_millions,
        reported.revenue_gbp_thousands / 1000 as reported_revenue_gains_gbp_millions,
        reported.capital_gbp_thousands / 1000 as reported_capital_gains_gbp_millions,
        coalesce(reported.councils_giving_split, 0) as councils_giving_split,
        reported.sr04_carry_over_gbp_thousands / 1000 as sr04_carry_over_gbp_millions,
        baseline.total_gbp_bn * 1000 as baseline_gbp_millions,
        power(1 + {{ var('annual_efficiency_target_rate') }}::numeric, years.programme_year) - 1 as target_cumulative_rate

    from years
    cross join return_types
    cross join baseline
    left join expected
        on years.financial_year = expected.financial_year
    left join reported
        on years.financial_year = reported.financial_year
        and return_types.return_type = reported.return_type

),

final as (

    select
        financial_year,
        programme_year,
        return_type,
        councils_expected,
        councils_reported,
        councils_expected - councils_reported as councils_missing,
        round(reported_gains_gbp_millions, 1)::numeric(12, 1) as reported_gains_gbp_millions,
        round(reported_revenue_gains_gbp_millions, 1)::numeric(12, 1) as reported_revenue_gains_gbp_millions,
        round(reported_capital_gains_gbp_millions, 1)::numeric(12, 1) as reported_capital_gains_gbp_millions,
        councils_giving_split,
        round(sr04_carry_over_gbp_millions, 1)::numeric(12, 1) as sr04_carry_over_gbp_millions,
        round(baseline_gbp_millions, 1)::numeric(12, 1) as baseline_gbp_millions,
        round(target_cumulative_rate, 6)::numeric(8, 6) as target_cumulative_rate,
        round(baseline_gbp_millions * target_cumulative_rate, 1)::numeric(12, 1) as target_gains_gbp_millions,
        round(reported_gains_gbp_millions - baseline_gbp_millions * target_cumulative_rate, 1)::numeric(12, 1)
            as gap_to_target_gbp_millions,
        round(reported_gains_gbp_millions / baseline_gbp_millions, 6)::numeric(8, 6) as reported_share_of_baseline,
        reported_gains_gbp_millions >= baseline_gbp_millions * target_cumulative_rate as is_target_met

    from positioned

)

select * from final
