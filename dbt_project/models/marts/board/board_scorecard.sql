-- The ICE Programme Board's scorecard, one row per return cycle for England and for each region (RIEP):
-- the ability to meet the efficiency target (section 4 of the NIES) as a time series across cycles.
-- Efficiency only for now: simplification, RIEP minimum standards and value for money on improvement
-- spend are further CTEs joined onto efficiency in final, on cycle_number and area_code.
with

cycles as (

    select * from {{ ref('return_cycles') }}

),

national as (

    select * from {{ ref('national_efficiency_position') }}

),

regional as (

    select * from {{ ref('regional_efficiency_position') }}

),

england as (

    select
        cycles.cycle_number,
        'england' as area_level,
        'E92000001' as area_code,
        'England' as area_name,
        cast(null as text) as riep_name,
        national.councils_expected,
        national.councils_reported,
        national.reported_gains_gbp_millions,
        national.baseline_gbp_millions,
        national.reported_share_of_baseline,
        national.target_cumulative_rate,
        national.target_gains_gbp_millions,
        national.gap_to_target_gbp_millions,
        case when national.councils_reported > 0 then national.is_target_met end as is_on_target_path

    from cycles
    inner join national
        on cycles.financial_year = national.financial_year
        and cycles.return_type = national.return_type

),

regions as (

    select
        cycles.cycle_number,
        'region' as area_level,
        regional.region_code as area_code,
        regional.region_name as area_name,
        regional.riep_name,
        regional.councils_expected,
        regional.councils_reported,
        regional.reported_gains_gbp_millions,
        regional.baseline_gbp_millions,
        regional.reported_share_of_baseline,
        regional.target_cumulative_rate,
        regional.target_gains_gbp_millions,
        regional.gap_to_target_gbp_millions,
        regional.is_on_target_path

    from cycles
    inner join regional
        on cycles.financial_year = regional.financial_year
        and cycles.return_type = regional.return_type

),

regions_on_path as (

    select
        cycle_number,
        count(*) filter (where is_on_target_path) as regions_on_target_path,
        count(*) filter (where not is_on_target_path) as regions_behind_target_path

    from regions
    group by cycle_number

),

areas as (

    select * from england
    union all
    select * from regions

),

efficiency as (

    select
        areas.*,
        regions_on_path.regions_on_target_path,
        regions_on_path.regions_behind_target_path

    from areas
    left join regions_on_path
        on areas.cycle_number = regions_on_path.cycle_number
        and areas.area_level = 'england'

),

-- Simplification: each commitment's latest status on or before the cycle's window end; overdue when
-- it is neither delivered nor dropped and its due date has passed. National measure only.
status_updates as (

    select * from {{ ref('stg_simplification__status_updates') }}

),

commitments as (

    select * from {{ ref('simplification_commitments') }}

),

commitment_status_at_cycle as (

    select distinct on (cycles.cycle_number, commitments.commitment_id)
        cycles.cycle_number,
        commitments.commitment_id,
        commitments.due_date,
        status_updates.commitment_status

    from cycles
    cross join commitments
    left join status_updates
        on commitments.commitment_id = status_updates.commitment_id
        and status_updates.as_at_date <= cycles.window_end_date
    order by cycles.cycle_number, commitments.commitment_id, status_updates.as_at_date desc nulls last

),

simplification as (

    select
        commitment_status_at_cycle.cycle_number,
        'england' as area_level,
        count(*) filter (where commitment_status = 'delivered') as commitments_delivered,
        count(*) filter (where commitment_status = 'on_track') as commitments_on_track,
        count(*) filter (where commitment_status = 'at_risk') as commitments_at_risk,
        count(*) filter (
            where coalesce(commitment_status, 'not_started') not in ('delivered', 'dropped')
              and due_date < cycles.window_end_date
        ) as commitments_overdue

    from commitment_status_at_cycle
    inner join cycles
        on commitment_status_at_cycle.cycle_number = cycles.cycle_number
    group by commitment_status_at_cycle.cycle_number

),

-- Value for money on improvement spend and the RIEPs' minimum standards, for the cycle's year, from
-- the RIEPs' current annual reports: per region, and summed for England.
riep_reports as (

    select * from {{ ref('int_riep_reports_current') }}

),

riep_measures as (

    select
        coalesce(region_code, 'E92000001') as area_code,
        financial_year,
        sum(total_spend_gbp_thousands) as riep_spend_gbp_thousands,
        sum(cash_releasing_savings_gbp_thousands) as riep_savings_gbp_thousands,
        sum(standards_met) as standards_met,
        sum(standards_met + standards_partly_met + standards_not_met) as standards_answered

    from riep_reports
    group by grouping sets ((region_code, financial_year), (financial_year))

),

final as (

    select
        cycles.cycle_number,
        cycles.cycle_label,
        cycles.financial_year,
        cycles.programme_year,
        cycles.return_type,
        cycles.window_end_date,
        efficiency.area_level,
        efficiency.area_code,
        efficiency.area_name,
        efficiency.riep_name,
        efficiency.councils_expected::integer as councils_expected,
        efficiency.councils_reported::integer as councils_reported,
        efficiency.reported_gains_gbp_millions::numeric(12, 1) as reported_gains_gbp_millions,
        efficiency.baseline_gbp_millions::numeric(12, 1) as baseline_gbp_millions,
        efficiency.reported_share_of_baseline::numeric(8, 6) as reported_share_of_baseline,
        efficiency.target_cumulative_rate::numeric(8, 6) as target_cumulative_rate,
        efficiency.target_gains_gbp_millions::numeric(12, 1) as target_gains_gbp_millions,
        efficiency.gap_to_target_gbp_millions::numeric(12, 1) as gap_to_target_gbp_millions,
        case
            when efficiency.councils_reported > 0 then round(
                {{ safe_divide('efficiency.reported_gains_gbp_millions', 'efficiency.target_gains_gbp_millions') }}, 4
            )
        end::numeric(8, 4) as share_of_target_achieved,
        efficiency.is_on_target_path,
        efficiency.regions_on_target_path::integer as regions_on_target_path,
        efficiency.regions_behind_target_path::integer as regions_behind_target_path,
        simplification.commitments_delivered::integer as commitments_delivered,
        simplification.commitments_on_track::integer as commitments_on_track,
        simplification.commitments_at_risk::integer as commitments_at_risk,
        simplification.commitments_overdue::integer as commitments_overdue,
        riep_measures.riep_spend_gbp_thousands::numeric(14, 1) as riep_spend_gbp_thousands,
        riep_measures.riep_savings_gbp_thousands::numeric(14, 1) as riep_savings_gbp_thousands,
        round(
            {{ safe_divide('riep_measures.riep_spend_gbp_thousands', 'riep_measures.riep_savings_gbp_thousands') }}, 4
        )::numeric(10, 4) as riep_cost_per_pound_of_savings,
        riep_measures.standards_met::integer as riep_standards_met,
        riep_measures.standards_answered::integer as riep_standards_answered

    from efficiency
    inner join cycles
        on efficiency.cycle_number = cycles.cycle_number
    left join simplification
        on efficiency.cycle_number = simplification.cycle_number
        and efficiency.area_level = simplification.area_level
    left join riep_measures
        on efficiency.area_code = riep_measures.area_code
        and cycles.financial_year = riep_measures.financial_year

)

select * from final
