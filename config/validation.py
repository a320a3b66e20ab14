"""One way to check a config file: a pydantic model states the rules, and every broken rule becomes a Problem
that names the file, the field path and the rule, all reported at once in one ``ConfigError``.

A field's rule text is its ``Field(description=...)``; a validator states a rule by raising ``ValueError`` with
the rule as message, or ``Broken`` to name fields below or beside the one it checks.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from mobile_events_elt.config.files import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    file: Path | str
    field: str
    rule: str
    value: Any = None

    def __str__(self) -> str:
        got = "" if self.value is None else f" (got {self.value!r})"
        return f"{self.file}: field '{self.field}': {self.rule}{got}"


class Broken(ValueError):
    """Raised by a validator for rules about other fields: each (field path, rule, value) relative to its model."""

    def __init__(self, *problems: tuple[str, str, Any]) -> None:
        self.problems = problems
        super().__init__("; ".join(rule for _, rule, _ in problems))


_TYPE_RULES = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "dataclass_type": "must be a JSON object",
}


def validate(kind: type[T], data: Any, file: Path | str) -> T:
    """``data`` (a parsed JSON file) as a ``kind``; ConfigError lists every problem with file, field and rule."""
    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as exc:
        problems = [p for error in exc.errors() for p in _problems(kind, error, file)]
        raise ConfigError("\n".join(str(p) for p in problems), problems) from None


def _problems(kind: type, error: Any, file: Path | str) -> list[Problem]:
    loc = tuple(str(part) for part in error["loc"])
    path = ".".join(loc)
    kind_name = error["type"]
    info = _field(kind, loc)
    described = info.description if info is not None else None
    if kind_name == "missing":
        what = _required_hint(info)
        return [Problem(file, path, f"is required{what}")]
    if kind_name in ("extra_forbidden", "unexpected_keyword_argument"):
        known = sorted(_known_fields(_model_at(kind, loc[:-1])))
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known fields: {', '.join(known)}"
        return [Problem(file, path, f"unknown field{hint}")]
    if kind_name == "value_error":
        cause = error["ctx"]["error"]
        if isinstance(cause, Broken):
            return [Problem(file, _join(path, field), rule, value) for field, rule, value in cause.problems]
        return [Problem(file, path, str(cause), error["input"])]
    if kind_name in _TYPE_RULES:
        rule = _TYPE_RULES[kind_name]
        return [Problem(file, path, f"{rule}; {described}" if described else rule, error["input"])]
    return [Problem(file, path, described or error["msg"], error["input"])]


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def _fields(kind: Any) -> dict[str, FieldInfo]:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return kind.model_fields
    if is_dataclass(kind):
        return getattr(kind, "__pydantic_fields__", {})
    return {}


def _known_fields(kind: Any) -> set[str]:
    return {info.alias or name for name, info in _fields(kind).items()}


def _by_key(kind: Any, key: str) -> FieldInfo | None:
    for name, info in _fields(kind).items():
        if key in (name, info.alias):
            return info
    return None


def _model_at(kind: Any, loc: tuple[str, ...]) -> Any:
    for key in loc:
        info = _by_key(kind, key)
        if info is None:
            return None
        kind = _unwrap(info.annotation)
    return kind


def _field(kind: Any, loc: tuple[str, ...]) -> FieldInfo | None:
    if not loc:
        return None
    parent = _model_at(kind, loc[:-1])
    return _by_key(parent, loc[-1]) if parent is not None else None


def _unwrap(annotation: Any) -> Any:
    """The model class inside ``X``, ``X | None`` or ``Annotated[X, ...]``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(inner[0]) if len(inner) == 1 else annotation
    return annotation


def _required_hint(info: FieldInfo | None) -> str:
    if info is None:
        return ""
    inner = _unwrap(info.annotation)
    if _fields(inner):
        return " (a JSON object)"
    if inner is str:
        return " (a string)"
    return ""
