"""The local stack's state on disk is its owner's alone: folders 0700, files 0600, secrets private from birth.

The state holds every event (the AWS journal, the Snowflake emulator's databases, spool files), Airflow's
metadata and logs, and the secrets the stack's components share. Another user of the machine must read none
of it: ``private_umask`` makes every file and folder the stack (and every process it starts) creates
owner-only, and ``read_or_create_secret`` writes a secret into a file that was never readable by anyone else.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
from collections.abc import Callable
from pathlib import Path

OWNER_ONLY_UMASK = 0o077


def private_umask() -> None:
    """From now on this process and its children create folders 0700 and files 0600."""
    os.umask(OWNER_ONLY_UMASK)


def private_folder(folder: Path) -> Path:
    """Create folder (and its parents) owner-only; an existing one (made before this rule) is closed to others.

    One exception survives: a folder handed to another group keeps that group's search permission (enter, not
    list; local_stack/datastores.py gives it to the PostgreSQL server's user, which must reach its cluster).
    """
    private_umask()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = folder.stat()
    handed_over = info.st_gid != _primary_gid(info.st_uid)
    # A folder, not a secret: it may predate the umask, and closing it closes what is inside.
    folder.chmod(0o700 | (info.st_mode & 0o010 if handed_over else 0))
    return folder


def _primary_gid(uid: int) -> int:
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return os.getgid()


def read_or_create_secret(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """The secret kept in path, created on first use: O_CREAT|O_EXCL with mode 0600, so never readable by others.

    It is written under a temporary name and linked into place, so whoever comes second (another process of
    the stack starting at the same time) reads the whole secret, never a half-written file.
    """
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(make())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
    finally:
        temporary.unlink()
    return path.read_text().strip()
