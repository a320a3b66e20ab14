"""What every resource offers the provisioning steps: observed state, the changes `up` would make, removal.

A Change carries the function that performs it, computed from state observed just before, so `plan` and
`up` cannot disagree: `plan` prints the changes, `up` prints and runs them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mobile_events_elt.aws_infrastructure.errors import InfrastructureError

SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "skip": "!"}


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    action: str
    detail: str = ""
    run: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{SYMBOLS[self.action]} {self.action} {self.kind} {self.name}{detail}"


class Resource(ABC):
    kind: str
    name: str

    @abstractmethod
    def exists(self) -> bool: ...

    @abstractmethod
    def changes(self) -> list[Change]:
        """What `up` must do so this resource matches the config; empty when it already does."""

    @abstractmethod
    def removal(self, force: bool) -> Change | None:
        """What `down` does (None when there is nothing to remove); may refuse with UsageError."""

    def status(self) -> dict[str, Any]:
        return {"exists": self.exists()}

    def change(self, action: str, detail: str, run: Callable[[], None] | None) -> Change:
        return Change(self.kind, self.name, action, detail, run)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 600.0, delay: float = 2.0) -> None:
    """Poll until check() is true: real AWS creates streams and delivery streams asynchronously."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise InfrastructureError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(delay)
