"""The `daily-challenge` command of the CLI: queue a day's challenge, list the queue."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime

from server.settings import Settings

_RULESETS = {"osu": 0, "taiko": 1, "fruits": 2, "mania": 3}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _ruleset(text: str) -> int:
    if text in _RULESETS:
        return _RULESETS[text]
    if text in ("0", "1", "2", "3"):
        return int(text)
    raise argparse.ArgumentTypeError(f"unknown ruleset: {text!r} (osu, taiko, fruits, mania)")


def _acronyms(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `daily-challenge add` and `daily-challenge list`."""
    daily = commands.add_parser(
        "daily-challenge",
        help="queue daily challenges",
        description=(
            "The daily challenge queue: at 00:00 UTC the server opens a 24-hour playlist "
            "(category daily_challenge, owned by the BanchoBot system account) for the day's "
            "queued beatmap (DAILY_CHALLENGE_JOB)."
        ),
    )
    actions = daily.add_subparsers(dest="daily_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="queue a day's challenge",
        description="Queue a day's challenge; the item is checked as POST rooms checks one.",
    )
    add.add_argument("--beatmap", type=int, required=True, help="beatmap id (must be stored)")
    add.add_argument(
        "--ruleset", type=_ruleset, default=0, help="osu, taiko, fruits, mania or 0-3 (default osu)"
    )
    add.add_argument(
        "--mods", type=_acronyms, default=[], help="required mods, comma-separated (e.g. HD,HR)"
    )
    add.add_argument(
        "--allowed-mods", type=_acronyms, default=[], help="allowed (free) mods, comma-separated"
    )
    add.add_argument("--date", type=_day, required=True, help="UTC day, YYYY-MM-DD")
    actions.add_parser("list", help="today's challenge and the queued ones after it")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run `daily-challenge add` or `daily-challenge list`."""
    from server.app import build_services, open_database
    from server.redis_store import open_redis
    from server.services.rooms import Refused

    db = await open_database(settings)
    redis = open_redis(settings)
    services = build_services(settings, db, redis)
    try:
        daily = services.daily_challenge
        if args.daily_command == "add":
            queued = await daily.add(
                args.date, args.beatmap, args.ruleset, args.mods, args.allowed_mods
            )
            if isinstance(queued, Refused):
                print(f"refused: {queued.error}", file=sys.stderr)
                return 1
            print(f"queued beatmap {queued.beatmap_id} for {queued.challenge_date.isoformat()}")
            return 0
        for entry in await daily.upcoming(datetime.now(UTC).date()):
            room = f"room {entry.room_id}" if entry.room_id is not None else "not opened"
            print(
                f"{entry.challenge_date.isoformat()}  beatmap {entry.beatmap_id}  ruleset "
                f"{entry.ruleset_id}  required {entry.required_mods}  allowed "
                f"{entry.allowed_mods}  {room}"
            )
        return 0
    finally:
        await services.aclose()
        await redis.aclose()
        await db.disconnect()
