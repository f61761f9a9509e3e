with

source as (

    select * from {{ source('simplification', 'simplification_status_updates') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        commitment_id,
        as_at_date,
        status as commitment_status,
        evidence,
        reported_by,
        validation_warnings

    from source

)

select * from renamed
