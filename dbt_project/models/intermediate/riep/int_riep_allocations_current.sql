-- The allocation that stands for each RIEP, year and stream: the one set most recently (an
-- indicative allocation later made firm is superseded by the firm one; both stay in staging).
with

allocations as (

    select * from {{ ref('stg_riep__allocations') }}

),

manifest as (

    select * from {{ ref('stg_ingest__load_manifest') }}

),

ranked as (

    select
        allocations.*,
        count(*) over (
            partition by allocations.region_code, allocations.financial_year, allocations.funding_stream
        ) as versions_count,
        row_number() over (
            partition by allocations.region_code, allocations.financial_year, allocations.funding_stream
            order by allocations.set_date desc, manifest.received_at desc, allocations.manifest_id desc
        ) as recency_rank

    from allocations
    inner join manifest
        on allocations.manifest_id = manifest.manifest_id

),

current_allocations as (

    select * from ranked where recency_rank = 1

)

select * from current_allocations
