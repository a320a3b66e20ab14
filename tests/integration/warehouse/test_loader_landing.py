"""Every line of a delivered object lands as text, whatever bytes it holds, and is loaded or quarantined.

Real Firehose without a transformation Lambda delivers records as they came: a record that is not UTF-8 or
that holds line breaks arrives inside an ordinary landing object (Amazon Data Firehose developer guide,
"Data delivery format": records are concatenated as sent). The landing file format is CSV with
FIELD_DELIMITER = NONE, NULL_IF = (), EMPTY_FIELD_AS_NULL = FALSE, REPLACE_INVALID_CHARACTERS = TRUE and
SKIP_BLANK_LINES = TRUE (https://docs.snowflake.com/en/sql-reference/sql/create-file-format, format type
options for CSV), so a raw 0x01 byte, a line that is exactly \\N, or invalid UTF-8 neither aborts the file
nor disappears. What a line is decides the split: invalid UTF-8 (landed as U+FFFD), malformed JSON
(including the pieces of a record split over lines), duplicate keys (TRY_PARSE_JSON returns NULL for them
unless given 'd': https://docs.snowflake.com/en/sql-reference/functions/try_parse_json), a trailing comma
(not JSON, RFC 8259, whatever a parser forgives) and JSON that is not an object are quarantined with a reason.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

import snowflake.connector

from mobile_events_elt.warehouse import loader
from mobile_events_elt.warehouse.pipeline import use_database
from tests.support.seed import seed_lines
from tests.support.warehouse import PREFIX, new_bucket, prepare, scalar, settings_for

EVENT = json.loads(seed_lines()[3])


def _event(event_id: str) -> str:
    return json.dumps({**EVENT, "EVENT_ID": event_id})


LOADED = {
    "plain": _event("plain").encode(),
    "crlf": _event("crlf").encode() + b"\r",
    "seed (no EVENT_ID)": seed_lines()[0].encode(),
    "text with a comma before a brace": json.dumps({**EVENT, "EVENT_ID": "comma", "CITY": "a,}b"}).encode(),
}
QUARANTINED = {
    "raw 0x01": (b'{"EVENT_ID": "x\x01y"}', "malformed JSON"),
    "exactly \\N": (b"\\N", "malformed JSON"),
    "NONE": (b"NONE", "malformed JSON"),
    "not utf-8": (b'{"EVENT_ID": "bad-\xff\xfe-bytes"}', "not UTF-8"),
    "first piece of a split record": (b'{"EVENT_ID": "split", "CITY": "Mex', "malformed JSON"),
    "second piece of a split record": (b'ico"}', "malformed JSON"),
    "duplicate keys": (b'{"EVENT_ID": "dup-1", "EVENT_ID": "dup-2"}', "malformed JSON"),
    "trailing comma": (b'{"EVENT_ID": "trailing",}', "malformed JSON: a trailing comma"),
    "trailing comma in an array": (b'{"EVENT_ID": "arr", "A": [1,]}', "malformed JSON: a trailing comma"),
    "an array": (b"[1, 2]", "not a JSON object"),
}
BLANK = [b"", b"   "]


def _object() -> bytes:
    lines = [*LOADED.values(), *BLANK, *(data for data, _ in QUARANTINED.values())]
    return gzip.compress(b"\n".join(lines) + b"\n")


def test_every_line_of_an_object_is_loaded_or_quarantined_and_the_file_loads(
    aws_endpoint, snowflake_conn, snowflake_database
) -> None:
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    key = f"{PREFIX}year=2024/month=01/day=29/hour=19/bytes.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=_object())
    report = loader.load_new_files(snowflake_conn, s3, bucket, PREFIX, settings)
    assert (report.files_loaded, report.files_failed) == (1, 0)
    assert (report.rows_loaded, report.rows_rejected) == (len(LOADED), len(QUARANTINED))
    assert scalar(snowflake_conn, f"select status from raw.load_audit where file_name = '{key}'") == "LOADED"

    hashes = dict(snowflake_conn.cursor().execute("select record_hash, event_key from raw.events_raw").fetchall())
    texts = {data.decode().removesuffix("\r") for data in LOADED.values()}
    assert set(hashes) == {hashlib.sha256(t.encode()).hexdigest() for t in texts}
    seed_hash = hashlib.sha256(LOADED["seed (no EVENT_ID)"]).hexdigest()
    assert hashes[seed_hash] == seed_hash  # a record without EVENT_ID is keyed by its line's hash

    rejected = dict(snowflake_conn.cursor().execute("select raw_text, reason from raw.rejected_events").fetchall())
    for name, (data, reason) in QUARANTINED.items():
        text = data.decode("utf-8", "replace")
        assert text in rejected, name
        assert rejected[text].startswith(reason), (name, rejected[text])


def _load_into(snowflake_server: dict[str, Any], database: str, s3: Any, bucket: str, wrap: Any) -> tuple[Any, ...]:
    """Load the bucket into a new database through ``wrap(connection)``: (rows loaded, rows rejected, each
    record's key and hash, the quarantine's texts and reasons)."""
    conn = snowflake.connector.connect(**snowflake_server, database=database)
    conn.cursor().execute(f"create database if not exists {database}")
    settings = settings_for(database)
    prepare(conn, settings)
    report = loader.load_new_files(wrap(conn), s3, bucket, PREFIX, settings)
    hashes = conn.cursor().execute("select event_key, record_hash from raw.events_raw order by 1").fetchall()
    quarantine = conn.cursor().execute("select raw_text, reason from raw.rejected_events order by 1").fetchall()
    conn.close()
    return report.rows_loaded, report.rows_rejected, hashes, quarantine


def test_the_landing_area_is_private_to_its_session(
    aws_endpoint, snowflake_server, snowflake_conn, snowflake_database
) -> None:
    """A transaction a dropped session leaves open holds locks on what it wrote: the landing tables are
    temporary, so another session's load never touches them (Snowflake: temporary tables are visible only
    to their session, https://docs.snowflake.com/en/user-guide/tables-temp-transient)."""
    settings = settings_for(snowflake_database)

    def session() -> snowflake.connector.SnowflakeConnection:
        conn = snowflake.connector.connect(**snowflake_server, database=snowflake_database)
        use_database(conn, snowflake_database)
        return conn

    prepare(snowflake_conn, settings)
    detached, other = session(), session()
    left_open = detached.cursor()
    loader.configure_session(left_open)
    left_open.execute("insert into landing_lines (file_name, line) values ('ghost.gz', '{}')")
    left_open.execute("begin")
    left_open.execute("insert into landing_lines (file_name, line) values ('ghost.gz', '{}')")
    s3, bucket = new_bucket()
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}a.gz", Body=gzip.compress((_event("private") + "\n").encode()))
    assert loader.load_new_files(other, s3, bucket, PREFIX, settings).files_loaded == 1
    assert scalar(other, "select count(*) from landing_lines") == 0
    assert scalar(other, "select count(*) from raw.events_raw") == 1
    detached.close()
    other.close()


