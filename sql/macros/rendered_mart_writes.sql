{#- Each mart's incremental write as its strategy renders it for the current target and vars, logged one line
    each as `<mart>: <the SQL as a JSON string>`: tests/unit/warehouse/test_dbt_project.py runs it for a real
    Snowflake target (`dbt run-operation rendered_mart_writes`) without connecting. The custom strategy
    `merge_purchase_days` (sql/macros/purchase_days.sql) reads the batch's days from the database and the
    model's config, so it is rendered as it ends: dbt's merge with the day predicates on the model's column. -#}
{% macro rendered_mart_writes() %}
    {%- for node in graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | sort(attribute='name') -%}
        {%- if 'marts' in node.fqn -%}
            {%- set target_relation = api.Relation.create(
                database=target.database, schema=node.schema, identifier=node.alias, type='table'
            ) -%}
            {%- set columns = [] -%}
            {%- for column in node.columns.values() -%}
                {%- do columns.append(api.Column(column.name, column.data_type or 'varchar')) -%}
            {%- endfor -%}
            {%- set strategy = node.config.incremental_strategy -%}
            {%- set arg_dict = {
                'target_relation': target_relation,
                'temp_relation': make_temp_relation(target_relation),
                'unique_key': node.config.unique_key,
                'dest_columns': columns,
                'incremental_predicates': none,
            } -%}
            {%- if strategy == 'merge_purchase_days' -%}
                {%- set column = 'DBT_INTERNAL_DEST.' ~ node.config.get('purchase_day_column') -%}
                {%- set sql = get_merge_sql(
                    target_relation, arg_dict['temp_relation'], arg_dict['unique_key'], columns,
                    [column ~ " >= '9999-01-01 00:00:00'::timestamp_ntz", column ~ " < '9999-01-01 00:00:00'::timestamp_ntz"]
                ) -%}
            {%- else -%}
                {%- set sql = adapter.get_incremental_strategy_macro(context, strategy)(arg_dict) -%}
            {%- endif -%}
            {%- do log(node.name ~ ': ' ~ tojson(sql | string), info=true) -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
