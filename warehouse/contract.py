"""The event contract, config/event_contract.schema.json: one JSON Schema (draft 2020-12) for the event.

It is the one place the event's keys, types, required keys and value sets live. Every setup run copies it
into RAW.CONTRACT_FIELDS and RAW.KNOWN_VALUES, which the transforms join: an unknown value of a closed
field (``enum``, ``x-closed: true``) is quarantined; an open field (``x-known-values``, ``x-closed: false``)
loads any text as sent and its unknown values are counted as drift (ANALYTICS.VALUE_DRIFT). Every timestamp
field states its valid range (``x-valid-from``, ``x-valid-hours-ahead``), copied into RAW.CONTRACT_FIELDS too;
a time outside it is quarantined. The generator's tests and docs/data-model.md (``warehouse.data_model_doc``)
are checked against the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import config
from warehouse.identifiers import identifier
from warehouse.transactions import transaction

CONTRACT = "event_contract.schema"


@dataclass(frozen=True)
class Field:
    """One key of the event as the contract states it."""

    name: str
    required: bool
    closed: bool | None  # None: no value set
    known: tuple[str, ...]
    rule: str
    reason: str
    column: str
    description: str
    kind: str  # the JSON type(s) in words
    # A timestamp field's valid range in UTC: from valid_from to valid_hours_ahead hours after the run.
    valid_from: datetime | None = None
    valid_hours_ahead: int | None = None

    @property
    def valid_range(self) -> str | None:
        """The valid range in words (the quarantine reason names it), or None for a field that is no time."""
        if self.valid_from is None:
            return None
        return f"from {self.valid_from:%Y-%m-%dT%H:%M:%SZ} to {self.valid_hours_ahead} hours ahead of the run (UTC)"


def load() -> dict[str, Any]:
    """The contract, checked to be a valid draft 2020-12 schema that states a rule and a reason per field."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    schema = config.load(CONTRACT)
    where = config.config_dir() / f"{CONTRACT}.json"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise config.ConfigError(f"{where}: not a valid JSON Schema: {exc.message}") from None
    for name, spec in schema.get("properties", {}).items():
        missing = [key for key in ("x-on-invalid", "x-reason", "x-column", "description") if key not in spec]
        if missing:
            raise config.ConfigError(f"{where}: field {name!r} needs {', '.join(missing)}")
        if ("enum" in spec) != (spec.get("x-closed") is True) or (
            "x-known-values" in spec and spec.get("x-closed") is not False
        ):
            raise config.ConfigError(
                f"{where}: field {name!r}: a closed field has 'enum' and 'x-closed': true, an open one "
                "'x-known-values' and 'x-closed': false"
            )
        try:
            _valid_range(spec)
        except (KeyError, TypeError, ValueError) as exc:
            raise config.ConfigError(
                f"{where}: field {name!r}: a timestamp states its valid range, 'x-valid-from' (ISO-8601 in UTC, "
                "e.g. 2000-01-01T00:00:00Z) and 'x-valid-hours-ahead' (a whole number > 0), and no other field "
                f"does ({exc})"
            ) from None
    return schema


def _valid_range(spec: dict[str, Any]) -> tuple[datetime | None, int | None]:
    """A field's valid range: (from, hours ahead) for a timestamp, (None, None) for any other field."""
    if not spec.get("$ref", "").endswith("/timestamp"):
        if "x-valid-from" in spec or "x-valid-hours-ahead" in spec:
            raise ValueError("not a timestamp")
        return None, None
    valid_from = datetime.fromisoformat(spec["x-valid-from"])
    hours = spec["x-valid-hours-ahead"]
    if valid_from.utcoffset() is None or valid_from.utcoffset().total_seconds() != 0:
        raise ValueError(f"x-valid-from {spec['x-valid-from']!r} is not in UTC")
    if type(hours) is not int or hours <= 0:
        raise ValueError(f"x-valid-hours-ahead {hours!r} is not a whole number > 0")
    return valid_from.astimezone(UTC), hours


def fields(schema: dict[str, Any] | None = None) -> list[Field]:
    """Every field of the contract, in the contract's order."""
    schema = schema if schema is not None else load()
    required = set(schema.get("required", []))
    return [_field(name, spec, name in required) for name, spec in schema["properties"].items()]


def _field(name: str, spec: dict[str, Any], required: bool) -> Field:
    valid_from, valid_hours_ahead = _valid_range(spec)
    return Field(
        name=identifier(name, "field name"),
        required=required,
        closed=spec.get("x-closed"),
        known=tuple(spec.get("enum", spec.get("x-known-values", ()))),
        rule=spec["x-on-invalid"],
        reason=spec["x-reason"],
        column=spec["x-column"],
        description=spec["description"],
        kind=_kind(spec),
        valid_from=valid_from,
        valid_hours_ahead=valid_hours_ahead,
    )


def _kind(spec: dict[str, Any]) -> str:
    reference = spec.get("$ref", "").rsplit("/", 1)[-1]
    if reference == "timestamp":
        valid_from, hours = _valid_range(spec)
        return f"text timestamp, {valid_from:%Y-%m-%dT%H:%M:%SZ} to {hours} h ahead (UTC)"
    if reference == "count":
        return "whole number >= 0 of at most 18 digits (or its text)"
    types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    return " or ".join("text" if t == "string" else t for t in types if t != "null")


def known_values(field: str, schema: dict[str, Any] | None = None) -> frozenset[str]:
    """The known values of one field (closed or open)."""
    by_name = {f.name: f for f in fields(schema)}
    if not by_name[field].known:
        raise KeyError(f"the contract gives {field} no value set")
    return frozenset(by_name[field].known)


def contract_field_row(f: Field) -> tuple[Any, ...]:
    """A field's row of RAW.CONTRACT_FIELDS (the valid range's start as UTC text, NULL for a field that is no time)."""
    valid_from = f"{f.valid_from:%Y-%m-%d %H:%M:%S}" if f.valid_from else None
    return (f.name, f.required, f.closed, f.rule, f.reason, valid_from, f.valid_hours_ahead, f.valid_range)


def refresh(cursor: Any, contract_fields: list[Field]) -> None:
    """Replace RAW.CONTRACT_FIELDS and RAW.KNOWN_VALUES with the contract's, in one transaction."""
    field_rows = [contract_field_row(f) for f in contract_fields]
    value_rows = [(f.name, value) for f in contract_fields for value in f.known]
    with transaction(cursor):
        cursor.execute("delete from raw.contract_fields")
        cursor.executemany(
            "insert into raw.contract_fields (field, is_required, is_closed, rule, reason, valid_from, "
            "valid_hours_ahead, valid_range) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            field_rows,
        )
        cursor.execute("delete from raw.known_values")
        cursor.executemany("insert into raw.known_values (field, value) values (%s, %s)", value_rows)
