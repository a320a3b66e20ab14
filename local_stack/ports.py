"""Port settings for the local stack, and a clear error when a port is taken."""

from __future__ import annotations

import os
import socket

HOST = "127.0.0.1"

# name -> (environment variable, default port). The defaults are part of the interface: docs rely on them.
PORTS = {
    "aws": ("AWS_EMULATOR_PORT", 4566),
    "snowflake": ("SNOWFLAKE_EMULATOR_PORT", 8765),
    "airflow": ("AIRFLOW_PORT", 8080),
    # The distributed stack's datastores (make up EXECUTOR=celery), away from a system server's usual port.
    "postgres": ("LOCAL_POSTGRES_PORT", 15432),
    "redis": ("LOCAL_REDIS_PORT", 16379),
}
# Where each server listens inside its container (Compose publishes none of the datastores).
CONTAINER_PORTS = {"aws": 4566, "snowflake": 8765, "airflow": 8080, "postgres": 5432, "redis": 6379}


class PortInUseError(RuntimeError):
    pass


def port(name: str) -> int:
    env, default = PORTS[name]
    value = os.environ.get(env, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"{env}={value!r} is not a TCP port number")
    return int(value)


def ensure_free(name: str, number: int, host: str = HOST) -> None:
    """Raise PortInUseError naming the variable that moves the service, if the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves do, so that a port in TIME_WAIT after a restart counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, number))
        except OSError:
            env, _ = PORTS.get(name, ("", 0))
            hint = f"; stop what uses it (`make down`?) or set {env} to another port" if env else ""
            raise PortInUseError(f"{name}: port {host}:{number} is already in use{hint}") from None


def is_listening(number: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, number)) == 0


def free_port() -> int:
    """An ephemeral loopback port the OS says is free now (for tests that run their own servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
