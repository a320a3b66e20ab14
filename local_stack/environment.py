"""The environment every local-stack process runs with: endpoints, connections and Airflow settings.

This is the only place the local stack's endpoints are written down. Against real AWS and Snowflake
the same variables are set differently (see README): no code path changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from local_stack.ports import HOST, port
from local_stack.private_state import read_or_create_secret

REPO = Path(__file__).resolve().parents[1]
# Everything the local stack writes (PID files, logs, emulator data, Airflow metadata); git ignores it.
STATE = Path(os.environ.get("LOCAL_STACK_STATE", REPO / ".local"))

# What moto accepts; not secrets, and only ever sent to the emulator on 127.0.0.1. (moto checks no
# credentials at all: the local stack is for single-user machines, see the README.)
EMULATOR_AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # nosec B105


def aws_endpoint() -> str:
    return f"http://{HOST}:{port('aws')}"


# The Snowflake emulator's login secret, when it is given rather than kept in the emulator's data folder
# (docker-compose.yaml: the emulator and Airflow run in containers that share no folder).
SNOWFLAKE_SECRET_ENV = "SNOWFLAKE_EMULATOR_SECRET"  # noqa: S105  # nosec B105  # a variable name
SNOWFLAKE_SECRET_FILE = "login-secret"  # noqa: S105  # nosec B105  # a file name


def snowflake_login_secret(data_dir: Path) -> str:
    """The password the Snowflake emulator serving data_dir accepts, and no other.

    $SNOWFLAKE_EMULATOR_SECRET when set; otherwise the stack's own, made at first use (by the emulator or by
    whoever writes its connection first) in data_dir/login-secret, mode 0600.
    """
    return os.environ.get(SNOWFLAKE_SECRET_ENV) or read_or_create_secret(data_dir / SNOWFLAKE_SECRET_FILE)


def snowflake_connection(password: str, database: str = "MOBILE_EVENTS") -> dict[str, object]:
    """The Airflow connection for the Snowflake emulator (any account and user; the stack's login secret)."""
    return {
        "conn_type": "snowflake",
        "login": "local",
        "password": password,
        "schema": "RAW",
        "extra": {
            "account": "local",
            "database": database,
            "warehouse": "LOCAL_WH",
            "host": HOST,
            "port": port("snowflake"),
            "protocol": "http",
            "network_timeout": 30,
            # dbt's target for this connection: the emulator's overrides (sql/macros/emulator/) apply.
            "dbt_target": "emulator",
        },
    }


def aws_connection(region: str) -> dict[str, object]:
    return {"conn_type": "aws", "extra": {"endpoint_url": aws_endpoint(), "region_name": region}}


def local_env(airflow_home: Path, region: str = "us-east-1", snowflake_data: Path | None = None) -> dict[str, str]:
    """The environment of every process of a local stack whose state is airflow_home's parent folder.

    snowflake_data is the Snowflake emulator's --data-dir (default: "snowflake" beside airflow_home, as
    ``make up``, the demo and the soak lay their state out); its login secret goes into the connection.
    """
    snowflake_password = snowflake_login_secret(snowflake_data or airflow_home.parent / "snowflake")
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
            "AIRFLOW_CONN_SNOWFLAKE_DEFAULT": json.dumps(snowflake_connection(snowflake_password)),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws_connection(region)),
            # deploy/ holds airflow_local_settings.py: the scheduler preloads dbt for the tasks it forks.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO), str(REPO / "deploy"), os.environ.get("PYTHONPATH")])
            ),
        }
    )
    return env
