-- Each abolished council's figures roll up whole: its successors' shares sum to 1.
select predecessor_code, sum(apportionment_share) as total_share
from {{ ref('council_successions') }}
group by predecessor_code
having abs(sum(apportionment_share) - 1) > 0.000001
