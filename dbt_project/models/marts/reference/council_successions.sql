-- How a return filed by a council abolished in April 2009 rolls up to the council(s) that replaced it.
-- Cheshire County Council was split between Cheshire East and Cheshire West and Chester: its figures
-- are apportioned in proportion to the successors' populations (the register's 2020 estimates, the
-- only population figures the project ships). Every other predecessor passes whole to one successor.
with

predecessors as (

    select * from {{ ref('stg_reference__reorganisation_2009') }}

),

register as (

    select * from {{ ref('stg_reference__local_authority_register') }}

),

sized as (

    select
        predecessors.predecessor_code,
        predecessors.successor_code,
        register.population_2020 as successor_population,
        count(*) over (partition by predecessors.predecessor_code) as successor_count,
        sum(register.population_2020) over (partition by predecessors.predecessor_code) as successors_population

    from predecessors
    inner join register
        on predecessors.successor_code = register.council_code

),

final as (

    select
        predecessor_code,
        successor_code,
        cast(
            case when successor_count = 1 then 1 else round(successor_population / successors_population, 6) end
            as numeric(7, 6)
        ) as apportionment_share,
        case when successor_count = 1 then 'whole' else 'population_2020' end as apportionment_basis

    from sized

)

select * from final
