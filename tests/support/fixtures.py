"""Fixtures more than one test module uses; tests/conftest.py registers them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import REPO
from warehouse import sql_files


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A developer's usual umask (022: files 0644, folders 0755), restored afterwards."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def sql_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of sql/ the runner reads instead, so a test can add or edit a migration."""
    copy = tmp_path / "sql"
    shutil.copytree(sql_files.SQL_DIR, copy)
    monkeypatch.setattr(sql_files, "SQL_DIR", copy)
    return copy


@pytest.fixture
def config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of config/ the pipeline reads instead (PIPELINE_CONFIG_DIR), with no
    override from the environment."""
    folder = tmp_path / "config"
    shutil.copytree(REPO / "config", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(folder))
    for name in (
        "SNOWFLAKE_STAGE_MODE",
        "SNOWFLAKE_DATABASE",
        "ELT_SNOWFLAKE_CONN_ID",
        "ELT_SNOWFLAKE_READ_CONN_ID",
        "ELT_AWS_CONN_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    return folder
