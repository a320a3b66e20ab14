{#- The event days of the batch's completed purchases, read when the model runs (the validated events are
    built by then) and returned as literals: from (the first day) and until (the day after the last). No
    purchase, or no validated events yet (a compile for the docs): an empty range. A test of the whole tables:
    every day. -#}
{% macro purchase_days(validated) -%}
    {%- set days = {'from': '9999-01-01 00:00:00', 'until': '9999-01-01 00:00:00'} -%}
    {%- if whole_tables() -%}
        {%- do days.update({'from': '1900-01-01 00:00:00', 'until': '9999-01-01 00:00:00'}) -%}
    {%- elif execute and load_relation(validated) is not none -%}
        {%- set found = run_query(
            "select to_varchar(date_trunc('day', min(stg.created_at)), 'YYYY-MM-DD HH24:MI:SS'), "
            ~ "to_varchar(dateadd('day', 1, date_trunc('day', max(stg.created_at))), 'YYYY-MM-DD HH24:MI:SS') "
            ~ "from " ~ validated ~ " as stg "
            ~ "where stg.reason is null and stg.order_type = 'PURCHASE' and stg.status = 'COMPLETED'"
        ) -%}
        {%- if found.rows and found.rows[0][0] is not none -%}
            {%- do days.update({'from': found.rows[0][0], 'until': found.rows[0][1]}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(days) }}
{%- endmacro %}

{#- An incremental strategy: dbt's merge, with the target's rows bounded to the batch's purchase days (literals:
    Snowflake prunes the target by them, docs/bounded-work.md). The model names its time column in
    `purchase_day_column`. -#}
{% macro get_incremental_merge_purchase_days_sql(arg_dict) -%}
    {%- set days = purchase_days(ref('int_events_validated')) -%}
    {%- set column = 'DBT_INTERNAL_DEST.' ~ config.require('purchase_day_column') -%}
    {%- set predicates = [
        column ~ " >= '" ~ days['from'] ~ "'::timestamp_ntz",
        column ~ " < '" ~ days['until'] ~ "'::timestamp_ntz",
    ] -%}
    {{ return(get_merge_sql(
        arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'], arg_dict['dest_columns'],
        predicates
    )) }}
{%- endmacro %}
