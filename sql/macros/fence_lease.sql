{#- Re-validate (and renew) the pipeline's lease before a mart writes (sql/exclusion/fence.sql): a run that
    another holder took over fails here and writes nothing more. No lease var: nothing to check. -#}
{% macro fence_lease() -%}
    {%- if execute and var('lease_token') is not none -%}
        {%- set fenced = run_query(
            "update raw.pipeline_lease set renewed_at = sysdate(), expires_at = dateadd('second', "
            ~ (var('lease_ttl_seconds') | int) ~ ", sysdate()) where lease_name = 'pipeline' and token = '"
            ~ (var('lease_token') | replace("'", "''")) ~ "'"
        ) -%}
        {%- if (fenced.rows[0][0] | int) != 1 -%}
            {{ exceptions.raise_compiler_error("lost the pipeline's lease: another run took it over") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
