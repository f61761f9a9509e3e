with

source as (

    select * from {{ ref('ons_lad16_to_cty16') }}

),

renamed as (

    select
        lad16_code as district_code,
        cty16_code as county_code

    from source

)

select * from renamed
