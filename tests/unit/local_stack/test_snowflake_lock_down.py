"""The Snowflake emulator's lock-down cannot be undone in SQL."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_the_lock_down_cannot_be_undone_in_sql(tmp_path: Path) -> None:
    """The same function the launcher runs, on a DuckDB of its own: external access stays off for good."""
    import duckdb

    from local_stack.snowflake_emulator import lock_down_duckdb

    conn = duckdb.connect()
    lock_down_duckdb(conn, tmp_path)
    for sql in ("set enable_external_access = true", "reset lock_configuration", "set allowed_directories = ['/']"):
        with pytest.raises(duckdb.Error, match="locked"):
            conn.execute(sql)
    (tmp_path / "stages" / "f.csv").write_text("a\n")
    (tmp_path / "login-secret").write_text("s3cret")
    assert conn.execute(f"select count(*) from read_csv('{tmp_path}/stages/f.csv', header = false)").fetchone() == (1,)
    with pytest.raises(duckdb.Error, match="Permission Error"):
        conn.execute(f"select * from read_text('{tmp_path}/stages/../../{tmp_path.name}/login-secret')")
