with

source as (

    select * from {{ source('council_baselines', 'council_baselines') }}

),

renamed as (

    select
        manifest_id,
        source_row_number,
        council_code,
        baseline_year,
        revenue_gbp_thousands,
        capital_gbp_thousands,
        revenue_gbp_thousands + capital_gbp_thousands as total_gbp_thousands,
        source as figures_source

    from source

)

select * from renamed
