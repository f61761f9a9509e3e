-- Each region's (RIEP's) NI 179 position for each programme year and return type: the latest accepted
-- returns with abolished councils' figures rolled up to their successors, against the region's own
-- 2007-08 baseline (its councils' baselines, rolled up the same way) on the 3% compounding path.
-- Built to be extended: RIEP figures (allocation, spend, savings) join onto regional_position in
-- final, on region_code and financial_year, as further CTEs.
with

regions as (

    select * from {{ ref('regions') }}

),

councils as (

    select * from {{ ref('councils') }}

),

expected as (

    select * from {{ ref('int_councils_expected_by_year') }}

),

returns as (

    select * from {{ ref('int_council_returns_deduplicated') }}

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

return_types as (

    select return_type from (values ('forecast'), ('actual')) as types (return_type)

),

-- councils expected and reported count councils as they filed (not rolled up): each in its own region
councils_reporting as (

    select
        expected.region_code,
        expected.financial_year,
        return_types.return_type,
        count(*) as councils_expected,
        count(returns.council_code) as councils_reported

    from expected
    cross join return_types
    left join returns
        on expected.council_code = returns.council_code
        and expected.financial_year = returns.financial_year
        and return_types.return_type = returns.return_type
    group by expected.region_code, expected.financial_year, return_types.return_type

),

-- money counts where it rolls up to: the successor's region
gains as (

    select
        councils.region_code,
        rolled_up_returns.financial_year,
        rolled_up_returns.return_type,
        sum(rolled_up_returns.ni179_value_gbp_thousands) as reported_gbp_thousands

    from rolled_up_returns
    inner join councils
        on rolled_up_returns.council_code = councils.council_code
    group by councils.region_code, rolled_up_returns.financial_year, rolled_up_returns.return_type

),

regional_baselines as (

    select
        councils.region_code,
        sum(baselines.total_gbp_thousands) as baseline_gbp_thousands,
        count(baselines.total_gbp_thousands) as councils_with_baseline

    from baselines
    inner join councils
        on baselines.council_code = councils.council_code
    group by councils.region_code

),

regional_figures as (

    select
        regions.region_code,
        regions.region_name,
        regions.riep_name,
        target_path.financial_year,
        target_path.programme_year,
        return_types.return_type,
        coalesce(councils_reporting.councils_expected, 0) as councils_expected,
        coalesce(councils_reporting.councils_reported, 0) as councils_reported,
        coalesce(gains.reported_gbp_thousands, 0) / 1000 as reported_gains_gbp_millions,
        sum(coalesce(gains.reported_gbp_thousands, 0)) over (
            partition by target_path.financial_year, return_types.return_type
        ) / 1000 as national_gains_gbp_millions,
        regional_baselines.baseline_gbp_thousands / 1000 as baseline_gbp_millions,
        coalesce(regional_baselines.councils_with_baseline, 0) as councils_with_baseline,
        target_path.target_cumulative_rate

    from regions
    cross join target_path
    cross join return_types
    left join councils_reporting
        on regions.region_code = councils_reporting.region_code
        and target_path.financial_year = councils_reporting.financial_year
        and return_types.return_type = councils_reporting.return_type
    left join gains
        on regions.region_code = gains.region_code
        and target_path.financial_year = gains.financial_year
        and return_types.return_type = gains.return_type
    left join regional_baselines
        on regions.region_code = regional_baselines.region_code

),

regional_position as (

    select
        *,
        {{ safe_divide('reported_gains_gbp_millions', 'baseline_gbp_millions') }} as reported_share_of_baseline,
        baseline_gbp_millions * target_cumulative_rate as target_gains_gbp_millions

    from regional_figures

),

-- The RIEP's side for the year: its current allocations (all streams), and from its current annual
-- report, spend and the cash-releasing savings it attributes to RIEP-supported projects.
riep_allocations as (

    select region_code, financial_year, sum(amount_gbp_thousands) as allocation_gbp_thousands
    from {{ ref('int_riep_allocations_current') }}
    group by region_code, financial_year

),

riep_reports as (

    select * from {{ ref('int_riep_reports_current') }}

),

final as (

    select
        regional_position.region_code,
        regional_position.region_name,
        regional_position.riep_name,
        regional_position.financial_year,
        regional_position.programme_year,
        regional_position.return_type,
        regional_position.councils_expected::integer as councils_expected,
        regional_position.councils_reported::integer as councils_reported,
        (regional_position.councils_expected - regional_position.councils_reported)::integer as councils_missing,
        round(regional_position.reported_gains_gbp_millions, 1)::numeric(12, 1) as reported_gains_gbp_millions,
        round(
            {{ safe_divide('regional_position.reported_gains_gbp_millions',
                           'regional_position.national_gains_gbp_millions') }}, 6
        )::numeric(8, 6) as share_of_national_gains,
        round(regional_position.baseline_gbp_millions, 1)::numeric(12, 1) as baseline_gbp_millions,
        regional_position.councils_with_baseline::integer as councils_with_baseline,
        round(regional_position.reported_share_of_baseline, 6)::numeric(8, 6) as reported_share_of_baseline,
        round(regional_position.target_cumulative_rate, 6)::numeric(8, 6) as target_cumulative_rate,
        round(regional_position.target_gains_gbp_millions, 1)::numeric(12, 1) as target_gains_gbp_millions,
        round(regional_position.reported_gains_gbp_millions - regional_position.target_gains_gbp_millions, 1)
            ::numeric(12, 1) as gap_to_target_gbp_millions,
        round(regional_position.reported_share_of_baseline - regional_position.target_cumulative_rate, 6)
            ::numeric(8, 6) as gap_to_target_rate,
        case
            when regional_position.councils_reported > 0
                then regional_position.reported_gains_gbp_millions >= regional_position.target_gains_gbp_millions
        end as is_on_target_path,
        riep_allocations.allocation_gbp_thousands::numeric(14, 1) as riep_allocation_gbp_thousands,
        riep_reports.total_spend_gbp_thousands::numeric(14, 1) as riep_spend_gbp_thousands,
        riep_reports.cash_releasing_savings_gbp_thousands::numeric(14, 1) as riep_attributed_savings_gbp_thousands,
        round(
            {{ safe_divide('riep_reports.total_spend_gbp_thousands',
                           'riep_reports.cash_releasing_savings_gbp_thousands') }}, 4
        )::numeric(10, 4) as riep_cost_per_pound_of_savings,
        riep_reports.region_code is not null as has_riep_report

    from regional_position
    left join riep_allocations
        on regional_position.region_code = riep_allocations.region_code
        and regional_position.financial_year = riep_allocations.financial_year
    left join riep_reports
        on regional_position.region_code = riep_reports.region_code
        and regional_position.financial_year = riep_reports.financial_year

)

select * from final
