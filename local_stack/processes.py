"""Start and stop the local stack's background processes, each tracked by a PID file.

Every process is started in its own session (so a Ctrl-C in the terminal does not reach it), with an
owner-only umask (what it writes is the stack's state: folders 0700, files 0600), and stopped by its PID:
SIGINT first (Airflow and uvicorn shut down cleanly on it), SIGTERM and SIGKILL if it lingers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mobile_events_elt.local_stack.ports import is_listening
from mobile_events_elt.local_stack.private_state import private_umask


class StartError(RuntimeError):
    pass


def start(
    name: str,
    argv: Sequence[str],
    run_dir: Path,
    env: dict[str, str] | None = None,
    wait_port: int | None = None,
    timeout: float = 30.0,
) -> int:
    """Start argv in the background, log to run_dir/NAME.log, record run_dir/NAME.pid; wait for wait_port."""
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_path = run_dir / f"{name}.log"
    # Logs hold what the processes print (statements, keys, record contents): owner-only whatever our umask.
    with open(os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=_prepare_child,
        )
    (run_dir / f"{name}.pid").write_text(str(proc.pid))
    if wait_port is None:
        return proc.pid
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise StartError(f"{name} exited with status {proc.returncode} while starting; log {log_path}:\n{tail}")
        if is_listening(wait_port):
            return proc.pid
        time.sleep(0.1)
    stop_pid(proc.pid)
    raise StartError(f"{name} did not listen on 127.0.0.1:{wait_port} within {timeout:.0f}s; see {log_path}")


def _prepare_child() -> None:
    # A child of a non-interactive shell inherits SIGINT ignored; restore the default handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    private_umask()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone once reaped.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def stop_pid(pid: int, grace: float = 20.0) -> bool:
    """Stop one process by PID; return True if it was running."""
    return bool(stop_pids([pid], grace))


def stop_pids(pids: list[int], grace: float = 20.0) -> list[int]:
    """Stop processes by PID, all at once: SIGINT, then SIGTERM, then SIGKILL for those still running.

    Each was started as the leader of its own session (see ``start``); once the leaders are gone, any
    child they left behind in their process group (an Airflow executor worker, say) is stopped too.
    Returns the PIDs that were running.
    """
    running = [pid for pid in pids if alive(pid)]
    remaining = list(running)
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        for pid in remaining:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while remaining and time.monotonic() < deadline:
            remaining = [pid for pid in remaining if alive(pid)]
            time.sleep(0.1)
        if not remaining:
            break
    else:
        print(f"warning: processes {remaining} survived SIGKILL", file=sys.stderr)
    for pid in running:
        _stop_group(pid)
    return running


def _stop_group(pgid: int) -> None:
    """SIGTERM, then SIGKILL, whatever is left in a stopped leader's process group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.1)


def stop(name: str, run_dir: Path, grace: float = 20.0) -> bool:
    """Stop the process recorded in run_dir/NAME.pid; return True if it was running."""
    return bool(stop_many([name], run_dir, grace))


def stop_many(names: list[str], run_dir: Path, grace: float = 20.0) -> list[str]:
    """Stop the processes recorded in run_dir/NAME.pid together; return the names that were running."""
    pids: dict[int, str] = {}
    for name in names:
        pid_file = run_dir / f"{name}.pid"
        if not pid_file.exists():
            continue
        text = pid_file.read_text().strip()
        if text.isdigit():
            pids[int(text)] = name
    running = stop_pids(list(pids), grace)
    for name in names:
        (run_dir / f"{name}.pid").unlink(missing_ok=True)
    return [pids[pid] for pid in running]
