"""docs/data-model.md rendered from the event contract (config/event_contract.schema.json).

The page is generated so it cannot drift from the contract: ``make data-model`` rewrites it, and
tests/unit/warehouse/test_data_model_doc.py fails when the committed page differs.
"""

from __future__ import annotations

from typing import Any

from mobile_events_elt.warehouse import contract

HEADER = (
    "<!-- Generated from config/event_contract.schema.json by "
    "`make data-model`: edit the contract, then regenerate. -->"
)

RULES = """\
Every event follows one contract, `config/event_contract.schema.json` (JSON Schema, draft 2020-12): its keys,
types and required keys, and for each field whether its value set is closed or open, with the rule and the
reason. Setup copies it into `RAW.CONTRACT_FIELDS` and `RAW.KNOWN_VALUES`, which the transforms join; the
generator's tests take their value sets from it; this page is generated from it.

- **Quarantined** (`RAW.REJECTED_EVENTS`, with the reason in words) is only what cannot be represented
  faithfully or would corrupt a metric: not JSON, not an object, a required key missing, a value of the wrong
  JSON type, an impossible value (coordinates off the globe, a negative or fractional count, a time that does
  not parse or lies outside its valid range), a value its column cannot hold as sent (a count too long, a
  coordinate that is not a plain decimal number: NaN, Infinity, hex, `1e999`), and an unknown value of a
  closed field: `ORDER_TYPE` and `STATUS` decide what a purchase is.
- **Open fields** load any text exactly as sent. A value outside the known set is drift:
  `ANALYTICS.VALUE_DRIFT` has one row per field and value (first and last seen, count), and the report
  `sql/reports/value_drift.sql` logs the values first loaded in the last day after every run without
  failing it. To make a value known, add it to the contract and run setup."""


def render(schema: dict[str, Any] | None = None) -> str:
    """The whole page for ``schema`` (default: the contract as loaded and validated by ``warehouse.contract``)."""
    schema = schema if schema is not None else contract.load()
    defs = schema.get("$defs", {})
    fields = contract.fields(schema)
    lines = [HEADER, "", "# Data model: the event contract", "", f"**{schema['title']}.** {schema['description']}"]
    lines += ["", RULES, ""]
    lines.append(f"- **Required keys**: {', '.join(f'`{name}`' for name in schema.get('required', []))}.")
    lines.append(f"- **Times**: {schema['x-timestamps']}.")
    lines.append(f"- **Keys not listed here**: {schema['x-unlisted-keys']}.")
    lines += ["", "## Fields", "", "| key | type | required | description |", "|---|---|---|---|"]
    for f in fields:
        cells = [f"`{f.name}`", f.kind, "yes" if f.required else "no", f.description]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    for f in fields:
        spec = schema["properties"][f.name]
        lines += ["", f"### `{f.name}`", "", f"{f.description[0].upper()}{f.description[1:]}.", ""]
        lines.append(f"- type: {f.kind}; {'required' if f.required else 'optional'}")
        lines.append(f"- allowed: {allowed(spec, defs, f)}")
        lines.append(f"- lands in: {f.column}")
        lines.append(f"- on bad input: {f.rule}")
        lines.append(f"- why: {f.reason}")
    lines += ["", "The tables these fields land in, and their grain: [architecture.md](architecture.md#tables)."]
    return "\n".join(lines) + "\n"


def allowed(spec: dict[str, Any], defs: dict[str, Any], field: contract.Field) -> str:
    """A field's allowed values and ranges in words: value set, bounds, pattern, valid time range."""
    parts = _constraints(spec, defs)
    if field.closed is True:
        parts.insert(0, "closed set: " + ", ".join(f"`{v}`" for v in field.known))
    elif field.closed is False:
        parts.insert(0, "any text (open); known: " + ", ".join(f"`{v}`" for v in field.known))
    if field.valid_range:
        parts.append(field.valid_range)
    return "; ".join(parts) if parts else "any value of its type"


def _constraints(spec: dict[str, Any], defs: dict[str, Any], text: str = "text ") -> list[str]:
    """Bounds, patterns and alternatives stated in ``spec`` or the definition it refers to."""
    reference = spec.get("$ref", "")
    if reference:
        return _constraints(defs[reference.rsplit("/", 1)[-1]], defs, text)
    parts = []
    if "minimum" in spec or "maximum" in spec:
        parts.append(f"{spec.get('minimum', 'any')} to {spec.get('maximum', 'any')}")
    if "pattern" in spec:
        parts.append(f"{text}matching `{spec['pattern']}`")
    if "const" in spec:
        parts.append(f"`{spec['const']}` ({spec.get('description', 'a constant')})")
    if "anyOf" in spec:
        parts.append("one of: " + ", ".join(_alternative(option, defs) for option in spec["anyOf"]))
    return parts


def _alternative(option: dict[str, Any], defs: dict[str, Any]) -> str:
    """One ``anyOf`` alternative in words: its JSON type and its constraints."""
    kind = option.get("type", "")
    kind = "text" if kind == "string" else kind
    return " ".join(part for part in [kind, *_constraints(option, defs, text="")] if part)


if __name__ == "__main__":
    print(render(), end="")
