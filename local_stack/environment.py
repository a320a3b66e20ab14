"""The environment every local-stack process runs with: endpoints, connections and Airflow settings.

This is the only place the local stack's endpoints are written down. Against real AWS and Snowflake
the same variables are set differently (see README): no code path changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from local_stack.ports import HOST, port

REPO = Path(__file__).resolve().parents[1]
# Everything the local stack writes (PID files, logs, emulator data, Airflow metadata); git ignores it.
STATE = Path(os.environ.get("LOCAL_STACK_STATE", REPO / ".local"))

# What moto accepts; not secrets, and only ever sent to the emulator on 127.0.0.1. (The Snowflake
# emulator below accepts any user and password.)
EMULATOR_AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # nosec B105


def aws_endpoint() -> str:
    return f"http://{HOST}:{port('aws')}"


def snowflake_connection(database: str = "MOBILE_EVENTS") -> dict[str, object]:
    """The Airflow connection for the Snowflake emulator (any account, user and password are accepted)."""
    return {
        "conn_type": "snowflake",
        "login": "local",
        "password": "local",  # nosec B105
        "schema": "RAW",
        "extra": {
            "account": "local",
            "database": database,
            "warehouse": "LOCAL_WH",
            "host": HOST,
            "port": port("snowflake"),
            "protocol": "http",
            "network_timeout": 30,
        },
    }


def aws_connection(region: str) -> dict[str, object]:
    return {"conn_type": "aws", "extra": {"endpoint_url": aws_endpoint(), "region_name": region}}


def local_env(airflow_home: Path, region: str = "us-east-1") -> dict[str, str]:
    env = dict(os.environ)
    env.update(EMULATOR_AWS_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint(),
            "AWS_DEFAULT_REGION": region,
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(port("airflow")),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
            "AIRFLOW_CONN_SNOWFLAKE_DEFAULT": json.dumps(snowflake_connection()),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws_connection(region)),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
    )
    return env
