{#- What the pipeline's correctness rests on, for dbt's own sessions too (warehouse/snowflake_hook.py sets the
    same for the pipeline's): a statement whose client died is aborted, not run on; AUTOCOMMIT is on (dbt-snowflake
    connects with it); QUERY_TAG names the run and try, so a retry can stop this try's statements. Every model's
    first pre-hook, on the model's own session. https://docs.snowflake.com/en/sql-reference/parameters -#}
{% macro set_session_parameters() -%}
    {{ return(adapter.dispatch('set_session_parameters', 'mobile_events')()) }}
{%- endmacro %}

{% macro default__set_session_parameters() -%}
    alter session set abort_detached_query = true, autocommit = true
    {%- if var('query_tag') %}, query_tag = '{{ var("query_tag") | replace("'", "''") }}'{% endif %}
{%- endmacro %}
