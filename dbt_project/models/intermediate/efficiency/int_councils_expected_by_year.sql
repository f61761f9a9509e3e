-- The councils expected to file for each programme year: those in existence at the end of the year.
-- 388 for 2008-09 (the 44 abolished on 1 April 2009 still existed on 31 March 2009), 353 after.
with

years as (

    select * from {{ ref('financial_years') }}

),

councils as (

    select * from {{ ref('councils') }}

),

expected as (

    select
        years.financial_year,
        years.programme_year,
        councils.council_code,
        councils.council_name,
        councils.council_type,
        councils.region_code,
        councils.region_name,
        councils.riep_name,
        councils.is_abolished_in_2009

    from years
    inner join councils
        on coalesce(councils.valid_from_date, date '1900-01-01') <= years.year_end_date
        and coalesce(councils.valid_to_date, date '9999-12-31') >= years.year_end_date

)

select * from expected
