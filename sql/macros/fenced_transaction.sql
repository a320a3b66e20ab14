{#- Each mart's write on a real Snowflake target, while the run holds the pipeline's lease: in one transaction,
    first the lease's update (locking its row, so a takeover waits for this transaction), then a statement that
    fails unless this run still holds the lease, then the DML; a run that was taken over writes nothing. No
    lease var: dbt-snowflake's begin/commit. The emulator's DML takes no explicit transaction
    (sql/macros/emulator/overrides.sql); there the marts' pre-hook fences (sql/macros/fence_lease.sql).

    The failing statement: TO_NUMBER raises on a string that is no number (TRY_TO_NUMBER would give NULL),
    with the value in the message ("Numeric value 'lost the pipeline's lease' is not recognized"), which
    warehouse/transform.py turns into exclusion.Fenced. The value depends on the table's row, so it is not
    folded at compile time. A failed statement leaves the transaction open, with only the update that matched
    no row (statement rollback; dbt-snowflake does not roll back): it keeps that update's lock until the
    session's next DDL (the next model's temporary relation) commits it, or closing the session (dbt does at
    the end of the build) rolls it back.
    https://docs.snowflake.com/en/sql-reference/functions/to_decimal
    https://docs.snowflake.com/en/sql-reference/functions/try_to_decimal
    https://docs.snowflake.com/en/sql-reference/transactions -#}
{% macro fenced_transaction(dml) -%}
    {%- if var('lease_token') is none -%}
        {{ return(dbt.snowflake_dml_explicit_transaction(dml)) }}
    {%- endif -%}
    {%- set transaction -%}
begin;
{{ lease_update_sql() }};
{{ lease_held_sql() }};
{{ dml }};
commit;
    {%- endset -%}
    {{ return(transaction) }}
{%- endmacro %}

{#- One row, 1, while this run holds the lease; else an error naming "lost the pipeline's lease". -#}
{% macro lease_held_sql() -%}
select to_number(iff(count(*) = 1, '1', 'lost the pipeline''s lease')) as lease_held
from raw.pipeline_lease as lease
where lease.lease_name = 'pipeline' and lease.token = {{ lease_token_literal() }}
{%- endmacro %}
