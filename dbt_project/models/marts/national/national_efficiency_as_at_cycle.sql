-- The national NI 179 series as each cycle knew it: for every cycle (as_at_cycle_number), the position
-- of that cycle and of every cycle before it, from the returns that had arrived by its as-at time
-- (int_council_returns_as_at_cycle). What a board pack for that cycle shows; a cycle's own row is its
-- Treasury release's national figure.
with

cycles as (

    select * from {{ ref('int_return_cycles') }}

),

known as (

    select * from {{ ref('int_council_returns_as_at_cycle') }}

),

expected_councils as (

    select * from {{ ref('int_councils_expected_by_year') }}

),

target_path as (

    select * from {{ ref('int_efficiency_target_path') }}

),

expected as (

    select
        financial_year,
        count(*) as councils_expected

    from expected_councils
    group by financial_year

),

as_at as (

    select
        as_at_cycles.cycle_number as as_at_cycle_number,
        coalesce(max(known.as_at), as_at_cycles.closes_at) as as_at

    from cycles as as_at_cycles
    left join known
        on as_at_cycles.cycle_number = known.as_at_cycle_number
    group by as_at_cycles.cycle_number, as_at_cycles.closes_at

),

series as (

    select
        as_at.as_at_cycle_number,
        as_at.as_at,
        cycles.cycle_number,
        cycles.cycle_label,
        cycles.financial_year,
        cycles.programme_year,
        cycles.return_type

    from as_at
    inner join cycles
        on cycles.cycle_number <= as_at.as_at_cycle_number

),

reported as (

    select
        as_at_cycle_number,
        return_cycle_number,
        count(*) as councils_reported,
        sum(ni179_value_gbp_thousands) as ni179_gbp_thousands

    from known
    group by as_at_cycle_number, return_cycle_number

),

positioned as (

    select
        series.*,
        expected.councils_expected,
        coalesce(reported.councils_reported, 0) as councils_reported,
        coalesce(reported.ni179_gbp_thousands, 0) / 1000 as reported_gains_gbp_millions,
        target_path.baseline_gbp_millions,
        target_path.target_cumulative_rate

    from series
    left join expected
        on series.financial_year = expected.financial_year
    left join reported
        on
            series.as_at_cycle_number = reported.as_at_cycle_number
            and series.cycle_number = reported.return_cycle_number
    left join target_path
        on series.financial_year = target_path.financial_year

),

final as (

    select
        as_at_cycle_number,
        as_at,
        cycle_number,
        cycle_label,
        financial_year,
        programme_year,
        return_type,
        councils_expected::integer as councils_expected,
        councils_reported::integer as councils_reported,
        (councils_expected - councils_reported)::integer as councils_missing,
        round(reported_gains_gbp_millions, 1)::numeric(12, 1) as reported_gains_gbp_millions,
        round(target_cumulative_rate, 6)::numeric(8, 6) as target_cumulative_rate,
        round(baseline_gbp_millions * target_cumulative_rate, 1)::numeric(12, 1) as target_gains_gbp_millions,
        round(reported_gains_gbp_millions - baseline_gbp_millions * target_cumulative_rate, 1)::numeric(12, 1)
            as gap_to_target_gbp_millions,
        reported_gains_gbp_millions >= baseline_gbp_millions * target_cumulative_rate as is_target_met

    from positioned

)

select * from final
