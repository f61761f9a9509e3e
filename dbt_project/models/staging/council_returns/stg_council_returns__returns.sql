with

source as (

    select * from {{ source('council_returns', 'council_returns') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        council_code,
        -- Rows loaded before codes as filed were kept were filed under the code they carry.
        coalesce(council_code_as_filed, council_code) as council_code_as_filed,
        financial_year,
        return_type,
        ni179_value_gbp_thousands,
        revenue_gbp_thousands,
        capital_gbp_thousands,
        sr04_carry_over_gbp_thousands,
        submitted_date,
        comment as council_comment,
        validation_warnings

    from source

)

select * from renamed
