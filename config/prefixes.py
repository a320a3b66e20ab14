"""Firehose S3 prefix expressions: parse, check and expand them the way Firehose does.

A Prefix such as ``landing/year=!{timestamp:yyyy}/month=!{timestamp:MM}/`` is evaluated once per S3 object,
every ``timestamp`` expression at the same instant (UTC), with Java ``DateTimeFormatter`` patterns. One parser
serves two callers, so they cannot disagree: config validation (which rejects what Firehose would reject, or
what would silently misfile data, such as the week-based year ``YYYY``) and the local delivery (which names
the objects). Firehose's object suffix is ``{delivery stream}-{version}-{yyyy-MM-dd-HH-mm-ss}-{uuid}``.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime

ERROR_OUTPUT_TYPE = "error-output-type"
RANDOM_STRING = "random-string"
# Firehose's legacy layout: a Prefix without any expression gets this time folder appended.
DEFAULT_TIME_FOLDER = "yyyy/MM/dd/HH/"
MAX_PREFIX_LENGTH = 1024

_EXPRESSION = re.compile(r"!\{([^{}]*)\}")
_RANDOM_ALPHABET = string.ascii_lowercase + string.digits


class PrefixError(ValueError):
    """A prefix breaks a Firehose rule; the message states the rule."""


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Expression:
    namespace: str
    value: str


Part = Literal | Expression


def parse(prefix: str) -> list[Part]:
    """Split a prefix into literal text and ``!{namespace:value}`` expressions (no nesting, as in Firehose)."""
    parts: list[Part] = []
    position = 0
    for match in _EXPRESSION.finditer(prefix):
        if match.start() > position:
            parts.append(Literal(prefix[position : match.start()]))
        body = match.group(1)
        namespace, colon, value = body.partition(":")
        if not colon or not namespace or not value:
            raise PrefixError(f"expression !{{{body}}} must have the form !{{namespace:value}}")
        parts.append(Expression(namespace, value))
        position = match.end()
    if position < len(prefix):
        parts.append(Literal(prefix[position:]))
    for part in parts:
        if isinstance(part, Literal) and "!{" in part.text:
            raise PrefixError("an expression opened with '!{' is not closed, or contains '{' (no nesting)")
    return parts


def has_expressions(prefix: str) -> bool:
    return any(isinstance(part, Expression) for part in parse(prefix))


def literal_folder(prefix: str) -> str:
    """The fixed folder every object lands under: the text before the first expression, up to its last '/'.

    For ``landing/year=!{timestamp:yyyy}/`` that is ``landing/``. S3 notifications, lifecycle rules, IAM
    policies and the warehouse's stage all need this fixed part, because S3 filters only by literal prefix.
    """
    head = prefix.split("!{", 1)[0]
    return head[: head.rfind("/") + 1]


def check(prefix: str, *, error_prefix: bool) -> None:
    """Raise PrefixError if Firehose would refuse this prefix or if it would misfile objects."""
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise PrefixError(f"at most {MAX_PREFIX_LENGTH} characters (has {len(prefix)})")
    if prefix.startswith("/"):
        raise PrefixError("must not start with '/' (S3 would create an empty top-level folder)")
    if any(ord(ch) < 32 or ch == "\x7f" for ch in prefix):
        raise PrefixError("must not contain control characters")
    for part in parse(prefix):
        if not isinstance(part, Expression):
            continue
        if part.namespace == "timestamp":
            compile_pattern(part.value)
        elif part.namespace == "firehose":
            if part.value == ERROR_OUTPUT_TYPE and not error_prefix:
                raise PrefixError("!{firehose:error-output-type} may appear only in the ErrorOutputPrefix")
            if part.value not in (ERROR_OUTPUT_TYPE, RANDOM_STRING):
                raise PrefixError(
                    f"unknown !{{firehose:{part.value}}}; "
                    "the firehose namespace has error-output-type and random-string"
                )
        elif part.namespace in ("partitionKeyFromQuery", "partitionKeyFromLambda"):
            raise PrefixError(f"!{{{part.namespace}:...}} needs dynamic partitioning, which this pipeline does not use")
        else:
            raise PrefixError(f"unknown namespace {part.namespace!r}; use timestamp or firehose")


def check_pair(prefix: str, error_output_prefix: str | None) -> None:
    """Firehose's rule for the two prefixes together: expressions in one require the error-output-type."""
    if has_expressions(prefix) and not error_output_prefix:
        raise PrefixError(
            "a Prefix with expressions needs an ErrorOutputPrefix containing !{firehose:error-output-type}"
        )
    if error_output_prefix and has_expressions(error_output_prefix):
        types = [p for p in parse(error_output_prefix) if p == Expression("firehose", ERROR_OUTPUT_TYPE)]
        if not types:
            raise PrefixError("an ErrorOutputPrefix with expressions must contain !{firehose:error-output-type}")


def _with_time_folder(prefix: str) -> str:
    separator = "" if prefix.endswith("/") or not prefix else "/"
    return (
        prefix + separator + "".join(f"!{{timestamp:{token}}}/" for token in DEFAULT_TIME_FOLDER.strip("/").split("/"))
    )


def effective_prefix(prefix: str) -> str:
    """The prefix Firehose really evaluates: one without expressions gets the legacy time folder appended."""
    return prefix if has_expressions(prefix) else _with_time_folder(prefix)


