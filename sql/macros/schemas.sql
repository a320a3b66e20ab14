{#- A model's schema is the one it names (raw or analytics), as the migrations created it: no target prefix. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
