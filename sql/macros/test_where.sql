{#- A test's `where` config may name the batch's bounds as __batch_landed_from__, __batch_loaded_until__ and
    __dedup_since__: replaced here, when the test runs, by that build's literals (a var in the YAML would be
    the value the project was parsed with, and the ELT task parses once per process). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set filled = namespace(where=where) -%}
    {%- for name in ['batch_landed_from', 'batch_loaded_until', 'dedup_since'] -%}
        {%- set filled.where = filled.where | replace('__' ~ name ~ '__', "'" ~ var(name) ~ "'::timestamp_ntz") -%}
    {%- endfor -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ filled.where ~ ') dbt_subquery') }}
{%- endmacro %}
