{#- The event contract's text fields, each read out of the record at load (migration V012). -#}
{% macro text_fields() -%}
    {{ return(['INITIAL_EVENT', 'EVENT_2', 'EVENT_3', 'EVENT_OUT', 'OS_USER', 'CITY', 'ORDER_TYPE', 'STATUS',
               'PAYMENT_METHOD', 'DEVICE_MODEL']) }}
{%- endmacro %}

{#- Whether a text field's value was sent as a JSON number, boolean, array or object instead of a string. A
    JSON string's TO_JSON text starts with a quote (a JSON null's with n); only a text that could be another
    JSON type's (it starts with one of - 0 1 2 3 4 5 6 7 8 9 t f [ {) is looked up in the record again. -#}
{% macro is_not_json_string(text_column, record_column, field) -%}
    (contains('-0123456789tf[{', left({{ text_column }}, 1))
    and left(to_json({{ record_column }}:{{ field }}), 1) not in ('"', 'n'))
{%- endmacro %}

{#- A JSON text of the form a number has: sign, digits, fraction, exponent of up to `exponent` digits. -#}
{% macro decimal_pattern(exponent_digits='{1,2}') -%}
    '^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]{{ exponent_digits }})?$'
{%- endmacro %}

{#- A purchase count's problem, or NULL: its text holds a whole number of at most 18 digits (the contract's
    limit). The common case, plain digits that convert back to the same text, needs no regular expression. -#}
{% macro count_problem(text, number, field) -%}
    case
        when {{ text }} is null then null
        when {{ number }} between 0 and 999999999999999999 and to_varchar({{ number }}) = {{ text }} then null
        when regexp_like({{ text }}, '^0*[0-9]{1,18}$') then null
        when regexp_like({{ text }}, '^-0*[1-9][0-9]*$') then 'negative purchase count'
        -- Past the limit: more than 18 digits, or an exponent of 18 or more (Snowflake writes a JSON number
        -- too large for a NUMBER that way).
        when regexp_like({{ text }}, '^[0-9]+$|^[0-9]+([.][0-9]+)?[eE][+]?0*(1[89]|[2-9][0-9]|[1-9][0-9]{2,})$')
            then '{{ field }} out of range: more than 18 digits'
        else 'malformed {{ field }}: expected a whole number'
    end
{%- endmacro %}

{#- Values as a SQL list of string literals: 'a', 'b'. -#}
{% macro quoted(values) -%}
    '{{ values | join("', '") }}'
{%- endmacro %}

{#- A value as a quarantine reason quotes it: its first 100 characters, and how many more it had. -#}
{% macro cut_text(column) -%}
    left({{ column }}, 100) || iff(length({{ column }}) > 100, '…[' || (length({{ column }}) - 100)::varchar || ' more characters]', '')
{%- endmacro %}
