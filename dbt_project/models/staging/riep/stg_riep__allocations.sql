with

source as (

    select * from {{ source('riep', 'riep_allocations') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        region_code,
        financial_year,
        funding_stream,
        amount_gbp_thousands,
        status as allocation_status,
        set_date,
        note as allocation_note,
        validation_warnings

    from source

)

select * from renamed
