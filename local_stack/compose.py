"""docker-compose.yaml, generated from local_stack/services.py: ``mobile-events-stack compose --write``.

The services, their commands and settings are the ones `make up` starts, with service names for
127.0.0.1, the image's paths and the containers' ports; the file is never edited by hand
(tests/unit/local_stack/test_docker_compose.py checks it is current and valid Compose).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

from mobile_events_elt.local_stack import datastores, services
from mobile_events_elt.local_stack.environment import (
    EMULATOR_AWS_CREDENTIALS,
    REPO,
    SNOWFLAKE_SECRET_ENV,
    airflow_settings,
    aws_connection,
    component_settings,
    snowflake_connection,
)
from mobile_events_elt.local_stack.ports import CONTAINER_PORTS, PORTS
from mobile_events_elt.local_stack.services import PROJECT_DIR, Service

COMPOSE_FILE = REPO / "docker-compose.yaml"
IMAGE = "mobile-events-elt:airflow-3.3.2-python3.11"
AIRFLOW_HOME = "/opt/airflow"  # the official image's
ALL_INTERFACES = "0.0.0.0"  # noqa: S104  # nosec B104  # inside a container, for the other containers
REGION = "us-east-1"
WORKERS = 2  # Celery workers of the celery profile (docker compose up --scale airflow-worker=N for more)


def _required(variable: str, hint: str) -> str:
    return f"${{{variable}:?set {variable}{hint}}}"


SNOWFLAKE_SECRET = _required(SNOWFLAKE_SECRET_ENV, ", e.g. to the output of openssl rand -hex 32")
POSTGRES_PASSWORD = _required("POSTGRES_PASSWORD", " (URL-safe characters)")
JWT_SECRET = _required("AIRFLOW_JWT_SECRET", ", e.g. to the output of openssl rand -hex 32")
FERNET_KEY = _required("AIRFLOW_FERNET_KEY", " to a Fernet key (see the top of this file)")

HEADER = """\
# GENERATED from local_stack/services.py by `mobile-events-stack compose --write`: do not edit by hand.
#
# The long-running local stack of `make up`, in containers, for people who have Docker.
#
#   export AIRFLOW_JWT_SECRET="$(openssl rand -hex 32)"   # signs Airflow's task tokens; required
#   export AIRFLOW_FERNET_KEY="$(python -c 'import cryptography.fernet as f; print(f.Fernet.generate_key().decode())')"
#   export POSTGRES_PASSWORD="$(openssl rand -hex 16)"    # Airflow's metadata database; required, URL-safe
#   export SNOWFLAKE_EMULATOR_SECRET="$(openssl rand -hex 32)"  # the Snowflake emulator's login; required
#   docker compose up --build -d
#   docker compose logs airflow-api | grep Password       # the generated password of each Airflow user
#   open http://127.0.0.1:8080                            # Airflow UI: log in as admin
#   docker compose down                                   # add -v to drop Airflow's and Snowflake's data
#
# The distributed stack (`make up EXECUTOR=celery`): the celery profile adds Redis (the broker) and Celery
# workers; PostgreSQL is the metadata database and result backend in both:
#
#   AIRFLOW_EXECUTOR=CeleryExecutor docker compose --profile celery up --build -d --scale airflow-worker=2
#
# Redis publishes no port and asks for no password: only the containers of this project's network reach it.
#
# The secrets can also go in a .env file beside this file (keep it out of git). The file holds no secret
# and no default for one. The AWS keys below are the AWS emulator's dummy values
# (local_stack/environment.py), accepted by the emulator and nothing else.
#
# Unlike make up (a single-user machine's stack, where every local user is Airflow admin), Airflow here
# asks for a login: the simple auth manager with the users of AIRFLOW_USERS (default admin:admin, i.e.
# one user "admin" with the admin role; "name:role,..." with roles viewer, user, op, admin). The API
# server generates each user's password at its first start and prints it to its log.
#
# Inside the network every server listens on 0.0.0.0; on the host, ports are published on the loopback
# only and move with the local stack's variables AWS_EMULATOR_PORT, SNOWFLAKE_EMULATOR_PORT and AIRFLOW_PORT.
#
# The AWS emulator keeps nothing across a restart: after restarting the aws service, provision again with
# `docker compose up -d airflow-init` (idempotent). Airflow's metadata, task logs, the Snowflake
# emulator's database and the Firehose checkpoints are named volumes.
"""

VALUES: dict[str, object] = {
    "python": "python",
    "airflow": "airflow",
    "host": ALL_INTERFACES,
    "port": CONTAINER_PORTS,
    "snowflake_data": f"{PROJECT_DIR}/.local/snowflake",
    "worker": "worker",
}
# Processes that are not Airflow components: the image's entrypoint would otherwise wait for the metadata
# database before starting them.
HELPER_ONLY = {"CONNECTION_CHECK_MAX_COUNT": "0"}


def pipeline_env() -> dict[str, str]:
    """local_stack.environment.local_env, for containers: service names, the image's paths, a login."""
    aws = f"http://aws:{CONTAINER_PORTS['aws']}"
    snowflake = snowflake_connection(SNOWFLAKE_SECRET, host="snowflake", port_number=CONTAINER_PORTS["snowflake"])
    env = {
        **EMULATOR_AWS_CREDENTIALS,
        "AWS_ENDPOINT_URL": aws,
        "AWS_DEFAULT_REGION": REGION,
        **airflow_settings(AIRFLOW_HOME, PROJECT_DIR, ALL_INTERFACES, CONTAINER_PORTS["airflow"]),
        # A login is required (make up lets every local caller in as admin instead).
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "${AIRFLOW_USERS:-admin:admin}",
        # The Snowflake emulator refuses any other password; its service reads it from here too.
        SNOWFLAKE_SECRET_ENV: SNOWFLAKE_SECRET,
        "AIRFLOW_CONN_SNOWFLAKE_DEFAULT": json.dumps(snowflake),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws_connection(REGION, aws)),
        "PYTHONPATH": PROJECT_DIR,
    }
    return env


