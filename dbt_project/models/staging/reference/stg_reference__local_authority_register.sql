with

source as (

    select * from {{ ref('local_authority_register') }}

),

councils as (

    select
        gss_code as council_code,
        official_name as council_name,
        case local_authority_type
            when 'CTY' then 'county'
            when 'NMD' then 'district'
            when 'UA' then 'unitary'
            when 'MD' then 'metropolitan'
            when 'LBO' then 'london'
            when 'CC' then 'london'
        end as council_type,
        nullif(region_name, '') as register_region_name,
        nullif(county_la, '') as county_register_code,
        start_date as valid_from_date,
        case
            when extract(month from end_date) = 4 and extract(day from end_date) = 1 then end_date - 1
            else end_date
        end as valid_to_date,
        population_2020,
        nullif(former_gss_codes, '') as former_gss_codes

    from source
    where local_authority_type in ('CTY', 'NMD', 'UA', 'MD', 'LBO', 'CC')

)

select * from councils
