"""Headless Chromium, a reader of the rendered health page, and a recorder of the server's thread pool; shared
by the page, plugin and stack tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import REPO

SCREENSHOTS = REPO / ".local" / "screenshots"


def chromium() -> str:
    """The browser binary; a clear skip where it is not installed, a failure in CI (which installs it)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run installs it)")


def browse(url: str, screenshot: Path | None = None, height: int = 2000) -> str:
    """Open url in headless Chromium, let it settle (virtual time), return the rendered DOM; optionally a screenshot."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        flags = [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--window-size=1500,1000",
        ]
        shot = [f"--window-size=1500,{height}"] if screenshot is not None else []
        dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            command = [*flags, *shot, f"--screenshot={screenshot}", url]
            subprocess.run(command, capture_output=True, timeout=120, check=True)
            assert screenshot.stat().st_size > 10_000, f"{screenshot} is (nearly) empty"
    return dom.stdout


class PageReader(HTMLParser):
    """What a reader sees in a rendered page: metric values, the title, text per element class, SVG charts."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.title = ""
        self.samples: list[str] = []
        self.charts = 0
        self.chart_marks = 0
        self.scripts = 0
        self.attributes: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.attributes.update({k: v or "" for k, v in found.items() if k.startswith("data-")})
        if tag == "script":
            self.scripts += 1
        if tag == "svg" and "chart" in (found.get("class") or ""):
            self.charts += 1
        if tag in ("rect", "circle") and found.get("class") in ("bar", "point"):
            self.chart_marks += 1
        key = found.get("data-metric") or ("sample" if "sample" in (found.get("class") or "") else None)
        key = key or ("title" if tag == "title" and not self._inside("svg") else None)
        self._open.append((tag, key))

    def _inside(self, tag: str) -> bool:
        return any(t == tag for t, _ in self._open)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, key in reversed(self._open):
            if key is None:
                continue
            if key == "title":
                self.title += data
            elif key == "sample":
                self.samples.append(data)
            else:
                self.metrics[key] = self.metrics.get(key, "") + data
            break


def read_page(dom: str) -> PageReader:
    page = PageReader()
    page.feed(dom)
    return page


def number(page: PageReader, name: str) -> int:
    assert name in page.metrics, f"the page shows no {name}; it shows {sorted(page.metrics)}"
    return int(re.sub(r"[^0-9-]", "", page.metrics[name]))


# Event steps by their order's load time (the page's volume is per hour of loading); the same join is checked
# against the emulator in tests/integration/warehouse/test_health_page.py.
VOLUME_EVENTS = "analytics.events as events inner join analytics.orders as orders on events.order_id = orders.order_id"


def record_thread_pool(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record, by name, every function run on anyio's worker threads (where FastAPI runs sync routes and
    dependencies: the server's shared pool); the list grows as the test goes."""
    import anyio.to_thread

    used: list[str] = []
    real = anyio.to_thread.run_sync

    async def recording(func: Any, *args: Any, **kwargs: Any) -> Any:
        used.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    return used
