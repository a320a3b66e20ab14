"""In external-stage mode the load names each file relative to the landing folder."""

from __future__ import annotations

from tests.support.warehouse import PREFIX
from warehouse import loader


def test_external_stage_mode_names_each_file_relative_to_the_landing_folder() -> None:
    """The external stage's URL is the landing folder (sql/setup/account): FILES are relative to it, and COPY
    reports an external file by its full URL (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table)."""
    files = [loader.LandedFile(f"{PREFIX}year=2024/a.gz", "e1", 10), loader.LandedFile(f"{PREFIX}z.gz", "e2", 0)]
    batch = loader.stage_batch(None, None, "bucket", files, "RAW.LANDING_S3", internal=False, prefix=PREFIX)
    assert (batch.location, list(batch.staged), batch.empty) == ("@RAW.LANDING_S3", ["year=2024/a.gz"], files[1:])
    sql = loader.copy_statement(batch.location, list(batch.staged))
    assert " from @RAW.LANDING_S3) files = ('year=2024/a.gz') " in sql
    reported = f"s3://bucket/{PREFIX}year=2024/a.gz"
    description = [(c,) for c in ("file", "status", "rows_parsed", "rows_loaded", "errors_seen", "first_error")]
    loader.check_copy_result(description, [(reported, "LOADED", 3, 3, 0, None)], {reported: 3}, ["year=2024/a.gz"])
