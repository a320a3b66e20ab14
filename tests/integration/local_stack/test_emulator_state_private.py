"""The AWS and Snowflake emulators keep their state owner-only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from local_stack import processes
from tests.support.paths import REPO, mode


def assert_private(root: Path) -> None:
    """root and everything under it: folders 0700, files 0600 (nothing for group or others)."""
    checked = 0
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        assert mode(path) & 0o077 == 0, f"{path} is {oct(mode(path))}"
        checked += 1
    assert checked > 1, f"nothing under {root}"


def test_the_aws_journal_is_owner_only(tmp_path: Path, permissive_umask: None) -> None:
    """The journal holds every record sent; the launcher started as make up starts it."""
    import boto3

    from local_stack.ports import free_port

    port = free_port()
    journal = tmp_path / "aws" / "aws-journal.jsonl"
    argv = [sys.executable, "-m", "local_stack.aws_emulator", "--port", str(port), "--journal", str(journal)]
    processes.start("aws", argv, tmp_path / "run", env={**os.environ, "PYTHONPATH": str(REPO)}, wait_port=port)
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="private-journal")
        s3.put_object(Bucket="private-journal", Key="landing/a", Body=b"an event")
    finally:
        processes.stop("aws", tmp_path / "run")
    assert journal.stat().st_size > 0
    assert_private(journal.parent)


def test_the_snowflake_emulators_data_is_owner_only(snowflake_server, snowflake_conn, run_dir: Path) -> None:
    """Databases, the catalog, staged files and the login secret of the session's emulator."""
    cur = snowflake_conn.cursor()
    cur.execute("create schema if not exists S")
    cur.execute("create table if not exists S.T (N number)")
    cur.execute("insert into S.T values (1)")
    data = run_dir / f"snowflake-{snowflake_server['port']}"
    assert (data / "login-secret").exists()
    assert_private(data)
