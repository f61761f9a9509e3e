-- What the warehouse knew at each cycle's as-at time: for every cycle, each council's latest accepted
-- return of that cycle and of every earlier cycle, among those that had arrived by then. Later cycles'
-- returns are never seen (a July actual never changes the October release before it).
--
-- A cycle's as-at time is its close (int_return_cycles: the cut-off rule), or, once a return of its own
-- has arrived after the close, that late return's arrival: the late return counts, and so does whatever
-- else had arrived by then. Arrival is the warehouse's clock (the load manifest's received_at), never a
-- file's modification time. Rows held for review count as in int_council_returns_deduplicated.
with

cycles as (

    select * from {{ ref('int_return_cycles') }}

),

returns as (

    select * from {{ ref('stg_council_returns__returns') }}

),

manifest as (

    select * from {{ ref('stg_ingest__load_manifest') }}

),

held as (

    select
        manifest_id,
        source_row_number

    from {{ ref('stg_ingest__review_items') }}
    where decision <> 'confirmed'

),

submissions as (

    select
        returns.manifest_id,
        returns.source_row_number,
        returns.council_code,
        returns.financial_year,
        returns.return_type,
        returns.ni179_value_gbp_thousands,
        returns.revenue_gbp_thousands,
        returns.capital_gbp_thousands,
        returns.sr04_carry_over_gbp_thousands,
        returns.submitted_date,
        'late_return' = any(returns.validation_warnings) as is_late,
        cardinality(returns.validation_warnings) > 0 as has_validation_warnings,
        manifest.file_name,
        manifest.received_at,
        cycles.cycle_number as return_cycle_number,
        manifest.received_at > cycles.closes_at as is_received_after_close

    from returns
    inner join manifest
        on returns.manifest_id = manifest.manifest_id
    inner join cycles
        on
            returns.financial_year = cycles.financial_year
            and returns.return_type = cycles.return_type
    left join held
        on
            returns.manifest_id = held.manifest_id
            and returns.source_row_number = held.source_row_number
    where held.manifest_id is null

),

as_at as (

    select
        cycles.cycle_number,
        cycles.closes_at,
        -- greatest() passes over the null of a cycle with no returns
        greatest(cycles.closes_at, max(own.received_at)) as as_at

    from cycles
    left join submissions as own
        on cycles.cycle_number = own.return_cycle_number
    group by cycles.cycle_number, cycles.closes_at

),

known as (

    select
        as_at.cycle_number as as_at_cycle_number,
        as_at.as_at,
        submissions.*,
        count(*) over known_then as submissions_count,
        row_number() over (
            known_then order by submissions.received_at desc, submissions.manifest_id desc,
            submissions.source_row_number desc
        ) as recency_rank

    from as_at
    inner join submissions
        on
            submissions.return_cycle_number <= as_at.cycle_number
            and submissions.received_at <= as_at.as_at
    window known_then as (
        partition by as_at.cycle_number, submissions.council_code, submissions.financial_year,
        submissions.return_type
    )

),

latest as (

    select * from known where recency_rank = 1

)

select * from latest
