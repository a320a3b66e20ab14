"""Every SQL file is Snowflake SQL: each statement parses with sqlglot's Snowflake dialect."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from mobile_events_elt.config.identifiers import IdentifierError, account_variables
from mobile_events_elt.warehouse import sql_files

ACCOUNT_VARIABLES = {
    "warehouse": "MOBILE_EVENTS_WH",
    "database": "MOBILE_EVENTS",
    "role": "MOBILE_EVENTS_LOADER",
    "integration": "MOBILE_EVENTS_S3",
    "role_arn": "arn:aws:iam::123456789012:role/snowflake-mobile-events",
    "bucket": "mobile-events-landing",
    "landing_prefix": "landing/",
    "user": "MOBILE_EVENTS_PIPELINE",
    "network_policy": "MOBILE_EVENTS_PIPELINE_ONLY",
    "public_key": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
    "allowed_ip_list": "'192.0.2.0/24', '198.51.100.7/32'",
    "read_role": "MOBILE_EVENTS_READER",
    "read_user": "MOBILE_EVENTS_HEALTH",
    "read_public_key": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEB",
}
FOLDERS = (
    "setup",
    "setup/account",
    "migrations",
    "load",
    "transform",
    "transform/bounds",
    "reports",
    "maintenance",
    "exclusion",
)
ALL_FILES = [f for folder in FOLDERS for f in sql_files.files(folder)]


def bind_samples(statement: str) -> str:
    return re.sub(r"%\((\w+)\)s", "'sample'", statement)


@pytest.mark.parametrize("relative", ALL_FILES)
def test_every_statement_parses_as_snowflake(relative: str) -> None:
    variables = ACCOUNT_VARIABLES if relative.startswith("setup/account/") else None
    statements = sql_files.statements(relative, variables)
    assert statements, f"{relative} has no statements"
    for statement in statements:
        parsed = sqlglot.parse(bind_samples(statement), read="snowflake", error_level=ErrorLevel.RAISE)
        assert len(parsed) == 1 and parsed[0] is not None


def test_account_variables_are_validated() -> None:
    assert account_variables(ACCOUNT_VARIABLES)["role"] == "MOBILE_EVENTS_LOADER"
    with pytest.raises(IdentifierError, match="warehouse"):
        account_variables({**ACCOUNT_VARIABLES, "warehouse": "WH; drop database X"})
    with pytest.raises(IdentifierError, match="role_arn"):
        account_variables({**ACCOUNT_VARIABLES, "role_arn": "arn:aws:iam::1:role/x' or '1'='1"})


def test_account_files_need_their_variables() -> None:
    with pytest.raises(ValueError, match="variables"):
        sql_files.statements("setup/account/01_warehouse_database.sql")


def _string_literals(text: str) -> list[str]:
    """The single-quoted literals of a SQL text, with Snowflake's backslash escapes applied ('\\\\' is one
    backslash; '' is one quote)."""
    found, escapes = [], {"t": "\t", "n": "\n", "r": "\r", "0": "\0", "'": "'", '"': '"', "\\": "\\"}
    for match in re.finditer(r"'((?:[^'\\]|\\.|'')*)'", text, re.DOTALL):
        body = re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), match.group(1), flags=re.DOTALL)
        found.append(body.replace("''", "'"))
    return found


def _bracket_escapes(pattern: str) -> list[str]:
    """Backslash escapes (a backslash before anything but a backslash) inside the bracket expressions of a
    regular expression: Snowflake's POSIX brackets read the backslash as itself, other engines as an escape."""
    found, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] != "[":
            i += 1
            continue
        end = i + 1 + (pattern[i + 1 : i + 2] == "^")
        end += pattern[end : end + 1] == "]"  # a ']' first is a literal
        while end < len(pattern) and pattern[end] != "]":
            end = pattern.index(":]", end) + 2 if pattern.startswith("[:", end) else end + 1
        inside = pattern[i + 1 : end]
        found += [inside[j : j + 2] for j in range(len(inside) - 1) if inside[j] == "\\" and inside[j + 1] != "\\"]
        i = end + 1
    return found


def test_the_bracket_scanner_finds_escapes_and_nothing_else() -> None:
    assert _bracket_escapes(r"[ \t]*") == [r"\t"]
    assert _bracket_escapes(r'([^"\\]|\\.)*,[[:space:]]*[]}]') == []
    assert _string_literals(r"select '[ \\t]', 'it''s'") == [r"[ \t]", "it's"]


@pytest.mark.parametrize("relative", ALL_FILES)
def test_no_regular_expression_puts_a_backslash_escape_inside_a_bracket(relative: str) -> None:
    """In Snowflake's POSIX regular expressions '[ \\t]' is a space, a backslash or a t, not a TAB
    (https://docs.snowflake.com/en/sql-reference/functions-regexp, "Backslash-sequences in regular expression
    functions": they are not recognised inside a bracket); DuckDB (the emulator) reads an escape. Classes such
    as [[:space:]] mean the same on both."""
    text = sql_files.path(relative).read_text(encoding="utf-8")
    escapes = [(literal, e) for literal in _string_literals(text) for e in _bracket_escapes(literal)]
    assert escapes == [], f"{relative}: {escapes}"
