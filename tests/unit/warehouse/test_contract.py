"""The event contract (config/event_contract.schema.json) is the one source of the event's format.

The SQL validation reads it from tables setup fills, the generator's tests take their value sets from it,
docs/data-model.md is generated from it (tests/unit/warehouse/test_data_model_doc.py), and no SQL file repeats a
value set.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from mobile_events_elt import config
from mobile_events_elt.data_generation.generator import EventGenerator
from mobile_events_elt.warehouse import contract, sql_files
from tests.support.bad_input import CASES
from tests.support.contract_fields import FIELDS, WITH_VALUES
from tests.support.dbt import staging_sql
from tests.support.seed import SEED_DIR, seed_lines

REPO = Path(__file__).resolve().parents[3]
CREATED_AT = next(f for f in FIELDS if f.name == "CREATED_AT")


def validator() -> Draft202012Validator:
    return Draft202012Validator(contract.load())


def test_the_contract_is_a_draft_2020_12_schema_with_a_rule_and_reason_per_field() -> None:
    schema = contract.load()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert all(f.rule and f.reason and f.column for f in FIELDS)
    assert {f.name for f in FIELDS if f.closed} == {"ORDER_TYPE", "STATUS"}
    assert {f.name for f in FIELDS if f.closed is False} == {
        "INITIAL_EVENT",
        "EVENT_2",
        "EVENT_3",
        "EVENT_OUT",
        "OS_USER",
        "CITY",
        "PAYMENT_METHOD",
        "DEVICE_MODEL",
    }
    assert schema["additionalProperties"] is True, "keys nobody asked for are kept, not refused"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda p: p["CITY"].pop("x-reason"), "needs x-reason"),
        (lambda p: p["CITY"].update({"x-closed": True}), "a closed field has 'enum'"),
        (lambda p: p["STATUS"].pop("x-closed"), "a closed field has 'enum'"),
        (lambda p: p["USER_ID"].update({"type": "text"}), "not a valid JSON Schema"),
        (lambda p: p["CREATED_AT"].pop("x-valid-from"), "a timestamp states its valid range"),
        (lambda p: p["CREATED_AT"].update({"x-valid-from": "2000-01-01T00:00:00+01:00"}), "is not in UTC"),
        (lambda p: p["CREATED_AT"].update({"x-valid-hours-ahead": "a day"}), "a timestamp states its valid range"),
        (lambda p: p["CITY"].update({"x-valid-hours-ahead": 24}), "a timestamp states its valid range"),
    ],
)
def test_a_contract_that_breaks_the_rules_is_refused(tmp_path, monkeypatch, change, complaint: str) -> None:
    schema = contract.load()
    change(schema["properties"])
    (tmp_path / f"{contract.CONTRACT}.json").write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(tmp_path))
    with pytest.raises(config.ConfigError, match=complaint):
        contract.load()


def test_seed_and_generated_events_are_valid_under_the_contract() -> None:
    check = validator()
    generated = [line for line, _, _ in itertools.islice(EventGenerator(seed=5, users=100, widen_values=True), 2000)]
    errors = {line: [e.message for e in check.iter_errors(json.loads(line))] for line in seed_lines() + generated}
    assert {line: found for line, found in errors.items() if found} == {}


def test_every_value_the_generator_can_send_is_known_to_the_contract() -> None:
    generator = config.load("generator")
    known = {f.name: set(f.known) for f in WITH_VALUES}
    assert set(generator["cities"]) <= known["CITY"]
    assert set(generator["os"]) <= known["OS_USER"]
    assert set(generator["payment_online"]) <= known["PAYMENT_METHOD"]
    assert set(generator["phone_models"]) <= known["DEVICE_MODEL"]
    assert set(generator["purchase_statuses"]) <= known["STATUS"]
    assert {generator["initial_event"]} <= known["INITIAL_EVENT"]
    assert set(generator["second_event"]) <= known["EVENT_2"]
    assert set(generator["third_event"]) <= known["EVENT_3"]
    assert set(generator["event_category"]) <= known["EVENT_OUT"]
    coordinates = contract.load()["properties"]["CITY"]["x-seed-coordinates"]
    assert {city: list(xy) for city, xy in generator["city_coords"].items()} == coordinates


def test_the_seeds_device_models_are_the_contracts() -> None:
    rows = (SEED_DIR / "raw_data" / "phone_models.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "Phone_Model"
    assert set(rows[1:]) == contract.known_values("DEVICE_MODEL")


def test_no_sql_file_repeats_a_value_set() -> None:
    """At most one value of any field's set may be quoted in a SQL file (a metric's definition, say)."""
    repeated = {}
    for path in sorted((REPO / "sql").rglob("*.sql")):
        text = path.read_text(encoding="utf-8")
        for f in WITH_VALUES:
            quoted = [value for value in f.known if f"'{value}'" in text]
            if len(quoted) > 1:
                repeated[f"{path.relative_to(REPO)} {f.name}"] = quoted
    assert repeated == {}


def test_the_sql_reads_every_field_that_has_a_value_set() -> None:
    """Every closed field is checked against its set (the compiled staging), every open one observed for drift
    (the drift model reads the open fields the generated contract macro lists: tests/test_dbt_project.py)."""
    text = staging_sql()
    unchecked = [f.name for f in WITH_VALUES if f.closed and f"then 'unknown {f.name}: '" not in text]
    drift = sql_files.path("models/marts/drift_observations.sql").read_text(encoding="utf-8")
    assert unchecked == [] and "{% for field in event_contract()['open'] %}" in drift


def test_the_type_check_covers_every_text_field() -> None:
    text = staging_sql()
    unchecked = [f.name for f in WITH_VALUES if f"left(to_json(source.record:{f.name}), 1)" not in text]
    assert unchecked == []


def in_the_valid_range(created_at: object) -> bool:
    """What a JSON Schema pattern cannot state: a real date and time (the calendar), in UTC inside the
    contract's range (the clock). A time Python cannot hold in UTC (year 0, past year 9999) is outside."""
    try:
        moment = datetime.fromisoformat(str(created_at))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    latest = datetime.now(UTC) + timedelta(hours=CREATED_AT.valid_hours_ahead)
    return CREATED_AT.valid_from <= moment <= latest


