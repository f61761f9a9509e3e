-- National NI 179 position per financial year and return type against the CSR07 target: 3% a year
-- net cash-releasing gains, compounding, on the £53.0bn 2007-08 baseline (cumulative 3.0%, 6.1%, 9.3%),
-- and the projected outturn for each year (the actuals where filed, forecasts adjusted by the
-- outturn-to-forecast ratio of earlier years where not).
with

target_path as (

    select * from {{ ref('int_efficiency_target_path') }}

),

expected_councils as (

    select * from {{ ref('int_councils_expected_by_year') }}

),

returns as (

    select * from {{ ref('int_council_returns_deduplicated') }}

),

return_types as (

    select return_type from (values ('forecast'), ('actual')) as types (return_type)

),

-- Councils in existence at the end of each year are the ones expected to report for it:
-- 388 for 2008-09 (before the April 2009 reorganisation), 353 after.
expected as (

    select
        financial_year,
        count(*) as councils_expected

    from expected_councils
    group by financial_year

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

forecasts as (

    select * from returns where return_type = 'forecast'

),

actuals as (

    select * from returns where return_type = 'actual'

),

-- Each council's forecast and actual side by side, for the projection.
council_years as (

    select
        coalesce(forecasts.council_code, actuals.council_code) as council_code,
        coalesce(forecasts.financial_year, actuals.financial_year) as financial_year,
        forecasts.ni179_value_gbp_thousands as forecast_gbp_thousands,
        actuals.ni179_value_gbp_thousands as actual_gbp_thousands

    from forecasts
    full outer join actuals
        on forecasts.council_code = actuals.council_code
        and forecasts.financial_year = actuals.financial_year

),

year_evidence as (

    select
        target_path.financial_year,
        target_path.programme_year,
        sum(council_years.actual_gbp_thousands) as actual_gbp_thousands,
        sum(council_years.forecast_gbp_thousands) filter (where council_years.actual_gbp_thousands is null)
            as forecast_without_actual_gbp_thousands,
        count(*) filter (where council_years.actual_gbp_thousands is not null) as councils_with_actual,
        count(*) filter (
            where council_years.actual_gbp_thousands is null and council_years.forecast_gbp_thousands is not null
        ) as councils_with_forecast_only,
        -- councils that filed both: how their outturn compared with their forecast
        sum(council_years.actual_gbp_thousands) filter (where council_years.forecast_gbp_thousands is not null)
            as paired_actual_gbp_thousands,
        sum(council_years.forecast_gbp_thousands) filter (where council_years.actual_gbp_thousands is not null)
            as paired_forecast_gbp_thousands

    from target_path
    left join council_years
        on target_path.financial_year = council_years.financial_year
    group by target_path.financial_year, target_path.programme_year

),

-- The outturn-to-forecast ratio observed in the earlier years of the programme, pooled.
year_ratios as (

    select
        *,
        sum(paired_actual_gbp_thousands) over earlier_years
        / nullif(sum(paired_forecast_gbp_thousands) over earlier_years, 0) as outturn_to_forecast_ratio

    from year_evidence
    window earlier_years as (order by programme_year rows between unbounded preceding and 1 preceding)

),

projected as (

    select
        financial_year,
        outturn_to_forecast_ratio,
        case
            when councils_with_actual + councils_with_forecast_only > 0
                then (
                    coalesce(actual_gbp_thousands, 0)
                    + coalesce(forecast_without_actual_gbp_thousands, 0) * coalesce(outturn_to_forecast_ratio, 1)
                ) / 1000
        end as projected_outturn_gbp_millions,
        case
            when councils_with_actual + councils_with_forecast_only = 0 then 'no_returns'
            when councils_with_forecast_only = 0 then 'actual'
            when councils_with_actual = 0 and outturn_to_forecast_ratio is null then 'forecast'
            when councils_with_actual = 0 then 'forecast_adjusted'
            when outturn_to_forecast_ratio is null then 'actual_and_forecast'
            else 'actual_and_forecast_adjusted'
        end as projection_basis

    from year_ratios

),

positioned as (

    select
        target_path.financial_year,
        target_path.programme_year,
        return_types.return_type,
        expected.councils_expected,
        coalesce(reported.councils_reported, 0) as councils_reported,
        coalesce(reported.ni179_gbp_thousands, 0) / 1000 as reported_gains_gbp_millions,
        reported.revenue_gbp_thousands / 1000 as reported_revenue_gains_gbp_millions,
        reported.capital_gbp_thousands / 1000 as reported_capital_gains_gbp_millions,
        coalesce(reported.councils_giving_split, 0) as councils_giving_split,
        reported.sr04_carry_over_gbp_thousands / 1000 as sr04_carry_over_gbp_millions,
        target_path.baseline_gbp_millions,
        target_path.target_cumulative_rate,
        projected.projected_outturn_gbp_millions,
        projected.projection_basis,
        projected.outturn_to_forecast_ratio

    from target_path
    cross join return_types
    left join expected
        on target_path.financial_year = expected.financial_year
    left join reported
        on target_path.financial_year = reported.financial_year
        and return_types.return_type = reported.return_type
    left join projected
        on target_path.financial_year = projected.financial_year

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
        reported_gains_gbp_millions >= baseline_gbp_millions * target_cumulative_rate as is_target_met,
        round(projected_outturn_gbp_millions, 1)::numeric(12, 1) as projected_outturn_gbp_millions,
        projection_basis,
        round(outturn_to_forecast_ratio, 6)::numeric(8, 6) as outturn_to_forecast_ratio,
        round(projected_outturn_gbp_millions - baseline_gbp_millions * target_cumulative_rate, 1)::numeric(12, 1)
            as projected_gap_to_target_gbp_millions,
        projected_outturn_gbp_millions >= baseline_gbp_millions * target_cumulative_rate
            as is_projected_to_meet_target

    from positioned

)

select * from final
