"""The local stack's state is its owner's alone: folders 0700, files 0600, secrets never readable by others.

Each test runs the stack's own code (the launchers, `python -m local_stack`, up's environment) under a
permissive umask, as a developer's shell has it, and checks the modes of what it wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from local_stack import processes
from local_stack.private_state import read_or_create_secret
from tests.support.paths import mode

REPO = Path(__file__).resolve().parents[3]


def test_a_secret_is_created_owner_only_in_one_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, permissive_umask: None
) -> None:
    """Born 0600 by O_CREAT|O_EXCL: no chmod afterwards (which would leave a window when it was readable)."""

    def no_chmod(*args: object, **kwargs: object) -> None:
        raise AssertionError("a secret must be created private, not made private afterwards")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    secret = tmp_path / "state" / "jwt_secret"
    values: list[str] = []
    threads = [threading.Thread(target=lambda: values.append(read_or_create_secret(secret))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(values)) == 1 and len(values[0]) >= 32  # one secret, whoever came first
    assert mode(secret) == 0o600
    assert read_or_create_secret(secret) == values[0]
    assert [p.name for p in secret.parent.iterdir()] == ["jwt_secret"]  # no temporary file left behind


def test_every_process_the_stack_starts_writes_owner_only(tmp_path: Path, permissive_umask: None) -> None:
    """processes.start: the child's folders and files (journal, databases, spool, logs) and its own log."""
    run_dir = tmp_path / "run"
    made = tmp_path / "made"
    script = f"import pathlib; d = pathlib.Path({str(made)!r}); d.mkdir(); (d / 'journal.jsonl').write_text('x')"
    pid = processes.start("child", [sys.executable, "-c", script], run_dir)
    deadline = time.monotonic() + 30
    while processes.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (made / "journal.jsonl").read_text() == "x"
    assert mode(made) == 0o700 and mode(made / "journal.jsonl") == 0o600
    assert mode(run_dir / "child.log") == 0o600


def test_the_state_folder_of_an_older_stack_is_closed(tmp_path: Path, permissive_umask: None) -> None:
    """`python -m local_stack status` (as `up`) makes .local owner-only, even one made before the rule."""
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    (state / "aws-journal.jsonl").write_text("{}")
    env = {**os.environ, "LOCAL_STACK_STATE": str(state), "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "local_stack", "status"], env=env, check=True, capture_output=True)
    assert mode(state) == 0o700
    assert mode(state / "run") == 0o700


def test_ups_secrets_are_owner_only_and_shared_by_every_component(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, permissive_umask: None
) -> None:
    """The JWT secret, the Fernet key and the Snowflake emulator's login secret: made once, 0600, in the env."""
    import json

    from cryptography.fernet import Fernet

    from local_stack import environment, up

    monkeypatch.delenv(environment.SNOWFLAKE_SECRET_ENV, raising=False)
    monkeypatch.setattr(up, "AIRFLOW_HOME", tmp_path / "airflow")
    env = up._env()
    files = {
        "AIRFLOW__API_AUTH__JWT_SECRET": tmp_path / "airflow" / "jwt_secret",
        "AIRFLOW__CORE__FERNET_KEY": tmp_path / "airflow" / "fernet_key",
    }
    for variable, path in files.items():
        assert mode(path) == 0o600, path
        assert env[variable] == path.read_text()
    Fernet(env["AIRFLOW__CORE__FERNET_KEY"].encode())  # a valid key
    login = tmp_path / "snowflake" / "login-secret"
    assert mode(login) == 0o600
    assert json.loads(env["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"])["password"] == login.read_text()
    assert up._env() == env  # the same secrets on every start


def test_a_stack_keeps_the_fernet_key_airflow_already_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What Airflow encrypted with the key in an older stack's airflow.cfg must stay readable."""
    from cryptography.fernet import Fernet

    from local_stack import up

    key = Fernet.generate_key().decode()
    (tmp_path / "airflow").mkdir()
    (tmp_path / "airflow" / "airflow.cfg").write_text(f"[core]\nfernet_key = {key}\n")
    monkeypatch.setattr(up, "AIRFLOW_HOME", tmp_path / "airflow")
    assert up._fernet_key() == key
