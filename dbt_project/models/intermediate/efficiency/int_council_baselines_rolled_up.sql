-- The 2007-08 baseline of each council in existence at the end of the programme (31 March 2011, the
-- 353): its own baseline where one was filed (a 2009 unitary's is its predecessors' restated), else
-- its predecessors' baselines carried over as their returns are (whole, or a split county's
-- apportioned by reference.council_successions). Null when neither is known.
with

baselines as (

    select * from {{ ref('int_council_baselines_deduplicated') }}
    where baseline_year = '2007-08'

),

successions as (

    select * from {{ ref('council_successions') }}

),

years as (

    select * from {{ ref('financial_years') }}

),

councils as (

    select * from {{ ref('councils') }}

),

programme_end as (

    select max(year_end_date) as programme_end_date from years

),

current_councils as (

    select councils.council_code

    from councils
    cross join programme_end
    where coalesce(councils.valid_from_date, date '1900-01-01') <= programme_end.programme_end_date
      and coalesce(councils.valid_to_date, date '9999-12-31') >= programme_end.programme_end_date

),

from_predecessors as (

    select
        successions.successor_code as council_code,
        sum(baselines.revenue_gbp_thousands * successions.apportionment_share) as revenue_gbp_thousands,
        sum(baselines.capital_gbp_thousands * successions.apportionment_share) as capital_gbp_thousands,
        sum(baselines.total_gbp_thousands * successions.apportionment_share) as total_gbp_thousands,
        count(*) as predecessors_with_baseline

    from successions
    inner join baselines
        on successions.predecessor_code = baselines.council_code
    group by successions.successor_code

),

final as (

    select
        current_councils.council_code,
        coalesce(own.revenue_gbp_thousands, from_predecessors.revenue_gbp_thousands) as revenue_gbp_thousands,
        coalesce(own.capital_gbp_thousands, from_predecessors.capital_gbp_thousands) as capital_gbp_thousands,
        coalesce(own.total_gbp_thousands, from_predecessors.total_gbp_thousands) as total_gbp_thousands,
        case
            when own.council_code is not null then 'own'
            when from_predecessors.council_code is not null then 'predecessors'
        end as baseline_source

    from current_councils
    left join baselines as own
        on current_councils.council_code = own.council_code
    left join from_predecessors
        on current_councils.council_code = from_predecessors.council_code

)

select * from final
