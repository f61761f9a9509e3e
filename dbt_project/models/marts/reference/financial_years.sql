with

years as (

    select * from {{ ref('programme_years') }}

),

final as (

    select
        financial_year,
        programme_year,
        year_start_date,
        year_end_date,
        forecast_window_start_date,
        forecast_window_end_date,
        actual_window_start_date,
        actual_window_end_date

    from years

)

select * from final
