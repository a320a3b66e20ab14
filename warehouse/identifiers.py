"""Validation for every name that comes from configuration before it reaches SQL.

Values always travel as bind parameters. Names cannot (Snowflake binds no identifiers in DDL or in a
COPY's stage path), so they are checked against strict patterns here and refused otherwise.
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")
_QUALIFIED = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
# S3 keys as Firehose writes them: prefix folders (with key=value partitions), stream name, timestamp, uuid.
_STAGE_PATH = re.compile(r"^[A-Za-z0-9_.=/+-]{1,1024}$")


class IdentifierError(ValueError):
    pass


def identifier(name: str, what: str = "identifier") -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise IdentifierError(f"{what} {name!r} is not a plain Snowflake identifier (letters, digits, _ and $)")
    return name


def qualified_name(name: str, what: str = "object name") -> str:
    if not isinstance(name, str) or not _QUALIFIED.match(name):
        raise IdentifierError(f"{what} {name!r} is not a plain (optionally schema-qualified) Snowflake name")
    return name


def stage_path(path: str) -> str:
    if not isinstance(path, str) or not _STAGE_PATH.match(path) or ".." in path.split("/"):
        raise IdentifierError(f"file path {path!r} has characters a stage path cannot carry unquoted")
    return path


_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9_.=/-]{0,512}$")


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
        if not isinstance(value, str) or not rule.match(value):
            raise IdentifierError(f"account variable {name}={value!r} does not match {rule.pattern}")
        checked[name] = value
    return checked
