{#- dbt replaces a table or view by renaming the old one <name>__dbt_backup, committing, then dropping the
    backup. A run killed between the commit and the drop leaves the backup behind, with the old relation's
    grants (analysts could read stale figures), and one killed earlier can leave <name>__dbt_tmp. Builds are
    serialised (warehouse.exclusive("build_and_publish")), so at the start of a run any such relation in the
    project's schemas is a leftover: dropped before anything else runs. (The graph is empty while dbt parses.) -#}
{% macro drop_crash_leftovers() %}
    {%- set schemas = [] -%}
    {%- for node in graph.get("nodes", {}).values() if node.resource_type in ("model", "seed", "snapshot") -%}
        {%- if node.schema not in schemas -%}{%- do schemas.append(node.schema) -%}{%- endif -%}
    {%- endfor -%}
    {%- if schemas -%}
do $crash_leftovers$
declare leftover record;
begin
    for leftover in
        select case relation.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end as kind,
               format('%I.%I', namespace.nspname, relation.relname) as name
        from pg_class as relation
        join pg_namespace as namespace on namespace.oid = relation.relnamespace
        where namespace.nspname in ({% for schema in schemas %}'{{ schema }}'{{ ", " if not loop.last }}{% endfor %})
          and relation.relkind in ('r', 'p', 'v', 'm')
          and relation.relname ~ '__dbt_(backup|tmp)$'
    loop
        raise notice 'dropping %, left by a dbt run that was killed', leftover.name;
        execute format('drop %s if exists %s cascade', leftover.kind, leftover.name);
    end loop;
end
$crash_leftovers$
    {%- else -%}
select 1
    {%- endif -%}
{% endmacro %}
