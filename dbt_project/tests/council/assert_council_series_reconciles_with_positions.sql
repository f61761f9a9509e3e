-- Rolling predecessors up to their successors moves money between councils, never creates or loses
-- it: per year, the series (353 councils, rolled up) sums to the same forecasts and actuals as the
-- councils as they filed. Each series row is rounded to £0.1 thousand, hence the tolerance.
with

positions as (

    select
        financial_year,
        coalesce(sum(forecast_gbp_thousands), 0) as forecast_gbp_thousands,
        coalesce(sum(actual_gbp_thousands), 0) as actual_gbp_thousands

    from {{ ref('council_efficiency_position') }}
    group by financial_year

),

series as (

    select
        financial_year,
        coalesce(sum(forecast_gbp_thousands), 0) as forecast_gbp_thousands,
        coalesce(sum(actual_gbp_thousands), 0) as actual_gbp_thousands

    from {{ ref('council_efficiency_series') }}
    group by financial_year

)

select
    positions.financial_year,
    positions.forecast_gbp_thousands as filed_forecast_gbp_thousands,
    series.forecast_gbp_thousands as series_forecast_gbp_thousands,
    positions.actual_gbp_thousands as filed_actual_gbp_thousands,
    series.actual_gbp_thousands as series_actual_gbp_thousands

from positions
full outer join series
    on positions.financial_year = series.financial_year
where abs(coalesce(positions.forecast_gbp_thousands, 0) - coalesce(series.forecast_gbp_thousands, 0)) > 1
   or abs(coalesce(positions.actual_gbp_thousands, 0) - coalesce(series.actual_gbp_thousands, 0)) > 1
