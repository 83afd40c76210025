"""`tgtriage team check`: is the configured team room reachable, private, and who is in it.

The room is found the way the desk finds it (core/team/room.py `is_room`) among the account's
dialogs; its members are read with Telegram's participants request (supergroups) or the full
chat (basic groups). Nothing is changed in Telegram.
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
    if config.team.room is None:
        print("tgtriage team: no team room: set [team] room in the config", file=sys.stderr)
        return EXIT_USAGE
    client = (factory or default_factory(config, paths))()
    return asyncio.run(check(client, config))


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
    """The names of the room's members (up to 200)."""
    from telethon import utils
    from telethon.tl import functions, types

    if isinstance(entity, types.Channel):
        result = await client(
            functions.channels.GetParticipantsRequest(
                channel=utils.get_input_channel(entity),
                filter=types.ChannelParticipantsRecent(),
                offset=0,
                limit=DIALOG_PAGE,
                hash=0,
            )
        )
        users = result.users
    else:
        full = await client(functions.messages.GetFullChatRequest(chat_id=entity.id))
        users = full.users
    return sorted(conv.user_name(u) for u in users if isinstance(u, types.User))
