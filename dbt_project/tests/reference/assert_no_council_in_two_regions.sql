-- No council is in two regions, and none is in a region ONS does not put it in. Returns a row for:
-- a county whose districts ONS puts in more than one region (its region would be a guess); a council
-- whose region is not the one ONS gives it, directly or through its districts; a council listed
-- twice; a council abolished in 2009 in a region other than its successors'.
with

councils as (

    select * from {{ ref('councils') }}

),

district_regions as (

    select * from {{ ref('stg_reference__ons_lad15_to_rgn15') }}

),

county_districts as (

    select * from {{ ref('stg_reference__ons_lad16_to_cty16') }}

),

successions as (

    select * from {{ ref('council_successions') }}

),

ons_regions as (

    select
        district_code as council_code,
        region_code
    from district_regions

    union

    select
        county_districts.county_code as council_code,
        district_regions.region_code
    from county_districts
    inner join district_regions
        on county_districts.district_code = district_regions.district_code

),

counties_in_two_regions as (

    select
        council_code,
        'ONS puts its districts in ' || count(*) || ' regions' as problem

    from ons_regions
    group by council_code
    having count(*) > 1

),

not_in_ons_region as (

    select
        councils.council_code,
        'in ' || councils.region_code || ', ONS says ' || ons_regions.region_code as problem

    from councils
    inner join ons_regions
        on councils.council_code = ons_regions.council_code
    where councils.region_code <> ons_regions.region_code

),

listed_twice as (

    select
        council_code,
        'listed ' || count(*) || ' times, in ' || count(distinct region_code) || ' regions' as problem

    from councils
    group by council_code
    having count(*) > 1

),

predecessor_elsewhere as (

    select
        successions.predecessor_code as council_code,
        'in ' || predecessor.region_code || ', its successor ' || successions.successor_code
        || ' in ' || successor.region_code as problem

    from successions
    inner join councils as predecessor
        on successions.predecessor_code = predecessor.council_code
    inner join councils as successor
        on successions.successor_code = successor.council_code
    where predecessor.region_code <> successor.region_code

)

select * from counties_in_two_regions
union all
select * from not_in_ons_region
union all
select * from listed_twice
union all
select * from predecessor_elsewhere
