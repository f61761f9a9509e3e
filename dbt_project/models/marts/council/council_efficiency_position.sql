-- Each council's NI 179 position for each programme year, for the councils in existence at the end of
-- the year (388 for 2008-09, with the 44 abolished in April 2009; 353 after): its latest accepted
-- forecast and actual as filed (no roll-up), against its own 2007-08 baseline and the sector's path,
-- flagged for the Government Office (missing, late, warnings, low reporter).
with

expected as (

    select * from {{ ref('int_councils_expected_by_year') }}

),

returns as (

    select * from {{ ref('int_council_returns_deduplicated') }}

),

baselines as (

    select * from {{ ref('int_council_baselines_deduplicated') }}
    where baseline_year = '2007-08'

),

target_path as (

    select * from {{ ref('int_efficiency_target_path') }}

),

forecasts as (

    select * from returns where return_type = 'forecast'

),

actuals as (

    select * from returns where return_type = 'actual'

),

joined as (

    select
        expected.council_code,
        expected.council_name,
        expected.council_type,
        expected.region_code,
        expected.region_name,
        expected.riep_name,
        expected.is_abolished_in_2009,
        expected.financial_year,
        expected.programme_year,
        forecasts.ni179_value_gbp_thousands as forecast_gbp_thousands,
        actuals.ni179_value_gbp_thousands as actual_gbp_thousands,
        baselines.total_gbp_thousands as baseline_gbp_thousands,
        target_path.target_cumulative_rate,
        forecasts.received_at as forecast_received_at,
        actuals.received_at as actual_received_at,
        coalesce(forecasts.submissions_count, 0) as forecast_submissions_count,
        coalesce(actuals.submissions_count, 0) as actual_submissions_count,
        forecasts.council_code is null as is_forecast_missing,
        actuals.council_code is null as is_actual_missing,
        coalesce(forecasts.is_late, false) or coalesce(actuals.is_late, false) as is_late,
        coalesce(forecasts.has_validation_warnings, false) or coalesce(actuals.has_validation_warnings, false)
            as has_validation_warnings

    from expected
    left join forecasts
        on expected.council_code = forecasts.council_code
        and expected.financial_year = forecasts.financial_year
    left join actuals
        on expected.council_code = actuals.council_code
        and expected.financial_year = actuals.financial_year
    left join baselines
        on expected.council_code = baselines.council_code
    left join target_path
        on expected.financial_year = target_path.financial_year

),

measured as (

    select
        *,
        {{ safe_divide('forecast_gbp_thousands', 'baseline_gbp_thousands') }} as forecast_share_of_baseline,
        {{ safe_divide('actual_gbp_thousands', 'baseline_gbp_thousands') }} as actual_share_of_baseline,
        -- judged on the latest evidence: the actual once filed, the forecast until then
        {{ safe_divide('coalesce(actual_gbp_thousands, forecast_gbp_thousands)', 'baseline_gbp_thousands') }}
            as judged_share_of_baseline,
        target_cumulative_rate * {{ low_reporter_fraction_of_target_rate() }} as low_reporter_threshold_share

    from joined

),

final as (

    select
        council_code,
        council_name,
        council_type,
        region_code,
        region_name,
        riep_name,
        is_abolished_in_2009,
        financial_year,
        programme_year,
        forecast_gbp_thousands::numeric(14, 1) as forecast_gbp_thousands,
        actual_gbp_thousands::numeric(14, 1) as actual_gbp_thousands,
        (actual_gbp_thousands - forecast_gbp_thousands)::numeric(14, 1) as variance_gbp_thousands,
        round(baseline_gbp_thousands, 1)::numeric(14, 1) as baseline_gbp_thousands,
        round(forecast_share_of_baseline, 6)::numeric(10, 6) as forecast_share_of_baseline,
        round(actual_share_of_baseline, 6)::numeric(10, 6) as actual_share_of_baseline,
        round(target_cumulative_rate, 6)::numeric(8, 6) as target_cumulative_rate,
        round(low_reporter_threshold_share, 6)::numeric(8, 6) as low_reporter_threshold_share,
        is_forecast_missing,
        is_actual_missing,
        is_late,
        has_validation_warnings,
        judged_share_of_baseline < low_reporter_threshold_share as is_low_reporter,
        forecast_submissions_count::integer as forecast_submissions_count,
        actual_submissions_count::integer as actual_submissions_count,
        forecast_received_at,
        actual_received_at

    from measured

)

select * from final
