-- The return cycles, a dimension for the board's time series and the releases: when each falls due and
-- when it closes (the cut-off rule is in int_return_cycles).
with

cycles as (

    select * from {{ ref('int_return_cycles') }}

)

select
    cycle_number,
    cycle_label,
    financial_year,
    programme_year,
    return_type,
    window_start_date,
    window_end_date,
    closes_at

from cycles
