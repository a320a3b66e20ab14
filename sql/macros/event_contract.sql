{#- Generated from config/event_contract.schema.json by `make data-model`: do not edit.
    The contract's closed fields with their values, its open fields, and each timestamp's valid range. -#}
{% macro event_contract() %}
{{ return({
    "closed": {
        "ORDER_TYPE": [
            "PURCHASE",
            "USER_VISIT"
        ],
        "STATUS": [
            "COMPLETED",
            "UNCONVERTED",
            "FAILED_CHECKOUT",
            "FAILED_API_RESPONSE",
            "INSUFFICIENT_FUNDS",
            "USER_ERROR",
            "FRAUD",
            "PENDING",
            "CANCELLED"
        ]
    },
    "open": [
        "INITIAL_EVENT",
        "EVENT_2",
        "EVENT_3",
        "EVENT_OUT",
        "OS_USER",
        "CITY",
        "PAYMENT_METHOD",
        "DEVICE_MODEL"
    ],
    "ranges": {
        "CREATED_AT": {
            "valid_from": "2000-01-01 00:00:00",
            "valid_hours_ahead": 24,
            "valid_range": "from 2000-01-01T00:00:00Z to 24 hours ahead of the run (UTC)"
        }
    }
}) }}
{% endmacro %}
