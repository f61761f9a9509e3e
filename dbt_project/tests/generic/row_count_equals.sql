{#- The model has exactly `expected` rows (e.g. six return cycles). -#}
{% test row_count_equals(model, expected) %}
select count(*) as actual_rows, {{ expected }} as expected_rows
from {{ model }}
having count(*) <> {{ expected }}
{% endtest %}
