-- Every year of the programme has a current allocation for all nine RIEPs, once any is loaded.
-- Returns the years (and how many RIEPs they have) that fall short.
with

allocated as (

    select financial_year, count(distinct region_code) as rieps_allocated
    from {{ ref('int_riep_allocations_current') }}
    group by financial_year

)

select years.financial_year, coalesce(allocated.rieps_allocated, 0) as rieps_allocated
from {{ ref('financial_years') }} as years
left join allocated using (financial_year)
where exists (select 1 from {{ ref('int_riep_allocations_current') }})
  and coalesce(allocated.rieps_allocated, 0) <> 9
