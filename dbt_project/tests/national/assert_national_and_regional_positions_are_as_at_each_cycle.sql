-- The Treasury release's national and regional tables read the current marts, which count only each
-- cycle's own returns; a cycle's as-at time reaches every one of those, so they must agree with the
-- as-at council mart (marts.council_efficiency_as_at_cycle). A row here is a release that would not
-- be as at its cycle.
with

as_at as (

    select
        financial_year,
        return_type,
        region_code,
        count(*) filter (where not is_return_missing) as councils_reported,
        coalesce(sum(ni179_value_gbp_thousands), 0) as reported_gbp_thousands

    from {{ ref('council_efficiency_as_at_cycle') }}
    group by financial_year, return_type, region_code

),

national_as_at as (

    select
        financial_year,
        return_type,
        sum(councils_reported) as councils_reported,
        round(sum(reported_gbp_thousands) / 1000, 1) as reported_gains_gbp_millions

    from as_at
    group by financial_year, return_type

),

national_mismatches as (

    select
        'national' as level,
        national.financial_year,
        national.return_type,
        null as region_code

    from {{ ref('national_efficiency_position') }} as national
    inner join national_as_at
        on
            national.financial_year = national_as_at.financial_year
            and national.return_type = national_as_at.return_type
    where
        national.councils_reported <> national_as_at.councils_reported
        or national.reported_gains_gbp_millions <> national_as_at.reported_gains_gbp_millions

),

regional_mismatches as (

    select
        'regional' as level,
        regional.financial_year,
        regional.return_type,
        regional.region_code

    from {{ ref('regional_efficiency_position') }} as regional
    inner join as_at
        on
            regional.financial_year = as_at.financial_year
            and regional.return_type = as_at.return_type
            and regional.region_code = as_at.region_code
    where regional.councils_reported <> as_at.councils_reported

)

select * from national_mismatches
union all
select * from regional_mismatches
