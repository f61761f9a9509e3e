with

source as (

    select * from {{ source('riep', 'riep_report_funding') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        region_code,
        financial_year,
        funding_stream,
        amount_gbp_thousands,
        validation_warnings

    from source

)

select * from renamed
