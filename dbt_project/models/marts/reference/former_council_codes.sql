-- GSS codes councils held during the programme and have since lost: ONS recoded councils whose
-- boundaries changed after 2011 (Gateshead and Northumberland, four Hertfordshire districts). A return
-- filed in 2008-11 carries the code of its day; ingest maps it to the council's current code through
-- this table and keeps the code as filed beside it.
with

register as (

    select * from {{ ref('stg_reference__local_authority_register') }}

),

councils as (

    select * from {{ ref('councils') }}

),

listed as (

    select
        trim(listed_code) as former_code,
        register.council_code

    from register
    cross join lateral regexp_split_to_table(register.former_gss_codes, '[;,]') as listed_code
    where register.former_gss_codes is not null

),

final as (

    select
        listed.former_code,
        listed.council_code

    from listed
    inner join councils
        on listed.council_code = councils.council_code
    where listed.former_code <> ''

)

select * from final