class CarriageReturnsKept:
    """A real connection whose COPY lands each line with its trailing CR, as Snowflake may for a CRLF file
    with RECORD_DELIMITER = '\\n' (https://docs.snowflake.com/en/sql-reference/sql/create-file-format,
    RECORD_DELIMITER; the emulator strips the CR, so the behaviour is injected around the real connector)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def cursor(self) -> _CarriageReturnsCursor:
        return _CarriageReturnsCursor(self.real.cursor())


class _CarriageReturnsCursor:
    def __init__(self, real: Any) -> None:
        self.real, self.copied = real, None

    def execute(self, sql: str, params: Any = None) -> _CarriageReturnsCursor:
        self.copied = None
        self.real.execute(sql, params)
        if sql.lower().startswith("copy into landing_lines"):
            self.copied = (self.real.description, self.real.fetchall())  # COPY's own result rows
            self.real.execute("update landing_lines set line = line || chr(13)")
        return self

    @property
    def description(self) -> Any:
        return self.copied[0] if self.copied else self.real.description

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.copied[1] if self.copied else self.real.fetchall()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_crlf_file_loads_the_same_whether_or_not_its_lines_keep_the_cr(
    aws_endpoint, snowflake_server, snowflake_database
) -> None:
    """A trailing CR is whitespace to the parser and to the hash: the same records, keys, hashes and
    quarantine, whether the engine kept the CR (Snowflake) or stripped it (the emulator); each way loads
    into a database of its own."""
    s3, bucket = new_bucket()
    lines = [_event("crlf-1").encode(), seed_lines()[1].encode(), b'{"EVENT_ID": "broken",}', b"[1]"]
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}crlf.gz", Body=gzip.compress(b"\r\n".join(lines) + b"\r\n"))

    stripped = _load_into(snowflake_server, snowflake_database, s3, bucket, lambda conn: conn)
    kept = _load_into(snowflake_server, f"{snowflake_database}_CR", s3, bucket, CarriageReturnsKept)
    assert stripped[:2] == (2, 2)
    assert kept == stripped
    assert not any("\r" in text for text, _ in kept[3])


def _regexp_substr_null_on_no_match(sql: str) -> str:
    """``sql`` with every REGEXP_SUBSTR(...) call as NULLIF(REGEXP_SUBSTR(...), ''): NULL where nothing
    matches, as on Snowflake, instead of the emulator's ''."""
    out, i, lowered = [], 0, sql.lower()
    while (start := lowered.find("regexp_substr(", i)) != -1:
        depth, quoted, end = 0, False, start + len("regexp_substr")
        while True:
            char = sql[end]
            if char == "'":
                quoted = not quoted
            elif not quoted and char == "(":
                depth += 1
            elif not quoted and char == ")":
                depth -= 1
                if depth == 0:
                    break
            end += 1
        out += [sql[i:start], "nullif(", sql[start : end + 1], ", '')"]
        i = end + 1
    return "".join(out) + sql[i:]


