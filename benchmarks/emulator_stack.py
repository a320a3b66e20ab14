"""The two emulators a warehouse benchmark runs on, shared by bench_warehouse.py and bench_backlog.py.

Started on free loopback ports with their data in a scratch folder, stopped by PID at the end, and the
folder removed (a million-event run leaves over a gigabyte) unless the caller keeps it to look at. The
environment is pointed at them, so boto3 and the loader's settings reach the emulators, not a cloud.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mobile_events_elt.local_stack import processes  # noqa: E402
from mobile_events_elt.local_stack.environment import (  # noqa: E402
    EMULATOR_AWS_CREDENTIALS,
    SNOWFLAKE_SECRET_ENV,
    snowflake_login_secret,
)
from mobile_events_elt.local_stack.ports import free_port  # noqa: E402


@dataclass(frozen=True)
class Emulators:
    run_dir: Path
    snowflake_port: int
    snowflake_argv: list[str]
    env: dict[str, str]

    def restart_snowflake(self) -> int:
        """Restart the Snowflake emulator on the same data (so a run inherits no caches); its new PID."""
        processes.stop("snowflake", self.run_dir)
        return processes.start("snowflake", self.snowflake_argv, self.run_dir, self.env, self.snowflake_port)


@contextlib.contextmanager
def emulators(prefix: str, keep: bool = False, request_log: bool = False) -> Iterator[Emulators]:
    """Start the AWS and Snowflake emulators; stop them by PID and remove their data afterwards. With
    ``request_log`` the Snowflake emulator writes one line per login and statement to
    ``<run_dir>/snowflake-requests.jsonl``."""
    run_dir = Path(tempfile.mkdtemp(prefix=prefix))
    aws_port, sf_port = free_port(), free_port()
    env = {**os.environ, **EMULATOR_AWS_CREDENTIALS, "PYTHONPATH": str(REPO)}
    py = sys.executable
    sf_argv = [
        py,
        "-m",
        "mobile_events_elt.local_stack.snowflake_emulator",
        "--port",
        str(sf_port),
        "--data-dir",
        str(run_dir / "sf"),
    ]
    if request_log:
        sf_argv += ["--request-log", str(run_dir / "snowflake-requests.jsonl")]
    try:
        processes.start(
            "aws",
            [py, "-m", "mobile_events_elt.local_stack.aws_emulator", "--port", str(aws_port)],
            run_dir,
            env,
            aws_port,
        )
        processes.start("snowflake", sf_argv, run_dir, env, sf_port)
        os.environ[SNOWFLAKE_SECRET_ENV] = snowflake_login_secret(run_dir / "sf")
        os.environ.update(EMULATOR_AWS_CREDENTIALS, AWS_ENDPOINT_URL=f"http://127.0.0.1:{aws_port}")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        yield Emulators(run_dir, sf_port, sf_argv, env)
    finally:
        processes.stop("aws", run_dir)
        processes.stop("snowflake", run_dir)
        if keep:
            print(f"emulator data kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
