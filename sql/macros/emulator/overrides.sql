{#- For the Snowflake emulator only (README.md beside this file): each macro keeps dbt-snowflake's behaviour on
    any other target (the DML's transaction there fenced by the pipeline's lease: fenced_transaction.sql), and on
    the target named `emulator` emits what the emulator takes, marked `emulator override` so a compiled project
    shows where one applied. -#}

{#- Whether dbt's target is the emulator's (a macro, since dbt's merge macros name their relation `target`). -#}
{% macro is_emulator() -%}
    {{ return(target.name == 'emulator') }}
{%- endmacro %}

{#- dbt-snowflake's temporary relation of an incremental build, kept where the emulator has it: a view (for one
    INSERT or MERGE, read once) stays a view, created without TEMPORARY below; a table is a transient one. -#}
{% macro dbt_snowflake_get_tmp_relation_type(strategy, unique_key, language) -%}
    {%- set kind = dbt.dbt_snowflake_get_tmp_relation_type(strategy, unique_key, language) -%}
    {%- if is_emulator() and kind == 'table' -%}
        {{ return('transient') }}
    {%- endif -%}
    {{ return(kind) }}
{%- endmacro %}

{#- A temporary view as an ordinary one: the emulator takes no qualified name for a temporary view. The build
    drops it when its statement is done (and the pipeline's lease lets one build run at a time). -#}
{% macro snowflake__create_view_as_with_temp_flag(relation, sql, is_temporary=False) -%}
    {%- if is_emulator() and is_temporary -%}
        {%- set view = dbt.snowflake__create_view_as_with_temp_flag(relation, sql, False) -%}
        {{ return('/* emulator override: a view, not temporary */ ' ~ view) }}
    {%- endif -%}
    {{ return(dbt.snowflake__create_view_as_with_temp_flag(relation, sql, is_temporary)) }}
{%- endmacro %}

{#- DML without begin/commit around it: the emulator's MERGE fails inside an explicit transaction. On any other
    target the DML's transaction, fenced by the pipeline's lease when one is held (sql/macros/fenced_transaction.sql). -#}
{% macro snowflake_dml_explicit_transaction(dml) -%}
    {%- if is_emulator() -%}
        {{ return('/* emulator override: no explicit transaction */ ' ~ dml) }}
    {%- endif -%}
    {{ return(fenced_transaction(dml)) }}
{%- endmacro %}

{#- A MERGE whose inserted values name the source's columns qualified: the emulator calls them ambiguous. -#}
{% macro snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
    {%- if not is_emulator() or unique_key is none -%}
        {{ return(dbt.snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates)) }}
    {%- endif -%}
    {%- set merge = dbt.default__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
    {%- set columns = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    {%- set qualified = [] -%}
    {%- for column in dest_columns | map(attribute='name') -%}
        {%- do qualified.append('DBT_INTERNAL_SOURCE.' ~ adapter.quote(column)) -%}
    {%- endfor -%}
    {%- set head, _, tail = merge.rpartition('values') -%}
    {{ return(snowflake_dml_explicit_transaction(
        '/* emulator override: qualified merge */ ' ~ head ~ 'values (' ~ (qualified | join(', ')) ~ ')'
    )) }}
{%- endmacro %}
