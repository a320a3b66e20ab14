"""The run loop: events (plus injected faults) into a sink, at a rate, for a count or a duration.

Stopping is cooperative: SIGINT/SIGTERM only set a flag (see ``StopFlag``), the loop ends after the
record in hand, and the sink's ``close`` delivers what is buffered. Nothing is cut mid-call, so a
Ctrl-C neither loses buffered records nor leaves a PutRecords call half-confirmed.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import FrameType

from config.signals import on_stop_signals
from data_generation.faults import FaultInjector
from data_generation.generator import Event
from data_generation.progress import ProgressSink
from data_generation.report import Report
from data_generation.sinks import DeliveryError, Sink
from data_generation.throttle import Pacer

_CHUNK = 256  # records per chunk at full speed: big enough to amortise calls, small enough for the CPU cache


class StopFlag:
    """Set by the first SIGINT/SIGTERM; a second one raises KeyboardInterrupt for an immediate exit."""

    def __init__(self) -> None:
        self.requested = False
        self.signal: int | None = None

    def __call__(self) -> bool:
        return self.requested

    def request(self, signum: int, frame: FrameType | None = None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signal = signum

    @contextmanager
    def installed(self) -> Iterator[StopFlag]:
        """Route SIGINT and SIGTERM to this flag while the block runs, then restore the old handlers."""
        with on_stop_signals(self.request):
            yield self


def run(
    events: Iterable[Event],
    sink: Sink,
    *,
    count: int | None = None,
    duration: float | None = None,
    rate: float = 0.0,
    faults: FaultInjector | None = None,
    progress: ProgressSink | None = None,
    stop: StopFlag | None = None,
) -> Report:
    """Send up to ``count`` valid events (or for ``duration`` seconds, whichever ends first) and close the sink.

    Records move in chunks: 256 at full speed, a twentieth of a second's worth when paced to
    ``rate`` records per second (faults included). The report's counts are what the sink confirmed;
    ``interrupted`` says whether a stop request or a KeyboardInterrupt ended the run.
    """
    stop = stop or StopFlag()
    source = iter(itertools.islice(events, count) if count is not None else events)
    pacer = Pacer(rate) if rate > 0 else None
    chunk_size = _CHUNK if pacer is None else max(1, min(_CHUNK, int(rate / 20)))
    start = time.monotonic()
    records = originals = 0
    interrupted = False
    chunk: list[Event] = []
    try:
        while not stop.requested:
            chunk = []
            chunk.extend(itertools.islice(source, chunk_size))  # extend keeps what came before an interrupt
            if not chunk:
                break
            originals += len(chunk)
            if faults is not None:
                chunk = faults.apply(chunk)
            records += len(chunk)  # counted first: on DeliveryError the sink has spooled the whole chunk
            handed, chunk = chunk, []
            sink.put_many(handed)
            if pacer is not None:
                pacer.wait(records, sink.poll, stop)
            else:
                sink.poll()
            elapsed = time.monotonic() - start
            if progress is not None:
                progress.update(records, originals, elapsed)
            if duration is not None and elapsed >= duration:
                break
    except DeliveryError:
        pass  # the producer recorded the error and spooled the records; stop generating
    except KeyboardInterrupt:
        interrupted = True
        if chunk:  # made, not yet handed over: it goes with the rest (a sink accounts for any chunk it took)
            records += len(chunk)
            with contextlib.suppress(DeliveryError):
                sink.put_many(chunk)
    except BaseException:
        sink.close()  # torn down from outside (a task runner's own exception, say): still deliver the buffer
        raise
    try:
        report = sink.close()
    finally:
        if progress is not None:
            progress.finish(records, originals, time.monotonic() - start)
    report.seconds = time.monotonic() - start
    report.generated = records
    report.interrupted = interrupted or stop.requested
    return report
