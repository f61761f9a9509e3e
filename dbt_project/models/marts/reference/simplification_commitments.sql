with

commitments as (

    select * from {{ ref('stg_reference__simplification_commitments') }}

),

final as (

    select
        commitment_id,
        commitment_text,
        owner,
        category,
        due_date,
        due_date_basis

    from commitments

)

select * from final
