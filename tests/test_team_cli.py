"""`tgtriage team check` against the fake Telegram client: found, private, members; or why not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from telethon.tl import types

from tests.fake_telethon import FakeClient, channel, user
from tgtriage.cli.team import run_team

PRIYA = user(601, "Priya", "Shah")
TOM = user(602, "Tom", "Becker")
HELPDESK_BOT = user(603, "Helpdesk", "Bot", bot=True)


class RoomClient(FakeClient):
    """The fake client, serving the participants of its supergroups."""

    def _serve_GetParticipantsRequest(self, request: Any) -> Any:
        users = [self.me, PRIYA, TOM, HELPDESK_BOT]
        participants = [types.ChannelParticipant(user_id=u.id, date=None) for u in users]
        return types.channels.ChannelParticipants(
            count=len(users), participants=participants, chats=[], users=users
        )

    def _serve_CreateChannelRequest(self, request: Any) -> Any:
        room = channel(950, request.title, megagroup=request.megagroup)
        self.add_chat(room)
        return types.Updates(updates=[], users=[], chats=[room], date=None, seq=0)

    def _serve_InviteToChannelRequest(self, request: Any) -> Any:
        self.invited = [u.user_id for u in request.users]
        return types.messages.InvitedUsers(
            updates=types.Updates(updates=[], users=[], chats=[], date=None, seq=0),
            missing_invitees=[],
        )

    def _serve_UpdateNotifySettingsRequest(self, request: Any) -> Any:
        self.muted_until = request.settings.mute_until
        return True

    def _serve_UpdatePinnedMessageRequest(self, request: Any) -> Any:
        self.pinned_id = request.id
        return types.Updates(updates=[], users=[], chats=[], date=None, seq=0)


def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, room: str) -> Path:
    """A config naming the team room, and private dirs."""
    monkeypatch.setenv("TGTRIAGE_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("TGTRIAGE_DATA_DIR", str(tmp_path / "d"))
    config = tmp_path / "config.toml"
    config.write_text(f'[team]\nroom = "{room}"\n', encoding="utf-8")
    return config


def client(*rooms: Any) -> RoomClient:
    """A logged-in account with these chats."""
    fake = RoomClient()
    for person in (PRIYA, TOM):
        fake.add_user(person)
    for room in rooms:
        fake.add_chat(room)
    return fake


def test_check_finds_the_private_room_and_lists_its_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = setup(tmp_path, monkeypatch, "Support team")
    fake = client(channel(900, "Support team", megagroup=True), channel(77, "Acme Support"))
    assert run_team(["--config", str(config), "check"], lambda: fake) == 0
    out = capsys.readouterr().out
    assert "Team room: Support team (id -1000000000900, supergroup)" in out
    assert "Private: yes" in out
    assert "Members (3): " in out and "Priya Shah" in out and "Tom Becker" in out
    assert "Helpdesk Bot" not in out, "check lists the staff the desk counts: no bots"


def test_check_refuses_a_public_room_and_names_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = setup(tmp_path, monkeypatch, "@acme_team")
    public = channel(900, "Acme team", megagroup=True, username="acme_team")
    assert run_team(["--config", str(config), "check"], lambda: client(public)) == 1
    assert "is public (@acme_team): make it private" in capsys.readouterr().out
    config = setup(tmp_path, monkeypatch, "Nowhere")
    assert run_team(["--config", str(config), "check"], lambda: client(public)) == 1
    assert "'Nowhere' is not among your chats" in capsys.readouterr().out


def test_create_makes_a_private_muted_supergroup_invites_and_pins_what_it_is_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = setup(tmp_path, monkeypatch, "Support team")
    fake = client()
    priya = user(603, "Priya", "Shah", username="priya_ops")
    fake.add_user(priya)
    argv = ["--config", str(config), "create", "Support team", "--invite", "@priya_ops"]
    assert run_team(argv, lambda: fake) == 0
    room_id = -1_000_000_000_950
    room = fake.entities[room_id]
    assert room.megagroup and not room.username, "a private supergroup"
    assert fake.invited == [603] and fake.muted_until == 2**31 - 1
    pinned = [m for m in fake.history[room_id] if m.id == fake.pinned_id]
    assert pinned and "support team's room for tgtriage" in pinned[0].message
    assert f"room = {room_id}" in capsys.readouterr().out
    assert run_team(["--config", str(config), "create", "X", "--invite", "@nobody"], client) == 1
