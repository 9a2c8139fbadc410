"""Chat's pure rules and the bot's command table, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.repositories.chat import ChannelRow
from server.repositories.users import UserAccount
from server.services.chat import (
    is_user_command,
    normalise_content,
    pm_channel_name,
    pm_user_ids,
)
from server.services.chat_bot import COMMANDS, BotCommand, BotContext, ChatBot


def _account(user_id: int = 7, name: str = "peppy") -> UserAccount:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return UserAccount(
        id=user_id, username=name, username_safe=name, email="e@example.com",
        password_hash="", country_code="AU", playmode="osu", is_supporter=False,
        is_admin=False, is_bot=False, is_restricted=False, pm_friends_only=False, title=None,
        location=None, interests=None, occupation=None, twitter=None, discord=None,
        website=None, profile_colour=None, avatar_url=None, cover_url=None,
        silence_end_at=None, created_at=now, last_visit_at=now,
    )  # fmt: skip


def test_content_is_trimmed_and_flattened_except_in_announcements() -> None:
    assert normalise_content("  a\r\nb\n ", "PUBLIC") == "a  b"
    assert normalise_content("a\nb", "PM") == "a b"
    assert normalise_content(" a\nb ", "ANNOUNCE") == " a\nb "


def test_user_commands_as_osu_web_tells_them() -> None:
    assert is_user_command("!roll") and is_user_command("!r 5")
    assert (
        not is_user_command("! roll") and not is_user_command("!!") and not is_user_command("hi !x")
    )


def test_pm_channel_names_are_ordered_pairs() -> None:
    assert pm_channel_name(9, 3) == pm_channel_name(3, 9) == "#pm_3-9"
    row = ChannelRow(id=1, name="#pm_3-9", description="", type="PM", moderated=False,
                     last_message_id=None)  # fmt: skip
    assert pm_user_ids(row) == [3, 9]


async def test_the_bot_runs_commands_from_its_table() -> None:
    async def ping(ctx: BotContext, args: list[str]) -> str:
        return f"pong {ctx.sender.username} {' '.join(args)}"

    users: Any = None  # none of these commands reads the account store
    bot = ChatBot(3, "BanchoBot", users, {**COMMANDS, "ping": BotCommand(ping, "ping", "pong")})
    sender = _account()
    assert await bot.answer(sender, "!PING a b") == "pong peppy a b"
    listing = await bot.answer(sender, "!help")
    assert listing is not None and "!ping: pong" in listing and "!roll [max]" in listing
    assert await bot.answer(sender, "!nope") == "Unknown command !nope. Try !help."
    for _ in range(20):
        rolled = await bot.answer(sender, "!roll 3")
        assert rolled is not None and rolled.startswith("peppy rolls ")
        assert 1 <= int(rolled.split()[2]) <= 3
    assert await bot.answer(sender, "!roll 1") == "peppy rolls 1 point"
