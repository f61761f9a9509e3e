-- The return rounds of the programme, in the order they fall due: each year's forecast in October of
-- the year and its actual in the July after it ends (paras 2.13-2.14). Six cycles, October 2008 to
-- July 2011; a dimension for the board's time series.
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
        window_end_date

    from rounds

)

select * from final
