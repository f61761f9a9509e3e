-- The baseline that counts for each council and baseline year: the latest accepted file's.
with

baselines as (

    select * from {{ ref('stg_council_baselines__baselines') }}

),

manifest as (

    select * from {{ ref('stg_ingest__load_manifest') }}

),

ranked as (

    select
        baselines.*,
        manifest.received_at,
        row_number() over (
            partition by baselines.council_code, baselines.baseline_year
            order by manifest.received_at desc, baselines.manifest_id desc, baselines.source_row_number desc
        ) as recency_rank

    from baselines
    inner join manifest
        on baselines.manifest_id = manifest.manifest_id

),

latest as (

    select * from ranked where recency_rank = 1

)

select * from latest
