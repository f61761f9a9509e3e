with

source as (

    select * from {{ source('riep', 'riep_report_standards') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        region_code,
        financial_year,
        standard_number,
        status as standard_status,
        evidence,
        validation_warnings

    from source

)

select * from renamed
