"""The moderation commands of the CLI: `user restrict|unrestrict|silence|unsilence|note|
rename|role|history` (argument parsing here, the work in ModerationService)."""

from __future__ import annotations

import argparse
import sys

from server.settings import Settings

ACTIONS = (
    "restrict",
    "unrestrict",
    "silence",
    "unsilence",
    "note",
    "rename",
    "role",
    "history",
    "totp",
)

_NOT_LIVE = (
    "no shared Redis (REDIS_URL unset): running servers see this change only when their "
    "caches expire (signed-in tokens: TOKEN_CACHE_SECONDS); use the admin API for a live effect"
)


def add_parsers(user_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the moderation actions under `user`."""

    def action(name: str, text: str) -> argparse.ArgumentParser:
        parser = user_commands.add_parser(name, help=text, description=text)
        parser.add_argument("user", help="user id or name (a previous name works too)")
        return parser

    for name, text in (
        ("restrict", "restrict an account: sessions end, scores leave every board"),
        ("unrestrict", "lift a restriction: bests, statistics and boards are rebuilt"),
        ("unsilence", "end a running chat silence"),
    ):
        action(name, text).add_argument("--reason", default="", help="recorded in the history")
    silence = action("silence", "silence an account in chat for a while")
    silence.add_argument("duration", help="seconds, or a number with s, m, h, d or w (7d)")
    silence.add_argument("--reason", default="", help="recorded in the history")
    action("note", "add a note to the account history").add_argument("reason", help="the note")
    action("rename", "rename an account (the old name keeps resolving)").add_argument(
        "new_name", help="the new username"
    )
    role = action("role", "grant (or with --remove take away) a role")
    role.add_argument("role", choices=["admin", "moderator", "bot"])
    role.add_argument("--remove", action="store_true", help="take the role away")
    action("history", "print the account history, newest first")
    totp = action(
        "totp",
        "enrol TOTP for session verification: prints the secret and the otpauth:// URI once",
    )
    totp.add_argument("--disable", action="store_true", help="remove TOTP (back to mail codes)")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run one moderation action."""
    from server.app import build_services, open_database
    from server.redis_store import open_redis
    from server.services.moderation import Applied, Refused, RenameRejected, parse_duration

    db = await open_database(settings)
    redis = open_redis(settings)
    services = build_services(settings, db, redis)
    try:
        raw: str = args.user
        account = (
            await services.users.by_id(int(raw))
            if raw.isdigit()
            else await services.users.by_username_with_history(raw.removeprefix("@"))
        )
        if account is None:
            print(f"no such user: {raw}", file=sys.stderr)
            return 1
        moderation = services.moderation
        command = args.user_command
        if command == "history":
            for entry in await moderation.history(account.id):
                period = f" for {entry.period_seconds}s" if entry.period_seconds else ""
                actor = f" by {entry.actor_id}" if entry.actor_id is not None else ""
                print(
                    f"{entry.created_at:%Y-%m-%d %H:%M:%S} {entry.action}{period}{actor}: "
                    f"{entry.reason}"
                )
            return 0
        if command == "totp":
            from urllib.parse import urlsplit

            from server.services.session_verification import new_totp_secret, totp_uri

            if args.disable:
                await services.users.set_totp_secret(account.id, None)
                print(f"TOTP removed for {account.username}")
                return 0
            secret = new_totp_secret()
            await services.users.set_totp_secret(account.id, secret)
            issuer = urlsplit(settings.server_url).hostname or "osu-server"
            print(f"secret: {secret}\nuri: {totp_uri(secret, account.username, issuer)}")
            return 0
        outcome: Applied | Refused | RenameRejected
        if command == "restrict":
            outcome = await moderation.restrict(account, None, args.reason)
        elif command == "unrestrict":
            outcome = await moderation.unrestrict(account, None, args.reason)
        elif command == "silence":
            seconds = parse_duration(args.duration)
            if seconds is None:
                print(f"not a duration: {args.duration}", file=sys.stderr)
                return 2
            outcome = await moderation.silence(account, None, args.reason, seconds)
        elif command == "unsilence":
            outcome = await moderation.unsilence(account, None, args.reason)
        elif command == "note":
            outcome = await moderation.note(account, None, args.reason)
        elif command == "rename":
            outcome = await moderation.rename(account, None, args.new_name)
        else:
            outcome = await moderation.set_role(account, None, args.role, not args.remove)
        if isinstance(outcome, Refused):
            print(outcome.value, file=sys.stderr)
            return 1
        if isinstance(outcome, RenameRejected):
            print("\n".join(outcome.errors), file=sys.stderr)
            return 1
        print(f"{command}: done for {outcome.user.username} (id {outcome.user.id})")
        if not settings.redis_url:
            print(_NOT_LIVE)
        elif not outcome.live:
            print("running servers could not all be told at once; see the log", file=sys.stderr)
        return 0
    finally:
        await services.aclose()
        await redis.aclose()
        await db.disconnect()
