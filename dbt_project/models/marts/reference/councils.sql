with

councils as (

    select * from {{ ref('int_councils_unioned') }}

),

regions as (

    select * from {{ ref('region_rieps') }}

),

final as (

    select
        councils.council_code,
        councils.council_name,
        councils.council_type,
        councils.region_code,
        regions.region_name,
        regions.riep_name,
        councils.region_source,
        councils.valid_from_date,
        councils.valid_to_date,
        councils.council_code like 'PRE09-%' as is_abolished_in_2009,
        councils.population_2020

    from councils
    inner join regions
        on councils.region_code = regions.region_code

)

select * from final
