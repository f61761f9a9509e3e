{#- The rows of the latest file that delivered each partition (e.g. each RIEP and year): a resubmitted
    section replaces the earlier one whole, while the earlier rows stay in staging as history. -#}
{% macro latest_delivery(relation, partition_by) %}
    {%- set keys = partition_by | join(', ') -%}
    select delivered.*
    from {{ relation }} as delivered
    inner join (
        select distinct on ({{ keys }}) {{ keys }}, candidates.manifest_id
        from {{ relation }} as candidates
        inner join {{ ref('stg_ingest__load_manifest') }} as manifest
            on candidates.manifest_id = manifest.manifest_id
        order by {{ keys }}, manifest.received_at desc, candidates.manifest_id desc
    ) as latest using ({{ keys }}, manifest_id)
{% endmacro %}
