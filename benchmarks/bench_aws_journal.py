"""Benchmark: what the AWS emulator's write-ahead journal (``--journal``) costs, and how fast it brings a killed
emulator back.

The journal appends every acknowledged state-changing request to a file under one lock, before the answer
is sent, and replays the file in-process before the port opens (see ``local_stack/aws_emulator.py``). That
puts a JSON encode, a base64 copy of the body and a write on the path of every PutRecords, and makes a
restart's time grow with the journal. This measures both, on emulators started for the run on free
loopback ports and stopped by PID at the end. Prints measured figures only; asserts nothing about time.

- throughput: the generator CLI (``mobile-events-generate --sink kinesis ...``) puts N events into a
  fresh 1-shard stream on an emulator without a journal (the baseline) and on one with a journal, both
  running for the whole measurement. ``--rounds`` runs per emulator (default 2), alternating which goes first,
  so a change in the machine's load (other jobs) does not always fall on the same side. Events/s as the
  generator's report gives them (its send loop, not interpreter start-up), summed over the runs; the ratio.
- size: the journal's bytes per event, against the event payload's bytes per event.
- restart: the journaled emulator (rounds x N events in its journal) is SIGKILLed and started again on
  the same journal and port. Time until the port listens, against the same emulator's first start on an
  empty journal; the replay's requests and seconds as its log line gives them, and replay events/s. Then
  each stream is read back from TRIM_HORIZON (GetRecords, paginated): it must hold N records, with the
  same sequence numbers and data as before the kill. A mismatch is printed loudly and the exit status is 1.

Run: .venv/bin/python benchmarks/bench_aws_journal.py [--events N] [--rounds R] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from mobile_events_elt.local_stack import processes  # noqa: E402
from mobile_events_elt.local_stack.environment import EMULATOR_AWS_CREDENTIALS  # noqa: E402
from mobile_events_elt.local_stack.ports import free_port  # noqa: E402

REGION = "us-east-1"
STREAM = "bench-journal"
# aws_journal.Journal.replay: "journal PATH: replayed 1,234 requests in 0.56s, 2,203 requests/s"
REPLAY_LINE = re.compile(r"journal (?P<path>.+): replayed (?P<requests>[\d,]+) requests in (?P<seconds>[\d.]+)s")


def base_env(endpoint: str) -> dict[str, str]:
    """The environment for the emulators and the generator: emulator credentials, us-east-1, this endpoint.

    Drops what in the developer's shell could steer them elsewhere: a journal named in AWS_EMULATOR_JOURNAL
    (the baseline must not journal), a profile, a session token."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_EMULATOR_JOURNAL", "AWS_PROFILE", "AWS_SESSION_TOKEN")}
    env.update(EMULATOR_AWS_CREDENTIALS)
    env.update(
        PYTHONPATH=str(REPO),
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )
    return env


def kinesis_client(endpoint: str) -> Any:
    return boto3.client(
        "kinesis",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=EMULATOR_AWS_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_AWS_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def start_emulator(name: str, port: int, run_dir: Path, journal: Path | None) -> float:
    """Start the emulator (PID file run_dir/NAME.pid, log run_dir/NAME.log); seconds until its port listens.

    processes.start polls the port every 0.1 s, so the figure is good to about 0.1 s."""
    command = [sys.executable, "-m", "mobile_events_elt.local_stack.aws_emulator", "--port", str(port)]
    if journal is not None:
        command += ["--journal", str(journal)]
    started = time.perf_counter()
    processes.start(name, command, run_dir, env=base_env(f"http://127.0.0.1:{port}"), wait_port=port, timeout=300)
    return time.perf_counter() - started


def kill_emulator(name: str, run_dir: Path) -> None:
    """SIGKILL the emulator recorded in run_dir/NAME.pid, wait until it is gone, and drop its PID file."""
    pid_file = run_dir / f"{name}.pid"
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while processes.alive(pid):  # reaps it: it is our child
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} (pid {pid}) still running 10 s after SIGKILL")
        time.sleep(0.05)
    pid_file.unlink()  # gone: the finally must not signal whatever gets this PID next


