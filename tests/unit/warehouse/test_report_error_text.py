"""A report's error text: cut, escaped, without the query id."""

from __future__ import annotations

import logging

from mobile_events_elt.warehouse import reports


def test_a_report_error_is_cut_escaped_and_without_the_query_id(caplog) -> None:
    """With its logger at INFO (as in a task log) the connector puts the query's id, new every run, in str(error):
    it is left out, so a repeat is a repeat."""
    from snowflake.connector.errors import ProgrammingError

    with caplog.at_level(logging.INFO, logger="snowflake.connector.errors"):
        error = ProgrammingError(
            msg="bad value 'x\n[ERROR] forged" + "y" * 5000,
            errno=100038,
            sqlstate="22018",
            sfqid="01b2-query-id",
            send_telemetry=False,
        )
    assert "01b2-query-id" in str(error)
    shown = reports.error_text(error)
    assert shown.startswith("ProgrammingError 100038: bad value 'x\\n[ERROR] forged")
    assert "01b2-query-id" not in shown and "\n" not in shown
    assert len(shown) < reports.ERROR_LIMIT + 40 and shown.endswith(" more characters]")
