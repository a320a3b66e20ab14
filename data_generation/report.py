"""What a run delivered, counted by record kind, in the form people and the demo's reconciliation read.

Counts are of records the sink confirmed (written to the file, acknowledged by Kinesis), never of
records merely generated, so ``unique_events`` and ``malformed`` are what the warehouse should hold
once everything has landed. Records that could not be delivered are counted as ``failed`` and, once
safely in the dead-letter spool, as ``spooled``. A replay also lists the lines of its spool file that a
cut-short write left unreadable (``torn_lines``): set aside in ``torn_path``, not sent. A run fanned
out over several producers reports their sum (``sum_reports``), in the same form plus the parts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
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
                f" python -m data_generation replay-spool {self.spool_path}"
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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """The report ``as_json`` wrote (counts, time, error, spool): how a producer's report crosses a process."""
        delivered: Counter[str] = Counter(
            {EVENT: data["unique_events"] - data["late"], LATE: data["late"], DUPLICATE: data["duplicates"]}
        )
        delivered.update({MALFORMED + kind: n for kind, n in data.get("malformed_kinds", {}).items()})
        spool, torn = data.get("spool_path"), data.get("torn_path")
        return cls(
            generated=data["generated"],
            delivered=+delivered,
            bytes=data["bytes"],
            retried=data["retried"],
            failed=data["failed"],
            spooled=data["spooled"],
            spool_path=Path(spool) if spool else None,
            torn_lines=list(data.get("torn_lines", [])),
            torn_path=Path(torn) if torn else None,
            seconds=data["seconds"],
            interrupted=data["interrupted"],
            error=data.get("error"),
        )


_ADDED = ("generated", "sent", "unique_events", "duplicates", "malformed", "late", "retried", "failed", "spooled")
_SHARED = ("seed", "sink", "target", "timestamps", "live_start")


def sum_reports(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One run's report from its producers' reports (each as ``as_json`` writes it, extras allowed).

    Counts and bytes add up; the run took as long as its slowest producer, so the rates are the total
    over that time. ``spool_paths`` lists every producer's spool file (``spool_path`` is set only when
    there is one); ``exit_code`` is 1 if any producer left records undelivered, else the highest.
    Values all producers agree on (seed, sink, target) are kept; each producer's own report is in ``parts``.
    """
    if not reports:
        raise ValueError("no producer reports to sum")
    total: dict[str, Any] = {key: sum(int(r[key]) for r in reports) for key in _ADDED}
    total["bytes"] = sum(int(r["bytes"]) for r in reports)
    seconds = max(float(r["seconds"]) for r in reports)
    kinds: Counter[str] = Counter()
    for r in reports:
        kinds.update(r.get("malformed_kinds", {}))
    spools = [r["spool_path"] for r in reports if r.get("spool_path")]
    torn = [r["torn_path"] for r in reports if r.get("torn_path")]
    errors = [f"producer {i}: {r['error']}" for i, r in enumerate(reports) if r.get("error")]
    total.update(
        {
            "seconds": round(seconds, 3),
            "events_per_second": round(total["sent"] / max(seconds, 1e-9), 1),
            "bytes_per_second": round(total["bytes"] / max(seconds, 1e-9), 1),
            "malformed_kinds": dict(sorted(kinds.items())),
            "interrupted": any(r.get("interrupted") for r in reports),
            "spool_path": spools[0] if len(spools) == 1 else None,
            "spool_paths": spools,
            "torn": sum(int(r.get("torn", 0)) for r in reports),
            "torn_paths": torn,
            "error": "; ".join(errors) or None,
            "producers": len(reports),
        }
    )
    codes = [int(r["exit_code"]) for r in reports if "exit_code" in r]
    if codes:
        total["exit_code"] = 1 if 1 in codes else max(codes)
    for key in _SHARED:
        values = {r.get(key) for r in reports}
        if len(values) == 1 and None not in values:
            total[key] = values.pop()
    total["parts"] = list(reports)
    return total
