"""What a run delivered, counted by record kind, in the form people and the demo's reconciliation read.

Counts are of records the sink confirmed (written to the file, acknowledged by Kinesis), never of
records merely generated, so ``unique_events`` and ``malformed`` are what the warehouse should hold
once everything has landed. Records that could not be delivered are counted as ``failed`` and, once
safely in the dead-letter spool, as ``spooled``. A replay also lists the lines of its spool file that a
cut-short write left unreadable (``torn_lines``): set aside in ``torn_path``, not sent.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Record kinds, as the pipeline tags each record it hands a sink.
EVENT = "event"  # a valid event, sent for the first time
LATE = "late"  # a valid event whose CREATED_AT lies hours or days back, sent for the first time
DUPLICATE = "duplicate"  # a byte-identical re-send of a delivered event
MALFORMED = "malformed:"  # prefix; the full kind names the defect, e.g. "malformed:missing_user_id"
KINDS_HELP = f"{EVENT}, {LATE}, {DUPLICATE} or {MALFORMED}<defect>"


def is_kind(kind: str) -> bool:
    return kind in (EVENT, LATE, DUPLICATE) or (kind.startswith(MALFORMED) and len(kind) > len(MALFORMED))


@dataclass
class Report:
    generated: int = 0  # records handed to the sink, faults included: always sent + failed once closed
    delivered: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    retried: int = 0
    failed: int = 0
    spooled: int = 0
    spool_path: Path | None = None
    torn_lines: list[int] = field(default_factory=list)  # line numbers in the replayed spool file
    torn_path: Path | None = None
    seconds: float = 0.0
    interrupted: bool = False
    error: str | None = None

    @property
    def sent(self) -> int:
        return sum(self.delivered.values())

    @property
    def unique_events(self) -> int:
        # Duplicates only repeat delivered originals, so originals delivered = distinct valid EVENT_IDs.
        return self.delivered[EVENT] + self.delivered[LATE]

    @property
    def duplicates(self) -> int:
        return self.delivered[DUPLICATE]

    @property
    def late(self) -> int:
        return self.delivered[LATE]

    @property
    def malformed_kinds(self) -> dict[str, int]:
        return {kind[len(MALFORMED) :]: n for kind, n in sorted(self.delivered.items()) if kind.startswith(MALFORMED)}

    @property
    def malformed(self) -> int:
        return sum(self.malformed_kinds.values())

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.error is None and not self.torn_lines

    def as_json(self) -> dict[str, Any]:
        seconds = max(self.seconds, 1e-9)
        return {
            "generated": self.generated,
            "sent": self.sent,
            "unique_events": self.unique_events,
            "duplicates": self.duplicates,
            "malformed": self.malformed,
            "late": self.late,
            "retried": self.retried,
            "failed": self.failed,
            "spooled": self.spooled,
            "seconds": round(self.seconds, 3),
            "bytes": self.bytes,
            "events_per_second": round(self.sent / seconds, 1),
            "bytes_per_second": round(self.bytes / seconds, 1),
            "malformed_kinds": self.malformed_kinds,
            "interrupted": self.interrupted,
            "spool_path": str(self.spool_path) if self.spool_path else None,
            "torn": len(self.torn_lines),
            "torn_lines": self.torn_lines,
            "torn_path": str(self.torn_path) if self.torn_path else None,
            "error": self.error,
        }

    def summary(self) -> str:
        """A few lines for stderr: what was sent, how fast, and what needs a person's attention."""
        seconds = max(self.seconds, 1e-9)
        lines = [
            f"{'interrupted: ' if self.interrupted else ''}sent {self.sent:,} records in {self.seconds:.2f} s"
            f" ({self.sent / seconds:,.0f} events/s, {self.bytes / seconds / 1e6:,.2f} MB/s)",
            f"  unique events {self.unique_events:,} | duplicates {self.duplicates:,}"
            f" | malformed {self.malformed:,} | late {self.late:,}",
            f"  retried {self.retried:,} | failed {self.failed:,} | spooled {self.spooled:,}",
        ]
        if self.malformed:
            lines.append("  malformed by kind: " + ", ".join(f"{k} {n:,}" for k, n in self.malformed_kinds.items()))
        if self.error:
            lines.append(f"  error: {self.error}")
        if self.spooled:
            lines.append(
                f"  undelivered records are in {self.spool_path}; send them later with:"
                f" mobile-events-generate replay-spool {self.spool_path}"
            )
        if self.torn_lines:
            shown = ", ".join(f"{n:,}" for n in self.torn_lines[:5]) + (", ..." if len(self.torn_lines) > 5 else "")
            lines.append(
                f"  torn {len(self.torn_lines):,}: line(s) {shown} of the spool file were cut short mid-write;"
                f" set aside in {self.torn_path}, not sent (repair them into spool entries and replay that file,"
                " or delete it)"
            )
        if self.generated != self.sent + self.failed:
            lines.append(
                f"  {self.generated - self.sent - self.failed:,} records unaccounted for (a bug: please report)"
            )
        if self.failed > self.spooled:
            lines.append(f"  {self.failed - self.spooled:,} undelivered records could not be written to the spool")
        return "\n".join(lines)

    def write_json(self, path: Path, extra: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**self.as_json(), **extra}, indent=2) + "\n", encoding="utf-8")
