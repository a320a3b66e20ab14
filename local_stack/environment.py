"""The environment every local-stack process runs with: endpoints, connections and Airflow settings.

This is the only place the local stack's endpoints are written down. Against real AWS and Snowflake
the same variables are set differently (docs/production.md): no code path changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mobile_events_elt.local_stack.ports import HOST, port
from mobile_events_elt.local_stack.private_state import read_or_create_secret

REPO = Path(__file__).resolve().parents[1]
# Everything the local stack writes (PID files, logs, emulator data, Airflow metadata); git ignores it.
STATE = Path(os.environ.get("LOCAL_STACK_STATE", REPO / ".local"))

# What moto accepts; not secrets, and only ever sent to the emulator on 127.0.0.1. (moto checks no
# credentials at all: the local stack is for single-user machines, see docs/security.md.)
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


def snowflake_connection(
    password: str, database: str = "MOBILE_EVENTS", host: str = HOST, port_number: int | None = None
) -> dict[str, object]:
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
            "host": host,
            "port": port_number or port("snowflake"),
            "protocol": "http",
            "network_timeout": 30,
            # dbt's target for this connection: the emulator's overrides (sql/macros/emulator/) apply.
            "dbt_target": "emulator",
        },
    }


def aws_connection(region: str, endpoint: str | None = None) -> dict[str, object]:
    return {"conn_type": "aws", "extra": {"endpoint_url": endpoint or aws_endpoint(), "region_name": region}}


def airflow_settings(airflow_home: str, repo: str, api_host: str, api_port: int) -> dict[str, str]:
    """The Airflow settings every process of the stack shares (local_env; docker-compose.yaml with its paths)."""
    return {
        "AIRFLOW_HOME": airflow_home,
        "AIRFLOW__CORE__DAGS_FOLDER": f"{repo}/dags",
        "AIRFLOW__CORE__PLUGINS_FOLDER": f"{repo}/plugins",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__HOST": api_host,
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": f"{airflow_home}/logs",
    }


def component_settings(execution_api: str, firehose_state: str) -> dict[str, str]:
    """What the long-running stack adds for its Airflow components (beside its secrets and executor)."""
    return {
        "FIREHOSE_STATE_DIR": firehose_state,  # the local Firehose's checkpoints, with the stack's state
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": execution_api,
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
    }


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
            **airflow_settings(str(airflow_home), str(REPO), HOST, port("airflow")),
            "AIRFLOW_CONN_SNOWFLAKE_DEFAULT": json.dumps(snowflake_connection(snowflake_password)),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws_connection(region)),
            # Where `make docs` writes dbt's docs site and the health page serves it from: with the stack's state.
            "WAREHOUSE_DBT_DOCS_DIR": str(airflow_home.parent / "dbt-docs"),
            # deploy/ holds airflow_local_settings.py: the scheduler preloads dbt for the tasks it forks.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO), str(REPO / "deploy"), os.environ.get("PYTHONPATH")])
            ),
        }
    )
    return env