def airflow_env() -> dict[str, str]:
    """What `make up` adds for the Airflow components, the metadata database and Celery's settings."""
    database = f"{datastores.ROLE}:{POSTGRES_PASSWORD}@postgres:{CONTAINER_PORTS['postgres']}/{datastores.DATABASE}"
    return {
        **pipeline_env(),
        "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
        # One key for every component (each container would otherwise generate its own).
        "AIRFLOW__CORE__FERNET_KEY": FERNET_KEY,
        **component_settings(
            f"http://airflow-api:{CONTAINER_PORTS['airflow']}/execution/", f"{PROJECT_DIR}/.local/firehose"
        ),
        **datastores.celery_settings(
            database, f"redis://redis:{CONTAINER_PORTS['redis']}/0", "${AIRFLOW_EXECUTOR:-LocalExecutor}"
        ),
        # What make up reads back from `aws_infrastructure status` after provisioning (names from
        # config/aws.json; the emulator's account; queue URLs built from the endpoint it is called at).
        "ELT_SQS_QUEUE_URL": "http://aws:4566/123456789012/mobile-events-to-s3-landing-objects",
        "ELT_ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:mobile-events-to-s3-alerts",
        # make up unpauses mobile_events_elt once parsed; here every DAG starts unpaused (catchup is off;
        # the other DAGs have no schedule and run only when triggered).
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # The scheduler's health endpoint, for its healthcheck only: loopback inside its container.
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
    }


def _project_image() -> dict[str, Any]:
    # The production set plus the emulators, which run from this image too.
    build = {"context": ".", "dockerfile": "docker/Dockerfile", "args": {"REQUIREMENT_SET": "local"}}
    return {"image": IMAGE, "build": build}


def _healthcheck(service: Service) -> dict[str, Any]:
    return {
        "test": services.render(service.health, VALUES),
        "interval": "15s",
        "timeout": "10s",
        "retries": 5,
        "start_period": service.health_start,
    }


def _published(service: Service) -> list[str]:
    if service.role == "datastore" or not service.listens:
        return []
    variable, _ = PORTS[service.listens]
    inside = CONTAINER_PORTS[service.listens]
    return [f"127.0.0.1:${{{variable}:-{inside}}}:{inside}"]


def compose_service(service: Service) -> dict[str, Any]:
    """One service of the Compose file."""
    out: dict[str, Any] = {}
    if service.image:
        out["image"] = service.image
        environment = dict(service.environment)
        if service.name == "postgres":
            environment["POSTGRES_PASSWORD"] = POSTGRES_PASSWORD
        if environment:
            out["environment"] = environment
    else:
        out.update(_project_image())
        out["command"] = services.render(service.command, VALUES)
        out["environment"] = airflow_env() if service.role == "airflow" else {**pipeline_env(), **HELPER_ONLY}
    if service.profile != services.DEFAULT:
        out["profiles"] = [service.profile]
    if service.name == "airflow-worker":
        out["deploy"] = {"replicas": WORKERS}
    if ports := _published(service):
        out["ports"] = ports
    if service.volumes:
        out["volumes"] = [f"{volume}:{path}" for volume, path in service.volumes.items()]
    if service.health:
        out["healthcheck"] = _healthcheck(service)
    out["restart"] = service.restart
    if service.depends_on:
        out["depends_on"] = {name: {"condition": condition} for name, condition in service.depends_on.items()}
    return out


def init_service() -> dict[str, Any]:
    """The one-shot that runs services.STEPS (provisioning, Airflow's database) before the components."""
    script = "\n".join(["set -euo pipefail", *(" ".join(services.render(s, VALUES)) for s in services.STEPS)])
    return {
        **_project_image(),
        "command": ["bash", "-c", script + "\n"],
        "environment": airflow_env(),
        "restart": "no",
        "depends_on": {name: {"condition": "service_healthy"} for name in ("postgres", "aws", "snowflake")},
    }


def document() -> dict[str, Any]:
    """The whole Compose file as data."""
    declared = services.in_profile(services.CELERY, local=False)
    out: dict[str, Any] = {}
    for service in declared:
        if service.name == "airflow-api":
            out[services.INIT] = init_service()
        out[service.name] = compose_service(service)
    volumes = sorted({volume for s in declared for volume in s.volumes})
    return {"name": "mobile-events-elt", "services": out, "volumes": {volume: None for volume in volumes}}


def render_file() -> str:
    body = yaml.safe_dump(document(), sort_keys=False, width=10_000, default_flow_style=False)
    return HEADER + body.replace(": null\n", ":\n")


def main(write: bool = False) -> int:
    text = render_file()
    if write:
        COMPOSE_FILE.write_text(text)
        print(f"wrote {COMPOSE_FILE}")
    else:
        sys.stdout.write(text)
    return 0
