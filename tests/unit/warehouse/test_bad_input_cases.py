"""The bad-input corpus covers enough cases."""

from __future__ import annotations

from tests.support.bad_input import CASES


def test_corpus_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30
