-- A cycle's own row of the as-at series is the national figure its release shows
-- (national_efficiency_position, whose reported figures count only that cycle's returns).
select as_at.cycle_number, as_at.reported_gains_gbp_millions, national.reported_gains_gbp_millions
from {{ ref('national_efficiency_as_at_cycle') }} as as_at
inner join {{ ref('national_efficiency_position') }} as national
    on as_at.financial_year = national.financial_year and as_at.return_type = national.return_type
where
    as_at.as_at_cycle_number = as_at.cycle_number
    and (
        as_at.councils_reported <> national.councils_reported
        or as_at.reported_gains_gbp_millions <> national.reported_gains_gbp_millions
        or as_at.gap_to_target_gbp_millions <> national.gap_to_target_gbp_millions
        or as_at.is_target_met <> national.is_target_met
    )
