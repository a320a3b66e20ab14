"""Progress on stderr while a run lasts: a redrawn bar on a terminal, a plain count line every few seconds
in a log (a redrawn line would fill a log file with carriage returns)."""

from __future__ import annotations

from typing import Protocol, TextIO

_TTY_INTERVAL = 0.2
_LOG_INTERVAL = 5.0
_WIDTH = 30


class ProgressSink(Protocol):
    """What the run loop tells about its progress: ``Progress`` draws it, a fanned-out producer passes it on."""

    def update(self, records: int, events: int, elapsed: float, *, force: bool = False) -> None: ...

    def finish(self, records: int, events: int, elapsed: float) -> None: ...


class Progress:
    """Call ``update`` as often as convenient; it draws only when its interval has passed."""

    def __init__(self, stream: TextIO, *, events: int | None, duration: float | None) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._interval = _TTY_INTERVAL if self._tty else _LOG_INTERVAL
        self._events = events
        self._duration = duration
        self._last = 0.0
        self._drawn = False

    def update(self, records: int, events: int, elapsed: float, *, force: bool = False) -> None:
        """``records`` put so far (faults included), ``events`` of them valid originals, after ``elapsed`` s."""
        if elapsed - self._last < self._interval and not force:
            return
        self._last = elapsed
        rate = records / elapsed if elapsed > 0 else 0.0
        fractions = []
        if self._events:
            fractions.append(events / self._events)
        if self._duration:
            fractions.append(elapsed / self._duration)
        done = min(max(fractions), 1.0) if fractions else None
        if self._tty:
            bar = "" if done is None else f"[{'#' * int(done * _WIDTH):<{_WIDTH}}] {done:6.1%} "
            self._stream.write(f"\r{bar}{records:,} records  {rate:,.0f} events/s  ")
            self._drawn = True
        else:
            percent = "" if done is None else f" ({done:.0%})"
            self._stream.write(f"progress: {records:,} records{percent}, {rate:,.0f} events/s\n")
        self._stream.flush()

    def finish(self, records: int, events: int, elapsed: float) -> None:
        """Draw the bar's final state and end its line, so the report starts on a fresh one."""
        if self._drawn:
            self.update(records, events, elapsed, force=True)
            self._stream.write("\n")
            self._stream.flush()
