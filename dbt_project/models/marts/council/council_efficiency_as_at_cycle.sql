-- Each council's NI 179 position in each return cycle as the warehouse knew it at the cycle's as-at
-- time (int_council_returns_as_at_cycle): the figure of the cycle's own return type, the forecast and
-- (for an actual cycle) the actual known then, the baseline known then, and every flag computed from
-- those alone. "What did we know at the July 2010 close": where cycle_label = 'July 2010: 2009-10 actual'.
with

cycles as (

    select * from {{ ref('int_return_cycles') }}

),

expected as (

    select * from {{ ref('int_councils_expected_by_year') }}

),

known_returns as (

    select * from {{ ref('int_council_returns_as_at_cycle') }}

),

baselines as (

    select * from {{ ref('stg_council_baselines__baselines') }}
    where baseline_year = '2007-08'

),

manifest as (

    select * from {{ ref('stg_ingest__load_manifest') }}

),

target_path as (

    select * from {{ ref('int_efficiency_target_path') }}

),

as_at as (

    select distinct
        as_at_cycle_number as cycle_number,
        as_at

    from known_returns

),

cycle_councils as (

    select
        cycles.cycle_number,
        cycles.cycle_label,
        cycles.financial_year,
        cycles.return_type,
        cycles.closes_at,
        coalesce(as_at.as_at, cycles.closes_at) as as_at,
        expected.council_code,
        expected.council_name,
        expected.council_type,
        expected.region_code,
        expected.region_name,
        expected.riep_name

    from cycles
    inner join expected
        on cycles.financial_year = expected.financial_year
    left join as_at
        on cycles.cycle_number = as_at.cycle_number

),

-- The 2007-08 baseline each council had filed by the cycle's as-at time: the latest such.
baselines_known as (

    select distinct on (cycle_councils.cycle_number, cycle_councils.council_code)
        cycle_councils.cycle_number,
        cycle_councils.council_code,
        baselines.total_gbp_thousands

    from cycle_councils
    inner join baselines
        on cycle_councils.council_code = baselines.council_code
    inner join manifest
        on baselines.manifest_id = manifest.manifest_id
    where manifest.received_at <= cycle_councils.as_at
    order by
        cycle_councils.cycle_number, cycle_councils.council_code, manifest.received_at desc,
        baselines.manifest_id desc, baselines.source_row_number desc

),

joined as (

    select
        cycle_councils.*,
        forecasts.ni179_value_gbp_thousands as forecast_gbp_thousands,
        actuals.ni179_value_gbp_thousands as actual_gbp_thousands,
        own.ni179_value_gbp_thousands,
        own.revenue_gbp_thousands,
        own.capital_gbp_thousands,
        own.sr04_carry_over_gbp_thousands,
        own.received_at,
        own.file_name,
        coalesce(own.submissions_count, 0) as submissions_count,
        own.council_code is null as is_return_missing,
        coalesce(own.is_late, false) as is_late,
        coalesce(own.is_received_after_close, false) as is_received_after_close,
        coalesce(own.has_validation_warnings, false) as has_validation_warnings,
        baselines_known.total_gbp_thousands as baseline_gbp_thousands,
        target_path.target_cumulative_rate

    from cycle_councils
    left join known_returns as forecasts
        on
            cycle_councils.cycle_number = forecasts.as_at_cycle_number
            and cycle_councils.council_code = forecasts.council_code
            and cycle_councils.financial_year = forecasts.financial_year
            and forecasts.return_type = 'forecast'
    left join known_returns as actuals
        on
            cycle_councils.cycle_number = actuals.as_at_cycle_number
            and cycle_councils.council_code = actuals.council_code
            and cycle_councils.financial_year = actuals.financial_year
            and actuals.return_type = 'actual'
    left join known_returns as own
        on
            cycle_councils.cycle_number = own.as_at_cycle_number
            and cycle_councils.council_code = own.council_code
            and cycle_councils.financial_year = own.financial_year
            and cycle_councils.return_type = own.return_type
    left join baselines_known
        on
            cycle_councils.cycle_number = baselines_known.cycle_number
            and cycle_councils.council_code = baselines_known.council_code
    left join target_path
        on cycle_councils.financial_year = target_path.financial_year

),

measured as (

    select
        *,
        {{ safe_divide('ni179_value_gbp_thousands', 'baseline_gbp_thousands') }} as share_of_baseline,
        -- judged on the latest evidence known then: the actual once filed, the forecast until then
        {{ safe_divide('coalesce(actual_gbp_thousands, forecast_gbp_thousands)', 'baseline_gbp_thousands') }}
            as judged_share_of_baseline,
        target_cumulative_rate * {{ low_reporter_fraction_of_target_rate() }} as low_reporter_threshold_share

    from joined

),

final as (

    select
        cycle_number,
        cycle_label,
        financial_year,
        return_type,
        closes_at,
        as_at,
        council_code,
        council_name,
        council_type,
        region_code,
        region_name,
        riep_name,
        ni179_value_gbp_thousands::numeric(14, 1) as ni179_value_gbp_thousands,
        revenue_gbp_thousands::numeric(14, 1) as revenue_gbp_thousands,
        capital_gbp_thousands::numeric(14, 1) as capital_gbp_thousands,
        sr04_carry_over_gbp_thousands::numeric(14, 1) as sr04_carry_over_gbp_thousands,
        forecast_gbp_thousands::numeric(14, 1) as forecast_gbp_thousands,
        actual_gbp_thousands::numeric(14, 1) as actual_gbp_thousands,
        round(baseline_gbp_thousands, 1)::numeric(14, 1) as baseline_gbp_thousands,
        round(share_of_baseline, 6)::numeric(10, 6) as share_of_baseline,
        round(target_cumulative_rate, 6)::numeric(8, 6) as target_cumulative_rate,
        round(low_reporter_threshold_share, 6)::numeric(8, 6) as low_reporter_threshold_share,
        is_return_missing,
        is_late,
        is_received_after_close,
        has_validation_warnings,
        judged_share_of_baseline < low_reporter_threshold_share as is_low_reporter,
        submissions_count::integer as submissions_count,
        received_at,
        file_name

    from measured

)

select * from final
