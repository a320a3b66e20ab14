"""The stack's services, declared once: `make up` starts them from here and docker-compose.yaml is made from here.

A command is a tuple of ``str.format`` templates, filled in per target (local_stack.launch for ``make up``,
local_stack.compose for the Compose file): ``{python}``, ``{airflow}``, ``{host}`` (where servers listen),
``{port[NAME]}`` (local_stack.ports.PORTS), ``{snowflake_data}`` and ``{worker}`` (a Celery worker's name).
The ``celery`` profile is the distributed stack (``make up EXECUTOR=celery``): Redis as the broker,
PostgreSQL as the metadata database and result backend, and Celery workers; the datastores are Debian's
servers locally and official images in Compose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["emulator", "datastore", "airflow", "helper"]
DEFAULT = "default"
CELERY = "celery"


@dataclass(frozen=True)
class Service:
    """One long-running process of the stack (a Celery worker: one per worker started)."""

    name: str
    command: tuple[str, ...]
    role: Role
    profile: str = DEFAULT
    listens: str | None = None  # the local_stack.ports.PORTS name it serves
    health: tuple[str, ...] = ()  # Compose healthcheck test (run inside the container)
    health_start: str = "10s"
    volumes: dict[str, str] = field(default_factory=dict)  # named volume -> path in the container
    depends_on: dict[str, str] = field(default_factory=dict)  # service -> Compose condition
    restart: str = "unless-stopped"
    start_timeout: float = 30.0  # seconds `make up` waits for its port
    image: str | None = None  # datastores only: the official image Compose runs
    environment: dict[str, str] = field(default_factory=dict)  # Compose only: the image's own settings
    local_profile: str | None = None  # when `make up` runs it in another profile than Compose does


def _curl(url: str, fail: bool = True) -> tuple[str, ...]:
    return ("CMD", "curl", *(("--fail",) if fail else ()), "--silent", "--show-error", url)


PROJECT_DIR = "/opt/mobile-events-elt"  # where docker/Dockerfile puts the project
INIT = "airflow-init"  # the Compose one-shot that runs STEPS
_INITIALISED = {INIT: "service_completed_successfully"}

# One-shot steps before Airflow starts: provisioning (both idempotent) and Airflow's metadata database.
STEPS: tuple[tuple[str, ...], ...] = (
    ("{python}", "-m", "mobile_events_elt.aws_infrastructure", "up"),
    ("{python}", "-m", "mobile_events_elt.warehouse", "setup"),
    ("{airflow}", "db", "migrate"),
)

SERVICES: tuple[Service, ...] = (
    Service(
        "aws",
        ("{python}", "-m", "mobile_events_elt.local_stack.aws_emulator", "--host", "{host}", "--port", "{port[aws]}"),
        "emulator",
        listens="aws",
        health=_curl("http://127.0.0.1:{port[aws]}/moto-api/config"),
        start_timeout=300,  # replaying a long journal comes before the port opens
    ),
    Service(
        "snowflake",
        (
            "{python}",
            "-m",
            "mobile_events_elt.local_stack.snowflake_emulator",
            "--host",
            "{host}",
            "--port",
            "{port[snowflake]}",
            "--data-dir",
            "{snowflake_data}",
        ),
        "emulator",
        listens="snowflake",
        # Any HTTP answer (fakesnow has no health route): the database is open before the server listens.
        health=_curl("http://127.0.0.1:{port[snowflake]}/", fail=False),
        health_start="15s",
        volumes={"snowflake-data": f"{PROJECT_DIR}/.local/snowflake"},
    ),
    Service(
        "postgres",
        (),
        "datastore",
        listens="postgres",
        local_profile=CELERY,  # `make up` keeps Airflow's metadata in SQLite, Compose always in PostgreSQL
        image="postgres:17",
        environment={"POSTGRES_USER": "airflow", "POSTGRES_DB": "airflow"},
        health=("CMD", "pg_isready", "-U", "airflow", "-d", "airflow"),
        volumes={"postgres-data": "/var/lib/postgresql/data"},
    ),
    Service(
        "redis",
        (),
        "datastore",
        profile=CELERY,
        listens="redis",
        image="redis:7",
        health=("CMD", "redis-cli", "ping"),
    ),
    Service(
        "airflow-api",
        ("{airflow}", "api-server", "--host", "{host}", "--port", "{port[airflow]}", "--workers", "1"),
        "airflow",
        listens="airflow",
        health=_curl("http://127.0.0.1:{port[airflow]}/api/v2/monitor/health"),
        health_start="60s",
        volumes={"airflow-logs": "/opt/airflow/logs"},
        depends_on={"postgres": "service_healthy", **_INITIALISED},
        start_timeout=120,
    ),
    Service(
        "airflow-scheduler",
        ("{airflow}", "scheduler", "--skip-serve-logs"),
        "airflow",
        health=_curl("http://127.0.0.1:8974/health"),
        health_start="60s",
        volumes={"airflow-logs": "/opt/airflow/logs"},
        depends_on={"postgres": "service_healthy", **_INITIALISED, "airflow-api": "service_healthy"},
    ),
    Service(
        "airflow-dag-processor",
        ("{airflow}", "dag-processor"),
        "airflow",
        health=("CMD", "airflow", "jobs", "check", "--job-type", "DagProcessorJob", "--local"),
        health_start="60s",
        volumes={"airflow-logs": "/opt/airflow/logs"},
        depends_on={"postgres": "service_healthy", **_INITIALISED, "airflow-api": "service_healthy"},
    ),
    Service(
        "airflow-triggerer",
        ("{airflow}", "triggerer", "--skip-serve-logs"),
        "airflow",
        health=("CMD", "airflow", "jobs", "check", "--job-type", "TriggererJob", "--local"),
        health_start="60s",
        volumes={"airflow-logs": "/opt/airflow/logs"},
        depends_on={"postgres": "service_healthy", **_INITIALISED, "airflow-api": "service_healthy"},
    ),
    Service(
        # Its log server is skipped: it would listen on every interface, and the workers write their task
        # logs where the API server reads them (one folder locally, the airflow-logs volume in Compose).
        "airflow-worker",
        ("{airflow}", "celery", "worker", "--celery-hostname", "{worker}@%h", "--skip-serve-logs"),
        "airflow",
        profile=CELERY,
        health=("CMD-SHELL", "airflow celery inspect ping -d {worker}@$$(hostname)"),
        health_start="60s",
        volumes={"airflow-logs": "/opt/airflow/logs"},
        depends_on={"redis": "service_healthy", **_INITIALISED, "airflow-api": "service_healthy"},
    ),
    Service(
        # What Firehose does for a Kinesis-sourced delivery stream, which the AWS emulator never does.
        "firehose",
        ("{python}", "-m", "mobile_events_elt.local_stack", "firehose"),
        "helper",
        volumes={"firehose-state": f"{PROJECT_DIR}/.local/firehose"},
        depends_on={"aws": "service_healthy", **_INITIALISED},
    ),
    Service(
        # Streams at a gentle rate for a day; restarted only when it fails.
        "generator",
        (
            "{python}",
            "-m",
            "mobile_events_elt.data_generation",
            "--sink",
            "kinesis",
            "--rate",
            "5",
            "--duration",
            "86400",
        ),
        "helper",
        restart="on-failure",
        depends_on={"aws": "service_healthy", **_INITIALISED},
    ),
)


def in_profile(profile: str, local: bool = True) -> tuple[Service, ...]:
    """The services the stack of that profile runs, locally or in Compose (the celery profile adds to the default)."""
    chosen = (((s.local_profile or s.profile) if local else s.profile, s) for s in SERVICES)
    return tuple(s for p, s in chosen if p in (DEFAULT, profile))


def service(name: str) -> Service:
    (found,) = [s for s in SERVICES if s.name == name]
    return found


def render(template: tuple[str, ...], values: dict[str, object]) -> list[str]:
    """A command of this module with the target's values filled in."""
    return [token.format(**values) for token in template]
