"""Command line: `python -m server` (or `osu-server`) serve | migrate | user | oauth-client |
api-key | packs | tags | beatmaps | channels | recalc | ranks."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from server.db import MissingResource
from server.db.migrations import Migration
from server.db.sqlfile import SqlFileError
from server.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from server.app import Services


def _check_sql_files() -> None:
    """Check the packaged resources and parse every named query and migration before doing
    anything: a missing or malformed file stops the command with a message naming it rather
    than a traceback from inside the server (or a `migrate` that silently applies nothing)."""
    from server.db import SQL_DIR, check_resources
    from server.db.migrations import discover
    from server.db.sqlfile import DIALECTS, ddl_statements, load_query_dir

    check_resources()
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
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: $WEB_CONCURRENCY or 1); more than one needs REDIS_URL",
    )

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
    from server import account_commands

    account_commands.add_parsers(user_commands)

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
    add_client.add_argument(
        "--redirect",
        action="append",
        default=[],
        metavar="URI",
        help="a redirect URI for the authorization-code grant (repeat for several)",
    )

    api_key = commands.add_parser(
        "api-key",
        help="manage osu! API v1 keys",
        description="Manage osu! API v1 keys (one per user, as osu-web issues them).",
    )
    key_commands = api_key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    create_key = key_commands.add_parser(
        "create",
        help="make a user's v1 key and print it",
        description="Make a v1 key for a user. It is printed once and stored only as a hash.",
    )
    create_key.add_argument("user", help="user id or username")
    create_key.add_argument("--app-name", required=True, help="what the key is for")
    create_key.add_argument("--app-url", required=True, help="the application's URL")
    revoke_key = key_commands.add_parser(
        "revoke", help="revoke a user's v1 key", description="Revoke a user's v1 key."
    )
    revoke_key.add_argument("user", help="user id or username")

    packs = commands.add_parser(
        "packs", help="manage beatmap packs", description="Manage beatmap packs."
    )
    pack_commands = packs.add_subparsers(dest="pack_command", required=True, metavar="ACTION")
    define_pack = pack_commands.add_parser(
        "define",
        help="create or replace a pack",
        description=(
            "Create a pack, or replace the one with this tag. The tag's first letter is its "
            "type, as on osu!: S standard, F featured, P tournament, L loved, R chart, "
            "T theme, A artist (e.g. S1234)."
        ),
    )
    define_pack.add_argument("tag", help="pack tag, e.g. S1234")
    define_pack.add_argument("set_ids", nargs="+", type=int, metavar="SET_ID")
    define_pack.add_argument("--name", required=True)
    define_pack.add_argument("--author", required=True)
    define_pack.add_argument("--url", default="", help="download or info URL")
    define_pack.add_argument(
        "--ruleset", choices=["osu", "taiko", "fruits", "mania"], help="for one ruleset only"
    )
    define_pack.add_argument(
        "--allow-diff-reduction",
        action="store_true",
        help="count passes with EZ, NF, HT towards completion (osu-web: no_diff_reduction off)",
    )
    delete_pack = pack_commands.add_parser("delete", help="delete a pack")
    delete_pack.add_argument("tag")

    tags = commands.add_parser(
        "tags",
        help="manage beatmap tags",
        description=(
            "Manage the beatmap tags players vote on (GET tags). There are none until the "
            "operator defines them; a tag defined again with the same id is replaced."
        ),
    )
    tag_commands = tags.add_subparsers(dest="tags_command", required=True, metavar="ACTION")
    tag_commands.add_parser("list", help="print every tag")
    import_tags = tag_commands.add_parser(
        "import",
        help="define the tags of a JSON file",
        description=(
            'Define every tag of a JSON file shaped as GET /api/v2/tags answers: {"tags": '
            '[{"id": 1, "name": "...", "ruleset_id": null, "description": "..."}]} (e.g. '
            "osu.ppy.sh's answer saved to a file)."
        ),
    )
    import_tags.add_argument("file", help="path of the JSON file")
    define_tag = tag_commands.add_parser("define", help="create or replace one tag")
    define_tag.add_argument("id", type=int, help="tag id (use osu!'s ids to match its clients)")
    define_tag.add_argument("name", help="e.g. style/clean")
    define_tag.add_argument(
        "--ruleset", choices=["osu", "taiko", "fruits", "mania"], help="for one ruleset only"
    )
    define_tag.add_argument("--description", default="", help="what the tag means")
    tag_commands.add_parser(
        "sync",
        help="store the upstream osu! API's tag list",
        description="Fetch GET tags from the upstream osu! API (UPSTREAM_*) and store its tags.",
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
    from server import backup, score_commands

    score_commands.add_parsers(commands)
    from server import chat_commands

    chat_commands.add_parsers(commands)
    backup.add_parser(commands)
    from server import daily_challenge_commands

    daily_challenge_commands.add_parsers(commands)
    return parser


async def _import_beatmaps(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from server.app import build_beatmap_service, open_database, open_object_store
    from server.hubs.metadata import announce_beatmap_updates
    from server.models.beatmaps import STATUS_IDS
    from server.near_cache import NearCache
    from server.redis_store import REDIS_DOWN, open_redis
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
    store = open_object_store(settings)
    beatmaps = build_beatmap_service(settings, db, redis, NearCache(redis), store)
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
            except REDIS_DOWN as exc:
                print(f"connected clients were not told of the changes: {exc}", file=sys.stderr)
    finally:
        await beatmaps.aclose()
        if store is not None:
            await store.aclose()
        await redis.aclose()
        await db.disconnect()
    print("\n".join(summary.lines()))
    return 0


async def _apply_migrations(settings: Settings) -> list[Migration]:
    from server.db import Database
    from server.db.migrations import migrate

    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url, settings.dialect)
    await db.connect()
    try:
        return await migrate(db)
    finally:
        await db.disconnect()


async def _migrate(settings: Settings) -> int:
    applied = await _apply_migrations(settings)
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
            from server.services.oauth_apps import AppRejected

            created = await services.apps.create(
                args.owner,
                args.name,
                args.redirect,
                password_client=args.password_grant,
                require_redirect=False,
            )
            if isinstance(created, AppRejected):
                for field, messages in created.errors.items():
                    for message in messages:
                        print(f"{field}: {message}", file=sys.stderr)
                return 1
            print(f"client_id: {created.client.id}\nclient_secret: {created.secret}")
            return 0
        if action == "api-key":
            return await _api_key(services, args)
        if action == "packs":
            return await _packs(services, args)
        if action == "tags":
            return await _tags(services, args)
        raise AssertionError(action)
    finally:
        await services.aclose()
        await redis.aclose()
        await db.disconnect()


async def _packs(services: Services, args: argparse.Namespace) -> int:
    from server.models.rulesets import RULESET_IDS
    from server.services.packs import PACK_TYPES

    if args.pack_command == "delete":
        deleted = await services.packs.repo.delete(args.tag)
        print(f"deleted pack {args.tag}" if deleted else f"no pack {args.tag}")
        return 0 if deleted else 1
    if not args.tag or args.tag[0] not in PACK_TYPES.values():
        print(f"tag must start with one of {''.join(PACK_TYPES.values())}", file=sys.stderr)
        return 1
    await services.packs.define(
        tag=args.tag,
        name=args.name,
        author=args.author,
        url=args.url,
        ruleset_id=RULESET_IDS[args.ruleset] if args.ruleset else None,
        no_diff_reduction=not args.allow_diff_reduction,
        set_ids=args.set_ids,
    )
    print(f"pack {args.tag} defined with {len(set(args.set_ids))} beatmapsets")
    return 0


async def _tags(services: Services, args: argparse.Namespace) -> int:
    from pathlib import Path

    import msgspec

    from server.models.rulesets import RULESET_IDS, RULESETS
    from server.models.tags import Tag
    from server.services.tags import TagSyncFailed, parse_tags

    if args.tags_command == "list":
        for tag in (await services.tags.tags()).tags:
            ruleset = "all" if tag.ruleset_id is None else RULESETS[tag.ruleset_id]
            print(f"{tag.id}\t{tag.name}\t{ruleset}\t{tag.description}")
        return 0
    if args.tags_command == "sync":
        outcome = await services.tags.sync()
        if isinstance(outcome, TagSyncFailed):
            print(outcome.reason, file=sys.stderr)
            return 1
        print(f"stored {outcome} tags from upstream")
        return 0
    try:
        if args.tags_command == "import":
            tags = parse_tags(Path(args.file).read_bytes())
        else:
            ruleset_id = RULESET_IDS[args.ruleset] if args.ruleset else None
            fields = {"id": args.id, "name": args.name, "ruleset_id": ruleset_id,
                      "description": args.description}  # fmt: skip
            tags = [msgspec.convert(fields, Tag)]
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    except (ValueError, msgspec.ValidationError) as exc:
        print(exc, file=sys.stderr)
        return 1
    saved = await services.tags.save(tags)
    print(f"defined {saved} tags")
    return 0


async def _api_key(services: Services, args: argparse.Namespace) -> int:
    from server.services.api_keys import KeyRejected
    from server.services.legacy_api import UserRef

    account = await services.legacy_api.find_user(UserRef(args.user))
    if account is None:
        print(f"no such user: {args.user}", file=sys.stderr)
        return 1
    if args.key_command == "revoke":
        revoked = await services.api_keys.revoke(account.id)
        print(f"revoked the key of {account.username}" if revoked else "no key to revoke")
        return 0
    outcome = await services.api_keys.issue(account.id, args.app_name, args.app_url)
    if isinstance(outcome, KeyRejected):
        for field, messages in outcome.errors.items():
            for message in messages:
                print(f"{field}: {message}", file=sys.stderr)
        return 1
    print(f"api_key: {outcome.api_key}")
    return 0


def _worker_count(settings: Settings, requested: int | None) -> int:
    """How many worker processes to run: `--workers`, else WEB_CONCURRENCY.

    Workers share tokens, limits, hub groups and caches only through Redis: without
    REDIS_URL an explicit `--workers N` is refused, and a WEB_CONCURRENCY a buildpack set is
    reduced to one worker with a warning (the deploy still serves)."""
    if requested is not None and requested < 1:
        raise SettingsError(f"--workers must be at least 1, got {requested}")
    workers = requested or settings.web_concurrency
    if workers > 1 and not settings.redis_url:
        if requested is not None:
            raise SettingsError(
                f"--workers {workers} needs REDIS_URL: worker processes share sessions, rate "
                "limits and hub groups only through Redis"
            )
        logging.getLogger("server").warning(
            "WEB_CONCURRENCY=%d ignored: several workers need REDIS_URL to share state; "
            "running one worker",
            workers,
        )
        workers = 1
    return workers


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import os

    import uvicorn

    try:
        workers = _worker_count(settings, args.workers)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    # Each worker loads its settings from the environment: make WEB_CONCURRENCY say how many
    # there are (the API limiter's per-process share while Redis is down is based on it).
    os.environ["WEB_CONCURRENCY"] = str(workers)
    port = args.port or settings.port
    options: dict[str, object] = {
        "host": args.host or settings.host,
        "port": port,
        # Client IPs come from TRUSTED_PROXY_HOPS (server/http.py), not uvicorn's guess.
        "proxy_headers": False,
        "log_level": settings.log_level,
        # One format for uvicorn's lines and ours (server/logs.py configured the root logger);
        # the access line is the server's own (server/middleware.py).
        "log_config": None,
        "access_log": False,
        # No permessage-deflate on WebSockets: lazer's .NET client never offers it, and for a
        # client that does (browsers, the websockets library) the zlib state costs about
        # 45 KiB per idle connection, for binary MessagePack frames that compress poorly.
        "ws_per_message_deflate": False,
        "workers": workers,
        # SIGTERM: in-flight requests get this long to finish (hub clients are told first).
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
    }
    if settings.metrics_port is not None:
        if settings.metrics_port == port:
            print("configuration error: METRICS_PORT must differ from PORT", file=sys.stderr)
            return 2
        from server import metrics

        # Before the app (and prometheus_client) is imported: every worker writes its
        # samples there, and this process serves them all on a port of its own.
        metrics.prepare_multiprocess_dir()
        metrics.start_exporter(settings.metrics_host, settings.metrics_port)
    if settings.embedded and workers > 1:
        # The embedded default migrates itself at start-up: do it once here, before the
        # workers start together on one SQLite file.
        asyncio.run(_apply_migrations(settings))
    if workers == 1:
        from server.app import create_app

        uvicorn.run(create_app(settings, handle_signals=True), **options)  # type: ignore[arg-type]
    else:
        # Workers are separate processes: each builds its app from the environment.
        uvicorn.run("server.app:app_from_environment", factory=True, **options)  # type: ignore[arg-type]
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    from server.logs import configure

    configure(settings.log_level, settings.log_format)
    try:
        _check_sql_files()
    except SqlFileError as exc:
        print(f"SQL file error: {exc}", file=sys.stderr)
        return 2
    except MissingResource as exc:
        print(f"installation error: {exc}", file=sys.stderr)
        return 2
    try:
        import server.core  # noqa: F401  (the Rust core and its declarations are packaged too)
    except ImportError as exc:
        print(f"installation error: {exc}", file=sys.stderr)
        return 2
    from server import account_commands

    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "user" and args.user_command in account_commands.ACTIONS:
        return asyncio.run(account_commands.run(settings, args))
    if args.command == "user":
        return asyncio.run(_with_services(settings, "user add", args))
    if args.command == "oauth-client":
        return asyncio.run(_with_services(settings, "oauth-client add", args))
    if args.command in ("api-key", "packs", "tags"):
        return asyncio.run(_with_services(settings, args.command, args))
    if args.command == "beatmaps":
        return asyncio.run(_import_beatmaps(settings, args))
    if args.command == "channels":
        from server import chat_commands

        return asyncio.run(chat_commands.run(settings, args))
    if args.command == "backup":
        from server import backup

        return backup.run(settings, args)
    if args.command in ("recalc", "ranks"):
        from server import score_commands

        return asyncio.run(score_commands.run(settings, args))
    if args.command == "daily-challenge":
        from server import daily_challenge_commands

        return asyncio.run(daily_challenge_commands.run(settings, args))
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
