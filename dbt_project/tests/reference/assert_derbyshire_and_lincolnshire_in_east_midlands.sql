-- The register puts Derbyshire County Council (E10000007) in the West Midlands and Lincolnshire County
-- Council (E10000019) in Yorkshire and The Humber; both are East Midlands (E12000004), where ONS puts
-- every one of their districts. Returns a row for either that is missing or elsewhere.
with

expected (council_code, council_name) as (

    values ('E10000007', 'Derbyshire County Council'), ('E10000019', 'Lincolnshire County Council')

)

select
    expected.council_code,
    expected.council_name,
    councils.region_code
from expected
left join {{ ref('councils') }} as councils
    on expected.council_code = councils.council_code
where
    councils.region_code is distinct from 'E12000004'
    or councils.council_name is distinct from expected.council_name
