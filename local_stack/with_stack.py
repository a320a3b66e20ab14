"""``mobile-events-stack run -- COMMAND``: a command with the running local stack's environment.

The stack's connections and endpoints (``AIRFLOW_CONN_SNOWFLAKE_DEFAULT`` with the emulator's login,
``AIRFLOW_CONN_AWS_DEFAULT``, ports) exist only in the environment its processes get from
local_stack.environment; a plain shell has none of them. This gives a command that same environment, so
``mobile-events-warehouse summary`` or ``report`` work against the stack ``make up`` started, without
printing any of it. On the distributed stack (`make up EXECUTOR=celery`) the command also gets its metadata
database, broker and executor, so `airflow` commands (`airflow celery inspect ...`) reach them.
"""

from __future__ import annotations

import subprocess
import sys

from mobile_events_elt.local_stack import datastores
from mobile_events_elt.local_stack.environment import STATE, local_env
from mobile_events_elt.local_stack.ports import is_listening, port


def run_with_stack_env(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("error: no command given: mobile-events-stack run -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    down = [name for name in ("aws", "snowflake") if not is_listening(port(name))]
    if down:
        print(f"error: the local stack is not running ({', '.join(down)} not listening): run make up", file=sys.stderr)
        return 2
    env = local_env(STATE / "airflow")
    if (STATE / "run" / "postgres.pid").exists():  # the distributed stack: its database, broker and executor
        env.update(datastores.local_celery_settings(STATE))
    return subprocess.run(argv, env=env, check=False).returncode