class NullWhereNothingMatches:
    """A real connection whose REGEXP_SUBSTR returns NULL when nothing matches, as Snowflake's does
    (https://docs.snowflake.com/en/sql-reference/functions/regexp_substr: "If no match is found, returns
    NULL"); the emulator returns '', so the behaviour is injected around the real connector."""

    searches = 0  # statements that held a REGEXP_SUBSTR

    def __init__(self, real: Any) -> None:
        self.real = real

    def cursor(self) -> Any:
        real = self.real.cursor()
        execute = real.execute

        def injected(sql: str, *args: Any, **kwargs: Any) -> Any:
            rewritten = _regexp_substr_null_on_no_match(sql)
            NullWhereNothingMatches.searches += rewritten != sql
            return execute(rewritten, *args, **kwargs)

        real.execute = injected
        return real


def test_the_trailing_comma_search_classifies_the_same_whether_no_match_is_null_or_empty(
    aws_endpoint, snowflake_server, snowflake_database
) -> None:
    """The load's search for a comma before } or ] (sql/load/parsed_lines.sql) reads a missing match as no
    comma on both engines: the same records and the same quarantine, each way into a database of its own."""
    assert _regexp_substr_null_on_no_match("select regexp_substr(a, '[(]'), regexp_substr(f(b), 'x') from t") == (
        "select nullif(regexp_substr(a, '[(]'), ''), nullif(regexp_substr(f(b), 'x'), '') from t"
    )
    s3, bucket = new_bucket()
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}commas.gz", Body=_object())

    empty = _load_into(snowflake_server, snowflake_database, s3, bucket, lambda conn: conn)
    null = _load_into(snowflake_server, f"{snowflake_database}_NULL", s3, bucket, NullWhereNothingMatches)
    assert NullWhereNothingMatches.searches >= 1
    assert empty[:2] == (len(LOADED), len(QUARANTINED))
    assert null == empty
