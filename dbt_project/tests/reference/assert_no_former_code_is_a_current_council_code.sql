-- A former code that is also some council's own code would send that council's returns elsewhere.
select former_council_codes.former_code
from {{ ref('former_council_codes') }} as former_council_codes
inner join {{ ref('councils') }} as councils
    on former_council_codes.former_code = councils.council_code
