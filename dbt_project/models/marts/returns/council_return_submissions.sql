-- Every accepted council return as filed, newest first within each council, year and type: the
-- resubmission history. is_current marks the one the marts count.
with

returns as (

    select * from {{ ref('stg_council_returns__returns') }}

),

manifest as (

    select * from {{ ref('stg_ingest__load_manifest') }}

),

councils as (

    select * from {{ ref('councils') }}

),

sequenced as (

    select
        returns.council_code,
        returns.council_code_as_filed,
        councils.council_name,
        returns.financial_year,
        returns.return_type,
        returns.ni179_value_gbp_thousands,
        returns.submitted_date,
        returns.validation_warnings,
        manifest.file_name,
        manifest.file_sha256,
        manifest.received_at,
        returns.manifest_id,
        returns.source_row_number,
        row_number() over latest_first as submission_recency,
        lag(manifest.received_at) over latest_first as superseded_at

    from returns
    inner join manifest
        on returns.manifest_id = manifest.manifest_id
    inner join councils
        on returns.council_code = councils.council_code
    window latest_first as (
        partition by returns.council_code, returns.financial_year, returns.return_type
        order by manifest.received_at desc, returns.manifest_id desc, returns.source_row_number desc
    )

),

final as (

    select
        council_code,
        council_code_as_filed,
        council_name,
        financial_year,
        return_type,
        ni179_value_gbp_thousands,
        submitted_date,
        validation_warnings,
        file_name,
        file_sha256,
        received_at,
        manifest_id,
        source_row_number,
        submission_recency = 1 as is_current,
        superseded_at

    from sequenced

)

select * from final
