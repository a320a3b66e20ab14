"""The event contract as a dbt macro: ``sql/macros/event_contract.sql``, generated from
``config/event_contract.schema.json`` so that the models and tests read the contract's closed sets and valid
ranges as literals (the file stays the one source; a test fails when the macro is not current).

Regenerate with ``make data-model``.
"""

from __future__ import annotations

import json

from mobile_events_elt.warehouse import contract, sql_files

MACRO = "macros/event_contract.sql"


def render() -> str:
    """The macro's text: each closed field's values, each open field's name, each timestamp's valid range."""
    fields = contract.fields()
    data = {
        "closed": {f.name: list(f.known) for f in fields if f.closed},
        "open": [f.name for f in fields if f.closed is False],
        "ranges": {
            f.name: {
                "valid_from": f"{f.valid_from:%Y-%m-%d %H:%M:%S}",
                "valid_hours_ahead": f.valid_hours_ahead,
                "valid_range": f.valid_range,
            }
            for f in fields
            if f.valid_from is not None
        },
    }
    # JSON without true, false or null is a Jinja literal as it stands.
    body = json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False)
    return (
        "{#- Generated from config/event_contract.schema.json by `make data-model`: do not edit.\n"
        "    The contract's closed fields with their values, its open fields, and each timestamp's valid range. -#}\n"
        "{% macro event_contract() %}\n"
        f"{{{{ return({body}) }}}}\n"
        "{% endmacro %}\n"
    )


def write() -> bool:
    """Write the macro if it is not current; True if it changed."""
    target = sql_files.path(MACRO)
    text = render()
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    target.write_text(text, encoding="utf-8")
    return True


if __name__ == "__main__":
    print(f"sql/{MACRO}: {'written' if write() else 'already current'}")
