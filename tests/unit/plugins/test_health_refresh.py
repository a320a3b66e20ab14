"""The health page cannot stall the API server that serves it: its route is a coroutine that takes no thread
from the server's shared pool, readings run one at a time on the page's own reader thread, and while one is
slow every request gets the last page at once.

The plugin's app is driven in-process over ASGI (httpx), with Airflow's access check replaced by an
allow-all coroutine (tests/e2e/test_health_plugin.py covers the check itself). A reading is made slow by holding
it on an Event the test releases, never by sleeping, and nothing here asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from mobile_events_elt.warehouse import health
from plugins.pipeline_health import health_plugin
from tests.support.health_page import record_thread_pool

HELD_AT_MOST = 60  # seconds a held reading waits for the test before it fails the test


class HeldReader:
    """Gives "reading N of the last WINDOW"; from call ``hold_from`` on, each call waits for ``release``."""

    def __init__(self, hold_from: int) -> None:
        self.hold_from = hold_from
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self.threads: set[str] = set()
        self.held = threading.Event()  # a held reading has begun
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, window: str) -> str:
        with self._lock:
            self.calls += 1
            number = self.calls
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            if number >= self.hold_from and not self.release.is_set():
                self.held.set()
                assert self.release.wait(HELD_AT_MOST), "the test never released the reading"
            return f"<p>reading {number} of the last {window}</p>"
        finally:
            with self._lock:
                self.running -= 1


def page_app(cache: health.HealthCache[str]) -> FastAPI:
    app = health_plugin.create_app(cache)

    async def anyone() -> None:
        return None

    app.dependency_overrides[health_plugin.authorized] = anyone
    return app


@asynccontextmanager
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://page") as client:
        yield client


def test_while_a_refresh_is_held_every_request_gets_the_last_page_and_no_second_refresh_starts() -> None:
    reader = HeldReader(hold_from=2)
    cache = health.HealthCache(reader, ttl=0)  # every reading is stale at once: each request wants a new one

    async def scenario() -> None:
        async with browser(page_app(cache)) as client:
            first = await client.get("/?window=day")  # the first reading, waited for
            assert first.status_code == 200 and "reading 1 of the last day" in first.text
            stale = await client.get("/?window=day")  # starts reading 2, which is held
            assert "reading 1 of the last day" in stale.text
            assert reader.held.wait(HELD_AT_MOST), "the refresh did not start"

            during = await asyncio.gather(*(client.get("/?window=day") for _ in range(12)))
            assert [r.status_code for r in during] == [200] * 12
            assert all("reading 1 of the last day" in r.text for r in during), "a request waited for the refresh"
            held = cache.refresh("day")
            assert reader.calls == 2 and not held.done(), "a second refresh started beside the held one"

            reader.release.set()
            assert held.result(timeout=HELD_AT_MOST) == "<p>reading 2 of the last day</p>"
            after = await client.get("/?window=day")
            assert "reading 2 of the last day" in after.text

    asyncio.run(scenario())
    assert reader.most_at_once == 1
    assert reader.threads and all(name.startswith("pipeline-health-reader") for name in reader.threads)


def test_a_first_request_waits_a_bounded_time_then_says_reading() -> None:
    reader = HeldReader(hold_from=1)
    cache = health.HealthCache(reader, first_wait=0.01)  # held: it cannot finish within any wait

    async def scenario() -> None:
        async with browser(page_app(cache)) as client:
            waiting = await client.get("/?window=week")
            assert waiting.status_code == 200, waiting.text
            assert "data-reading" in waiting.text and "The first reading of the last week" in waiting.text
            assert '<meta http-equiv="refresh"' in waiting.text, "the reading page does not reload itself"
            assert "frame-ancestors 'self'" in waiting.headers["content-security-policy"]
            assert reader.held.wait(HELD_AT_MOST)
            held = cache.refresh("week")
            reader.release.set()
            held.result(timeout=HELD_AT_MOST)
            shown = await client.get("/?window=week")
            assert "reading 1 of the last week" in shown.text and reader.calls == 1

    asyncio.run(scenario())


def test_a_failed_reading_keeps_the_last_page_and_the_next_refresh_tries_again() -> None:
    calls: list[str] = []

    def read(window: str) -> str:
        calls.append(window)
        if len(calls) == 2:
            raise RuntimeError("the warehouse went away")
        return f"page {len(calls)}"

    cache = health.HealthCache(read, ttl=3600)
    assert asyncio.run(cache.get("day")) == "page 1"
    assert cache.refresh("day").result(timeout=HELD_AT_MOST) is None  # reading 2 failed: logged, not kept
    assert asyncio.run(cache.get("day")) == "page 1"
    assert cache.refresh("day").result(timeout=HELD_AT_MOST) == "page 3"
    assert asyncio.run(cache.get("day")) == "page 3" and len(calls) == 3


def test_the_route_takes_no_thread_from_the_servers_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI runs a sync route or dependency on anyio's worker threads (the server's shared pool): here
    every use of that pool is recorded, a sync route proves the recording sees it, and the page uses none."""
    used = record_thread_pool(monkeypatch)
    sync_app = FastAPI()

    @sync_app.get("/")
    def blocking() -> str:
        return "sync"

    reader = HeldReader(hold_from=10**6)  # none held
    app = page_app(health.HealthCache(reader, ttl=0))
    route = next(r for r in app.routes if getattr(r, "path", None) == "/")
    assert inspect.iscoroutinefunction(route.endpoint)  # type: ignore[attr-defined]
    assert inspect.iscoroutinefunction(health_plugin.authorized)

    async def scenario() -> None:
        async with browser(sync_app) as client:
            assert (await client.get("/")).json() == "sync"
        assert used, "the recording does not see the pool"
        used.clear()
        async with browser(app) as client:
            pages = [await client.get(f"/?window={window}") for window in ("day", "day", "hour", "day")]
        assert [p.status_code for p in pages] == [200] * 4

    asyncio.run(scenario())
    assert used == [], f"the page ran {used} on the server's thread pool"
    assert all(name.startswith("pipeline-health-reader") for name in reader.threads)
