"""Outside text reaches a log line or an alert cut and escaped (warehouse.log_text), wherever the pipeline
writes one: the reports' rows and errors (tests/integration/warehouse/: test_open_world_checks.py,
test_bad_input_corpus.py), the message naming files that need attention, COPY's result errors, the DAG's
alerts (tests/integration/dags/test_alerts.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from warehouse import loader, pipeline
from warehouse.log_text import shown

FORGED = "landing/a.gz\n2024-01-29 19:39:47 [ERROR] forged line\r\x1b[2J\x1b]0;title\x07"


def test_printable_text_is_kept_as_it_is() -> None:
    for text in ("Oaxaca", "Ciudad de México ñ 東京 🚀", 'O\'Higgins "Centro"', "C:\\new\\table\\", "a b"):
        assert shown(text) == text


@pytest.mark.parametrize(
    ("char", "written"),
    [
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("\x00", "\\x00"),
        ("\x1b", "\\x1b"),  # ESC: terminal escapes (colours, clearing the screen, window titles)
        ("\x07", "\\x07"),
        ("\x7f", "\\x7f"),
        ("\x85", "\\x85"),  # NEL, a C1 control some viewers break lines on
        ("\x9b", "\\x9b"),  # CSI, the one-byte C1 form of ESC [
        ("\u2028", "\\u2028"),  # line separator
        ("\u2029", "\\u2029"),  # paragraph separator
        ("\u202e", "\\u202e"),  # right-to-left override
        ("\u2066", "\\u2066"),  # left-to-right isolate
        ("\u200f", "\\u200f"),  # right-to-left mark
        ("\u061c", "\\u061c"),  # Arabic letter mark
        ("\ud800", "\\ud800"),  # a lone surrogate (JSON can carry one): a log handler could not encode it
    ],
)
def test_each_control_character_is_escaped(char: str, written: str) -> None:
    assert shown(f"a{char}b") == f"a{written}b"


def test_a_forged_line_stays_on_one_line_and_inert() -> None:
    text = shown(FORGED)
    assert text == "landing/a.gz\\n2024-01-29 19:39:47 [ERROR] forged line\\r\\x1b[2J\\x1b]0;title\\x07"
    assert text.isprintable()


def test_a_long_value_is_cut_and_says_how_much_was_left_out() -> None:
    assert shown("x" * 900_000) == "x" * 200 + "…[899800 more characters]"
    assert shown("abc", limit=3) == "abc"
    assert shown("abcd", limit=3) == "abc…[1 more characters]"


def test_the_cut_counts_escapes_and_never_splits_one() -> None:
    text = shown("\n" * 1000, limit=5)
    assert text == "\\n\\n…[998 more characters]"
    assert len(shown("\u202e" * 100_000, limit=300)) <= 300 + len("…[100000 more characters]")


def test_shown_text_shows_again_unchanged() -> None:
    """A message built from shown values (a key, an error) can go through shown again, whole, in an alert."""
    for value in (FORGED, "x" * 5000, "C:\\new", "\\x1b is text already"):
        once = shown(value)
        assert shown(once, limit=len(once)) == once


def test_any_value_is_shown_as_its_text() -> None:
    assert shown(None) == "None"
    assert shown(datetime(2024, 1, 29, 19, 39, 47)) == "2024-01-29 19:39:47"
    assert shown(ValueError("bad\nvalue")) == "bad\\nvalue"


def test_files_needing_attention_are_named_cut_and_escaped() -> None:
    """A key any bucket writer chose, or a database message quoting a file's bytes, cannot forge the run's log
    or its alert, and thirty such files make a message of bounded size."""
    files = {
        FORGED: "REJECTED_KEY: the key is not a canonical path",
        "landing/" + "k" * 5000: "FAILED: " + "e" * 50_000,
        **{f"landing/z{n:02d}.gz": "FAILED: unreadable" for n in range(30)},
    }
    message = str(pipeline.FilesNeedAttention(files))
    assert message.isprintable()
    assert "32 delivered file(s) could not be loaded" in message
    assert "and 12 more" in message
    assert shown(FORGED) in message
    assert "landing/" + "k" * 192 + "…[4808 more characters] (FAILED: " + "e" * 192 + "…[49808 more" in message
    assert len(message) < 10_000


def test_files_needing_attention_name_the_forged_key_escaped() -> None:
    message = str(pipeline.FilesNeedAttention({FORGED: "REJECTED_KEY: not canonical"}))
    assert shown(FORGED) in message and message.isprintable()


def test_copy_results_naming_a_file_nobody_gave_it_are_escaped() -> None:
    description = [("file",), ("status",), ("rows_parsed",), ("rows_loaded",)]
    with pytest.raises(loader.CopyResultError) as raised:
        loader.check_copy_result(description, [(FORGED, "LOADED", 1, 1)], {}, ["00000-a.gz"])
    assert str(raised.value).isprintable() and shown(FORGED) in str(raised.value)
    with pytest.raises(loader.CopyResultError) as raised:
        loader.check_copy_result(description, [("00000-a.gz", "LOADED", 1, 1)], {FORGED: 1}, ["00000-a.gz"])
    assert str(raised.value).isprintable() and shown(FORGED) in str(raised.value)
