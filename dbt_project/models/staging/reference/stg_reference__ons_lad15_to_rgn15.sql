with

source as (

    select * from {{ ref('ons_lad15_to_rgn15') }}

),

renamed as (

    select
        lad15_code as district_code,
        rgn15_code as region_code

    from source

)

select * from renamed