def test_the_corpus_outcomes_follow_the_contract() -> None:
    """Each record case of the bad-input corpus loads exactly when the schema accepts it and its time is a
    real one inside the contract's range."""
    check = validator()
    disagree = []
    for case in CASES:
        try:
            parsed = json.loads(case.line)
        except json.JSONDecodeError:
            continue
        if not isinstance(parsed, dict):
            continue
        accepted = check.is_valid(parsed) and in_the_valid_range(parsed["CREATED_AT"])
        if accepted != case.loads:
            disagree.append((case.name, [e.message[:200] for e in check.iter_errors(parsed)]))
    assert disagree == []


def test_the_contract_states_the_range_of_every_timestamp() -> None:
    timestamps = [f for f in FIELDS if f.kind.startswith("text timestamp")]
    assert [f.name for f in timestamps] == ["CREATED_AT"]
    assert all(f.valid_from == datetime(2000, 1, 1, tzinfo=UTC) and f.valid_hours_ahead == 24 for f in timestamps)
    assert CREATED_AT.valid_range == "from 2000-01-01T00:00:00Z to 24 hours ahead of the run (UTC)"
    assert all(f.valid_from is None and f.valid_range is None for f in FIELDS if f not in timestamps)


def test_the_sql_checks_the_contracts_patterns_and_limits() -> None:
    """The typed fields' text rules are the contract's, written once there and checked verbatim in the SQL."""
    text = staging_sql()
    schema = contract.load()
    count_text, count_number = (
        next(branch for branch in schema["$defs"]["count"]["anyOf"] if branch.get("type") == kind)
        for kind in ("string", "integer")
    )
    patterns = [schema["$defs"]["timestamp"]["pattern"], count_text["pattern"]]
    for name in ("LATITUDE", "LONGITUDE"):
        spec = schema["properties"][name]
        patterns.append(spec["pattern"])
        assert f"length(stg.{name.lower()}_text) <= {spec['maxLength']}" in text
    assert [p for p in patterns if f"'{p}'" not in text] == []
    digits = len(str(count_number["maximum"]))
    assert count_number["maximum"] == 10**digits - 1
    assert count_text["pattern"] == f"^0*[0-9]{{1,{digits}}}$"
    assert text.count(f"out of range: more than {digits} digits") == 2
