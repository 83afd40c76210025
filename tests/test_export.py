"""The Telegram Desktop export parser: both real exports, every shape detail, every error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tgtriage.core.sources.export import (
    CHANNEL_OFFSET,
    Export,
    ExportError,
    load_export,
    parse_peer_id,
    parse_peer_ids,
)
from tgtriage.core.sources.export_content import flatten_text

STRIPE_STAFF = {
    "karllekko": 62621544,
    "hmunoz": 227703622,
    "timebox": 805557969,
    "w1zeman1p": 497406595,
    "koopajah": 19932276,
    "hpar": 338083830,
}


def write(tmp_path: Path, data: Any, name: str = "result.json") -> Path:
    """Write `data` as JSON to a file in tmp_path and return its path."""
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def msg(id: int, date: int, **extra: Any) -> dict[str, Any]:
    """A plain export message from a customer, with overrides."""
    entry: dict[str, Any] = {
        "id": id,
        "type": "message",
        "date": "2024-01-01T00:00:00",
        "date_unixtime": str(date),
        "from": "Ann Customer",
        "from_id": "user42",
        "text": f"message {id}",
    }
    entry.update(extra)
    return entry


def single(messages: list[Any], type: str = "private_supergroup", id: int = 555) -> dict[str, Any]:
    """A single-chat export around `messages`."""
    return {"name": "Acme · Support", "type": type, "id": id, "messages": messages}


def account(chats: list[Any], **extra: Any) -> dict[str, Any]:
    """A full-account export with the given chats, exported by user 7 (Eve Engineer)."""
    data: dict[str, Any] = {
        "personal_information": {
            "user_id": 7,
            "first_name": "Eve",
            "last_name": "Engineer",
            "username": "eve",
            "phone_number": "+1 555 0100",
        },
        "chats": {"about": "", "list": chats},
    }
    data.update(extra)
    return data


def one_line(error: ExportError) -> str:
    """The error text, asserting it is a single line."""
    text = str(error)
    assert "\n" not in text
    return text


# --- real data ------------------------------------------------------------------------------


def test_stripe_full_account_export(stripe_export: Path) -> None:
    export = load_export(stripe_export)
    assert len(export.chats) == 100
    assert len(export.messages) == 1200
    assert export.warnings == []
    assert export.me_id == STRIPE_STAFF["karllekko"]
    assert export.me_name == "karllekko"
    assert {chat.kind for chat in export.chats} == {"supergroup"}
    assert all(chat.id < -CHANNEL_OFFSET for chat in export.chats)
    monove = next(chat for chat in export.chats if chat.title == "monove · Support")
    assert monove.id == -1000286196466
    for name, staff_id in STRIPE_STAFF.items():
        if name != "hpar":  # listed as staff in the data README, but never speaks in this export
            assert export.users[staff_id].name == name
    assert STRIPE_STAFF["hpar"] not in export.users
    assert export.users[STRIPE_STAFF["hmunoz"]].name == "hmunoz"
    mine = [m for m in export.messages if m.sender_id == export.me_id]
    assert len(mine) == 132
    assert all(m.out for m in mine)
    assert not any(m.out for m in export.messages if m.sender_id != export.me_id)
    grouped = export.by_chat()
    assert len(grouped) == 100
    assert sum(len(messages) for messages in grouped.values()) == 1200
    for messages in grouped.values():
        assert messages == sorted(messages, key=lambda m: (m.date, m.id))
    first = grouped[monove.id][0]
    assert first.date == 1567696182
    assert first.sender_name == "monove"
    assert first.text.startswith("Has anyone reported any issues")


def test_gitter_single_chat_export(gitter_export: Path) -> None:
    export = load_export(gitter_export)
    assert export.warnings == []
    assert export.me_id is None
    assert [chat.id for chat in export.chats] == [-1001900000010]
    assert export.chats[0].title == "gitterHQ/gitter support room"
    assert export.chats[0].kind == "supergroup"
    assert len(export.messages) == 15060
    service = [m for m in export.messages if m.service]
    assert len(service) == 206
    assert all("notice" in m.text for m in service)
    assert not any(m.out for m in export.messages)
    by_id = {m.id: m for m in export.messages}
    linked = by_id[29]  # a text list of a plain string and a link entity
    assert linked.text.startswith(" November 20, 2016 1:46 AM @RationalCoding")
    assert linked.text.endswith(
        "toggle between light and dark http://blog.gitter.im/2016/11/17/join-the-dark-side/"
    )
    assert all(isinstance(m.text, str) for m in export.messages)
    assert parse_peer_id("user1785939661") in export.users
    assert export.users[parse_peer_id("user1408129230")].name == "mydigitalself"
    assert len({m.sender_id for m in export.messages if not m.service}) == 1752


# --- shapes ---------------------------------------------------------------------------------


def test_single_chat_shape(tmp_path: Path) -> None:
    export = load_export(write(tmp_path, single([msg(1, 1000), msg(2, 1060)])))
    assert isinstance(export, Export)
    assert export.me_id is None and export.me_name == ""
    assert export.chats[0].id == -(CHANNEL_OFFSET + 555)
    assert [(m.id, m.date, m.sender_id, m.sender_name) for m in export.messages] == [
        (1, 1000, 42, "Ann Customer"),
        (2, 1060, 42, "Ann Customer"),
    ]
    assert export.users[42].name == "Ann Customer"


@pytest.mark.parametrize(
    ("chat_type", "kind", "marked"),
    [
        ("private_supergroup", "supergroup", -1000000000555),
        ("public_supergroup", "supergroup", -1000000000555),
        ("private_channel", "channel", -1000000000555),
        ("public_channel", "channel", -1000000000555),
        ("private_group", "group", -555),
        ("personal_chat", "private", 555),
        ("bot_chat", "private", 555),
        ("saved_messages", "private", 555),
    ],
)
def test_chat_ids_are_marked_like_telethon(
    tmp_path: Path, chat_type: str, kind: str, marked: int
) -> None:
    export = load_export(write(tmp_path, account([single([msg(1, 1000)], type=chat_type)])))
    assert export.chats[0].id == marked
    assert export.chats[0].kind == kind
    assert export.messages[0].chat_id == marked


def test_full_account_me_is_staff_and_out(tmp_path: Path) -> None:
    chat = single([msg(1, 1000), msg(2, 1100, **{"from": "Eve Engineer", "from_id": "user7"})])
    export = load_export(write(tmp_path, account([chat])))
    assert export.me_id == 7
    assert export.me_name == "Eve Engineer"
    assert export.users[7].username == "eve"
    assert [m.out for m in export.messages] == [False, True]


def test_left_chats_are_read_too(tmp_path: Path) -> None:
    left = single([msg(1, 500)], type="private_group", id=99)
    data = account([single([msg(1, 1000)])], left_chats={"about": "", "list": [left]})
    export = load_export(write(tmp_path, data))
    assert [chat.id for chat in export.chats] == [-1000000000555, -99]
    assert export.left_chat_ids == frozenset({-99})
    assert len(export.messages) == 2


def test_messages_are_in_date_then_id_order(tmp_path: Path) -> None:
    export = load_export(write(tmp_path, single([msg(3, 2000), msg(2, 1000), msg(1, 1000)])))
    assert [m.id for m in export.messages] == [1, 2, 3]


def test_text_entities_flatten_to_plain_text(tmp_path: Path) -> None:
    text = [
        "see ",
        {"type": "link", "text": "https://example.com"},
        " and ",
        {"type": "text_link", "text": "the docs", "href": "https://docs.example.com"},
        {"type": "bold", "text": " [bold]now[/]"},
        " ",
        {"type": "mention", "text": "@bob"},
    ]
    export = load_export(write(tmp_path, single([msg(1, 1000, text=text)])))
    assert export.messages[0].text == "see https://example.com and the docs [bold]now[/] @bob"
    assert flatten_text(None) == ""
    assert flatten_text("plain") == "plain"


def test_service_messages(tmp_path: Path) -> None:
    pin = {
        "id": 2,
        "type": "service",
        "date_unixtime": "1100",
        "actor": "Eve Engineer",
        "actor_id": "user7",
        "action": "pin_message",
        "message_id": 1,
        "text": "",
    }
    notice = {
        "id": 3,
        "type": "service",
        "date_unixtime": "1200",
        "actor": None,
        "actor_id": None,
        "action": "irc_notice",
        "text": "topic changed",
    }
    invite = {
        "id": 4,
        "type": "service",
        "date_unixtime": "1300",
        "actor": "Eve Engineer",
        "actor_id": "user7",
        "action": "invite_members",
        "members": ["Bob"],
        "text": "",
    }
    export = load_export(write(tmp_path, account([single([msg(1, 1000), pin, notice, invite])])))
    by_id = {m.id: m for m in export.messages}
    assert not by_id[1].service
    assert by_id[2].service and by_id[2].text == "pinned a message"
    assert by_id[2].sender_id == 7 and by_id[2].sender_name == "Eve Engineer"
    assert by_id[3].service and by_id[3].text == "notice: topic changed"
    assert by_id[3].sender_id is None
    assert by_id[4].text == "added members: Bob"


def test_senders_edits_replies_and_channels(tmp_path: Path) -> None:
    entries = [
        msg(1, 1000),
        msg(2, 1010, reply_to_message_id=1, edited="2024-01-01T00:00:00", edited_unixtime="1500"),
        msg(3, 1020, **{"from": "Acme News", "from_id": "channel77"}),
        msg(4, 1030, **{"from": None, "from_id": "user43"}),
    ]
    export = load_export(write(tmp_path, single(entries)))
    by_id = {m.id: m for m in export.messages}
    assert by_id[1].edit_date is None and by_id[1].reply_to is None
    assert by_id[2].reply_to == 1 and by_id[2].edit_date == 1500
    assert by_id[3].sender_id == -(CHANNEL_OFFSET + 77)
    assert by_id[3].sender_name == "Acme News"
    assert by_id[4].sender_name == "Deleted Account"
    assert set(export.users) == {42, 43}


def test_media_placeholders(tmp_path: Path) -> None:
    entries = [
        msg(1, 1000, photo="photos/photo_1.jpg", photo_file_size=1_200_000, width=800, height=600),
        msg(
            2,
            1001,
            file="voice/audio_1.ogg",
            media_type="voice_message",
            mime_type="audio/ogg",
            file_size=5000,
        ),
        msg(
            3,
            1002,
            file="(File not included. Change data exporting settings to download.)",
            file_name="invoice.pdf",
            mime_type="application/pdf",
        ),
        msg(4, 1003, file="files/log.txt"),
        msg(5, 1004, file="stickers/s.webp", media_type="sticker", sticker_emoji="👍"),
        msg(6, 1005, contact_information={"first_name": "Bob", "last_name": "B"}),
        msg(7, 1006, location_information={"latitude": 1.0, "longitude": 2.0}),
        msg(8, 1007, poll={"question": "Works now?", "answers": []}),
        msg(9, 1008, photo="(File not included.)"),
    ]
    media = [m.media for m in load_export(write(tmp_path, single(entries))).messages]
    assert [(x.kind, x.name, x.size, x.mime) for x in media if x is not None] == [
        ("photo", None, 1_200_000, None),
        ("voice", "audio_1.ogg", 5000, "audio/ogg"),
        ("file", "invoice.pdf", None, "application/pdf"),
        ("file", "log.txt", None, None),
        ("sticker", "👍", None, None),
        ("contact", "Bob B", None, None),
        ("location", None, None, None),
        ("poll", "Works now?", None, None),
        ("photo", None, None, None),
    ]


def test_iso_dates_without_unixtime_read_as_utc(tmp_path: Path) -> None:
    entry = msg(1, 0)
    del entry["date_unixtime"]
    entry["date"] = "2024-01-02T03:04:05"
    export = load_export(write(tmp_path, single([entry])))
    assert export.messages[0].date == 1704164645
    assert len(export.warnings) == 1 and "read as UTC" in export.warnings[0]


def test_export_folder_is_accepted(tmp_path: Path) -> None:
    write(tmp_path, single([msg(1, 1000)]))
    assert len(load_export(tmp_path).messages) == 1


def test_parse_peer_id() -> None:
    assert parse_peer_id("user123") == 123
    assert parse_peer_id(" 123 ") == 123
    assert parse_peer_id("channel123") == -1000000000123
    assert parse_peer_id("chat123") == -123
    assert parse_peer_id("-1000000000123") == -1000000000123
    assert parse_peer_ids("user1, 2,,channel3") == [1, 2, -1000000000003]
    with pytest.raises(ValueError, match="user123"):
        parse_peer_id("karllekko")
    with pytest.raises(ValueError):
        parse_peer_id("userabc")


# --- errors ---------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "result.json"
    with pytest.raises(ExportError) as caught:
        load_export(path)
    text = one_line(caught.value)
    assert str(path) in text and "not found" in text


def test_folder_without_result_json(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="folder"):
        load_export(tmp_path)


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{\n  "name": "x",\n  "messages": [,]\n}\n', encoding="utf-8")
    with pytest.raises(ExportError) as caught:
        load_export(path)
    text = one_line(caught.value)
    assert str(path) in text
    assert "line 3, column 16" in text


def test_truncated_json(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(single([msg(1, 1000)]))[:-10], encoding="utf-8")
    with pytest.raises(ExportError, match="not valid JSON at line 1"):
        load_export(path)


def test_html_export_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "messages.html"
    path.write_text("<!DOCTYPE html>\n<html></html>", encoding="utf-8")
    with pytest.raises(ExportError, match="HTML, not JSON"):
        load_export(path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ExportError, match="not UTF-8"):
        load_export(path)


@pytest.mark.parametrize("data", [{"name": "x"}, [1, 2], "text", {"chats_": []}])
def test_json_that_is_not_an_export(tmp_path: Path, data: Any) -> None:
    path = write(tmp_path, data)
    with pytest.raises(ExportError) as caught:
        load_export(path)
    text = one_line(caught.value)
    assert str(path) in text
    assert "no 'messages' or 'chats' key" in text
    assert "Export Telegram data" in text


def test_chats_without_list(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="'chats' has no 'list'"):
        load_export(write(tmp_path, {"chats": 5}))


def test_bad_message_entries_are_skipped_with_a_warning(tmp_path: Path) -> None:
    entries: list[Any] = [
        msg(1, 1000),
        "not a message",
        {"type": "message", "date_unixtime": "1001", "text": "no id"},
        msg(4, 1002, date_unixtime="soon"),
        msg(5, 1003, text=42),
        msg(6, 1004, from_id="someone"),
        msg(7, 1005),
        msg(7, 1006),
    ]
    path = write(tmp_path, single(entries))
    export = load_export(path)
    assert [m.id for m in export.messages] == [1, 7]
    assert len(export.warnings) == 6
    assert all(w.startswith(f"{path}: chat 'Acme · Support' message #") for w in export.warnings)
    assert "message #1: not an object" in export.warnings[0]
    assert "message #2: no numeric 'id'" in export.warnings[1]
    assert "message #3: 'date_unixtime' is not a number" in export.warnings[2]
    assert "message #7: id 7 repeated" in export.warnings[5]
    assert all(w.endswith("skipped") for w in export.warnings)


def test_a_bad_chat_entry_is_skipped(tmp_path: Path) -> None:
    data = account([{"name": "broken", "type": "private_group"}, single([msg(1, 1000)]), 7])
    export = load_export(write(tmp_path, data))
    assert len(export.chats) == 1
    assert any("chats[0] has no numeric 'id'" in w for w in export.warnings)
    assert any("chats[2] is not a chat object" in w for w in export.warnings)


def test_unknown_chat_type_is_read_as_supergroup_with_a_warning(tmp_path: Path) -> None:
    export = load_export(write(tmp_path, single([msg(1, 1000)], type="space_station")))
    assert export.chats[0].kind == "supergroup"
    assert "unknown chat type 'space_station'" in export.warnings[0]


def test_no_readable_message_at_all_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as caught:
        load_export(write(tmp_path, single([{"id": "x"}, 5])))
    text = one_line(caught.value)
    assert "none of its 2 messages could be read" in text
    assert "(first problem: chat 'Acme · Support' message #0: no numeric 'id'" in text


def test_single_chat_without_id_is_an_error(tmp_path: Path) -> None:
    data = single([msg(1, 1000)])
    del data["id"]
    with pytest.raises(ExportError, match="the chat has no numeric 'id'"):
        load_export(write(tmp_path, data))


def test_bad_personal_information(tmp_path: Path) -> None:
    data = account([])
    data["personal_information"]["user_id"] = "eve"
    with pytest.raises(ExportError, match=r"personal_information\.user_id"):
        load_export(write(tmp_path, data))
