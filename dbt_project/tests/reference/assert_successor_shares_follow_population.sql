-- A split county's figures go to its successors in proportion to their populations (the register's
-- 2020 estimates): Cheshire County Council and Bedfordshire County Council, and no other, are split,
-- each between exactly two successors. Returns the successions that break this.
with

successions as (

    select * from {{ ref('council_successions') }}

),

councils as (

    select * from {{ ref('councils') }}

),

split as (

    select
        successions.predecessor_code,
        predecessor.council_name as predecessor_name,
        successions.successor_code,
        successions.apportionment_share,
        successor.population_2020,
        sum(successor.population_2020) over (partition by successions.predecessor_code) as successors_population,
        count(*) over (partition by successions.predecessor_code) as successor_count

    from successions
    inner join councils as predecessor
        on successions.predecessor_code = predecessor.council_code
    inner join councils as successor
        on successions.successor_code = successor.council_code

)

select *
from split
where
    (successor_count > 1) <> (predecessor_name in ('Cheshire County Council', 'Bedfordshire County Council'))
    or successor_count > 2
    or (successor_count > 1 and abs(apportionment_share - population_2020 / successors_population) > 0.000001)
