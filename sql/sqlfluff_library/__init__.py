"""The project's dbt macros as sqlfluff's jinja templater sees them: stand-ins that render SQL of the same shape
(the linter checks the models' SQL around them; dbt renders the real macros, sql/macros/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_CONTRACT = Path(__file__).resolve().parents[1] / "macros" / "event_contract.sql"


def event_contract() -> dict[str, Any]:
    """The generated contract macro's literal (sql/macros/event_contract.sql)."""
    text = _CONTRACT.read_text(encoding="utf-8")
    return json.loads(text[text.index("return(") + len("return(") : text.rindex(") }}")])


def text_fields() -> list[str]:
    return ["INITIAL_EVENT", "EVENT_2", "EVENT_3", "EVENT_OUT", "OS_USER", "CITY", "ORDER_TYPE", "STATUS",
            "PAYMENT_METHOD", "DEVICE_MODEL"]  # fmt: skip


def is_not_json_string(text: str, record: str, field: str) -> str:
    return f"(left(to_json({record}:{field}), 1) != left({text}, 1))"


def decimal_pattern(exponent_digits: str = "{1,2}") -> str:
    return "'^-?[0-9]+$'"


def count_problem(text: str, number: str, field: str) -> str:
    return f"iff({number} is null, '{field}', null)"


def quoted(values: list[str]) -> str:
    return "'value'"


def cut_text(column: str) -> str:
    return f"left({column}, 100)"


def purchase_days(relation: Any) -> dict[str, str]:
    return {"from": "2024-01-01 00:00:00", "until": "2024-01-02 00:00:00"}


def whole_tables() -> bool:
    return False


def not_written_since_horizon(key_column: str, key: str) -> str:
    return f"not exists (select 1 from known_rows as known where known.{key_column} = {key})"  # noqa: S608
