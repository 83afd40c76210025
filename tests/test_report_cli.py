"""`tgtriage report` end to end: exports and the store in, table/CSV/JSON out, clear errors."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from tgtriage.core.desk.models import Chat, Message, User

from tgtriage.cli.report import run_report

STRIPE_STAFF = "user227703622,user805557969,user497406595,user19932276,user338083830"
GITTER_STAFF = "user1785939661,user1408129230"
ME, MATE = 62621544, 227703622
CAROL, DAVE = 555, 666
T0 = 1_567_696_000  # Thursday 2019-09-05 15:06:40 UTC


def entry(mid: int, offset: int, sender: int, name: str, text: str = "hi") -> dict[str, Any]:
    """One Telegram Desktop export message."""
    return {
        "id": mid,
        "type": "message",
        "date": "2019-09-05T00:00:00",
        "date_unixtime": str(T0 + offset),
        "from": name,
        "from_id": f"user{sender}",
        "text": text,
    }


def service(mid: int, offset: int) -> dict[str, Any]:
    """One export service message (an IRC-style notice)."""
    return {
        "id": mid,
        "type": "service",
        "date": "2019-09-05T00:00:00",
        "date_unixtime": str(T0 + offset),
        "actor": None,
        "actor_id": None,
        "action": "irc_notice",
        "text": "notice",
    }


def account_export(tmp_path: Path) -> Path:
    """A full-account export: me (karl) and a teammate answering two customers."""
    data = {
        "personal_information": {"user_id": ME, "first_name": "karl", "last_name": ""},
        "chats": {
            "list": [
                {
                    "name": "carol · Support",
                    "type": "private_supergroup",
                    "id": 11,
                    "messages": [
                        entry(1, 0, CAROL, "carol"),
                        entry(2, 30, CAROL, "carol", "anyone there?"),
                        service(3, 40),
                        entry(4, 100, ME, "karl"),
                        entry(5, 200, CAROL, "carol", "thanks"),
                    ],
                },
                {
                    "name": "=dave · Support",
                    "type": "private_supergroup",
                    "id": 22,
                    "messages": [
                        entry(1, 50, DAVE, "dave"),
                        entry(2, 1_050, MATE, "hmunoz"),
                        entry(3, 1_300, DAVE, "dave"),
                    ],
                },
            ]
        },
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def single_chat_export(tmp_path: Path) -> Path:
    """A single-chat export: no exporting account is named."""
    data = {
        "name": "room",
        "type": "public_supergroup",
        "id": 33,
        "messages": [entry(1, 0, CAROL, "carol"), entry(2, 60, MATE, "hmunoz")],
    }
    path = tmp_path / "single.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run the command and capture (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status = run_report(argv, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def report_json(argv: list[str]) -> dict[str, Any]:
    """Run with --format json and parse the output."""
    status, out, err = run([*argv, "--format", "json"])
    assert status == 0, err
    return json.loads(out)


# --- acceptance on real data -------------------------------------------------------------------


def test_stripe_export_acceptance_figures(stripe_export: Path, data_dirs: object) -> None:
    report = report_json(["--from-export", str(stripe_export), "--staff", STRIPE_STAFF])
    assert report["replies"] == {"count": 244, "median_s": 128, "p90_s": 745, "max_s": 24099}
    assert report["unanswered"] == {"count": 68, "oldest_age_s": 59201}
    assert sum(s["count"] for s in report["per_staff"].values()) == 244
    assert sum(c["count"] for c in report["per_chat"].values()) == 244


def test_gitter_single_chat_export_needs_and_uses_staff(
    gitter_export: Path, data_dirs: object
) -> None:
    status, _, err = run(["--from-export", str(gitter_export)])
    assert status == 2 and "--staff" in err
    report = report_json(["--from-export", str(gitter_export), "--staff", GITTER_STAFF])
    assert set(report["per_staff"]) == {"1785939661", "1408129230"}
    assert report["replies"]["count"] == sum(s["count"] for s in report["per_staff"].values())
    assert report["replies"]["count"] > 1000


# --- JSON --------------------------------------------------------------------------------------


def test_json_has_exactly_the_documented_shape(tmp_path: Path, data_dirs: object) -> None:
    report = report_json(["--from-export", str(account_export(tmp_path)), "--staff", str(MATE)])
    assert list(report) == ["replies", "per_staff", "per_chat", "unanswered", "within", "load"]
    figures = ["count", "median_s", "p90_s", "max_s"]
    assert list(report["replies"]) == figures
    for staff in report["per_staff"].values():
        assert list(staff) == ["name", *figures]
    for chat in report["per_chat"].values():
        assert list(chat) == ["title", *figures]
    assert list(report["unanswered"]) == ["count", "oldest_age_s"]
    assert list(report["within"]) == ["300", "900", "3600"]
    assert list(report["load"]) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert all(len(hours) == 24 for hours in report["load"].values())


def test_json_figures_of_a_small_export(tmp_path: Path, data_dirs: object) -> None:
    report = report_json(["--from-export", str(account_export(tmp_path)), "--staff", f"user{MATE}"])
    # carol waited 100 s (karl), dave waited 1000 s (hmunoz); both then wrote again.
    assert report["replies"] == {"count": 2, "median_s": 550, "p90_s": 910, "max_s": 1000}
    assert report["per_staff"][str(ME)] == {
        "name": "karl", "count": 1, "median_s": 100, "p90_s": 100, "max_s": 100,
    }  # fmt: skip
    assert report["per_staff"][str(MATE)]["name"] == "hmunoz"
    assert report["per_chat"]["-1000000000011"]["title"] == "carol · Support"
    # now = newest message (1300): carol's "thanks" at 200 waits 1100 s, dave's at 1300 waits 0 s.
    assert report["unanswered"] == {"count": 2, "oldest_age_s": 1100}
    assert report["within"] == {"300": 0.5, "900": 0.5, "3600": 1.0}
    assert report["load"]["thu"][15] == 5  # customer messages; the service notice is skipped


def test_no_replies_gives_nulls(tmp_path: Path, data_dirs: object) -> None:
    path = account_export(tmp_path)
    report = report_json(["--from-export", str(path), "--now", str(T0 + 5000), "--since", "10m"])
    assert report["replies"] == {"count": 0, "median_s": None, "p90_s": None, "max_s": None}
    assert report["unanswered"] == {"count": 0, "oldest_age_s": None}
    assert report["within"] == {"300": None, "900": None, "3600": None}
    assert report["per_chat"] == {}


def test_now_and_until_bound_what_is_read(tmp_path: Path, data_dirs: object) -> None:
    path = account_export(tmp_path)
    at_500 = report_json(["--from-export", str(path), "--now", str(T0 + 500)])
    # Only karl is staff: dave's wait (open since 50) is unanswered at 500.
    assert at_500["replies"]["count"] == 1
    assert at_500["unanswered"] == {"count": 2, "oldest_age_s": 450}
    until = report_json(["--from-export", str(path), "--until", "2019-09-05T15:15:00Z"])
    assert until == at_500


def test_chat_filter_by_title_or_id(tmp_path: Path, data_dirs: object) -> None:
    path = str(account_export(tmp_path))
    by_title = report_json(["--from-export", path, "--chat", "CAROL · support"])
    by_id = report_json(["--from-export", path, "--chat", "11"])
    by_marked = report_json(["--from-export", path, "--chat", "-1000000000011"])
    assert by_title == by_id == by_marked
    assert list(by_title["per_chat"]) == ["-1000000000011"]
    both = report_json(["--from-export", path, "--chat", "*support", "--staff", str(MATE)])
    assert both["replies"]["count"] == 2


def test_business_hours_from_config(tmp_path: Path, data_dirs: object) -> None:
    config = tmp_path / "config.toml"
    # Thursday 15:06 UTC is after a 09:00–15:00 day: nothing of these waits is business time.
    config.write_text('[business_hours]\nstart = "09:00"\nend = "15:00"\n', encoding="utf-8")
    argv = ["--from-export", str(account_export(tmp_path)), "--config", str(config)]
    assert report_json(argv)["replies"]["max_s"] == 100
    assert report_json([*argv, "--business-hours"])["replies"]["max_s"] == 0


# --- CSV and table ----------------------------------------------------------------------------


def test_csv_has_one_row_per_reply(tmp_path: Path, data_dirs: object) -> None:
    path = str(account_export(tmp_path))
    status, out, _ = run(["--from-export", path, "--staff", str(MATE), "--format", "csv"])
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [
        (r["chat"], r["customer_message_at"], r["replied_at"], r["staff"], r["seconds"])
        for r in rows
    ] == [
        ("carol · Support", "2019-09-05T15:06:40Z", "2019-09-05T15:08:20Z", "karl", "100"),
        ("'=dave · Support", "2019-09-05T15:07:30Z", "2019-09-05T15:24:10Z", "hmunoz", "1000"),
    ]
    assert rows[1]["staff_id"] == str(MATE)


def test_table_shows_human_durations(tmp_path: Path, data_dirs: object) -> None:
    path = str(account_export(tmp_path))
    status, out, _ = run(["--from-export", path, "--staff", str(MATE)])
    assert status == 0
    assert "16m40s" in out  # dave's 1000 s wait
    assert "Unanswered: 2 (oldest 18m20s)" in out
    assert "\x1b[" not in out  # not a terminal: no colour codes


# --- errors -----------------------------------------------------------------------------------


def one_line_error(argv: list[str]) -> str:
    """Run, expect status 2 with exactly one line on stderr and nothing on stdout."""
    status, out, err = run(argv)
    assert status == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err


def test_missing_export_file(tmp_path: Path, data_dirs: object) -> None:
    err = one_line_error(["--from-export", str(tmp_path / "nope.json")])
    assert "nope.json" in err and "not found" in err


def test_file_that_is_not_an_export(tmp_path: Path, data_dirs: object) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": "world"}', encoding="utf-8")
    assert "other.json" in one_line_error(["--from-export", str(path)])
    text = tmp_path / "notes.txt"
    text.write_text("just some notes", encoding="utf-8")
    assert "notes.txt" in one_line_error(["--from-export", str(text)])


def test_no_staff_known(tmp_path: Path, data_dirs: object) -> None:
    err = one_line_error(["--from-export", str(single_chat_export(tmp_path))])
    assert "no staff known" in err and "--staff" in err


def test_bad_flags_are_one_line(tmp_path: Path, data_dirs: object) -> None:
    path = str(account_export(tmp_path))
    assert "--staff" in one_line_error(["--from-export", path, "--staff", "bob"])
    assert "--since" in one_line_error(["--from-export", path, "--since", "lastweek"])
    assert "--now" in one_line_error(["--from-export", path, "--now", "soon"])
    assert "--chat" in one_line_error(["--from-export", path, "--chat", "nobody"])
    assert "--format" in one_line_error(["--from-export", path, "--format", "xml"])
    assert "config" in one_line_error(["--from-export", path, "--config", str(tmp_path / "x")])


def test_bad_config_is_one_line(tmp_path: Path, data_dirs: object) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[business_hours]\nstart = "9am"\n', encoding="utf-8")
    err = one_line_error(["--from-export", str(account_export(tmp_path)), "--config", str(config)])
    assert "business_hours.start" in err


def test_missing_store_is_one_line_and_creates_nothing(data_dirs: tuple[Path, Path]) -> None:
    _, data_dir = data_dirs
    err = one_line_error(["--profile", "demo"])
    assert "demo.sqlite3" in err and "--from-export" in err
    assert not (data_dir / "demo.sqlite3").exists()


# --- the store --------------------------------------------------------------------------------


def test_report_from_the_store(data_dirs: tuple[Path, Path]) -> None:
    store_mod = pytest.importorskip("tgtriage.core.storage.store")
    _, data_dir = data_dirs
    chat = Chat(id=-1000000000011, title="carol · Support")

    def m(mid: int, offset: int, sender: int, out: bool = False) -> Message:
        return Message(chat_id=chat.id, id=mid, date=T0 + offset, sender_id=sender, out=out)

    async def fill() -> None:
        store = await store_mod.Store.open(data_dir / "demo.sqlite3")
        try:
            await store.upsert_chats([chat])
            await store.upsert_users(
                [User(id=ME, first_name="Karl"), User(id=MATE, first_name="Hm")]
            )
            await store.add_messages(
                [m(1, 0, CAROL), m(2, 90, ME, out=True), m(3, 100, CAROL), m(4, 400, MATE)]
            )
        finally:
            await store.close()

    asyncio.run(fill())
    argv = ["--profile", "demo", "--now", str(T0 + 1000)]
    only_me = report_json(argv)
    assert only_me["replies"]["count"] == 1
    assert only_me["per_staff"][str(ME)]["name"] == "Karl"
    assert only_me["unanswered"] == {"count": 1, "oldest_age_s": 900}
    with_mate = report_json([*argv, "--staff", str(MATE)])
    assert with_mate["replies"] == {"count": 2, "median_s": 195, "p90_s": 279, "max_s": 300}


def test_store_account_id_from_meta_is_staff(data_dirs: tuple[Path, Path]) -> None:
    store_mod = pytest.importorskip("tgtriage.core.storage.store")
    if not hasattr(store_mod.Store, "set_meta"):
        pytest.skip("this store has no meta table")
    _, data_dir = data_dirs
    chat = Chat(id=-1000000000011, title="carol · Support")

    async def fill() -> None:
        store = await store_mod.Store.open(data_dir / "telegram.sqlite3")
        try:
            await store.upsert_chats([chat])
            await store.set_meta("me_id", str(ME))
            # Written from another device: not `out`, but the sender is the account itself.
            await store.add_messages(
                [
                    Message(chat_id=chat.id, id=1, date=T0, sender_id=CAROL),
                    Message(chat_id=chat.id, id=2, date=T0 + 42, sender_id=ME),
                ]
            )
        finally:
            await store.close()

    asyncio.run(fill())
    report = report_json(["--now", str(T0 + 100)])
    assert report["replies"]["count"] == 1 and report["replies"]["max_s"] == 42
    assert report["unanswered"]["count"] == 0


def test_help_goes_to_stdout() -> None:
    status, out, err = run(["--help"])
    assert status == 0 and err == ""
    assert out.startswith("usage: tgtriage report") and "--from-export" in out


def test_a_staff_id_nobody_used_is_warned_about(tmp_path: Path, data_dirs: object) -> None:
    path = str(account_export(tmp_path))
    status, out, err = run(["--from-export", path, "--staff", f"{MATE},777", "--format", "json"])
    assert status == 0 and json.loads(out)["replies"]["count"] == 2
    assert (
        err
        == "tgtriage report: warning: --staff 777: nobody with this id wrote in the chats reported on\n"
    )


# --- options -----------------------------------------------------------------------------------


def test_within_follows_the_configured_levels(tmp_path: Path, data_dirs: object) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[levels]\ndue = 2\nlate = 10\nbreached = 30\n", encoding="utf-8")
    argv = ["--from-export", str(account_export(tmp_path)), "--staff", str(MATE)]
    report = report_json([*argv, "--config", str(config)])
    # carol answered in 100 s, dave in 1000 s.
    assert report["within"] == {"120": 0.5, "600": 0.5, "1800": 1.0}


def test_staff_ids_in_repeated_flags(tmp_path: Path, data_dirs: object) -> None:
    path = str(account_export(tmp_path))
    assert report_json(["--from-export", path, "--staff", f"user{MATE}", "--staff", "777"]) == (
        report_json(["--from-export", path, "--staff", f"777,{MATE}"])
    )
    # Exports carry no usernames: an @name that nobody has is one clear line.
    err = one_line_error(["--from-export", path, "--staff", "@hmunoz"])
    assert "--staff @hmunoz" in err and "numeric id" in err


def test_staff_by_username_from_the_store(data_dirs: tuple[Path, Path]) -> None:
    store_mod = pytest.importorskip("tgtriage.core.storage.store")
    _, data_dir = data_dirs
    chat = Chat(id=-1000000000011, title="carol · Support")

    async def fill() -> None:
        store = await store_mod.Store.open(data_dir / "demo.sqlite3")
        try:
            await store.upsert_chats([chat])
            await store.upsert_users([User(id=MATE, first_name="Hm", username="hmunoz")])
            await store.add_messages(
                [
                    Message(chat_id=chat.id, id=1, date=T0, sender_id=CAROL),
                    Message(chat_id=chat.id, id=2, date=T0 + 70, sender_id=MATE),
                ]
            )
        finally:
            await store.close()

    asyncio.run(fill())
    argv = ["--profile", "demo", "--now", str(T0 + 100)]
    assert report_json([*argv, "--staff", "@HMunoz"])["per_staff"][str(MATE)]["count"] == 1
    assert "@nobody" in one_line_error([*argv, "--staff", "@nobody"])


def test_dates_and_iso_times_for_now_since_and_until(tmp_path: Path, data_dirs: object) -> None:
    path = str(account_export(tmp_path))
    epoch = report_json(["--from-export", path, "--now", str(T0 + 500)])
    iso = report_json(["--from-export", path, "--now", "2019-09-05T15:15:00+00:00"])
    assert iso == epoch  # T0 + 500 is 15:15:00 UTC
    # --until a bare date is midnight (config zone, UTC here): nothing of 5 September is read.
    before = report_json(["--from-export", path, "--until", "2019-09-05"])
    assert before["replies"]["count"] == 0 and before["unanswered"]["count"] == 0
    after = report_json(["--from-export", path, "--since", "2019-09-05", "--until", "2019-09-06"])
    assert after == report_json(["--from-export", path])
    assert "--since must be before --until" in one_line_error(
        ["--from-export", path, "--since", "2019-09-06", "--until", "2019-09-05"]
    )


def test_repeated_chat_flags_add_up(tmp_path: Path, data_dirs: object) -> None:
    path = str(account_export(tmp_path))
    both = report_json(["--from-export", path, "--chat", "11", "--chat", "=dave*"])
    assert set(both["per_chat"]) == {"-1000000000011", "-1000000000022"}


def test_no_business_hours_overrides_the_config(tmp_path: Path, data_dirs: object) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[business_hours]\nenabled = true\nstart = "09:00"\nend = "15:00"\n', encoding="utf-8"
    )
    argv = ["--from-export", str(account_export(tmp_path)), "--config", str(config)]
    assert report_json(argv)["replies"]["max_s"] == 0
    assert report_json([*argv, "--no-business-hours"])["replies"]["max_s"] == 100
    status, out, _ = run([*argv])
    assert status == 0 and "business hours only" in out


class _ClosedPipe(io.StringIO):
    """A stdout whose reader went away (`tgtriage report | head -1`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path, data_dirs: object) -> None:
    err = io.StringIO()
    argv = ["--from-export", str(account_export(tmp_path)), "--format", "csv"]
    assert run_report(argv, stdout=_ClosedPipe(), stderr=err) == 0
    assert err.getvalue() == ""


