{#- Rules of the efficiency marts that are decisions rather than arithmetic, named once. -#}

{#- A council is a "low reporter" (paras 2.10, 2.20: a low reported figure is the trigger for the
    Government Office to investigate) when its gains as a share of its 2007-08 baseline are below this
    fraction of the sector's cumulative target rate for the year: a third, i.e. under 1.0%, 2.0%, 3.1%
    of baseline for 2008-09, 2009-10, 2010-11. See council_efficiency_position for the reasoning. -#}
{% macro low_reporter_fraction_of_target_rate() -%}
    (1.0 / 3)
{%- endmacro %}

{#- a / b, null when b is null or zero (no baseline, no national total). -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
