-- In every cycle (programme year x return type), each council expected to file (in existence at the
-- end of the year) has a row in council_efficiency_position, and either its accepted return is there
-- or it is flagged missing, never both and never neither. Returns the councils that break this.
with

expected as (

    select * from {{ ref('int_councils_expected_by_year') }}

),

returns as (

    select * from {{ ref('int_council_returns_deduplicated') }}

),

positions as (

    select * from {{ ref('council_efficiency_position') }}

),

cycles as (

    select * from {{ ref('return_cycles') }}

),

checked as (

    select
        expected.council_code,
        cycles.financial_year,
        cycles.return_type,
        positions.council_code is not null as has_position_row,
        returns.council_code is not null as has_accepted_return,
        case cycles.return_type
            when 'forecast' then positions.is_forecast_missing
            when 'actual' then positions.is_actual_missing
        end as is_flagged_missing,
        case cycles.return_type
            when 'forecast' then positions.forecast_gbp_thousands
            when 'actual' then positions.actual_gbp_thousands
        end as reported_gbp_thousands,
        returns.ni179_value_gbp_thousands as accepted_gbp_thousands

    from cycles
    inner join expected
        on cycles.financial_year = expected.financial_year
    left join returns
        on expected.council_code = returns.council_code
        and cycles.financial_year = returns.financial_year
        and cycles.return_type = returns.return_type
    left join positions
        on expected.council_code = positions.council_code
        and cycles.financial_year = positions.financial_year

)

select *
from checked
where not has_position_row
   or is_flagged_missing is null
   or is_flagged_missing = has_accepted_return
   or reported_gbp_thousands is distinct from accepted_gbp_thousands
