with

source as (

    select * from {{ source('riep', 'riep_report_spend') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        region_code,
        financial_year,
        theme,
        spend_gbp_thousands,
        validation_warnings

    from source

)

select * from renamed
