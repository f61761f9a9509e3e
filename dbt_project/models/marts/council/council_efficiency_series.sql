-- The time series: each council in existence at the end of the programme (the 353 of 31 March 2011)
-- for all three years, with the figures of the councils abolished in April 2009 rolled up to their
-- successors (int_council_returns_rolled_up: whole, or the two split counties apportioned by
-- population), and baselines rolled up the same way, so 2008-09 compares with the later years.
with

expected as (

    select * from {{ ref('int_councils_expected_by_year') }}

),

successions as (

    select * from {{ ref('council_successions') }}

),

councils as (

    select * from {{ ref('councils') }}

),

years as (

    select * from {{ ref('financial_years') }}

),

rolled_up_returns as (

    select * from {{ ref('int_council_returns_rolled_up') }}

),

baselines as (

    select * from {{ ref('int_council_baselines_rolled_up') }}

),

target_path as (

    select * from {{ ref('int_efficiency_target_path') }}

),

-- the councils the series is kept for: int_council_baselines_rolled_up has a row for exactly the
-- councils in existence at the end of the programme
current_councils as (

    select
        councils.council_code,
        councils.council_name,
        councils.council_type,
        councils.region_code,
        councils.region_name,
        councils.riep_name,
        baselines.total_gbp_thousands as baseline_gbp_thousands,
        baselines.baseline_source

    from councils
    inner join baselines
        on councils.council_code = baselines.council_code

),

-- which filing councils count towards each current council in each year: itself, or in 2008-09 its
-- predecessors (a split county counts towards both its successors)
expected_returns as (

    select
        coalesce(successions.successor_code, expected.council_code) as council_code,
        expected.financial_year,
        count(*) as returns_expected_count,
        bool_or(successions.predecessor_code is not null) as has_predecessors

    from expected
    left join successions
        on expected.council_code = successions.predecessor_code
    group by coalesce(successions.successor_code, expected.council_code), expected.financial_year

),

rolled_up_by_type as (

    select
        council_code,
        financial_year,
        sum(ni179_value_gbp_thousands) filter (where return_type = 'forecast') as forecast_gbp_thousands,
        sum(ni179_value_gbp_thousands) filter (where return_type = 'actual') as actual_gbp_thousands,
        count(*) filter (where return_type = 'forecast') as forecast_returns_count,
        count(*) filter (where return_type = 'actual') as actual_returns_count

    from rolled_up_returns
    group by council_code, financial_year

),

joined as (

    select
        current_councils.council_code,
        current_councils.council_name,
        current_councils.council_type,
        current_councils.region_code,
        current_councils.region_name,
        current_councils.riep_name,
        years.financial_year,
        years.programme_year,
        rolled_up_by_type.forecast_gbp_thousands,
        rolled_up_by_type.actual_gbp_thousands,
        current_councils.baseline_gbp_thousands,
        current_councils.baseline_source,
        target_path.target_cumulative_rate,
        coalesce(expected_returns.returns_expected_count, 0) as returns_expected_count,
        coalesce(rolled_up_by_type.forecast_returns_count, 0) as forecast_returns_count,
        coalesce(rolled_up_by_type.actual_returns_count, 0) as actual_returns_count,
        coalesce(expected_returns.has_predecessors, false) as includes_predecessors

    from current_councils
    cross join years
    left join expected_returns
        on current_councils.council_code = expected_returns.council_code
        and years.financial_year = expected_returns.financial_year
    left join rolled_up_by_type
        on current_councils.council_code = rolled_up_by_type.council_code
        and years.financial_year = rolled_up_by_type.financial_year
    left join target_path
        on years.financial_year = target_path.financial_year

),

final as (

    select
        council_code,
        council_name,
        council_type,
        region_code,
        region_name,
        riep_name,
        financial_year,
        programme_year,
        round(forecast_gbp_thousands, 1)::numeric(14, 1) as forecast_gbp_thousands,
        round(actual_gbp_thousands, 1)::numeric(14, 1) as actual_gbp_thousands,
        round(actual_gbp_thousands - forecast_gbp_thousands, 1)::numeric(14, 1) as variance_gbp_thousands,
        round(baseline_gbp_thousands, 1)::numeric(14, 1) as baseline_gbp_thousands,
        baseline_source,
        round({{ safe_divide('forecast_gbp_thousands', 'baseline_gbp_thousands') }}, 6)::numeric(10, 6)
            as forecast_share_of_baseline,
        round({{ safe_divide('actual_gbp_thousands', 'baseline_gbp_thousands') }}, 6)::numeric(10, 6)
            as actual_share_of_baseline,
        round(target_cumulative_rate, 6)::numeric(8, 6) as target_cumulative_rate,
        returns_expected_count::integer as returns_expected_count,
        forecast_returns_count::integer as forecast_returns_count,
        actual_returns_count::integer as actual_returns_count,
        includes_predecessors

    from joined

)

select * from final
