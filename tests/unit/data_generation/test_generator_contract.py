"""The event format contract (tests/data/seed-dataset/README.md) as a checker, proven on the seed's own data.

Other generator and producer tests import ``problems`` to judge generated lines against the contract
rather than against the generator's own tables, so a drift in config/generator.json shows up too.
"""

from __future__ import annotations

import json

import pytest

from tests.support.contract import problems
from tests.support.seed import seed_lines


def test_the_seeds_own_events_meet_the_contract() -> None:
    lines = seed_lines()
    assert len(lines) == 100
    assert {
        i: problems(line, seed_record=True) for i, line in enumerate(lines) if problems(line, seed_record=True)
    } == {}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"USER_ID": "ABCDEF1234"}, "USER_ID"),
        ({"EVENT_3": "GO_TO_CATEGORY"}, "flow"),
        ({"LATITUDE": 19.0}, "coordinates"),
        ({"CREATED_AT": "2024-02-30 10:00:00"}, "CREATED_AT"),
        ({"PAYMENT_METHOD": None}, "outcome"),
        ({"HOURLY_PURCHASE_COUNT": -1}, "HOURLY_PURCHASE_COUNT"),
    ],
)
def test_the_checker_rejects_what_the_contract_forbids(change: dict, expected: str) -> None:
    record = json.loads(seed_lines()[0])
    record.update(change)
    assert any(expected in problem for problem in problems(json.dumps(record), seed_record=True))
