-- The region of every register council, from ONS wherever ONS covers the council: the district-to-
-- region lookup (December 2015) for districts, unitaries, metropolitan and London boroughs, and for a
-- county the region of its districts (district-to-county lookup, December 2016). The register's own
-- region column is only the fallback, for councils the lookups do not cover (those created since
-- 2016): it is wrong for two counties (Derbyshire County Council in West Midlands, Lincolnshire County
-- Council in Yorkshire and The Humber; ONS puts every one of their districts in the East Midlands).
with

register as (

    select * from {{ ref('stg_reference__local_authority_register') }}

),

regions as (

    select * from {{ ref('region_rieps') }}

),

district_regions as (

    select * from {{ ref('stg_reference__ons_lad15_to_rgn15') }}

),

county_districts as (

    select * from {{ ref('stg_reference__ons_lad16_to_cty16') }}

),

register_regions as (

    select
        register.council_code,
        regions.region_code

    from register
    inner join regions
        on register.register_region_name = regions.region_name

),

-- A county takes its districts' region only when they all lie in one: a county whose districts span
-- two regions gets none from here (and assert_no_council_in_two_regions fails), never a guess.
county_regions as (

    select
        county_districts.county_code as council_code,
        case
            when count(distinct district_regions.region_code) = 1 then min(district_regions.region_code)
        end as region_code

    from county_districts
    inner join district_regions
        on county_districts.district_code = district_regions.district_code
    group by county_districts.county_code

),

derived as (

    select
        register.council_code,
        register.council_name,
        register.council_type,
        coalesce(district_regions.region_code, county_regions.region_code, register_regions.region_code)
            as region_code,
        case
            when district_regions.region_code is not null then 'ons_district_lookup'
            when county_regions.region_code is not null then 'ons_county_districts'
            when register_regions.region_code is not null then 'register'
        end as region_source,
        register.valid_from_date,
        register.valid_to_date,
        register.population_2020

    from register
    left join district_regions
        on register.council_code = district_regions.district_code
    left join county_regions
        on register.council_code = county_regions.council_code
    left join register_regions
        on register.council_code = register_regions.council_code

)

select * from derived
