"""The emulators as one unit: start them (ports checked first), stop them by PID, say what runs."""

from __future__ import annotations

import sys
from pathlib import Path

from mobile_events_elt.local_stack import processes, services
from mobile_events_elt.local_stack.aws_journal import JOURNAL_ENV
from mobile_events_elt.local_stack.ports import HOST, PORTS, ensure_free, is_listening, port
from mobile_events_elt.local_stack.steps import airflow_cli

EMULATORS = ("aws", "snowflake")
API_SERVER = "airflow-api"  # the name local_stack.up starts it under
# Stopped last, with the emulators: what every other process keeps its state in.
SERVERS = (*EMULATORS, *(s.name for s in services.SERVICES if s.role == "datastore"))


def start_emulators(run_dir: Path, snowflake_data: Path, env: dict[str, str], aws_journal: Path | None = None) -> None:
    """Start both emulators, their ports checked first."""
    for name in EMULATORS:
        ensure_free(name, port(name))
    for name in EMULATORS:
        start_emulator(name, run_dir, snowflake_data, env, aws_journal)


def start_emulator(
    name: str, run_dir: Path, snowflake_data: Path, env: dict[str, str], aws_journal: Path | None = None
) -> None:
    """Start one emulator (also to restart it after a crash: both keep their state on disk).

    The AWS emulator journals its state to ``aws_journal`` (default: aws-journal.jsonl beside the Snowflake
    data, i.e. in the caller's state folder) and replays it at start, so a restart keeps streams, records and
    objects; a fresh state folder gives a fresh journal. The journal goes by environment
    (``AWS_EMULATOR_JOURNAL``, the launcher's default for ``--journal``) so the command stays the one
    local_stack.services declares. The Snowflake emulator's database lives in ``snowflake_data``."""
    if name == "aws":
        env = {**env, JOURNAL_ENV: str(aws_journal or snowflake_data.parent / "aws-journal.jsonl")}
    start_service(services.service(name), run_dir, env, local_values(snowflake_data))


def local_values(snowflake_data: Path, worker: str = "") -> dict[str, object]:
    """What local_stack.services' command templates become on this machine."""
    return {
        "python": sys.executable,
        "airflow": airflow_cli(),
        "host": HOST,
        "port": {name: port(name) for name in PORTS},
        "snowflake_data": str(snowflake_data),
        "worker": worker,
    }


def start_service(
    service: services.Service, run_dir: Path, env: dict[str, str], values: dict[str, object], name: str = ""
) -> int:
    """Start a declared service in the background (under name, default its own), waiting for its port."""
    return processes.start(
        name or service.name,
        services.render(service.command, values),
        run_dir,
        env=env,
        wait_port=port(service.listens) if service.listens else None,
        timeout=service.start_timeout,
    )


def stop_all(run_dir: Path) -> list[str]:
    """Stop every process with a PID file in run_dir, in three waves: Airflow's scheduler, DAG processor and
    triggerer and Celery workers with the helpers; then the API server (tasks still finishing report to it
    through the execution API; stopped with it, they retry a dead server until the scheduler's grace runs
    out); then the emulators and datastores (so nothing loses its database or endpoint while it is shutting
    down)."""
    names = [p.stem for p in sorted(run_dir.glob("*.pid"))]
    waves = [[n for n in names if n not in SERVERS and n != API_SERVER], [API_SERVER], list(SERVERS)]
    return [stopped for wave in waves for stopped in processes.stop_many([n for n in wave if n in names], run_dir)]


def describe(run_dir: Path) -> list[str]:
    lines = []
    for pid_file in sorted(run_dir.glob("*.pid")):
        pid = int(pid_file.read_text().strip() or 0)
        state = "running" if pid and processes.alive(pid) else "not running (stale PID file)"
        lines.append(f"{pid_file.stem:<12} pid {pid:<8} {state}")
    for name in PORTS:
        number = port(name)
        lines.append(f"{name:<12} {HOST}:{number:<6} {'listening' if is_listening(number) else 'closed'}")
    return lines
