{#- A closed field's values are in the event contract's set (the generated macro event_contract, from
    config/event_contract.schema.json): dbt's accepted_values, with the values from the contract. -#}
{% test contract_values(model, column_name, field) %}
    {%- set values = event_contract()['closed'][field] %}
    select {{ column_name }} as value
    from {{ model }}
    where {{ column_name }} is not null and {{ column_name }} not in ({{ quoted(values) }})
{% endtest %}
