"""The health page's cache: one reading per window within its time."""

from __future__ import annotations

import asyncio
from typing import Any

from warehouse import health


def test_cache_reads_once_per_window_within_its_time() -> None:
    calls: list[str] = []

    def read(window: str) -> Any:
        calls.append(window)
        return window

    cache = health.HealthCache(read, ttl=3600)
    assert [asyncio.run(cache.get(window)) for window in ("day", "day", "hour")] == ["day", "day", "hour"]
    assert calls == ["day", "hour"]
    assert asyncio.run(health.HealthCache(read, ttl=0).get("day")) == "day" and calls == ["day", "hour", "day"]
