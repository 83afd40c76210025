"""Hostile and out-of-range exports through `tgtriage report` in every format, and the reader's limits.

The exports are real files on disk read by the real `tgtriage report` entry point; what is
checked is what a user sees: the exit status, the warnings on stderr, and the report's text.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from tgtriage.core.sources.export import ExportError, load_export

from tgtriage.cli import main

T = 1_717_000_000
TELEGRAM_MAX_TEXT = 4096  # characters in one message's text
HOSTILE = "Evil\x9b31m\x9d0;pwned\x07 \u202egnp.exe\x1b[2J\x07\x85Corp"


def _message(id: int, date: Any, sender: str = "user42", **extra: Any) -> dict[str, Any]:
    """One export message (date_unixtime as Telegram Desktop writes it: a string)."""
    entry: dict[str, Any] = {
        "id": id,
        "type": "message",
        "date_unixtime": str(date),
        "from": HOSTILE,
        "from_id": sender,
        "text": f"message {id}",
    }
    entry.update(extra)
    return entry


def _export(tmp_path: Path, messages: list[Any], name: str = HOSTILE) -> Path:
    """A full-account export (staff = user 7) with one chat holding `messages`."""
    data = {
        "personal_information": {"user_id": 7, "first_name": HOSTILE},
        "chats": {
            "list": [{"name": name, "type": "private_supergroup", "id": 555, "messages": messages}]
        },
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _good_conversation() -> list[dict[str, Any]]:
    """A customer question and a staff answer ten minutes later."""
    return [_message(1, T), _message(2, T + 600, sender="user7")]


OUT_OF_RANGE = [
    _message(10, "100000000000000000000"),  # 1e20
    _message(11, -(10**15)),
    _message(12, 99_999_999_999),  # year 5138
    _message(2**70, T + 10),
    _message(13, T + 20, sender="user" + "9" * 30),
    _message(14, T + 30, reply_to_message_id=2**64),
    _message(15, "1e400"),
]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_out_of_range_messages_are_skipped_with_warnings_in_every_format(
    tmp_path: Path, data_dirs: object, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _export(tmp_path, [*_good_conversation(), *OUT_OF_RANGE])

    status = main(["report", "--from-export", str(path), "--format", fmt])

    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Traceback" not in err
    warnings = [line for line in err.splitlines() if "warning:" in line]
    assert len(warnings) == 5 and "… and 2 more warnings" in err  # 7 skipped, 5 shown
    assert "message #2:" in err and "not a date between 1970 and 2100" in err
    assert "out of range" in err
    if fmt == "json":
        assert json.loads(out)["replies"]["count"] == 1
    elif fmt == "csv":
        assert len(out.splitlines()) == 2  # the header and the one real reply
    else:
        assert "all replies" in out


def _controls(text: str) -> list[str]:
    """Characters that could drive a terminal or reorder text: C0/C1 controls, bidi overrides."""
    return [
        repr(c)
        for c in text
        if (unicodedata.category(c) == "Cc" and c != "\n")
        or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
    ]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_hostile_names_and_titles_are_stripped_in_every_format(
    tmp_path: Path, data_dirs: object, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _export(tmp_path, _good_conversation())

    assert main(["report", "--from-export", str(path), "--format", fmt]) == 0

    out = capsys.readouterr().out
    assert "Evil" in out and "Corp" in out
    if fmt == "json":
        shown = json.loads(out)
        out = "".join(v["title"] for v in shown["per_chat"].values())
        out += "".join(v["name"] for v in shown["per_staff"].values())
        assert out.count("Evil") == 2
    assert _controls(out) == []


def test_a_message_longer_than_telegram_allows_is_cut_with_a_marker(tmp_path: Path) -> None:
    path = _export(tmp_path, [_message(1, T, text="A" * 1_000_000), _message(2, T + 1)])

    export = load_export(path)

    first, second = export.messages
    assert len(first.text) == TELEGRAM_MAX_TEXT
    assert first.text.startswith("AAAA") and first.text.endswith("1000000 characters in all]")
    assert second.text == "message 2"


def test_deeply_nested_text_skips_that_message_and_reads_the_rest(tmp_path: Path) -> None:
    deep: Any = "x"
    for _ in range(900):
        deep = [deep]
    path = _export(
        tmp_path, [_message(1, T, text=[{"type": "bold", "text": deep}]), _message(2, T)]
    )

    export = load_export(path)

    assert [m.id for m in export.messages] == [2]
    assert any("message #0" in w and "text entity" in w for w in export.warnings)


def test_an_export_nested_beyond_the_parser_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}")

    with pytest.raises(ExportError) as info:
        load_export(path)

    assert "nested too deeply" in str(info.value) and "\n" not in str(info.value)


def test_an_incoming_telegram_message_is_bounded_where_it_is_converted() -> None:
    from datetime import UTC, datetime

    from telethon.tl import types
    from tgtriage.core.sources.telegram.convert import convert_message

    incoming = types.Message(
        id=5,
        peer_id=types.PeerUser(user_id=42),
        date=datetime.fromtimestamp(T, UTC),
        message="B" * 50_000,
    )

    message = convert_message(incoming)

    assert len(message.text) == TELEGRAM_MAX_TEXT and message.text.endswith("in all]")
