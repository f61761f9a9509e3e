with

source as (

    select * from {{ source('riep', 'riep_report_priorities') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        region_code,
        financial_year,
        priority,
        rag_status,
        comment as priority_comment,
        validation_warnings

    from source

)

select * from renamed
