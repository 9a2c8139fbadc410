"""The chat bot: a system user (name and id from settings, `BanchoBot` by default) that
answers `!commands` in public channels and in PMs with it.

Commands are a table: each entry is a small async function from (who asked, the words after
the command) to the answer. An operator adds a command by adding an entry to `COMMANDS` (or
passing their own table to `ChatBot`). The chat service decides when the bot speaks: never
to itself, and through the same send limits as everyone (server/services/chat.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping

import msgspec

from server.models.rulesets import RULESETS
from server.repositories.users import UserAccount, UserRepository


class BotContext(msgspec.Struct, frozen=True):
    """What a command may use: who asked, and the account store."""

    sender: UserAccount
    users: UserRepository
    commands: Mapping[str, BotCommand]


Handler = Callable[[BotContext, list[str]], Awaitable[str]]


class BotCommand(msgspec.Struct, frozen=True):
    """One command: its handler, its usage line and what it does (for `!help`)."""

    handler: Handler
    usage: str
    summary: str


async def _help(ctx: BotContext, args: list[str]) -> str:
    lines = (f"!{c.usage}: {c.summary}" for c in ctx.commands.values())
    return "Commands: " + " | ".join(lines)


async def _roll(ctx: BotContext, args: list[str]) -> str:
    top = 100
    if args and args[0].isdigit():
        top = max(1, min(int(args[0]), 2**31 - 1))
    points = secrets.randbelow(top) + 1
    return f"{ctx.sender.username} rolls {points} point{'s' if points != 1 else ''}"


async def _stats(ctx: BotContext, args: list[str]) -> str:
    name = " ".join(args).strip()
    account = await ctx.users.by_username(name) if name else ctx.sender
    # Restricted users do not exist to others (osu-web), so their stats are not shown.
    if account is None or (account.is_restricted and account.id != ctx.sender.id):
        return f"User {name} not found."
    ruleset = account.playmode if account.playmode in RULESETS else "osu"
    row = (await ctx.users.statistics(account.id)).get(ruleset)
    if row is None or row.play_count == 0:
        return f"{account.username} has not played {ruleset} yet."
    rank = ""
    if row.pp > 0 and not account.is_restricted:
        rank = f" (#{await ctx.users.global_rank(ruleset, row.pp, account.id)})"
    return (
        f"Stats for {account.username} ({ruleset}): {row.pp:.0f}pp{rank}, "
        f"accuracy {row.hit_accuracy:.2f}%, {row.play_count} plays, "
        f"ranked score {row.ranked_score:,}"
    )


COMMANDS: dict[str, BotCommand] = {
    "help": BotCommand(_help, "help", "this list"),
    "roll": BotCommand(_roll, "roll [max]", "a random number from 1 to max (100)"),
    "stats": BotCommand(_stats, "stats [user]", "a player's pp, rank, accuracy and plays"),
}


class ChatBot:
    """Parses a `!command` and runs it from the table."""

    def __init__(
        self,
        user_id: int,
        username: str,
        users: UserRepository,
        commands: Mapping[str, BotCommand] = COMMANDS,
    ) -> None:
        self.user_id = user_id
        self.username = username
        self._users = users
        self._commands = commands

    async def answer(self, sender: UserAccount, text: str) -> str | None:
        """The answer to a `!command`; an unknown command points to `!help`."""
        words = text.removeprefix("!").split()
        if not words:
            return None
        name, args = words[0].lower(), words[1:]
        command = self._commands.get(name)
        if command is None:
            return f"Unknown command !{name}. Try !help."
        return await command.handler(BotContext(sender, self._users, self._commands), args)
