-- The return that counts for each council, year and type: the latest accepted one that is not held
-- for review. A later file supersedes an earlier one; the earlier rows stay in staging as history. A
-- row held for review (a warning that could move a published total) counts only once an engineer has
-- confirmed it: while it is pending, or if it was rejected, the council's latest submission that is
-- not held stands, or, with none, the council counts as missing. Rejected rows stay in the history.
with

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
    left join held
        on
            returns.manifest_id = held.manifest_id
            and returns.source_row_number = held.source_row_number
    where held.manifest_id is null

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
