-- The CSR07 target path: 3% a year net cash-releasing gains, compounding ("multiplicative"), on the
-- 2007-08 baseline (Annex A, table 3.1): cumulative (1 + 3%) ^ programme_year - 1 = 3.0%, 6.09%,
-- 9.2727% of £53.0bn, i.e. £1,590.0m, £3,227.7m, £4,914.5m. Unrounded: marts round for display.
with

years as (

    select * from {{ ref('financial_years') }}

),

baseline as (

    select * from {{ ref('efficiency_baseline') }}
    where baseline_year = '2007-08'

),

rated as (

    select
        years.financial_year,
        years.programme_year,
        baseline.total_gbp_bn * 1000 as baseline_gbp_millions,
        power(1 + {{ var('annual_efficiency_target_rate') }}::numeric, years.programme_year) - 1
            as target_cumulative_rate

    from years
    cross join baseline

),

final as (

    select
        financial_year,
        programme_year,
        baseline_gbp_millions,
        target_cumulative_rate,
        baseline_gbp_millions * target_cumulative_rate as target_gains_gbp_millions

    from rated

)

select * from final
