"""The hostname Airflow records for a task: the Celery worker's name on the distributed local stack.

Two workers on one machine share its hostname; `make up EXECUTOR=celery` sets each worker's name in
``LOCAL_STACK_WORKER`` and points ``[core] hostname_callable`` here, so a task instance says which worker
ran it (in the UI, the REST API and, as the task starts, the first lines of its log).
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def hostname() -> str:
    """``worker-N@host`` in a named worker's processes (said in the log too), the host's name anywhere else."""
    host = socket.getfqdn()
    worker = os.environ.get("LOCAL_STACK_WORKER")
    if not worker:
        return host
    log.info("Celery worker: %s@%s", worker, host)
    return f"{worker}@{host}"
