"""A run's catch-up passes reported as one (warehouse/pipeline.py, Pass.summed)."""

from __future__ import annotations

from mobile_events_elt.warehouse import loader
from mobile_events_elt.warehouse.pipeline import Pass


def a_pass(report: loader.LoadReport, orders_rows: int, failing: int = 0) -> Pass:
    return Pass(report, {"orders": {"rows": orders_rows, "seconds": 0.5}}, {"unique_orders": failing},
                {"load": 1.0, "transform": 2.0})  # fmt: skip


def test_counts_rows_and_seconds_add_up_and_unresolved_files_are_the_last_passs() -> None:
    first = loader.LoadReport(files_loaded=2, rows_loaded=10, failures={"a.gz": "bad gzip"}, unresolved={"a.gz": "x"})
    second = loader.LoadReport(files_loaded=1, rows_loaded=5, rejected_keys={"b": "not canonical"})
    done = Pass.summed([a_pass(first, 10), a_pass(second, 5, failing=1)])
    assert (done.report.files_loaded, done.report.rows_loaded) == (3, 15)
    assert done.report.failures == {"a.gz": "bad gzip"} and done.report.rejected_keys == {"b": "not canonical"}
    assert done.report.unresolved == {}
    assert done.models == {"orders": {"rows": 15, "seconds": 1.0}}
    assert done.checks == {"unique_orders": 1}
    assert done.seconds == {"load": 2.0, "transform": 4.0}


def test_one_pass_is_itself() -> None:
    report = loader.LoadReport(files_loaded=1, rows_loaded=3, copy_statements=1, unresolved={"c.gz": "y"})
    done = Pass.summed([a_pass(report, 3)])
    assert done.report == report and done.models["orders"]["rows"] == 3
