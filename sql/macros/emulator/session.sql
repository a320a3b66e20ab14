{#- For the Snowflake emulator only (README.md beside this file): it takes no ALTER SESSION, and its sessions
    autocommit anyway. Renders nothing there, and dbt sends no statement for a hook that renders empty. -#}
{% macro snowflake__set_session_parameters() -%}
    {%- if not is_emulator() -%}
        {{ default__set_session_parameters() }}
    {%- endif -%}
{%- endmacro %}
