"""Freshness: seconds from an event's creation to its rows in ANALYTICS.EVENTS, on the whole local stack.

For each trigger mode it starts the long-running stack (`python -m local_stack up`, in a state folder
and on ports of its own), sends tagged events at a steady rate for --minutes while the stack's own
generator streams too, polls Snowflake for their rows, and prints p50 / p95 / max. Modes:
- events: the ELT DAG runs when S3's ObjectCreated notification reaches SQS (asset watcher), with the
  cron schedule as a sweep;
- schedule: the cron schedule alone (every minute): the baseline.
Then it stops the stack by PID. Prints measured figures only; asserts nothing about time.

Usage: python benchmarks/bench_freshness.py [--minutes 5] [--rate 2] [--modes events,schedule]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from local_stack.environment import EMULATOR_AWS_CREDENTIALS, snowflake_login_secret  # noqa: E402
from local_stack.ports import free_port  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(mode: str, minutes: float, rate: float, tail_seconds: float) -> dict[str, float]:
    ports = {"AWS_EMULATOR_PORT": free_port(), "SNOWFLAKE_EMULATOR_PORT": free_port(), "AIRFLOW_PORT": free_port()}
    state = Path(tempfile.mkdtemp(prefix=f"bench-freshness-{mode}-"))
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "LOCAL_STACK_STATE": str(state), "ELT_TRIGGER": mode}
    stack = [sys.executable, "-m", "local_stack"]
    print(f"\n[{mode}] starting the stack ...", flush=True)
    up = subprocess.run([*stack, "up"], env=env, capture_output=True, text=True, timeout=600)
    if up.returncode:
        print(up.stdout + up.stderr)
        subprocess.run([*stack, "down"], env=env, timeout=300)
        raise SystemExit(f"[{mode}] make up failed")
    os.environ.update(EMULATOR_AWS_CREDENTIALS, AWS_ENDPOINT_URL=f"http://127.0.0.1:{ports['AWS_EMULATOR_PORT']}")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        sf_password = snowflake_login_secret(state / "snowflake")
        return _send_and_watch(mode, ports["SNOWFLAKE_EMULATOR_PORT"], sf_password, minutes, rate, tail_seconds)
    finally:
        subprocess.run([*stack, "down"], env=env, capture_output=True, timeout=300)


def _send_and_watch(
    mode: str, sf_port: int, sf_password: str, minutes: float, rate: float, tail_seconds: float
) -> dict[str, float]:
    import itertools

    import snowflake.connector

    import config
    from data_generation.generator import EventGenerator
    from data_generation.producer import KinesisProducer

    tag = f"fresh-{uuid.uuid4().hex[:8]}"
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    done_sending = threading.Event()

    def send() -> None:
        try:
            producer = KinesisProducer(config.load("aws")["stream"]["name"], linger_seconds=0.0)
            events = iter(EventGenerator(None, seed=7, users=1000))
            started = time.monotonic()
            deadline = started + minutes * 60
            for i in itertools.count():
                due = started + i / rate
                if due > deadline:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                line, user_id, _ = next(events)
                record = json.loads(line)
                record["EVENT_ID"] = f"{tag}-{i}"
                sent[record["EVENT_ID"]] = time.time()
                producer.put(json.dumps(record), user_id)
                producer.flush()
            producer.close()
        finally:
            done_sending.set()

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    conn = snowflake.connector.connect(
        host="127.0.0.1", port=sf_port, protocol="http", account="local", user="local", password=sf_password,
        database="MOBILE_EVENTS", network_timeout=60,
    )  # fmt: skip
    query = "select distinct order_id from analytics.events where order_id like %(tag)s"
    give_up = None
    while True:
        now = time.time()
        for (order_id,) in conn.cursor().execute(query, {"tag": f"{tag}-%"}).fetchall():
            seen.setdefault(order_id, now)
        if done_sending.is_set():
            give_up = give_up or time.monotonic() + tail_seconds
            if len(seen) >= len(sent) or time.monotonic() > give_up:
                break
        time.sleep(1.0)
    conn.close()
    lags = [seen[k] - sent[k] for k in seen if k in sent]
    result = {
        "sent": len(sent),
        "seen": len(lags),
        "p50": percentile(lags, 0.50),
        "p95": percentile(lags, 0.95),
        "max": max(lags),
        "mean": statistics.fmean(lags),
    }
    print(
        f"[{mode}] {result['seen']}/{result['sent']} events seen; creation -> ANALYTICS.EVENTS: "
        f"p50 {result['p50']:.1f}s, p95 {result['p95']:.1f}s, max {result['max']:.1f}s",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to send tagged events (default 5)")
    parser.add_argument("--rate", type=float, default=2.0, help="tagged events per second (default 2)")
    parser.add_argument("--tail", type=float, default=180.0, help="seconds to wait for the last rows (default 180)")
    parser.add_argument("--modes", default="events,schedule", help="comma-separated: events, schedule")
    args = parser.parse_args()
    results = {mode: measure(mode, args.minutes, args.rate, args.tail) for mode in args.modes.split(",")}
    print(f"\nfreshness over {args.minutes:g} minutes per mode at {args.rate:g} tagged events/s:")
    for mode, r in results.items():
        print(
            f"  {mode:<9} p50 {r['p50']:6.1f}s  p95 {r['p95']:6.1f}s  max {r['max']:6.1f}s  ({r['seen']}/{r['sent']})"
        )
    if {"events", "schedule"} <= results.keys():
        ratio = results["schedule"]["p95"] / results["events"]["p95"]
        print(f"  p95 schedule / event-driven: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
