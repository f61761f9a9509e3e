-- Corrections to the reference data that can move published figures; publication reads them to say
-- why a release was revised.
with

corrections as (

    select * from {{ ref('reference_data_corrections') }}

),

final as (

    select
        correction_id,
        corrected_on,
        description

    from corrections

)

select * from final
