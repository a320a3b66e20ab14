"""Snowflake emulator for the local stack: fakesnow's server on 127.0.0.1, with its defects fixed.

Run: ``python -m local_stack.snowflake_emulator [--port 8765] [--data-dir DIR]``. Clients connect with
the real snowflake connector (``host=127.0.0.1, port=8765, protocol="http"``, any account/user/password).

What the launcher adds to a plain ``fakesnow -s`` (fakesnow 0.12.1):
- One shared database for every connection for the life of the server, file-backed under ``--data-dir``
  (``fakesnow.server.shared_fs``), so tables, rows and load history outlive connections, Airflow task
  processes and restarts. Internal-stage files live under the same folder
  (``fakesnow.transforms.stage.LOCAL_BUCKET_PATH``, a fresh temporary folder per start upstream).
- Defect: even with ``db_path``, fakesnow keeps its ``_fs_global`` catalog (stages, file formats, the
  Snowflake column types behind VARIANT/TIMESTAMP_NTZ columns, users) in memory (``instance.py``,
  ``ATTACH ':memory:' AS _fs_global``), so after a restart the tables are back but every stage is gone
  ("Stage ... does not exist"). The fix re-attaches that catalog from a file beside the databases.
- Defect: NULL TIMESTAMP values come back as 1970-01-01. ``fakesnow.arrow.timestamp_to_sf_struct`` builds
  the connector's timestamp struct without the column's null mask; the fix passes the mask.
- Defect: any error DuckDB raises that fakesnow does not translate becomes HTTP 500 (``server.py``,
  ``ServerError(status_code=500, ...)``). The connector treats 500 as transient and re-sends the
  statement 6-7 times, re-running it (a partly failed COPY left 7x the rows). The fix answers such errors
  as Snowflake answers a failed statement (HTTP 200, ``success: false``), so the client raises
  ``ProgrammingError`` once and nothing is re-run.
- Defect: COPY reads staged CSV files with DuckDB's ``read_csv`` (``copy_into.py``), whose hive
  partitioning auto-detection turns a path segment like ``year=2024/`` into an extra column, so a COPY
  from a Firehose-style prefix fails ("table has 1 columns but 2 values were supplied"). Snowflake adds
  no such column; the fix turns the detection off.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from local_stack.ports import HOST, PortInUseError, ensure_free, port

# Snowflake's generic "SQL compilation error" code; clients only need a non-retryable failure.
_STATEMENT_ERROR_CODE = "002003"


def patch_null_timestamps() -> None:
    import pyarrow as pa
    from fakesnow import arrow

    original = arrow.timestamp_to_sf_struct
    if getattr(original, "_local_stack_patched", False):
        return

    def timestamp_to_sf_struct(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
        if isinstance(ts, pa.ChunkedArray):
            ts = ts.combine_chunks()
        struct = original(ts)
        if ts.null_count == 0:
            return struct
        children = [struct.field(i) for i in range(struct.type.num_fields)]
        return pa.StructArray.from_arrays(children, fields=list(struct.type), mask=ts.is_null())

    timestamp_to_sf_struct._local_stack_patched = True  # type: ignore[attr-defined]
    arrow.timestamp_to_sf_struct = timestamp_to_sf_struct


def _error_message(body: bytes) -> str:
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        text = body.decode("utf-8", "replace").strip()
        return f"statement failed in the emulator: {text[:500] or 'no detail'}"


def patch_copy_hive_partitioning() -> None:
    from fakesnow import copy_into
    from sqlglot import exp

    handler = copy_into.ReadCSV
    if getattr(handler, "_local_stack_patched", False):
        return
    original = handler.read_expression

    def read_expression(self: Any, url: str) -> exp.Expr:
        call = original(self, url)
        call.append("expressions", self.make_eq("hive_partitioning", False))
        return call

    handler.read_expression = read_expression
    handler._local_stack_patched = True


def statement_errors_as_failures(app: Any) -> Any:
    """ASGI middleware: turn fakesnow's HTTP 500 for a failed statement into Snowflake's failed-statement reply."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/queries/v1/query-request":
            await app(scope, receive, send)
            return
        held: dict[str, Any] = {}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 500:
                held["start"] = message
                return
            if "start" in held and message["type"] == "http.response.body":
                payload = json.dumps(
                    {
                        "data": {"errorCode": _STATEMENT_ERROR_CODE, "sqlState": "42000"},
                        "code": _STATEMENT_ERROR_CODE,
                        "message": _error_message(message.get("body") or b""),
                        "success": False,
                    }
                ).encode()
                headers = [(k, v) for k, v in held["start"]["headers"] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(payload)).encode()))
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": payload})
                return
            await send(message)

        await app(scope, receive, capture)

    return wrapped


def persist_global_catalog(duck_conn: Any, path: Path) -> None:
    """Swap fakesnow's in-memory ``_fs_global`` catalog for one kept in ``path`` (created on first start)."""
    from fakesnow import info_schema
    from fakesnow.instance import GLOBAL_DATABASE_NAME
    from fakesnow.transforms import show

    duck_conn.execute(f"DETACH {GLOBAL_DATABASE_NAME}")
    quoted = str(path.resolve()).replace("'", "''")
    duck_conn.execute(f"ATTACH '{quoted}' AS {GLOBAL_DATABASE_NAME}")
    duck_conn.execute(info_schema.fs_global_creation_sql())  # every statement is "if not exists"
    duck_conn.execute(show.fs_global_creation_sql())


def build_app(data_dir: Path) -> Any:
    """Configure fakesnow for a shared, file-backed database under data_dir and return the ASGI app."""
    import fakesnow.server as server
    from fakesnow.instance import FakeSnow
    from fakesnow.transforms import stage

    databases = data_dir / "databases"
    bucket = data_dir / "stages"
    databases.mkdir(parents=True, exist_ok=True)
    bucket.mkdir(parents=True, exist_ok=True)
    stage.LOCAL_BUCKET_PATH = str(bucket.resolve())
    server.shared_fs = FakeSnow(db_path=str(databases.resolve()))
    persist_global_catalog(server.shared_fs.duck_conn, data_dir / "fs_global.duckdb")
    patch_null_timestamps()
    patch_copy_hive_partitioning()
    return statement_errors_as_failures(server.app)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=None, help="port (default: $SNOWFLAKE_EMULATOR_PORT or 8765)")
    parser.add_argument("--data-dir", type=Path, default=Path(".local/snowflake"), help="where data is kept")
    parser.add_argument(
        "--host",
        default=HOST,
        help="address to bind (default 127.0.0.1; 0.0.0.0 only inside a container, as docker-compose.yaml does)",
    )
    args = parser.parse_args(argv)
    number = args.port if args.port is not None else port("snowflake")
    try:
        ensure_free("snowflake", number, args.host)
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    uvicorn.run(build_app(args.data_dir), host=args.host, port=number, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
