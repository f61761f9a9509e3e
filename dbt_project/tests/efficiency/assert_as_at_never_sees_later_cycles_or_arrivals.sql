-- What a cycle knew excludes later cycles' returns and anything that arrived after its as-at time.
select as_at_cycle_number, council_code, financial_year, return_type, received_at, as_at
from {{ ref('int_council_returns_as_at_cycle') }}
where return_cycle_number > as_at_cycle_number or received_at > as_at
