-- 2008-09 forecasts came from 388 councils: the 344 that outlived the April 2009 reorganisation and
-- the 44 it abolished. Returns a row when the count differs.
select count(*) as active_count
from {{ ref('councils') }}
where coalesce(valid_from_date, date '1900-01-01') <= date '2009-03-31'
  and coalesce(valid_to_date, date '9999-12-31') >= date '2008-04-01'
having count(*) <> 388