def new_stream(kinesis: Any, stream: str) -> None:
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})


def generate(endpoint: str, stream: str, events: int, work: Path, label: str) -> dict[str, Any]:
    """Run the generator CLI into stream; its JSON report."""
    report_path = work / f"report-{label}.json"
    command = [sys.executable, "-m", "mobile_events_elt.data_generation", "--sink", "kinesis", "--stream", stream]
    command += ["--events", str(events), "--seed", "1", "-q", "--report-json", str(report_path)]
    command += ["--spool", str(work / f"spool-{label}.ndjson")]
    done = subprocess.run(command, cwd=REPO, env=base_env(endpoint), stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0 or not report_path.exists():
        raise SystemExit(f"generator ({label}) exited with status {done.returncode}")
    report = json.loads(report_path.read_text())
    if report["sent"] != events or report["failed"]:
        raise SystemExit(f"generator ({label}): sent {report['sent']:,} of {events:,}, failed {report['failed']:,}")
    return report


def read_stream(kinesis: Any, stream: str) -> tuple[int, str, str | None, float]:
    """Every record of a 1-shard stream from TRIM_HORIZON: count, digest of (sequence number, data) in
    order, last sequence number, seconds taken."""
    started = time.perf_counter()
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    iterator = iterator["ShardIterator"]
    digest, count, last = hashlib.sha256(), 0, None
    while iterator:
        response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        for record in response["Records"]:
            last = record["SequenceNumber"]
            digest.update(last.encode() + b"\0" + record["Data"] + b"\0")
            count += 1
        if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
            break
        iterator = response.get("NextShardIterator")
    return count, digest.hexdigest(), last, time.perf_counter() - started


def replay_line(log_path: Path) -> dict[str, float]:
    """The replay figures from the emulator's log (the last replay line in it)."""
    matches = list(REPLAY_LINE.finditer(log_path.read_text(errors="replace")))
    if not matches:
        raise SystemExit(f"no replay line in {log_path}:\n{log_path.read_text(errors='replace')[-2000:]}")
    found = matches[-1]
    return {"requests": int(found["requests"].replace(",", "")), "seconds": float(found["seconds"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per generator run (default 50000)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="generator runs per emulator, alternating which goes first (default 2; 1 is quicker, noisier)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (journal, logs, reports) afterwards")
    args = parser.parse_args()
    n, rounds = args.events, args.rounds
    streams = [f"{STREAM}-{r}" for r in range(1, rounds + 1)]

    work = Path(tempfile.mkdtemp(prefix="bench-aws-journal-"))
    run_dir, journal = work / "run", work / "aws-journal.jsonl"
    names = {"plain": "bench-aws-plain", "journal": "bench-aws-journaled"}
    restarted = "bench-aws-restarted"
    ports = {"plain": free_port(), "journal": free_port()}
    endpoints = {mode: f"http://127.0.0.1:{number}" for mode, number in ports.items()}
    print(
        f"AWS journal benchmark: {rounds} x {n:,} events per emulator, a fresh 1-shard stream per run; work dir {work}"
    )
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "journal": []}
    try:
        start_emulator(names["plain"], ports["plain"], run_dir, None)
        # Its first start, on an empty journal, is the restart's baseline.
        cold_start = start_emulator(names["journal"], ports["journal"], run_dir, journal)
        print(
            f"  emulators on 127.0.0.1: {ports['plain']} without journal, {ports['journal']} with journal "
            f"(PID files in {run_dir})"
        )
        for number, stream in enumerate(streams, start=1):
            # Alternate the order (plain first, then journal first, ...) so drift in the machine's load
            # does not always land on the same side.
            for mode in ("plain", "journal") if number % 2 else ("journal", "plain"):
                new_stream(kinesis_client(endpoints[mode]), stream)
                report = generate(endpoints[mode], stream, n, work, f"{mode}-{number}")
                runs[mode].append(report)
                label = "without journal:" if mode == "plain" else "with journal:"
                print(
                    f"  run {number}/{rounds} {label:<16} {report['events_per_second']:>9,.0f} events/s "
                    f"({report['seconds']:.2f} s)",
                    flush=True,
                )
        processes.stop(names["plain"], run_dir)

        journal_bytes = journal.stat().st_size
        journal_lines = sum(1 for _ in journal.open("rb"))
        kinesis = kinesis_client(endpoints["journal"])
        print("  reading the journaled streams back before the kill ...", flush=True)
        before = [read_stream(kinesis, stream) for stream in streams]

        kill_emulator(names["journal"], run_dir)
        print("  SIGKILLed the journaled emulator; restarting it on the same journal and port ...", flush=True)
        restart = start_emulator(restarted, ports["journal"], run_dir, journal)
        replay = replay_line(run_dir / f"{restarted}.log")
        print("  reading the streams back after the restart ...", flush=True)
        after = [read_stream(kinesis, stream) for stream in streams]
    finally:
        processes.stop_many([names["plain"], names["journal"], restarted], run_dir)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    def rate(mode: str) -> float:
        return sum(r["sent"] for r in runs[mode]) / sum(r["seconds"] for r in runs[mode])

    base_rate, journal_rate = rate("plain"), rate("journal")
    total = n * rounds
    payload = sum(r["bytes"] for r in runs["journal"]) / total
    change = journal_rate / base_rate - 1
    print()
    print(f"PutRecords via the generator CLI, {rounds} x {n:,} events (the generator's send loop, its own report):")
    print(f"  without journal: {base_rate:>9,.0f} events/s")
    print(f"  with journal:    {journal_rate:>9,.0f} events/s")
    print(
        f"  ratio with / without: {journal_rate / base_rate:.2f} "
        f"({abs(change):.0%} {'fewer' if change < 0 else 'more'} events/s with the journal)"
    )
    print(
        f"journal size: {journal_bytes / 2**20:.1f} MiB in {journal_lines:,} lines for {total:,} events = "
        f"{journal_bytes / total:,.0f} bytes/event (event payload {payload:,.0f} bytes/event; "
        f"ratio {journal_bytes / total / payload:.2f})"
    )
    print("restart after SIGKILL, same journal and port:")
    print(
        f"  port listening after {restart:.2f} s (first start on an empty journal: {cold_start:.2f} s; "
        f"ratio {restart / cold_start:.1f})"
    )
    replay_rate = total / replay["seconds"] if replay["seconds"] > 0 else float("inf")
    print(
        f"  replayed {replay['requests']:,} requests ({total:,} events) in {replay['seconds']:.2f} s: "
        f"{replay_rate:,.0f} events/s (live with journal {journal_rate:,.0f} events/s; "
        f"ratio {replay_rate / journal_rate:.1f})"
    )
    if replay["requests"] != journal_lines:
        print(f"  note: the journal had {journal_lines:,} lines, the replay reports {replay['requests']:,} requests")
    failed = False
    for stream, was, now in zip(streams, before, after, strict=True):
        count, digest, last, seconds = now
        print(f"  {stream} read from TRIM_HORIZON: {count:,} records in {seconds:.2f} s, last sequence number {last}")
        if count != n:
            print(f"  !!! MISMATCH: {stream} should hold {n:,} records after the restart, it holds {count:,} !!!")
            failed = True
        elif (count, digest, last) != was[:3]:
            print(
                f"  !!! MISMATCH: {stream} holds {count:,} records, but not the ones it held before the kill "
                f"({was[0]:,} records, last sequence number {was[2]}) !!!"
            )
            failed = True
    if failed:
        print("CHECK FAILED: the restarted emulator did not give back what was acknowledged before the kill")
        return 1
    print(f"check OK: every stream holds {n:,} records, sequence numbers and data as before the kill")
    return 0


if __name__ == "__main__":
    sys.exit(main())
