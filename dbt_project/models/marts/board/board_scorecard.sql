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
        efficiency.regions_behind_target_path::integer as regions_behind_target_path

    from efficiency
    inner join cycles
        on efficiency.cycle_number = cycles.cycle_number

)

select * from final
