"""The demo's conservation line: sent = in tables + quarantined, and it names what is off."""

from __future__ import annotations

from local_stack.demo import reconcile


def counts(orders: int, rejected: int) -> dict[str, int]:
    return {"analytics.orders": orders, "raw.rejected_events": rejected}


def test_balanced_run_reports_ok() -> None:
    lost, duplicated, line = reconcile({"unique_events": 990, "malformed": 10}, counts(990, 10), 990)
    assert (lost, duplicated) == (0, 0)
    assert line.startswith("conservation: sent=1000 in_tables=990 quarantined=10 lost=0 duplicated=0")


def test_missing_rows_are_lost() -> None:
    lost, duplicated, line = reconcile({"unique_events": 1000, "malformed": 0}, counts(997, 0), 997)
    assert (lost, duplicated) == (3, 0)
    assert line.endswith("MISMATCH")


def test_duplicate_order_rows_are_counted() -> None:
    lost, duplicated, _ = reconcile({"unique_events": 1000, "malformed": 0}, counts(1002, 0), 1000)
    assert (lost, duplicated) == (0, 2)
