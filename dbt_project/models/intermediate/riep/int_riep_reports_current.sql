-- One row per RIEP and year: the current annual report, each section from the latest file that
-- delivered it (a resubmission supersedes; the history stays in staging).
with

summaries as (

    {{ latest_delivery(ref('stg_riep__report_summaries'), ['region_code', 'financial_year']) }}

),

spend as (

    {{ latest_delivery(ref('stg_riep__report_spend'), ['region_code', 'financial_year']) }}

),

funding as (

    {{ latest_delivery(ref('stg_riep__report_funding'), ['region_code', 'financial_year']) }}

),

standards as (

    {{ latest_delivery(ref('stg_riep__report_standards'), ['region_code', 'financial_year']) }}

),

priorities as (

    {{ latest_delivery(ref('stg_riep__report_priorities'), ['region_code', 'financial_year']) }}

),

spend_totals as (

    select region_code, financial_year, sum(spend_gbp_thousands) as spend_by_theme_gbp_thousands
    from spend
    group by region_code, financial_year

),

funding_totals as (

    select region_code, financial_year, sum(amount_gbp_thousands) as funding_by_stream_gbp_thousands
    from funding
    group by region_code, financial_year

),

standard_counts as (

    select
        region_code,
        financial_year,
        count(*) filter (where standard_status = 'met') as standards_met,
        count(*) filter (where standard_status = 'partly_met') as standards_partly_met,
        count(*) filter (where standard_status = 'not_met') as standards_not_met

    from standards
    group by region_code, financial_year

),

priority_counts as (

    select
        region_code,
        financial_year,
        count(*) filter (where rag_status = 'green') as priorities_green,
        count(*) filter (where rag_status = 'amber') as priorities_amber,
        count(*) filter (where rag_status = 'red') as priorities_red

    from priorities
    group by region_code, financial_year

),

reports as (

    select
        summaries.region_code,
        summaries.financial_year,
        summaries.manifest_id as summary_manifest_id,
        summaries.submitted_date,
        summaries.total_funding_received_gbp_thousands,
        summaries.total_spend_gbp_thousands,
        summaries.cash_releasing_savings_gbp_thousands,
        summaries.councils_supported,
        summaries.councils_in_difficulty_supported,
        spend_totals.spend_by_theme_gbp_thousands,
        funding_totals.funding_by_stream_gbp_thousands,
        coalesce(standard_counts.standards_met, 0) as standards_met,
        coalesce(standard_counts.standards_partly_met, 0) as standards_partly_met,
        coalesce(standard_counts.standards_not_met, 0) as standards_not_met,
        coalesce(priority_counts.priorities_green, 0) as priorities_green,
        coalesce(priority_counts.priorities_amber, 0) as priorities_amber,
        coalesce(priority_counts.priorities_red, 0) as priorities_red,
        spend_totals.region_code is not null
            and funding_totals.region_code is not null
            and standard_counts.region_code is not null
            and priority_counts.region_code is not null as has_every_section

    from summaries
    left join spend_totals using (region_code, financial_year)
    left join funding_totals using (region_code, financial_year)
    left join standard_counts using (region_code, financial_year)
    left join priority_counts using (region_code, financial_year)

)

select * from reports
