"""One-shot steps of the local stack (provisioning, migrations, DAG runs), each as its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


class StageFailed(RuntimeError):
    pass


def airflow_cli() -> str:
    """The `airflow` command of the interpreter running us (the project's .venv)."""
    return str(Path(sys.executable).with_name("airflow"))


def run(argv: list[str], env: dict[str, str], log: Path) -> None:
    """Run one step to completion, its output appended to log; on failure raise with the log's end."""
    with open(log, "ab") as out:
        result = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise StageFailed(f"{' '.join(argv[:4])} exited with {result.returncode}; log: {log}\n{tail}")
