"""`tgtriage team create` and `tgtriage team check`: make the team room, and check it.

`create` makes a private supergroup (a supergroup, so that every member sees the same message
ids: the room's order), invites the teammates, mutes it on this account, and pins a message
saying what it is for. `check` finds the configured room the way the desk does
(core/team/room.py `is_room`) among the account's dialogs, refuses a public one, and lists its
members the way the desk counts them as staff (core/sources/telegram/members.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..core.sources.telegram import convert as conv
from ..core.sources.telegram.client import TelegramClientLike, default_factory
from ..core.sources.telegram.members import fetch_members, humans
from ..core.system.config import Config, ConfigError, load_config
from ..core.system.paths import Paths
from ..core.team.room import is_room, room_problem

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
DIALOG_PAGE = 200

ClientFactory = Callable[[], TelegramClientLike]


def build_parser() -> argparse.ArgumentParser:
    """The `tgtriage team` command line."""
    parser = argparse.ArgumentParser(prog="tgtriage team", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="the config file (default: the usual one)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "check", help="say whether the team room is reachable, private, and who is in it"
    )
    create = sub.add_parser("create", help="create a private team room and invite teammates")
    create.add_argument("title", help='the room\'s title, e.g. "Support team"')
    create.add_argument("--invite", default="", help="teammates to invite: @name,@name,…")
    return parser


def run_team(argv: Sequence[str], factory: ClientFactory | None = None) -> int:
    """Run `tgtriage team …`; print the answer, return the exit code."""
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    paths = Paths.default()
    try:
        config = load_config(Path(args.config) if args.config else paths.config_file)
    except ConfigError as exc:
        print(f"tgtriage team: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "create":
        invite = [name.strip() for name in args.invite.split(",") if name.strip()]
        client = (factory or default_factory(config, paths))()
        return asyncio.run(create(client, args.title, invite))
    if config.team.room is None:
        print("tgtriage team: no team room: set [team] room in the config", file=sys.stderr)
        return EXIT_USAGE
    client = (factory or default_factory(config, paths))()
    return asyncio.run(check(client, config))


ABOUT = (
    "The support team's room for tgtriage: claims (✋), shared notes, statuses and handoffs, one "
    "message each, readable here and folded by every desk. Keep it private; chat freely."
)


async def create(client: TelegramClientLike, title: str, invite: list[str]) -> int:
    """Create the room, invite `invite`, mute it here, pin what it is for; print the config."""
    from telethon import utils
    from telethon.tl import functions, types

    from ..core.storage.rows import new_random_id

    await client.connect()
    try:
        if not await client.is_user_authorized():
            print("tgtriage team: not logged in: run `tgtriage login` first", file=sys.stderr)
            return EXIT_PROBLEM
        users = []
        for name in invite:
            try:
                users.append(utils.get_input_user(await client.get_input_entity(name)))
            except (ValueError, TypeError) as exc:
                print(f"tgtriage team: cannot invite {name}: {exc}", file=sys.stderr)
                return EXIT_PROBLEM
        made = await client(
            functions.channels.CreateChannelRequest(title=title, about=ABOUT, megagroup=True)
        )
        room = next(c for c in made.chats if isinstance(c, types.Channel))
        channel, peer = utils.get_input_channel(room), utils.get_input_peer(room)
        if users:
            await client(functions.channels.InviteToChannelRequest(channel=channel, users=users))
        await client(
            functions.account.UpdateNotifySettingsRequest(
                peer=types.InputNotifyPeer(peer=peer),
                settings=types.InputPeerNotifySettings(mute_until=2**31 - 1),
            )
        )
        sent = await client(
            functions.messages.SendMessageRequest(
                peer=peer, message=ABOUT, random_id=new_random_id(), silent=True
            )
        )
        pinned = next(
            (u.id for u in getattr(sent, "updates", []) if isinstance(u, types.UpdateMessageID)),
            getattr(sent, "id", None),
        )
        if pinned is not None:
            await client(
                functions.messages.UpdatePinnedMessageRequest(peer=peer, id=pinned, silent=True)
            )
        room_id = utils.get_peer_id(room)
        print(f"Created the team room {title!r} (id {room_id}), private, muted here.")
        print(f"Invited: {', '.join(invite) or 'nobody yet'}. Add to every desk's config:")
        print(f"\n[team]\nroom = {room_id}")
        return EXIT_OK
    finally:
        await client.disconnect()


async def check(client: TelegramClientLike, config: Config) -> int:
    """Find the room among the dialogs, check it is private, list its members."""
    from telethon.tl import functions, types

    await client.connect()
    try:
        if not await client.is_user_authorized():
            print("tgtriage team: not logged in: run `tgtriage login` first", file=sys.stderr)
            return EXIT_PROBLEM
        request = functions.messages.GetDialogsRequest(
            offset_date=None,
            offset_id=0,
            offset_peer=types.InputPeerEmpty(),
            limit=DIALOG_PAGE,
            hash=0,
        )
        result = await client(request)
        entities = conv.entity_map(result.users, result.chats)
        found = None
        for dialog in result.dialogs:
            entity = entities.get(conv.marked_id(dialog.peer))
            if entity is not None and is_room(conv.convert_chat(entity), config.team.room):
                found = entity
                break
        if found is None:
            print(f"tgtriage team: the team room {config.team.room!r} is not among your chats")
            return EXIT_PROBLEM
        chat = conv.convert_chat(found)
        print(f"Team room: {chat.title} (id {chat.id}, {chat.kind})")
        problem = room_problem(chat)
        if problem:
            print(f"tgtriage team: {problem}")
            return EXIT_PROBLEM
        print("Private: yes")
        names = await _members(client, found)
        print(f"Members ({len(names)}): {', '.join(names)}")
        print("OK: every desk with this [team] room follows it; its members count as staff.")
        return EXIT_OK
    finally:
        await client.disconnect()


async def _members(client: TelegramClientLike, entity: Any) -> list[str]:
    """The names of the room's human members, listed as the desk lists them."""
    from telethon import utils

    found = await fetch_members(client, utils.get_input_peer(entity))
    return sorted(user.name for user in humans(found.values()))
