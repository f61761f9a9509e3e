-- Current allocations of improvement funding against the national strategy's envelopes for 2008-11.
-- RIEP allocations draw on the RSG top-slice and CLG envelopes; all of them together count against
-- the indicative £185m to RIEPs and the £384m strategy total. Additional efficiency support (£150m)
-- is not allocated through RIEPs, so nothing is set against it here.
with

envelopes as (

    select * from {{ ref('funding_envelopes') }}

),

allocations as (

    select * from {{ ref('int_riep_allocations_current') }}

),

allocated as (

    select
        envelopes.envelope_code,
        sum(allocations.amount_gbp_thousands) filter (where allocations.financial_year = '2008-09') as y2008_09,
        sum(allocations.amount_gbp_thousands) filter (where allocations.financial_year = '2009-10') as y2009_10,
        sum(allocations.amount_gbp_thousands) filter (where allocations.financial_year = '2010-11') as y2010_11,
        sum(allocations.amount_gbp_thousands) as total,
        sum(allocations.amount_gbp_thousands) filter (where allocations.allocation_status = 'indicative')
            as still_indicative

    from envelopes
    inner join allocations
        on envelopes.envelope_code in ('strategy_total', 'rieps_capacity_and_efficiency')
        or envelopes.envelope_code = allocations.funding_stream
    group by envelopes.envelope_code

),

final as (

    select
        envelopes.envelope_code,
        envelopes.envelope_name,
        envelopes.is_indicative as is_envelope_indicative,
        envelopes.amount_gbp_thousands as envelope_gbp_thousands,
        coalesce(allocated.y2008_09, 0)::numeric(14, 1) as allocated_2008_09_gbp_thousands,
        coalesce(allocated.y2009_10, 0)::numeric(14, 1) as allocated_2009_10_gbp_thousands,
        coalesce(allocated.y2010_11, 0)::numeric(14, 1) as allocated_2010_11_gbp_thousands,
        coalesce(allocated.total, 0)::numeric(14, 1) as allocated_gbp_thousands,
        coalesce(allocated.still_indicative, 0)::numeric(14, 1) as of_which_indicative_gbp_thousands,
        round(coalesce(allocated.total, 0) / envelopes.amount_gbp_thousands, 4)::numeric(8, 4) as share_of_envelope,
        (envelopes.amount_gbp_thousands - coalesce(allocated.total, 0))::numeric(14, 1) as unallocated_gbp_thousands

    from envelopes
    left join allocated
        on envelopes.envelope_code = allocated.envelope_code

)

select * from final
