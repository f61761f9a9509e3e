with

regions as (

    select * from {{ ref('region_rieps') }}

),

final as (

    select
        region_code,
        region_name,
        riep_name

    from regions

)

select * from final
