"""Validation for every name that comes from configuration before it reaches SQL.

Values always travel as bind parameters. Names cannot (Snowflake binds no identifiers in DDL or in a
COPY's stage path), so they are checked against strict patterns here and refused otherwise.
"""

from __future__ import annotations

import re

# Every pattern is used with fullmatch: ``$`` alone would also accept a trailing newline.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,254}")
_QUALIFIED = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}")
# One segment of an S3 key as Firehose writes them (prefix folders with key=value partitions, stream name,
# timestamp, uuid): ASCII letters, digits and _ . = + -, never starting or ending with a dot, so no segment
# is "." or ".." and no two spellings name the same path.
_SEGMENT = r"[A-Za-z0-9_=+-]([A-Za-z0-9_.=+-]*[A-Za-z0-9_=+-])?"
_STAGE_PATH = re.compile(rf"{_SEGMENT}(/{_SEGMENT})*")
MAX_KEY_BYTES = 1024
# Snowflake's limit on QUERY_TAG (https://docs.snowflake.com/en/sql-reference/parameters#query-tag).
QUERY_TAG_LIMIT = 2000


class IdentifierError(ValueError):
    pass


def identifier(name: str, what: str = "identifier") -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise IdentifierError(f"{what} {name!r} is not a plain Snowflake identifier (letters, digits, _ and $)")
    return name


def qualified_name(name: str, what: str = "object name") -> str:
    if not isinstance(name, str) or not _QUALIFIED.fullmatch(name):
        raise IdentifierError(f"{what} {name!r} is not a plain (optionally schema-qualified) Snowflake name")
    return name


def key_problem(key: str, prefix: str) -> str | None:
    """Why an S3 key under ``prefix`` cannot be loaded, or None when it is one canonical stage path.

    The whole key is checked before it reaches a PUT, a COPY or a local file name: one spelling per path
    (no empty, "." or ".." segment), nothing a quoted SQL literal or a shell would treat specially.
    """
    if not key.startswith(prefix) or key == prefix:
        return f"the key is not a file under the folder {prefix!r}"
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return f"the key is longer than {MAX_KEY_BYTES} bytes"
    if not _STAGE_PATH.fullmatch(key):
        return (
            "the key is not a canonical path of ASCII letters, digits and _ . = + - "
            "(no empty, '.' or '..' segment, no segment starting or ending with a dot)"
        )
    return None


def stage_path(path: str) -> str:
    if not isinstance(path, str) or len(path.encode("utf-8")) > MAX_KEY_BYTES or not _STAGE_PATH.fullmatch(path):
        raise IdentifierError(f"file path {path!r} is not a canonical stage path")
    return path


_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[A-Za-z0-9_.=/-]{0,512}")


def account_variables(values: dict[str, object]) -> dict[str, str]:
    """Validate the values the account setup files take (``&{name}``), each by the rule for its kind."""
    rules = {
        "warehouse": _IDENTIFIER,
        "database": _IDENTIFIER,
        "role": _IDENTIFIER,
        "integration": _IDENTIFIER,
        "role_arn": _ARN,
        "bucket": _BUCKET,
        "landing_prefix": _PREFIX,
    }
    checked = {}
    for name, rule in rules.items():
        value = values.get(name)
        if not isinstance(value, str) or not rule.fullmatch(value):
            raise IdentifierError(f"account variable {name}={value!r} does not match {rule.pattern}")
        checked[name] = value
    return checked
