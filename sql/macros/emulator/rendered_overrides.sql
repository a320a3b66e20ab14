{#- What each overridden macro renders for the current target, logged one line each: tests/test_dbt_project.py
    runs it for a real Snowflake target (`dbt run-operation rendered_overrides`) and finds no override. -#}
{% macro rendered_overrides() %}
    {%- set relation = api.Relation.create(database=target.database, schema='analytics', identifier='users') -%}
    {%- set columns = [api.Column('user_id', 'varchar')] -%}
    {%- do log('tmp_relation_type: ' ~ dbt_snowflake_get_tmp_relation_type('append', none, 'sql'), info=true) -%}
    {%- set table_kind = dbt_snowflake_get_tmp_relation_type('merge_purchase_days', ['user_id'], 'sql') -%}
    {%- do log('tmp_table_type: ' ~ table_kind, info=true) -%}
    {%- set view = snowflake__create_view_as_with_temp_flag(relation.incorporate(path={'identifier': 'users__dbt_tmp'}), 'select 1', true) -%}
    {%- do log('tmp_view: ' ~ (view | replace('\n', ' ')), info=true) -%}
    {%- do log('dml: ' ~ snowflake_dml_explicit_transaction('delete from analytics.users'), info=true) -%}
    {%- do log('merge: ' ~ snowflake__get_merge_sql(relation, 'source', 'user_id', columns, none), info=true) -%}
    {%- do log('session: ' ~ set_session_parameters(), info=true) -%}
{% endmacro %}
