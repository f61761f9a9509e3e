with

source as (

    select * from {{ ref('reorganisation_2009') }}

),

-- Cheshire and Bedfordshire County Councils name two successors each, separated by ';': one row per successor.
successors as (

    select
        source.predecessor_code,
        source.predecessor_name,
        source.predecessor_type as council_type,
        source.abolished_on - 1 as valid_to_date,
        source.region as region_name,
        trim(successor.successor_code) as successor_code,
        successor.position as successor_position

    from source
    cross join lateral unnest(string_to_array(source.successor_gss_code, ';'))
        with ordinality as successor (successor_code, position)

)

select * from successors
