"""The project's SQL files: where they live, how a file becomes statements, how they run."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

# The package's sql/ folder, wherever it is installed (a checkout's sql/ under an editable install).
SQL_DIR = Path(str(resources.files("mobile_events_elt.sql")))
_VARIABLE = re.compile(r"&\{(\w+)\}")


def path(relative: str) -> Path:
    return SQL_DIR / relative


def statements(relative: str, variables: Mapping[str, str] | None = None) -> list[str]:
    """The statements of sql/<relative>, comments kept out, ``&{name}`` variables filled in.

    ``&{name}`` is SnowSQL's variable syntax, used only by the account setup files, where Snowflake
    accepts no bind parameters; callers pass values already validated (see warehouse.identifiers).
    """
    text = path(relative).read_text(encoding="utf-8")
    if variables is not None:

        def fill(match: re.Match[str]) -> str:
            if match.group(1) not in variables:
                raise KeyError(f"{relative}: no value for &{{{match.group(1)}}}")
            return variables[match.group(1)]

        text = _VARIABLE.sub(fill, text)
    elif _VARIABLE.search(text):
        raise ValueError(f"{relative} has &{{...}} variables but none were given")
    from snowflake.connector.util_text import split_statements

    with_comments = (stmt for stmt, _ in split_statements(_StringIO(text), remove_comments=True))
    return [stmt.strip().rstrip(";").strip() for stmt in with_comments if stmt.strip().rstrip(";").strip()]


def run_file(cursor: Any, relative: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run every statement of a file; return the rows of the last one."""
    rows: list[tuple[Any, ...]] = []
    for stmt in statements(relative):
        cursor.execute(stmt, dict(params) if params else None)
        rows = cursor.fetchall() if cursor.description else []
    return rows


def files(folder: str) -> Iterable[str]:
    """The .sql files of sql/<folder>, in name order, as paths relative to sql/."""
    return [str(p.relative_to(SQL_DIR)) for p in sorted((SQL_DIR / folder).glob("*.sql"))]


class _StringIO:
    """split_statements wants a file-like object with readline()."""

    def __init__(self, text: str) -> None:
        self._lines = iter(text.splitlines(keepends=True))

    def readline(self) -> str:
        return next(self._lines, "")
