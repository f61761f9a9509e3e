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
        count(*) over (
            partition by returns.council_code, returns.financial_year, returns.return_type
        ) as submissions_count,
        row_number() over (
            partition by returns.council_code, returns.financial_year, returns.return_type
            order by manifest.received_at desc, returns.manifest_id desc, returns.source_row_number desc
        ) as recency_rank

    from returns
    inner join manifest
        on returns.manifest_id = manifest.manifest_id

),

latest as (

    select
        *,
        'late_return' = any(validation_warnings) as is_late,
        cardinality(validation_warnings) > 0 as has_validation_warnings

    from ranked
    where recency_rank = 1

)

select * from latest
