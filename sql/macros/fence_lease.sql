{#- Re-validate (and renew) the pipeline's lease before a mart writes: a run that another holder took over fails
    here and writes nothing more. On a real Snowflake target an incremental write is fenced inside its own
    transaction instead (sql/macros/fenced_transaction.sql), so this pre-hook checks only where that cannot:
    on the emulator (no MERGE inside an explicit transaction) and when the mart is created (CREATE TABLE AS is
    DDL, which commits on its own). No lease var: nothing to check. -#}
{% macro fence_lease() -%}
    {%- if execute and var('lease_token') is not none and (is_emulator() or not is_incremental()) -%}
        {#- On the emulator a read, which renews nothing (the claim's transaction has just renewed the lease): the
            marts run side by side (dbt's threads), and fakesnow's DuckDB fails an UPDATE of a row that another
            session updates at the same moment (a write-write conflict) where Snowflake waits for its lock. -#}
        {%- set fenced = run_query(lease_count_sql() if is_emulator() else lease_update_sql()) -%}
        {%- if (fenced.rows[0][0] | int) != 1 -%}
            {{ exceptions.raise_compiler_error("lost the pipeline's lease: another run took it over") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The lease's update (sql/exclusion/fence.sql) with this run's token and TTL as literals: one row while this run
    holds the lease, none once another run took it over; inside a transaction it also locks the row until the
    transaction ends, so a takeover waits for it. -#}
{% macro lease_update_sql() -%}
update raw.pipeline_lease
set
    renewed_at = sysdate(),
    expires_at = dateadd('second', {{ var('lease_ttl_seconds') | int }}, sysdate())
where lease_name = 'pipeline' and token = {{ lease_token_literal() }}
{%- endmacro %}

{#- One row: 1 while this run holds the lease, 0 once another run took it over. -#}
{% macro lease_count_sql() -%}
select count(*) as held
from raw.pipeline_lease as lease
where lease.lease_name = 'pipeline' and lease.token = {{ lease_token_literal() }}
{%- endmacro %}

{#- The lease var as a string literal, quotes doubled (warehouse/exclusion.py's tokens are hex). -#}
{% macro lease_token_literal() -%}
    '{{ var('lease_token') | string | replace("'", "''") }}'
{%- endmacro %}
