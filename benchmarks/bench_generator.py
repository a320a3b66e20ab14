"""Generator benchmark: our generation + NDJSON serialisation to a file against a naive per-event-Faker
generator of the same fields, in the same run; and peak memory at two sizes, to show it stays flat.

Prints measured figures and asserts nothing about time. Targets: at least 200,000 events/s on
one core and at least 10x the naive generator. Both run single-threaded in this process, one after the
other; CPU-time rates are printed too, since a busy machine slows wall-clock figures.

The files go to a RAM-backed folder (/dev/shm) when there is one, so the figures measure generation and
serialisation rather than the disk, whose write time varies between runs. A third of the events is then also
written to a disk folder (.local/) and that figure printed too.

Usage: python benchmarks/bench_generator.py [--events N] [--naive-events N] [--sizes SMALL LARGE] [--dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from faker import Faker  # noqa: E402

from data_generation.generator import EventGenerator  # noqa: E402
from data_generation.pipeline import run  # noqa: E402
from data_generation.settings import GeneratorSettings, load_settings  # noqa: E402
from data_generation.sinks import FileSink  # noqa: E402


def ours(n: int, out: Path) -> tuple[float, float]:
    """Events/s (wall, CPU) for the real code path: EventGenerator -> pipeline -> FileSink."""
    generator = EventGenerator(seed=1, users=1000)  # population built before the clock starts, once per run
    wall, cpu = time.perf_counter(), time.process_time()
    report = run(generator, FileSink.open(out), count=n)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if report.sent != n:
        raise SystemExit(f"expected {n:,} events written, the report says {report.sent:,}")
    return n / wall, n / cpu


def naive(n: int, out: Path, s: GeneratorSettings) -> tuple[float, float]:
    """The same fields the straightforward way: Faker per event and per field, json.dumps per record."""
    fake = Faker(s.faker_locale)
    fake.seed_instance(1)
    start = datetime(2024, 1, 29)
    end = datetime(2024, 3, 1)
    hourly: dict[tuple[str, str], int] = {}
    daily: dict[tuple[str, str], int] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    with open(out, "w", encoding="utf-8") as f:
        for _ in range(n):
            user_id = hashlib.sha256(fake.email().encode()).hexdigest()[:10]
            city = fake.random_element(s.cities)
            event_2 = fake.random_element(("HOME", "EXIT_APP", "HOME"))
            event_3 = "Null" if event_2 == "EXIT_APP" else fake.random_element(("GO_TO_CATEGORY", "EXIT_APP"))
            event_out = {"Null": "LAUNCH_APP", "EXIT_APP": "HOME"}.get(event_3) or fake.random_element(s.categories)
            purchase = event_3 == "GO_TO_CATEGORY" and fake.pyfloat(min_value=0, max_value=1) < s.purchase_probability
            created_at = fake.date_time_between(start, end).strftime("%Y-%m-%d %H:%M:%S")
            hour, day = (user_id, created_at[:13]), (user_id, created_at[:10])
            if purchase:
                hourly[hour] = hourly.get(hour, 0) + 1
                daily[day] = daily.get(day, 0) + 1
            record = {
                "USER_ID": user_id,
                "INITIAL_EVENT": s.initial_event,
                "EVENT_2": event_2,
                "EVENT_3": event_3,
                "EVENT_OUT": event_out,
                "OS_USER": fake.random_element(s.operating_systems),
                "CITY": city,
                "LATITUDE": s.city_coords[city][0],
                "LONGITUDE": s.city_coords[city][1],
                "ORDER_TYPE": "PURCHASE" if purchase else "USER_VISIT",
                "STATUS": "COMPLETED" if purchase else "UNCONVERTED",
                "PAYMENT_METHOD": fake.random_element(s.payment_methods) if purchase else "Null",
                "CREATED_AT": created_at,
                "HOURLY_PURCHASE_COUNT": hourly.get(hour, 0),
                "DAILY_PURCHASE_COUNT": daily.get(day, 0),
                "EVENT_ID": fake.uuid4(),
                "DEVICE_MODEL": fake.random_element(s.phone_models),
            }
            f.write(json.dumps(record) + "\n")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, n / cpu


def peak_rss_mib(events: int, out: Path) -> tuple[float, float]:
    """Peak RSS (MiB) of `python -m data_generation` writing ``events`` events to a file, and its seconds."""
    command = [sys.executable, "-m", "data_generation", "--out", str(out), "--events", str(events), "--seed", "1"]
    started = time.perf_counter()
    process = subprocess.Popen([*command, "--quiet"], cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events for our generator")
    parser.add_argument("--naive-events", type=int, default=20_000, help="events for the naive generator")
    parser.add_argument("--sizes", type=int, nargs=2, default=(200_000, 2_000_000), metavar=("SMALL", "LARGE"))
    shm = Path("/dev/shm")
    parser.add_argument("--dir", type=Path, default=shm if shm.is_dir() else None, help="folder for the files")
    args = parser.parse_args()
    settings = load_settings()
    print(f"generator benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, single-threaded runs")
    with tempfile.TemporaryDirectory(prefix="bench-generator-", dir=args.dir) as tmp:
        folder = Path(tmp)
        print(f"  files in {folder}")
        fast_wall, fast_cpu = ours(args.events, folder / "ours.ndjson")
        print(f"  ours:  {args.events:>9,} events  {fast_wall:>10,.0f} events/s  ({fast_cpu:,.0f}/s of CPU time)")
        slow_wall, slow_cpu = naive(args.naive_events, folder / "naive.ndjson", settings)
        print(f"  naive: {args.naive_events:>9,} events  {slow_wall:>10,.0f} events/s  ({slow_cpu:,.0f}/s of CPU time)")
        print(f"  ratio: {fast_wall / slow_wall:.1f}x wall-clock, {fast_cpu / slow_cpu:.1f}x CPU (target >= 10x)")
        print(f"  floor: {fast_wall:,.0f} events/s vs the 200,000 events/s target (one core)")
        (folder / "ours.ndjson").unlink()
        (REPO / ".local").mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="bench-generator-", dir=REPO / ".local") as disk:
            disk_wall, disk_cpu = ours(args.events // 3, Path(disk) / "ours.ndjson")
        print(f"  ours to a disk file under .local/: {disk_wall:,.0f} events/s ({disk_cpu:,.0f}/s of CPU time)")
        print("peak memory of `python -m data_generation --out FILE --events N` (whole process):")
        peaks = []
        for size in args.sizes:
            rss, seconds = peak_rss_mib(size, folder / f"mem-{size}.ndjson")
            (folder / f"mem-{size}.ndjson").unlink()
            peaks.append(rss)
            print(f"  {size:>9,} events: peak RSS {rss:6.1f} MiB  ({seconds:.1f} s, {size / seconds:,.0f} events/s)")
        growth = args.sizes[1] / args.sizes[0]
        print(f"  {growth:.0f}x the events: {peaks[1] - peaks[0]:+.1f} MiB ({peaks[1] / peaks[0]:.2f}x the peak)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
