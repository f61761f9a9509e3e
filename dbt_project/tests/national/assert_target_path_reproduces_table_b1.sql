-- The computed target must reproduce the published path (table B.1: £1.5bn, £3.2bn, £4.9bn) within
-- rounding: the published totals are the exact path truncated to one decimal place of £bn.
select
    position.financial_year,
    position.target_gains_gbp_millions,
    published.total_gbp_bn
from {{ ref('national_efficiency_position') }} as position
inner join {{ ref('published_efficiency_path') }} as published
    on position.financial_year = published.financial_year
where abs(position.target_gains_gbp_millions / 1000 - published.total_gbp_bn) >= 0.1
   or trunc(position.target_gains_gbp_millions / 1000, 1) <> published.total_gbp_bn
