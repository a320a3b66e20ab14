"""Names from configuration are checked before they reach SQL."""

from __future__ import annotations

import pytest

from warehouse.identifiers import IdentifierError, identifier, qualified_name, stage_path
from warehouse.loader import copy_statement


@pytest.mark.parametrize("name", ["MOBILE_EVENTS", "raw", "_x1$"])
def test_plain_identifiers_pass(name: str) -> None:
    assert identifier(name) == name


@pytest.mark.parametrize("name", ["", "1abc", "a b", "a;drop", 'a"b', "a.b", "x" * 256])
def test_other_identifiers_are_refused(name: str) -> None:
    with pytest.raises(IdentifierError):
        identifier(name)


def test_qualified_names_allow_two_dots_at_most() -> None:
    assert qualified_name("DB.RAW.STAGE") == "DB.RAW.STAGE"
    with pytest.raises(IdentifierError):
        qualified_name("A.B.C.D")


def test_stage_paths_refuse_quotes_spaces_and_parent_folders() -> None:
    key = "landing/year=2026/month=11/day=25/hour=22/mobile-events-to-s3-1-2026-11-25-22-01-02-ab12.gz"
    assert stage_path(key) == key
    for bad in ["a b.gz", "x'.gz", "../etc/passwd", "a;b"]:
        with pytest.raises(IdentifierError):
            stage_path(bad)


def test_copy_statement_names_each_file_exactly() -> None:
    sql = copy_statement("@RAW.LANDING_INTERNAL/f00/", ["year=2026/f.gz"])
    assert " from @RAW.LANDING_INTERNAL/f00/) files = ('year=2026/f.gz') " in sql
    with pytest.raises(IdentifierError):
        copy_statement("@RAW.LANDING_INTERNAL/f00/", ["landing/it's.gz"])
