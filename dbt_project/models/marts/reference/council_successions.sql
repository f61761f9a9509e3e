-- How a return filed by a council abolished in April 2009 rolls up to the council(s) that replaced it.
-- Two counties were split between two successors each: Cheshire County Council between Cheshire East
-- and Cheshire West and Chester, Bedfordshire County Council between Bedford and Central Bedfordshire.
-- One rule for both: a split council's figures are apportioned in proportion to its successors'
-- populations, because county services (schools, social care, roads) follow residents. The figures are
-- the ONS mid-2020 population estimates carried in the register (its pop-2020 column): the only
-- population figures the project ships. A year inside the programme (mid-2009) would be closer to the
-- split; to use it, add those estimates to a seed and point successor_population at them.
-- Every other predecessor passes whole to its one successor.
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
