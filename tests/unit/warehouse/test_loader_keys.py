"""Hostile object keys: whoever can write to the landing bucket controls keys. Each key is either loaded
exactly once, as the one file it names, or recorded as REJECTED_KEY with the reason; loading carries on and
no other file's rows change.

COPY's stage path is a prefix ("loads all files prefixed with ...", https://docs.snowflake.com/en/sql-reference/
sql/copy-into-table, FROM / FILES), so the loader names every file in FILES, stages each batch under names of
its own and removes the staged copies after the load.
"""

from __future__ import annotations

import pytest

from tests.support.object_keys import HOSTILE, HOUR, PREFIXES
from tests.support.warehouse import PREFIX
from warehouse.identifiers import key_problem


@pytest.mark.parametrize("key", HOSTILE)
def test_key_problem_names_every_hostile_key(key: str) -> None:
    assert key_problem(key, PREFIX)


def test_canonical_firehose_keys_pass() -> None:
    key = f"{HOUR}mobile-events-to-s3-1-2024-01-29-19-01-02-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab.gz"
    assert key_problem(key, PREFIX) is None
    assert all(key_problem(k, PREFIX) is None for k in PREFIXES)
