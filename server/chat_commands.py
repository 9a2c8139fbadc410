"""The `channels` command of the CLI: list, add and edit public chat channels (channels are
data, kept in the database; running servers read them on every request)."""

from __future__ import annotations

import argparse
import sys

from server.settings import Settings


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `channels list|add|edit`."""
    channels = commands.add_parser(
        "channels", help="public chat channels", description="List, add and edit public channels."
    )
    actions = channels.add_subparsers(dest="channels_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="list the public channels")
    add = actions.add_parser("add", help="create a public channel")
    add.add_argument("name", help="#name (at most 50 characters)")
    add.add_argument("--description", default="", help="shown in lazer's channel list")
    add.add_argument("--moderated", action="store_true", help="only moderators may write")
    edit = actions.add_parser("edit", help="change a public channel")
    edit.add_argument("name", help="the channel's current #name")
    edit.add_argument("--rename", metavar="NAME", help="a new #name")
    edit.add_argument("--description", help="a new description")
    moderation = edit.add_mutually_exclusive_group()
    moderation.add_argument("--moderated", dest="moderated", action="store_true", default=None)
    moderation.add_argument("--unmoderated", dest="moderated", action="store_false")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run `channels list|add|edit`."""
    from server.app import build_services, open_database
    from server.redis_store import open_redis
    from server.services.chat import ChatRefused

    db = await open_database(settings)
    redis = open_redis(settings)
    services = build_services(settings, db, redis)
    try:
        chat = services.chat
        if args.channels_command == "list":
            for row in await chat.public_channel_rows():
                flag = " (moderated)" if row.moderated else ""
                print(f"{row.id}\t{row.name}{flag}\t{row.description}")
            return 0
        if args.channels_command == "add":
            outcome = await chat.add_public_channel(args.name, args.description, args.moderated)
        else:
            outcome = await chat.edit_public_channel(
                args.name,
                new_name=args.rename,
                description=args.description,
                moderated=args.moderated,
            )
        if isinstance(outcome, ChatRefused):
            print(outcome.message, file=sys.stderr)
            return 1
        flag = " (moderated)" if outcome.moderated else ""
        print(f"{outcome.id}\t{outcome.name}{flag}\t{outcome.description}")
        return 0
    finally:
        await services.aclose()
        await redis.aclose()
        await db.disconnect()
