with

source as (

    select * from {{ source('riep', 'riep_report_summary') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        region_code,
        financial_year,
        total_funding_received_gbp_thousands,
        total_spend_gbp_thousands,
        cash_releasing_savings_gbp_thousands,
        councils_supported,
        councils_in_difficulty_supported,
        submitted_date,
        validation_warnings

    from source

)

select * from renamed
