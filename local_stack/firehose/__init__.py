"""Local Firehose delivery: what Firehose does for a Kinesis-sourced delivery stream, which moto never does.

moto accepts a KinesisStreamAsSource delivery stream and then never reads its source. This package does
that delivery against any endpoint (the emulator, or a real account for testing), driven by the delivery
stream's own description. Usage::

    from mobile_events_elt.local_stack.firehose import deliver
    report = deliver(once=True)   # drain what is in the stream now, write it to S3, return a DeliveryReport
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from mobile_events_elt.aws_infrastructure.errors import UsageError, explain
from mobile_events_elt.config.aws_settings import load_settings
from mobile_events_elt.config.signals import on_stop_signals
from mobile_events_elt.local_stack.firehose.delivery import (
    MAX_BACKOFF_SECONDS,
    Delivery,
    DeliveryReport,
    log_to_stderr,
)

STATE_DIR_ENV = "FIREHOSE_STATE_DIR"
DEFAULT_STATE_DIR = Path(__file__).resolve().parents[2] / ".local" / "firehose"


def state_dir(explicit: str | Path | None = None) -> Path:
    """Where checkpoints live: the argument, else $FIREHOSE_STATE_DIR, else .local/firehose/ in the repo."""
    return Path(explicit or os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)


def deliver(
    *,
    once: bool = False,
    delivery_stream: str | None = None,
    region: str | None = None,
    state_directory: str | Path | None = None,
    poll_seconds: float = 1.0,
    stop: threading.Event | None = None,
    log: Callable[[str], None] = log_to_stderr,
) -> DeliveryReport:
    """Deliver the delivery stream's source records to S3 and return what was done.

    With ``once`` it drains the records in the stream now and returns (AWS errors raise); otherwise it runs
    until SIGINT or SIGTERM (or until ``stop`` is set), then writes what it buffered, and rides out AWS
    errors by starting over from the checkpoint. Name and region default to config/aws.json.
    """
    if delivery_stream is None or region is None:
        settings = load_settings()
        delivery_stream = delivery_stream or settings.firehose.name
        region = region or settings.region
    stop = stop or threading.Event()
    with on_stop_signals(lambda *_: stop.set()):
        if once:
            return Delivery(delivery_stream, region, state_dir(state_directory), log).run(once, stop, poll_seconds)
        return _serve(delivery_stream, region, state_dir(state_directory), poll_seconds, stop, log)


def _serve(
    name: str, region: str, directory: Path, poll_seconds: float, stop: threading.Event, log: Callable[[str], None]
) -> DeliveryReport:
    """Run until stopped, starting over from the checkpoint after any failure, as a crashed Firehose would.

    Starting over re-reads the delivery stream and the stream's identity (it may have been re-created by
    `down`/`up`) and drops only what was not yet written, which the checkpoint makes it read again. A
    delivery stream that does not exist yet (the service started before `up`) is waited for the same way.
    """
    delay = 1.0
    report = DeliveryReport(name)
    while not stop.is_set():
        try:
            delivery = Delivery(name, region, directory, log)
            report = delivery.report
            return delivery.run(False, stop, poll_seconds)
        except (ClientError, BotoCoreError, UsageError) as exc:
            if stop.is_set():
                raise
            log(f"{explain(exc)}; starting over from the checkpoint in {delay:.0f}s")
            stop.wait(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
    return report


__all__ = ["DeliveryReport", "deliver", "state_dir"]
