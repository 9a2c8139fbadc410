"""Command line: `python -m server` (or `osu-server`) serve | migrate | user | oauth-client |
beatmaps."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from server.db.sqlfile import SqlFileError
from server.settings import Settings, SettingsError, load_settings


def _check_sql_files() -> None:
    """Parse every named query and migration before doing anything: a malformed file stops
    the command with its file and line rather than a traceback from inside the server."""
    from server.db import SQL_DIR
    from server.db.migrations import discover
    from server.db.sqlfile import DIALECTS, ddl_statements, load_query_dir

    load_query_dir(SQL_DIR / "queries")
    for migration in discover():
        for dialect in DIALECTS:
            ddl_statements(migration.path, dialect)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osu-server",
        description=(
            "A lean osu!(lazer) server. Configuration comes from the environment (and ./.env): "
            "see README.md. With no DATABASE_URL it runs on an embedded SQLite database and an "
            "in-process Redis stand-in under ./data."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the HTTP and WebSocket server",
        description="Serve the API on HOST:PORT (embedded default: migrates itself first).",
    )
    serve.add_argument("--host", help="address to bind (default: $HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default: $PORT or 8000)")

    commands.add_parser(
        "migrate",
        help="apply pending database migrations",
        description="Apply every pending migration in sql/migrations (the Procfile's release).",
    )

    user = commands.add_parser("user", help="manage accounts", description="Manage accounts.")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add_user = user_commands.add_parser(
        "add",
        help="create an account",
        description="Create an account, with the same rules as registration from lazer.",
    )
    add_user.add_argument("name", help="username (3-15 characters: letters, digits, space, -_[])")
    add_user.add_argument("--email", required=True, help="email address")
    add_user.add_argument("--password", required=True, help="password (8 characters or more)")
    add_user.add_argument("--country", default="XX", help="ISO country code (default XX)")

    client = commands.add_parser(
        "oauth-client", help="manage OAuth clients", description="Manage OAuth clients."
    )
    client_commands = client.add_subparsers(dest="client_command", required=True, metavar="ACTION")
    add_client = client_commands.add_parser(
        "add",
        help="register an OAuth client and print its id and secret",
        description=(
            "Register an OAuth client for a bot or tool (client credentials grant). The secret "
            "is printed once and stored only as a hash."
        ),
    )
    add_client.add_argument("name", help="a name for the client")
    add_client.add_argument("--owner", type=int, help="user id of the owner")
    add_client.add_argument(
        "--password-grant",
        action="store_true",
        help="also allow the password grant (only for a first-party game client)",
    )

    beatmaps = commands.add_parser(
        "beatmaps", help="manage beatmaps", description="Manage stored beatmaps."
    )
    beatmap_commands = beatmaps.add_subparsers(
        dest="beatmaps_command", required=True, metavar="ACTION"
    )
    importer = beatmap_commands.add_parser(
        "import",
        help="import .osz archives and .osu files (directories recursively)",
        description=(
            "Import .osz archives and loose .osu files. Ids come from the files, else from "
            "--ids; the status from the upstream fetcher when it knows the set, else --status. "
            "Importing the same files again changes nothing."
        ),
    )
    importer.add_argument("paths", nargs="+", metavar="PATH", help=".osz, .osu or a directory")
    importer.add_argument(
        "--status",
        default="ranked",
        choices=["graveyard", "wip", "pending", "ranked", "approved", "qualified", "loved"],
        help="status for maps upstream does not know (default ranked: imported to be played)",
    )
    importer.add_argument(
        "--ids",
        metavar="FILE",
        help='JSON id mapping for files without ids: {"<md5 or file name>": '
        '{"beatmap_id": N, "beatmapset_id": M}}',
    )
    importer.add_argument("--quiet", action="store_true", help="no progress bar")
    from server import score_commands

    score_commands.add_parsers(commands)
    from server import daily_challenge_commands

    daily_challenge_commands.add_parsers(commands)
    return parser


async def _import_beatmaps(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from redis.exceptions import RedisError
    from tqdm import tqdm

    from server.app import build_beatmap_service, open_database
    from server.hubs.metadata import announce_beatmap_updates
    from server.models.beatmaps import STATUS_IDS
    from server.near_cache import NearCache
    from server.redis_store import open_redis
    from server.services.beatmap_import import BeatmapImporter, load_mapping

    try:
        mapping = load_mapping(Path(args.ids)) if args.ids else {}
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    db = await open_database(settings)
    redis = open_redis(settings)
    # A near cache that never starts: it caches nothing here, but publishes the import's
    # invalidations to running servers, which drop the old rows at once.
    beatmaps = build_beatmap_service(settings, db, redis, NearCache(redis))
    changed: list[int] = []

    async def collect(set_ids: list[int]) -> None:
        changed.extend(set_ids)

    beatmaps.ingest.on_sets_changed(collect)
    try:
        importer = BeatmapImporter(beatmaps.ingest, beatmaps.upstream)
        summary = await importer.run(
            [Path(p) for p in args.paths],
            STATUS_IDS[args.status],
            mapping,
            progress=lambda items: tqdm(
                list(items), unit="file", desc="importing", disable=args.quiet, file=sys.stderr
            ),
        )
        if changed and settings.redis_url:
            # Running servers sharing this Redis tell their clients (BeatmapSetsUpdated);
            # the embedded default's in-process Redis reaches no server.
            try:
                await announce_beatmap_updates(redis, changed)
            except (RedisError, OSError) as exc:
                print(f"connected clients were not told of the changes: {exc}", file=sys.stderr)
    finally:
        await beatmaps.aclose()
        await redis.aclose()
        await db.disconnect()
    print("\n".join(summary.lines()))
    return 0


async def _migrate(settings: Settings) -> int:
    from server.db import Database
    from server.db.migrations import migrate

    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url, settings.dialect)
    await db.connect()
    try:
        applied = await migrate(db)
    finally:
        await db.disconnect()
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "none (up to date)"
    print(f"applied migrations: {names}")
    return 0


async def _with_services(settings: Settings, action: str, args: argparse.Namespace) -> int:
    from server.app import build_services, open_database
    from server.redis_store import open_redis
    from server.services.accounts import RegistrationInput, RegistrationRejected
    from server.services.countries import normalise_country

    db = await open_database(settings)
    redis = open_redis(settings)
    services = build_services(settings, db, redis)
    try:
        if action == "user add":
            outcome = await services.accounts.register(
                RegistrationInput(args.name, args.email, args.password),
                normalise_country(args.country),
            )
            if isinstance(outcome, RegistrationRejected):
                for field, messages in outcome.errors.items():
                    for message in messages:
                        print(f"{field}: {message}", file=sys.stderr)
                return 1
            print(f"created user {outcome.user.username} with id {outcome.user.id}")
            return 0
        if action == "oauth-client add":
            import hashlib

            from server.repositories.oauth import OAuthRepository

            repo = OAuthRepository(db)
            secret = secrets.token_urlsafe(30)
            async with db.transaction():
                client_id = await repo.add_client(
                    name=args.name,
                    owner_user_id=args.owner,
                    password_client=args.password_grant,
                    now=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                )
                await repo.add_secret(client_id, hashlib.sha256(secret.encode()).hexdigest())
            print(f"client_id: {client_id}\nclient_secret: {secret}")
            return 0
        raise AssertionError(action)
    finally:
        await services.aclose()
        await redis.aclose()
        await db.disconnect()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        _check_sql_files()
    except SqlFileError as exc:
        print(f"SQL file error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        import uvicorn

        from server.app import create_app

        uvicorn.run(
            create_app(settings),
            host=args.host or settings.host,
            port=args.port or settings.port,
            # Client IPs come from TRUSTED_PROXY_HOPS (server/http.py), not uvicorn's guess.
            proxy_headers=False,
            log_level=settings.log_level,
            access_log=False,
        )
        return 0
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "user":
        return asyncio.run(_with_services(settings, "user add", args))
    if args.command == "oauth-client":
        return asyncio.run(_with_services(settings, "oauth-client add", args))
    if args.command == "beatmaps":
        return asyncio.run(_import_beatmaps(settings, args))
    if args.command in ("recalc", "ranks"):
        from server import score_commands

        return asyncio.run(score_commands.run(settings, args))
    if args.command == "daily-challenge":
        from server import daily_challenge_commands

        return asyncio.run(daily_challenge_commands.run(settings, args))
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
