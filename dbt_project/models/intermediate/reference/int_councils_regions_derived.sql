-- The register leaves the region blank for 15 councils abolished since 2019. Derive it from the
-- ONS district-to-region lookup, and for a county from the region of its districts.
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

county_regions as (

    select
        county_districts.county_code as council_code,
        min(coalesce(register_regions.region_code, district_regions.region_code)) as region_code

    from county_districts
    left join register_regions
        on county_districts.district_code = register_regions.council_code
    left join district_regions
        on county_districts.district_code = district_regions.district_code
    group by county_districts.county_code

),

derived as (

    select
        register.council_code,
        register.council_name,
        register.council_type,
        coalesce(register_regions.region_code, district_regions.region_code, county_regions.region_code) as region_code,
        case
            when register_regions.region_code is not null then 'register'
            when district_regions.region_code is not null then 'ons_district_lookup'
            when county_regions.region_code is not null then 'ons_county_districts'
        end as region_source,
        register.valid_from_date,
        register.valid_to_date,
        register.population_2020

    from register
    left join register_regions
        on register.council_code = register_regions.council_code
    left join district_regions
        on register.council_code = district_regions.district_code
    left join county_regions
        on register.council_code = county_regions.council_code

)

select * from derived
