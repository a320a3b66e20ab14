"""`make up` / `make down` / `make status`: the long-running local stack, started from local_stack/services.py.

Every process is recorded by PID under .local/run, every socket binds 127.0.0.1, and `down` stops them all;
what runs, what survives `down` and the environment switches (``ELT_TRIGGER``, ``LOCAL_STACK_GENERATOR``,
``EXECUTOR=celery``) are in docs/local-stack.md and docs/distributed-stack.md.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from mobile_events_elt.local_stack import datastores, processes, services, stack
from mobile_events_elt.local_stack.environment import STATE, component_settings, local_env
from mobile_events_elt.local_stack.ports import HOST, PORTS, ensure_free, is_listening, port
from mobile_events_elt.local_stack.private_state import private_folder, read_or_create_secret
from mobile_events_elt.local_stack.steps import StageFailed, run

RUN_DIR = STATE / "run"
AIRFLOW_HOME = STATE / "airflow"
DAG_ID = "mobile_events_elt"
WORKER_ENV = "LOCAL_STACK_WORKER"  # a Celery worker's name, for local_stack.worker_name


def _fernet_key() -> str:
    """The key Airflow encrypts connections, variables and trigger arguments with, shared by every component.

    A stack whose airflow.cfg predates this file keeps the key Airflow wrote there, so what it encrypted
    stays readable.
    """
    config = configparser.ConfigParser(interpolation=None)
    config.read(AIRFLOW_HOME / "airflow.cfg")
    existing = config.get("core", "fernet_key", fallback="")
    if existing:
        return read_or_create_secret(AIRFLOW_HOME / "fernet_key", lambda: existing)
    from cryptography.fernet import Fernet

    return read_or_create_secret(AIRFLOW_HOME / "fernet_key", lambda: Fernet.generate_key().decode())


def _env(executor: str = "local") -> dict[str, str]:
    env = local_env(AIRFLOW_HOME)
    # The API server signs the tokens task processes use, and the components share one Fernet key: both
    # are made here at first use (owner-only from birth), kept out of the repository, and never leave the machine.
    env["AIRFLOW__API_AUTH__JWT_SECRET"] = read_or_create_secret(AIRFLOW_HOME / "jwt_secret")
    env["AIRFLOW__CORE__FERNET_KEY"] = _fernet_key()
    env.update(component_settings(f"http://{HOST}:{port('airflow')}/execution/", str(STATE / "firehose")))
    env["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
    if executor == "celery":
        env.update(datastores.local_celery_settings(STATE))
        # Each task names its worker (worker-N@host) as its hostname: in the UI, the API and its log.
        env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = "mobile_events_elt.local_stack.worker_name.hostname"
    return env


def _event_wiring(env: dict[str, str]) -> dict[str, str]:
    """The SQS queue and SNS topic `aws_infrastructure up` made, for the ELT DAG's trigger and alerts."""
    result = subprocess.run(
        [sys.executable, "-m", "mobile_events_elt.aws_infrastructure", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise processes.StartError(f"aws_infrastructure status failed: {result.stderr.strip()[-500:]}")
    status = json.loads(result.stdout)
    wiring = {}
    # ELT_TRIGGER=schedule runs the ELT DAG on its cron schedule alone (the freshness benchmark compares both).
    if status.get("queue_url") and os.environ.get("ELT_TRIGGER", "events") == "events":
        wiring["ELT_SQS_QUEUE_URL"] = status["queue_url"]
    if status.get("topic_arn"):
        wiring["ELT_ALERTS_TOPIC_ARN"] = status["topic_arn"]
    return wiring


def up(executor: str = "local", workers: int = 2) -> int:
    """Start the stack of local_stack.services' default profile, or its celery profile with that many workers."""
    private_folder(STATE)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    logs = STATE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    profile = services.CELERY if executor == "celery" else services.DEFAULT
    declared = services.in_profile(profile)
    values = stack.local_values(STATE / "snowflake")
    try:
        if executor == "celery":
            datastores.check_installed()
        for service in declared:
            if service.listens:
                ensure_free(service.listens, port(service.listens))
        env = _env(executor)
        print("==> starting the AWS and Snowflake emulators")
        stack.start_emulators(RUN_DIR, STATE / "snowflake", env)
        if executor == "celery":
            print("==> starting Redis (the Celery broker) and PostgreSQL (metadata database, result backend)")
            datastores.start_redis(STATE, RUN_DIR)
            datastores.start_postgres(STATE, RUN_DIR, logs / "postgres-init.log")
            datastores.create_database(STATE)
        print("==> provisioning AWS and Snowflake; preparing Airflow's metadata database")
        for step in services.STEPS:
            run(services.render(step, values), env, logs / "provision.log")
        env.update(_event_wiring(env))
        print(f"==> starting Airflow ({', '.join(s.name for s in declared if s.role == 'airflow')})")
        for service in declared:
            if service.role == "airflow" and service.name == "airflow-worker":
                for number in range(1, workers + 1):
                    name = f"worker-{number}"
                    stack.start_service(
                        service, RUN_DIR, {**env, WORKER_ENV: name}, {**values, "worker": name}, name=f"airflow-{name}"
                    )
            elif service.role == "airflow":
                stack.start_service(service, RUN_DIR, env, values)
        print("==> starting the local Firehose delivery and a generator streaming at a gentle rate")
        for service in declared:
            if service.role == "helper" and not (service.name == "generator" and _quiet()):
                stack.start_service(service, RUN_DIR, env, values)
        _unpause()
    except (processes.StartError, StageFailed, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("stopping what was started ...", file=sys.stderr)
        stack.stop_all(RUN_DIR)
        return 1
    celery = (
        f"""
  Celery workers           {workers} (worker-1 .. worker-{workers}), broker Redis {HOST}:{port("redis")}
  PostgreSQL               {HOST}:{port("postgres")} (metadata database and result backend)"""
        if executor == "celery"
        else ""
    )
    print(
        f"""
The local stack is up.
  Airflow UI and REST API  http://{HOST}:{port("airflow")}/   (no login: any local user is admin)
  AWS emulator             http://{HOST}:{port("aws")}        (aws --endpoint-url http://{HOST}:{port("aws")} ...)
  Snowflake emulator       {HOST}:{port("snowflake")}, protocol http{celery}
  Logs                     {RUN_DIR}/*.log, {AIRFLOW_HOME}/logs
Stop it with: make down"""
    )
    return 0


def _quiet() -> bool:
    """LOCAL_STACK_GENERATOR=off leaves the background generator out (a test then knows every event it sent)."""
    return os.environ.get("LOCAL_STACK_GENERATOR", "on") == "off"


def _unpause(timeout: float = 120.0) -> None:
    """Unpause the ELT DAG through the REST API once the DAG processor has parsed it.

    (`airflow dags unpause` exits 0 with "No paused DAGs were found" when the DAG is not parsed yet.)
    """
    url = f"http://{HOST}:{port('airflow')}/api/v2/dags/{DAG_ID}"
    body = json.dumps({"is_paused": False}).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        request = urllib.request.Request(url, data=body, method="PATCH", headers={"Content-Type": "application/json"})
        try:
            # A loopback http URL built above from our own port setting, never user input.
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
                if not json.loads(response.read())["is_paused"]:
                    print(f"==> {DAG_ID} unpaused")
                    return
        except urllib.error.HTTPError as exc:
            if exc.code != 404:  # 404: not parsed yet
                raise processes.StartError(f"unpausing {DAG_ID}: HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError:
            pass
        time.sleep(2)
    log = RUN_DIR / "airflow-dag-processor.log"
    raise processes.StartError(f"{DAG_ID} was not parsed within {timeout:.0f}s; see {log}")


def down() -> int:
    stopped = stack.stop_all(RUN_DIR)
    print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    if STATE.exists():
        datastores.close_state(STATE)  # the PostgreSQL server's user may enter it no more
    still = [name for name in PORTS if is_listening(port(name))]
    if still:
        print(f"warning: still listening: {', '.join(still)} (not started by make up?)", file=sys.stderr)
        return 1
    return 0


def status() -> int:
    private_folder(STATE)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    print("\n".join(stack.describe(RUN_DIR)))
    return 0
