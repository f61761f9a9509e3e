with

source as (

    select * from {{ source('ingest', 'load_manifest') }}

),

renamed as (

    select
        manifest_id,
        dataset,
        file_sha256,
        file_name,
        file_size_bytes,
        received_at,
        file_modified_at,
        processed_at,
        status,
        rows_read,
        rows_loaded,
        rows_quarantined,
        error_message,
        duplicate_of as duplicate_of_manifest_id,
        set_aside_path

    from source

)

select * from renamed
