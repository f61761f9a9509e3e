-- The return rounds of the programme, in the order they fall due: each year's forecast in October of
-- the year and its actual in the July after it ends (paras 2.13-2.14). Six cycles, October 2008 to
-- July 2011.
--
-- The cut-off rule: a cycle closes at the end of the last day of its filing window, London time
-- (forecasts 31 October, actuals 31 July), on the warehouse's arrival clock. What a cycle's release
-- shows is what had arrived by then; a return of the cycle's own that arrives later is a late return
-- and publishes the cycle's next version, as at its arrival.
with

years as (

    select * from {{ ref('financial_years') }}

),

rounds as (

    select
        financial_year,
        programme_year,
        'forecast' as return_type,
        forecast_window_start_date as window_start_date,
        forecast_window_end_date as window_end_date

    from years

    union all

    select
        financial_year,
        programme_year,
        'actual' as return_type,
        actual_window_start_date as window_start_date,
        actual_window_end_date as window_end_date

    from years

),

final as (

    select
        (row_number() over (order by window_start_date, programme_year))::integer as cycle_number,
        to_char(window_start_date, 'FMMonth YYYY') || ': ' || financial_year || ' ' || return_type as cycle_label,
        financial_year,
        programme_year,
        return_type,
        window_start_date,
        window_end_date,
        ((window_end_date + 1)::timestamp at time zone 'Europe/London') as closes_at

    from rounds

)

select * from final
