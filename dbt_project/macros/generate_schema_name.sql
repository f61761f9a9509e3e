{#- Use the folder's schema as written (staging, marts, ...), not dbt's default "<target>_<schema>",
    so analysts query marts.<table> whatever target built it. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
