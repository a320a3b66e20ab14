"""Snowflake emulator for the local stack: fakesnow's server on 127.0.0.1 (fakesnow 0.12.1), one shared,
file-backed database for every connection, with fakesnow's defects fixed where each fix is defined.

Run: ``python -m mobile_events_elt.local_stack.snowflake_emulator [--port 8765] [--data-dir DIR]``. Clients connect with
the real snowflake connector (``host=127.0.0.1, port=8765, protocol="http"``, any account and user) and the
stack's login secret as password (``local_stack.environment.snowflake_login_secret``: DIR/login-secret, mode
0600, made at first start, or $SNOWFLAKE_EMULATOR_SECRET). Locked down for a machine other users share:
``require_login_secret``, ``sign_stage_uploads``, ``lock_down_duckdb``, and a 077 umask for everything under DIR.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import hmac
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from mobile_events_elt.local_stack.environment import snowflake_login_secret
from mobile_events_elt.local_stack.ports import HOST, PortInUseError, ensure_free, port
from mobile_events_elt.local_stack.private_state import private_umask

GLOBAL_CATALOG_FILE = "fs_global.duckdb"
# Snowflake's generic "SQL compilation error" code; clients only need a non-retryable failure.
_STATEMENT_ERROR_CODE = "002003"


def patch_null_timestamps() -> None:
    """Defect: NULL TIMESTAMP values come back as 1970-01-01. ``fakesnow.arrow.timestamp_to_sf_struct`` builds
    the connector's timestamp struct without the column's null mask; the fix passes the mask."""
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
    """Defect: COPY reads staged CSV files with DuckDB's ``read_csv`` (``copy_into.py``), whose hive
    partitioning auto-detection turns a path segment like ``year=2024/`` into an extra column, so a COPY from
    a Firehose-style prefix fails ("table has 1 columns but 2 values were supplied"). Snowflake adds no such
    column; the fix turns the detection off."""
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
    """ASGI middleware: turn fakesnow's HTTP 500 for a failed statement into Snowflake's failed-statement reply.

    Defect: any error DuckDB raises that fakesnow does not translate becomes HTTP 500 (``server.py``,
    ``ServerError(status_code=500, ...)``). The connector treats 500 as transient and re-sends the statement
    6-7 times, re-running it (a partly failed COPY left 7x the rows). Answered as Snowflake answers a failed
    statement (HTTP 200, ``success: false``), the client raises ``ProgrammingError`` once and nothing re-runs.
    """

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


def request_log(app: Any, path: Path) -> Any:
    """ASGI middleware: append one JSON line per login (with the session parameters it sent) and per statement
    to ``path`` (what a test counts)."""
    import gzip
    import threading

    kinds = {"/session/v1/login-request": "login", "/queries/v1/query-request": "query"}
    lock = threading.Lock()

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = kinds.get(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None:
            await app(scope, receive, send)
            return
        # Read the whole request and log it before it is served: once a client has its answer, the line is
        # in the log, so a count taken after any statement returned never misses it.
        messages, body = [], bytearray()
        while True:
            message = await receive()
            messages.append(message)
            body.extend(message.get("body") or b"")
            if not message.get("more_body"):
                break
        raw = bytes(body)
        line: dict[str, Any] = {"kind": kind, "sql": None}
        try:
            request = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
            if kind == "query":
                line["sql"] = request.get("sqlText")
            else:
                line["session_parameters"] = request["data"].get("SESSION_PARAMETERS")
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            pass
        with lock, path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(line, default=str) + "\n")
        pending = iter(messages)

        async def replay() -> dict[str, Any]:
            return next(pending, None) or await receive()

        await app(scope, replay, send)

    return wrapped


# Snowflake's data-error family (100xxx) is what a file that cannot be read raises; the loader parks such a
# file and fails the task on anything else, so the emulator's own read errors use numbers from that family.
_FILE_DATA_ERROR = 100075
_INVALID_UTF8_ERROR = 100182


def _copy_format_options(expr: Any, duck_conn: Any, database: str | None, schema: str | None) -> dict[str, Any]:
    from fakesnow.transforms.file_format import lookup_file_format
    from fakesnow.transforms.options import parse_options

    for param in expr.args.get("params", []):
        if param.this.name.upper() == "FILE_FORMAT":
            options = parse_options(param.expressions)
            if name := options.pop("FORMAT_NAME", None):
                options = {**lookup_file_format(duck_conn, str(name), database, schema), **options}
            return options
    return {}


def _is_text_line_format(options: dict[str, Any]) -> bool:
    """A CSV format that lands whole lines (FIELD_DELIMITER = NONE), which fakesnow cannot read."""
    is_csv = str(options.get("TYPE", "CSV")).upper() == "CSV"
    return is_csv and str(options.get("FIELD_DELIMITER", "")).upper() == "NONE"


def _data_error(errno: int, message: str) -> Exception:
    import snowflake.connector.errors

    return snowflake.connector.errors.ProgrammingError(msg=message, errno=errno, sqlstate="22000")


def split_lines(data: bytes, options: dict[str, Any]) -> list[str]:
    """A text-line file's records as Snowflake lands them: one per LF (a CR before it dropped), a leading
    byte order mark skipped, blank lines skipped when SKIP_BLANK_LINES, invalid UTF-8 replaced by U+FFFD
    when REPLACE_INVALID_CHARACTERS (else the file fails); no NULL_IF, quoting or escaping applies."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    replace = bool(options.get("REPLACE_INVALID_CHARACTERS", False))
    try:
        # Decoded whole: LF is never part of a UTF-8 sequence, so this is each line decoded on its own.
        text = data.decode("utf-8", "replace" if replace else "strict")
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        raise _data_error(_INVALID_UTF8_ERROR, f"Invalid UTF8 detected in string on line {number}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if options.get("SKIP_BLANK_LINES", False) and "" in lines:
        lines = [line for line in lines if line]
    return lines


def _read_staged(path: str, options: dict[str, Any]) -> bytes:
    import gzip
    import os
    import zlib

    with open(path, "rb") as handle:
        data = handle.read()
    compression = str(options.get("COMPRESSION", "AUTO")).upper()
    if compression == "GZIP" or (compression in ("AUTO", "AUTO_DETECT") and data[:2] == b"\x1f\x8b"):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            name = os.path.basename(path)
            message = f"Invalid data encountered during decompression for file: '{name}', cause: {exc}"
            raise _data_error(_FILE_DATA_ERROR, message) from None
    return data


def _staged_paths(duck_conn: Any, location: str, names: list[str] | None) -> list[str]:
    """The files a COPY names: FILES relative to the location (only those that exist inside it), else
    every file under the location as a prefix, as Snowflake reads them."""
    import os

    from fakesnow.transforms import stage

    if names is None:
        return sorted(row[0] for row in duck_conn.execute(stage.internal_files_sql(location)).fetchall())
    base = location.rstrip("/")
    inside = os.path.realpath(base) + os.sep
    paths = [f"{base}/{name}" for name in names]
    return [p for p in paths if os.path.isfile(p) and os.path.realpath(p).startswith(inside)]


def copy_text_lines(duck_conn: Any, database: str | None, schema: str | None, expr: Any, table_stages: Any) -> str:
    """COPY from an internal stage with a FIELD_DELIMITER = NONE format, plain or with the transform
    ``(select metadata$filename, metadata$file_row_number, $1 from @stage/path/)`` and FILES relative to
    the location; runs the insert and returns SQL whose result is COPY's per-file result rows."""
    from fakesnow import copy_into as fs_copy
    from fakesnow.transforms import stage
    from sqlglot import exp

    options = _copy_format_options(expr, duck_conn, database, schema)
    source = fs_copy._from_source(expr)
    if not source.startswith("@"):
        raise NotImplementedError("COPY of a text-line format from a URL")
    target = fs_copy._extract_table(expr.this)
    location = fs_copy.stage_url_from_var(source[1:], duck_conn, database, schema, table_stages, target)
    if not stage.is_internal(location):
        raise NotImplementedError("COPY of a text-line format from an external stage")
    names = None
    for param in expr.args.get("params", []):
        if param.this.name.upper() == "FILES":
            names = [literal.name for literal in param.find_all(exp.Literal)]
    from_ = expr.args["files"][0]
    selected = ["$1"]
    if isinstance(from_, exp.Subquery):
        selected = [column.sql(dialect="snowflake").lower() for column in from_.this.expressions]
        unknown = set(selected) - {"metadata$filename", "metadata$file_row_number", "$1"}
        if unknown:
            raise NotImplementedError(f"COPY transform columns {sorted(unknown)}")
    into = expr.this.sql(dialect="duckdb")
    results = []
    for path in _staged_paths(duck_conn, location, names):
        lines = split_lines(_read_staged(path, options), options)
        file_name = stage.internal_file_name(path)
        if lines:
            # Only the lines travel as a list; the file name and row numbers are made in DuckDB.
            made = {"metadata$filename": "?", "metadata$file_row_number": "unnest(range(1, ? + 1))", "$1": "unnest(?)"}
            bound = {"metadata$filename": file_name, "metadata$file_row_number": len(lines), "$1": lines}
            columns = ", ".join(f"{made[c]} as c{i}" for i, c in enumerate(selected))
            insert = f"insert into {into} select * from (select {columns})"  # noqa: S608  # nosec B608: a parsed table name
            duck_conn.execute(insert, [bound[c] for c in selected])
        results.append((file_name, "LOADED", len(lines), len(lines), 1, 0, None, None, None, None))
    if not results:
        sql = "select 'Copy executed with 0 files processed.' as status"
    else:
        columns = (
            *("file", "status", "rows_parsed", "rows_loaded", "error_limit", "errors_seen", "first_error"),
            *("first_error_line", "first_error_character", "first_error_column_name"),
        )
        sql = exp.select("*").from_(exp.values(results, alias="t", columns=columns)).sql(dialect="duckdb")
    duck_conn.execute(sql)
    return sql


def patch_text_line_copy() -> None:
    """Defects in loading whole lines as text (the landing file format, ``FIELD_DELIMITER = NONE``): fakesnow takes
    ``FIELD_DELIMITER = NONE`` literally (the text NONE becomes the separator), lacks
    REPLACE_INVALID_CHARACTERS, RECORD_DELIMITER and SKIP_BLANK_LINES, has no COPY transform
    (``metadata$filename``, ``metadata$file_row_number``) and fails ``FILES = (...)`` on internal stages
    ("invalid URL prefix"). COPY with such a format is read here, line by line, as Snowflake documents it, and
    returns Snowflake's per-file result rows (``copy_text_lines``)."""
    from fakesnow import cursor

    original = cursor.copy_into
    if getattr(original, "_local_stack_patched", False):
        return

    def copy_into(duck_conn: Any, database: Any, schema: Any, expr: Any, table_stages: Any, params: Any = None) -> str:
        if _is_text_line_format(_copy_format_options(expr, duck_conn, database, schema)):
            return copy_text_lines(duck_conn, database, schema, expr, table_stages)
        return original(duck_conn, database, schema, expr, table_stages, params)

    copy_into._local_stack_patched = True  # type: ignore[attr-defined]
    cursor.copy_into = copy_into


_REMOVE = re.compile(r"\s*(?:remove|rm)\s+(@[^\s;']+|'@[^']+')\s*;?\s*", re.IGNORECASE)


def remove_staged(cur: Any, location: str) -> list[tuple[str, str]]:
    """REMOVE @stage/path: delete every internal-stage file whose path starts with it, as Snowflake does."""
    import os

    from fakesnow import copy_into as fs_copy
    from fakesnow.transforms import stage
    from sqlglot import exp

    conn, duck = cur._conn, cur._duck_conn
    unused = exp.Table(this=exp.to_identifier("unused"))
    url = fs_copy.stage_url_from_var(location[1:], duck, conn.database, conn.schema, conn.table_stages, unused)
    removed = []
    for path in _staged_paths(duck, url, None):
        os.remove(path)
        removed.append((stage.internal_file_name(path), "removed"))
    return removed


def patch_remove() -> None:
    """Defect: no ``REMOVE`` (a DuckDB parser error); the fix deletes the internal-stage files under the path."""
    from fakesnow.cursor import FakeSnowflakeCursor
    from sqlglot import exp

    original = FakeSnowflakeCursor.execute
    if getattr(original, "_local_stack_patched", False):
        return

    def execute(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        match = _REMOVE.fullmatch(command) if isinstance(command, str) else None
        if not match:
            return original(self, command, *args, **kwargs)
        removed = remove_staged(self, match.group(1).strip("'"))
        if removed:
            command = exp.select("*").from_(exp.values(removed, alias="t", columns=["name", "result"])).sql()
        else:
            command = "select null::varchar as name, null::varchar as result where false"
        return original(self, command, server=kwargs.get("server", False))

    execute._local_stack_patched = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = execute


def _call(name: str, *args: Any) -> Any:
    from sqlglot import exp

    return exp.Anonymous(this=name, expressions=list(args))


def _allows_duplicates(node: Any) -> bool:
    """PARSE_JSON(expr, 'd') / TRY_PARSE_JSON(expr, 'd'): duplicate keys allowed."""
    parameter = node.args.get("expression")
    return parameter is not None and parameter.is_string and parameter.name.lower() == "d"


def strict_try_functions(node: Any) -> Any:
    """TRY_BASE64_DECODE_* as DuckDB's try(from_base64(...)); PARSE_JSON and TRY_PARSE_JSON strict about
    duplicate keys unless given 'd' (an error and NULL respectively)."""
    from sqlglot import exp

    if isinstance(node, exp.TryBase64DecodeBinary):
        return _call("TRY", _call("FROM_BASE64", node.this))
    if isinstance(node, exp.TryBase64DecodeString):
        return _call("TRY", _call("DECODE", _call("FROM_BASE64", node.this)))
    if isinstance(node, exp.ParseJSON) and not node.meta.get("local_stack") and not _allows_duplicates(node):
        keys = _call("TRY", _call("JSON_KEYS", node.this.copy()))  # DuckDB reads the text itself: no cast
        duplicated = exp.NEQ(this=_call("LEN", keys), expression=_call("LEN", _call("LIST_DISTINCT", keys.copy())))
        if node.args.get("safe"):
            parsed = exp.TryCast(this=node.this.copy(), to=exp.DataType.build("JSON"))  # one parse, NULL if invalid
            return exp.If(this=exp.func("coalesce", duplicated, exp.false()), true=exp.null(), false=parsed)
        parsed = node.copy()
        parsed.meta["local_stack"] = True
        failed = _call("ERROR", exp.Literal.string("Error parsing JSON: duplicate object attribute"))
        return exp.If(this=exp.func("coalesce", duplicated, exp.false()), true=failed, false=parsed)
    return node


def patch_try_functions() -> None:
    """Defect: no ``TRY_BASE64_DECODE_STRING``/``_BINARY``, and ``PARSE_JSON``/``TRY_PARSE_JSON`` accept duplicate
    keys, which Snowflake rejects (an error, NULL) unless given the 'd' parameter
    (https://docs.snowflake.com/en/sql-reference/functions/parse_json); the fix rewrites them (top-level keys)."""
    from fakesnow.cursor import FakeSnowflakeCursor

    original = FakeSnowflakeCursor._transform
    if getattr(original, "_local_stack_patched", False):
        return

    def _transform(self: Any, expression: Any, params: Any) -> Any:
        return original(self, expression.transform(strict_try_functions, copy=False), params)

    _transform._local_stack_patched = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor._transform = _transform


def _is_merge_candidates(node: Any) -> bool:
    """The temporary table fakesnow builds a MERGE from (``fakesnow/transforms/merge.py``)."""
    from sqlglot import exp

    table = node.find(exp.Table) if isinstance(node, exp.Create) else None
    return bool(table is not None and node.find(exp.TemporaryProperty) and table.name.upper() == "MERGE_CANDIDATES")


def patch_merge_in_transactions() -> None:
    """Defect: a MERGE inside ``BEGIN ... COMMIT`` fails after any other write of the transaction ("a single
    transaction can only write to a single attached database"). fakesnow runs a MERGE as a temporary table of
    candidates plus DML, and records that table's comment and text lengths in its global catalog in the
    caller's transaction. The candidates table is fakesnow's own and is never described, so the fix records
    nothing for it; Snowflake runs a MERGE in an explicit transaction like any DML
    (https://docs.snowflake.com/en/sql-reference/transactions)."""
    from fakesnow import transforms

    for name in ("extract_comment_on_table", "extract_text_length"):
        original = getattr(transforms, name)
        if getattr(original, "_local_stack_patched", False):
            continue

        def skipping(node: Any, _original: Any = original) -> Any:
            return node if _is_merge_candidates(node) else _original(node)

        skipping._local_stack_patched = True  # type: ignore[attr-defined]
        setattr(transforms, name, skipping)


# --- lock-down: without the stack's login secret a local user gets nothing, and SQL reads no file of the user's ---

# Snowflake's answer to a wrong password: "Incorrect username or password was specified." (error 390100).
_LOGIN_FAILED = {"code": "390100", "message": "Incorrect username or password was specified."}
_UPLOAD_SIGNATURE = "signature"


def tune_duckdb(duck_conn: Any) -> None:
    """DuckDB settings for a warehouse's workload rather than an embedded database's.

    - ``preserve_insertion_order = false``: Snowflake promises no row order without ORDER BY, so neither does
      the emulator; DuckDB then inserts and scans large results in parallel and with less memory
      (https://duckdb.org/docs/stable/guides/performance/how_to_tune_workloads).
    - ``checkpoint_threshold = 256MB``: DuckDB folds its write-ahead log into the database file when the log
      passes this size (16 MB by default, so every large statement paid a checkpoint of its own). Commits
      are still in the log, which a restart replays (the soak SIGKILLs the emulator to prove it).
    """
    duck_conn.execute("SET preserve_insertion_order = false")
    duck_conn.execute("SET checkpoint_threshold = '256MB'")


def lock_down_duckdb(duck_conn: Any, data_dir: Path) -> None:
    """Let SQL reach only the emulator's own files, for the life of the process.

    fakesnow passes DuckDB's table functions through, so ``select content from read_text('/etc/hostname')``
    would read any file the developer can (``~/.aws/credentials``, ``~/.ssh``, Airflow's secrets). With
    external access off, DuckDB opens only the allowed folders and paths (databases, staged files, its spill
    folder, the catalog), and the locked configuration refuses the ``SET`` that would undo it
    (https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview). The login secret, kept in
    data_dir itself, stays out of reach.
    """
    folders = [data_dir / "databases", data_dir / "stages", data_dir / "tmp"]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    catalog = (data_dir / GLOBAL_CATALOG_FILE).resolve()

    def text(path: Path | str) -> str:
        return "'" + str(path).replace("'", "''") + "'"

    directories = ", ".join(text(f"{folder.resolve()}/") for folder in folders)
    paths = ", ".join(text(path) for path in (catalog, f"{catalog}.wal"))
    duck_conn.execute(f"SET temp_directory = {text(folders[-1].resolve())}")
    duck_conn.execute(f"SET allowed_directories = [{directories}]")
    duck_conn.execute(f"SET allowed_paths = [{paths}]")
    duck_conn.execute("SET autoinstall_known_extensions = false")
    duck_conn.execute("SET enable_external_access = false")
    duck_conn.execute("SET lock_configuration = true")


def _signature(secret: str, path: str) -> str:
    return hmac.new(secret.encode(), path.encode(), hashlib.sha256).hexdigest()


def sign_stage_uploads(secret: str) -> None:
    """Sign the upload URL fakesnow hands a PUT, so only a logged-in client can write a staged file.

    fakesnow has the client upload a PUT's file over plain HTTP to ``/fs_bucket/...`` (a GCS-style presigned
    URL, ``server.gcs_stage_info``) and accepts any request there, so any local user could plant or replace
    staged files between a PUT and its COPY. The URL now carries an HMAC of its path under the login secret,
    as a real presigned URL carries its signature, and ``require_login_secret`` refuses an upload without it.
    """
    import fakesnow.server as server

    original = server.gcs_stage_info
    if getattr(original, "_local_stack_patched", False):
        return

    def gcs_stage_info(request: Any, expr: Any, put_stage_data: Any) -> dict[str, Any]:
        info = original(request, expr, put_stage_data)
        path = urlsplit(info["presignedUrl"]).path
        info["presignedUrl"] += "?" + urlencode({_UPLOAD_SIGNATURE: _signature(secret, path)})
        return info

    gcs_stage_info._local_stack_patched = True  # type: ignore[attr-defined]
    server.gcs_stage_info = gcs_stage_info


def _login_allowed(body: bytes, secret: str) -> bool:
    """The password is the secret, and the login does not ask for a database file of its own choosing."""
    try:
        data = json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)["data"]
        password = str(data.get("PASSWORD") or "")
        parameters = {str(name).upper() for name in (data.get("SESSION_PARAMETERS") or {})}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    # FAKESNOW_DB_PATH would open a DuckDB of the client's choosing, outside the lock-down.
    return hmac.compare_digest(password.encode(), secret.encode()) and "FAKESNOW_DB_PATH" not in parameters


def _upload_signed(scope: dict[str, Any], secret: str) -> bool:
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(_UPLOAD_SIGNATURE, [""])[0]
    return hmac.compare_digest(given.encode(), _signature(secret, path).encode())


def require_login_secret(app: Any, secret: str) -> Any:
    """ASGI middleware: a login whose password is not the stack's secret fails as on Snowflake; so does an
    unsigned upload to a stage (HTTP 403). Every other route needs the session token a login returns."""

    async def reply(send: Any, status: int, payload: bytes) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"].startswith("/fs_bucket/") and not _upload_signed(scope, secret):
            await reply(send, 403, b"")
            return
        if scope["path"] != "/session/v1/login-request":
            await app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body") or b"")
            if not message.get("more_body"):
                break
        if not _login_allowed(bytes(body), secret):
            await reply(send, 200, json.dumps({"data": None, **_LOGIN_FAILED, "success": False}).encode())
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await app(scope, replay, send)

    return wrapped


def persist_global_catalog(duck_conn: Any, path: Path) -> None:
    """Swap fakesnow's in-memory ``_fs_global`` catalog for one kept in ``path`` (created on first start).

    Defect: even with ``db_path``, fakesnow keeps that catalog (stages, file formats, the Snowflake column
    types behind VARIANT/TIMESTAMP_NTZ columns, users) in memory (``instance.py``, ``ATTACH ':memory:' AS
    _fs_global``), so after a restart the tables are back but every stage is gone ("Stage ... does not exist").
    """
    from fakesnow import info_schema
    from fakesnow.instance import GLOBAL_DATABASE_NAME
    from fakesnow.transforms import show

    duck_conn.execute(f"DETACH {GLOBAL_DATABASE_NAME}")
    quoted = str(path.resolve()).replace("'", "''")
    duck_conn.execute(f"ATTACH '{quoted}' AS {GLOBAL_DATABASE_NAME}")
    duck_conn.execute(info_schema.fs_global_creation_sql())  # every statement is "if not exists"
    duck_conn.execute(show.fs_global_creation_sql())


def build_app(data_dir: Path) -> Any:
    """Configure fakesnow for a shared, file-backed database under data_dir and return the ASGI app.

    One database for every connection for the life of the server (``fakesnow.server.shared_fs``), so tables,
    rows and load history outlive connections, Airflow task processes and restarts; internal-stage files live
    under the same folder (``fakesnow.transforms.stage.LOCAL_BUCKET_PATH``, a fresh temporary folder per
    start upstream).
    """
    import fakesnow.server as server
    from fakesnow.instance import FakeSnow
    from fakesnow.transforms import stage

    databases = data_dir / "databases"
    bucket = data_dir / "stages"
    databases.mkdir(parents=True, exist_ok=True)
    bucket.mkdir(parents=True, exist_ok=True)
    stage.LOCAL_BUCKET_PATH = str(bucket.resolve())
    server.shared_fs = FakeSnow(db_path=str(databases.resolve()))
    persist_global_catalog(server.shared_fs.duck_conn, data_dir / GLOBAL_CATALOG_FILE)
    tune_duckdb(server.shared_fs.duck_conn)
    lock_down_duckdb(server.shared_fs.duck_conn, data_dir)
    secret = snowflake_login_secret(data_dir)
    sign_stage_uploads(secret)
    patch_null_timestamps()
    patch_copy_hive_partitioning()
    patch_text_line_copy()
    patch_remove()
    patch_try_functions()
    patch_merge_in_transactions()
    return require_login_secret(statement_errors_as_failures(server.app), secret)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=None, help="port (default: $SNOWFLAKE_EMULATOR_PORT or 8765)")
    parser.add_argument("--data-dir", type=Path, default=Path(".local/snowflake"), help="where data is kept")
    parser.add_argument(
        "--host",
        default=HOST,
        help="address to bind (default 127.0.0.1; 0.0.0.0 only inside a container, as docker-compose.yaml does)",
    )
    parser.add_argument(
        "--request-log", type=Path, default=None, help="append one JSON line per login and statement here (tests)"
    )
    args = parser.parse_args(argv)
    private_umask()  # its databases, staged files and login secret are the owner's alone
    number = args.port if args.port is not None else port("snowflake")
    try:
        ensure_free("snowflake", number, args.host)
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    app = build_app(args.data_dir)
    if args.request_log:
        app = request_log(app, args.request_log)
    uvicorn.run(app, host=args.host, port=number, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
