with

source as (

    select * from {{ source('ingest', 'review_items') }}

),

renamed as (

    select
        review_id,
        manifest_id,
        dataset,
        source_row_number,
        council_code,
        financial_year,
        return_type,
        value_received,
        rules,
        held_at,
        decision,
        decided_by,
        decided_at,
        decision_reason

    from source

)

select * from renamed
