{#- For the Snowflake emulator only (README.md beside this file): it takes no ALTER SESSION, and its sessions
    autocommit anyway. -#}
{% macro snowflake__set_session_parameters() -%}
    {%- if is_emulator() -%}
        select 'emulator override: no session parameters' as skipped
    {%- else -%}
        {{ default__set_session_parameters() }}
    {%- endif -%}
{%- endmacro %}
