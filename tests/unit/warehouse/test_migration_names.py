"""Migration file names: a misnamed file and two files of one version are refused."""

from __future__ import annotations

import pytest

from warehouse import setup


@pytest.mark.parametrize("name", ["V1__short.sql", "V002-dash.sql", "v002__lower.sql", "V002__Upper.sql"])
def test_a_misnamed_migration_file_is_refused(sql_copy, name: str) -> None:
    (sql_copy / "migrations" / name).write_text("select 1;\n")
    with pytest.raises(setup.SetupError, match=r"V<three digits>__<lowercase_name>\.sql"):
        setup.migrations()


def test_two_files_with_one_version_are_refused(sql_copy) -> None:
    (sql_copy / "migrations" / "V001__again.sql").write_text("select 1;\n")
    with pytest.raises(setup.SetupError, match="version 001 is also"):
        setup.migrations()
