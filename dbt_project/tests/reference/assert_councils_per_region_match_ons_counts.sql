-- Councils in each region in each programme year (every council in existence at any time in the year)
-- against the counts worked out from the ONS lookups by hand (seed ons_expected_councils_per_region),
-- not from the models. Would have caught Derbyshire and Lincolnshire County Councils outside the East
-- Midlands. Returns a row for each region and year whose count differs.
with

expected as (

    select * from {{ ref('ons_expected_councils_per_region') }}

),

actual as (

    select
        years.financial_year,
        councils.region_code,
        count(*) as councils_counted

    from {{ ref('financial_years') }} as years
    inner join {{ ref('councils') }} as councils
        on
            coalesce(councils.valid_from_date, date '1900-01-01') <= years.year_end_date
            and coalesce(councils.valid_to_date, date '9999-12-31') >= years.year_start_date
    group by years.financial_year, councils.region_code

)

select
    coalesce(expected.financial_year, actual.financial_year) as financial_year,
    coalesce(expected.region_code, actual.region_code) as region_code,
    expected.councils_expected,
    actual.councils_counted

from expected
full outer join actual
    on
        expected.financial_year = actual.financial_year
        and expected.region_code = actual.region_code
where expected.councils_expected is distinct from actual.councils_counted
