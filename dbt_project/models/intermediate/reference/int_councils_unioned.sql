-- Councils that existed at any time in the programme: the register's, plus the 44 abolished on
-- 1 April 2009, which the register omits.
with

register_councils as (

    select * from {{ ref('int_councils_regions_derived') }}

),

predecessors as (

    select * from {{ ref('stg_reference__reorganisation_2009') }}

),

regions as (

    select * from {{ ref('region_rieps') }}

),

abolished_councils as (

    select distinct
        predecessors.predecessor_code as council_code,
        predecessors.predecessor_name as council_name,
        predecessors.council_type,
        regions.region_code,
        'reorganisation_2009' as region_source,
        cast(null as date) as valid_from_date,
        predecessors.valid_to_date,
        cast(null as numeric) as population_2020

    from predecessors
    inner join regions
        on predecessors.region_name = regions.region_name

),

unioned as (

    select * from register_councils
    union all
    select * from abolished_councils

)

select * from unioned