def test_now_defaults_to_the_current_time_for_the_store(data_dirs: tuple[Path, Path]) -> None:
    store_mod = pytest.importorskip("tgtriage.core.storage.store")
    _, data_dir = data_dirs
    chat = Chat(id=-1000000000011, title="carol · Support")

    async def fill() -> None:
        store = await store_mod.Store.open(data_dir / "demo.sqlite3")
        try:
            await store.upsert_chats([chat])
            await store.add_messages([Message(chat_id=chat.id, id=1, date=T0, sender_id=CAROL)])
        finally:
            await store.close()

    asyncio.run(fill())
    before = int(time.time())
    age = report_json(["--profile", "demo"])["unanswered"]["oldest_age_s"]
    after = int(time.time())
    assert before - T0 <= age <= after - T0


def test_a_damaged_store_is_one_line(data_dirs: tuple[Path, Path]) -> None:
    _, data_dir = data_dirs
    data_dir.mkdir(parents=True)
    (data_dir / "demo.sqlite3").write_bytes(b"this is not a database at all" * 100)
    err = one_line_error(["--profile", "demo"])
    assert "demo.sqlite3" in err and "not a SQLite database" in err


def test_per_staff_is_keyed_by_user_id_digits(stripe_export: Path, data_dirs: object) -> None:
    report = report_json(["--from-export", str(stripe_export), "--staff", STRIPE_STAFF])
    assert report["per_staff"] and all(key.isdigit() for key in report["per_staff"])
    assert {"227703622", "805557969", "62621544"} <= set(report["per_staff"])
    assert all(set(chat) >= {"title", "count"} for chat in report["per_chat"].values())
