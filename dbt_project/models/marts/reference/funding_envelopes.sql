with

envelopes as (

    select * from {{ ref('strategy_funding_envelopes') }}

),

final as (

    select
        envelope_code,
        envelope_name,
        cast(amount_gbp_thousands as numeric(14, 1)) as amount_gbp_thousands,
        period,
        is_indicative,
        source

    from envelopes

)

select * from final
