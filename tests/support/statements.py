"""The Snowflake emulator's command line, one started to log every login and statement it receives, and a
reader of that log.

Tests that count what reaches the warehouse (an idle run sends nothing; a login carries its session
parameters) read it where it arrives: the launcher's ``--request-log`` writes one JSON line per request.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mobile_events_elt.local_stack import processes
from mobile_events_elt.local_stack.ports import free_port
from tests.support.paths import REPO


def snowflake_command(port: int, data_dir: Path, *options: str) -> list[str]:
    """The launcher's command line for a Snowflake emulator on ``port`` keeping its data in ``data_dir``."""
    module = "mobile_events_elt.local_stack.snowflake_emulator"
    return [sys.executable, "-m", module, "--port", str(port), "--data-dir", str(data_dir), *options]


@contextmanager
def logging_snowflake(run_dir: Path, label: str) -> Iterator[tuple[dict[str, Any], Path]]:
    """Start a Snowflake emulator of the caller's own with a request log; yield its connection parameters
    (password included) and the log's path, and stop it on exit."""
    from mobile_events_elt.local_stack.environment import snowflake_login_secret

    port = free_port()
    name = f"snowflake-{label}-{port}"
    log = run_dir / f"{name}-requests.jsonl"
    argv = snowflake_command(port, run_dir / name, "--request-log", str(log))
    processes.start(name, argv, run_dir, env={**os.environ, "PYTHONPATH": str(REPO)}, wait_port=port)
    server = {"host": "127.0.0.1", "port": port, "protocol": "http", "account": "local", "network_timeout": 10}
    try:
        yield {**server, "password": snowflake_login_secret(run_dir / name)}, log
    finally:
        processes.stop(name, run_dir)


class Requests:
    """Reads the emulator's request log from a mark on."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.start = 0

    def mark(self) -> None:
        self.start = len(self._lines())

    def since_mark(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._lines()[self.start :]]

    def _lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []
