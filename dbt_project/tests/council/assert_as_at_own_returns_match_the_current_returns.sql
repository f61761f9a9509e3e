-- A cycle's as-at time reaches every return of its own (late ones move it), so the figure each council's
-- row counts for the cycle's own type is the one the current marts count: the as-at marts differ only
-- in what they take from other cycles and the baseline.
select as_at.cycle_number, as_at.council_code, as_at.ni179_value_gbp_thousands, current_returns.ni179_value_gbp_thousands
from {{ ref('council_efficiency_as_at_cycle') }} as as_at
left join {{ ref('int_council_returns_deduplicated') }} as current_returns
    on
        as_at.council_code = current_returns.council_code
        and as_at.financial_year = current_returns.financial_year
        and as_at.return_type = current_returns.return_type
where as_at.ni179_value_gbp_thousands is distinct from current_returns.ni179_value_gbp_thousands::numeric(14, 1)