def effective_error_prefix(prefix: str, error_output_prefix: str | None) -> str:
    """Where failed records go; without an ErrorOutputPrefix, the error type folder under the legacy prefix."""
    if error_output_prefix:
        return error_output_prefix if has_expressions(error_output_prefix) else _with_time_folder(error_output_prefix)
    return _with_time_folder(f"{prefix}!{{firehose:{ERROR_OUTPUT_TYPE}}}")


def expand(prefix: str, when: datetime, *, error_output_type: str | None = None) -> str:
    """Evaluate every expression of ``prefix`` at the instant ``when`` (must be timezone-aware, UTC)."""
    if when.utcoffset() is None or when.utcoffset().total_seconds() != 0:
        raise ValueError("prefix expansion needs a UTC datetime")
    out: list[str] = []
    for part in parse(prefix):
        if isinstance(part, Literal):
            out.append(part.text)
        elif part.namespace == "timestamp":
            out.append(format_java(part.value, when))
        elif part.namespace == "firehose" and part.value == RANDOM_STRING:
            out.append("".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(11)))
        elif part.namespace == "firehose" and part.value == ERROR_OUTPUT_TYPE:
            if error_output_type is None:
                raise PrefixError("!{firehose:error-output-type} in a prefix for delivered records")
            out.append(error_output_type)
        else:
            raise PrefixError(f"cannot expand !{{{part.namespace}:{part.value}}}")
    return "".join(out)


def object_name(delivery_stream: str, version: str, when: datetime, extension: str = "") -> str:
    """Firehose's object suffix: ``{stream}-{version}-{yyyy-MM-dd-HH-mm-ss}-{uuid}{extension}``."""
    return f"{delivery_stream}-{version}-{when.strftime('%Y-%m-%d-%H-%M-%S')}-{uuid.uuid4()}{extension}"


# --- Java DateTimeFormatter patterns -------------------------------------------------------------------------

# English names, as Java's default (ROOT) locale prints them; the calendar module would follow the C locale.
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _year(n: int, t: datetime) -> str:
    return f"{t.year % 100:02d}" if n == 2 else str(t.year).zfill(n)


def _month(n: int, t: datetime) -> str:
    if n <= 2:
        return str(t.month).zfill(n)
    return _MONTHS[t.month - 1][:3] if n == 3 else _MONTHS[t.month - 1]


def _weekday(n: int, t: datetime) -> str:
    return _DAYS[t.weekday()] if n == 4 else _DAYS[t.weekday()][:3]


def _hour12(n: int, t: datetime) -> str:
    return str((t.hour % 12) or 12).zfill(n)


def _fraction(n: int, t: datetime) -> str:
    return f"{t.microsecond:06d}000"[:n]


# letter -> (largest count Java allows here, formatter)
_FIELDS = {
    "y": (9, _year),
    "u": (9, _year),
    "M": (4, _month),
    "d": (2, lambda n, t: str(t.day).zfill(n)),
    "D": (3, lambda n, t: str(t.timetuple().tm_yday).zfill(n)),
    "H": (2, lambda n, t: str(t.hour).zfill(n)),
    "h": (2, _hour12),
    "m": (2, lambda n, t: str(t.minute).zfill(n)),
    "s": (2, lambda n, t: str(t.second).zfill(n)),
    "S": (9, _fraction),
    "E": (4, _weekday),
    "a": (1, lambda n, t: "AM" if t.hour < 12 else "PM"),
}
_HINTS = {
    "Y": "'Y' is Java's week-based year, which differs from the calendar year around New Year; use 'yyyy'",
}


@dataclass(frozen=True)
class _Field:
    letter: str
    count: int


def compile_pattern(pattern: str) -> list[str | _Field]:
    """Tokenize a Java DateTimeFormatter pattern; raise PrefixError for what this parser cannot honour."""
    tokens: list[str | _Field] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = i + 1
            text = []
            while True:
                if end >= len(pattern):
                    raise PrefixError(f"timestamp pattern {pattern!r}: unterminated quoted text")
                if pattern[end] == "'":
                    if end + 1 < len(pattern) and pattern[end + 1] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            tokens.append("".join(text) if end > i + 1 else "'")
            i = end + 1
        elif ch.isalpha():
            run = i
            while run < len(pattern) and pattern[run] == ch:
                run += 1
            count = run - i
            if ch not in _FIELDS:
                hint = _HINTS.get(ch) or f"pattern letter {ch!r} is not supported here; use y M d H m s"
                raise PrefixError(f"timestamp pattern {pattern!r}: {hint}")
            if count > _FIELDS[ch][0]:
                raise PrefixError(f"timestamp pattern {pattern!r}: too many {ch!r} letters ({count})")
            tokens.append(_Field(ch, count))
            i = run
        elif ch in "[]{}#":
            raise PrefixError(f"timestamp pattern {pattern!r}: {ch!r} is reserved in Java patterns; quote it")
        else:
            tokens.append(ch)
            i += 1
    if not any(isinstance(token, _Field) for token in tokens):
        raise PrefixError(f"timestamp pattern {pattern!r} has no date or time field")
    return tokens


def format_java(pattern: str, when: datetime) -> str:
    return "".join(
        token if isinstance(token, str) else _FIELDS[token.letter][1](token.count, when)
        for token in compile_pattern(pattern)
    )
