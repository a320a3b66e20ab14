"""Outside text as a log line or an alert may carry it: cut to a bound and with its control characters escaped.

An event's value, an S3 key or a database message quoting either can be megabytes long and can hold
newlines, carriage returns, terminal escapes or bidirectional overrides that would forge or hide log lines.
Every such value goes through ``shown`` before it is logged or alerted. It stays readable: printable text,
non-ASCII letters and backslashes included, is kept as it is, so text already shown passes through ``shown``
again unchanged (a message built from shown values can be shown once more, whole, by the alert).
"""

from __future__ import annotations

import unicodedata

# Bidirectional controls (Unicode's Bidi_Control): they reorder what a terminal or a viewer shows.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# C0 and C1 controls and DEL (Cc), lone surrogates (Cs), line and paragraph separators (Zl, Zp).
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(char: str) -> str:
    """One character as written: a named escape, ``\\xNN`` or ``\\uNNNN`` for a control, else itself."""
    if char in _NAMED:
        return _NAMED[char]
    if char in _BIDI_CONTROLS or unicodedata.category(char) in _ESCAPED_CATEGORIES:
        code = ord(char)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return char


def shown(value: object, limit: int = 200) -> str:
    """``value`` as text of at most ``limit`` characters once escaped, then, if it was longer, how many of its
    characters were left out (the result is never more than ``limit`` plus that note)."""
    text = value if isinstance(value, str) else str(value)
    pieces: list[str] = []
    length = 0
    used = 0
    for char in text:
        piece = escaped(char)
        if length + len(piece) > limit:
            break
        pieces.append(piece)
        length += len(piece)
        used += 1
    left_out = len(text) - used
    if left_out:
        pieces.append(f"…[{left_out} more characters]")
    return "".join(pieces)
