{#- Whether this invocation tests the whole tables (`mobile-events-warehouse check`, batch_id '*': every
    transformed file, every purchase day) rather than one claimed batch. -#}
{% macro whole_tables() -%}
    {{ return(var('batch_id') == '*') }}
{%- endmacro %}
