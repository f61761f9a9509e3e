-- The return that counts for each council, year and type: the latest accepted one. A later file
-- supersedes an earlier one; the earlier rows stay in staging as history.
with

returns as (

    select * from {{ ref('stg_council_returns__returns') }}

),

manifest as (

    select * from {{ ref('stg_ingest__load_manifest') }}

),

ranked as (

    select
        returns.*,
        manifest.file_name,
        manifest.received_at,
        row_number() over (
            partition by returns.council_code, returns.financial_year, returns.return_type
            order by manifest.received_at desc, returns.manifest_id desc, returns.source_row_number desc
        ) as recency_rank

    from returns
    inner join manifest
        on returns.manifest_id = manifest.manifest_id

),

latest as (

    select * from ranked where recency_rank = 1

)

select * from latest
