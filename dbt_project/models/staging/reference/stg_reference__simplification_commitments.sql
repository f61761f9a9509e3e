with

source as (

    select * from {{ ref('simplification_commitment_register') }}

),

renamed as (

    select
        commitment_id,
        commitment_text,
        owner,
        category,
        due_date,
        due_date_basis

    from source

)

select * from renamed
