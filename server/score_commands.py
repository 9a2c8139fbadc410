"""The `recalc` and `ranks` commands of the CLI (argument parsing lives in __main__.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from server.settings import Settings


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `recalc` and `ranks snapshot`."""
    recalc = commands.add_parser(
        "recalc",
        help="recompute pp, bests, statistics and leaderboards of stored scores",
        description=(
            "Recompute pp through the core (batched per beatmap, ruleset and mods), then each "
            "affected user's bests and statistics, then drop the affected Redis leaderboards "
            "(they rebuild from SQL). Progress is saved to $DATA_DIR/recalc-state.json after "
            "every batch; --resume continues an interrupted run with the same filter."
        ),
    )
    recalc.add_argument("--user", type=int, help="only this user's scores")
    recalc.add_argument("--beatmap", type=int, help="only scores on this beatmap")
    recalc.add_argument(
        "--ruleset", choices=["osu", "taiko", "fruits", "mania", "0", "1", "2", "3"]
    )
    recalc.add_argument(
        "--dry-run", action="store_true", help="report what would change, write nothing"
    )
    recalc.add_argument("--resume", action="store_true", help="continue the saved run")
    recalc.add_argument("--batch", type=int, default=500, help="scores per batch (default 500)")
    recalc.add_argument("--quiet", action="store_true", help="no progress bar")
    ranks = commands.add_parser("ranks", help="rank history", description="Rank history.")
    ranks_commands = ranks.add_subparsers(dest="ranks_command", required=True, metavar="ACTION")
    ranks_commands.add_parser(
        "snapshot", help="record today's global ranks (run daily, e.g. from cron)"
    )


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run `recalc` or `ranks snapshot`."""
    from tqdm import tqdm

    from server.app import build_services, open_database
    from server.models.rulesets import RULESETS
    from server.redis_store import open_redis
    from server.services.recalc import RecalcFilter, Recalculator

    db = await open_database(settings)
    redis = open_redis(settings)
    services = build_services(settings, db, redis)
    try:
        if args.command == "ranks":
            today = datetime.now(UTC).date()
            for ruleset in RULESETS:
                await services.rankings.snapshot(ruleset, today)
            print(f"rank history recorded for {today}")
            return 0
        ruleset_id = None
        if args.ruleset is not None:
            ruleset_id = (
                int(args.ruleset) if args.ruleset.isdigit() else RULESETS.index(args.ruleset)
            )
        flt = RecalcFilter(user_id=args.user, beatmap_id=args.beatmap, ruleset_id=ruleset_id)
        recalculator = Recalculator(
            db,
            services.scores.repo,
            services.beatmaps,
            services.scores.leaderboards,
            services.scores.pp_cache,
            all_statuses=settings.leaderboards_for_all_statuses,
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        state_path = settings.data_dir / "recalc-state.json"
        total = await recalculator.count(flt)
        with tqdm(total=total, unit="score", desc="pp", disable=args.quiet, file=sys.stderr) as bar:
            report = await recalculator.run(
                flt,
                dry_run=args.dry_run,
                state_path=state_path,
                resume=args.resume,
                batch_size=max(1, args.batch),
                progress=lambda n: _advance(bar, n),
            )
        if not args.dry_run:
            # Statistics and ranks moved: running servers must not keep showing old profiles.
            await services.profiles.cache.forget_everyone()
        print("\n".join(report.lines(args.dry_run)))
        return 0
    finally:
        await services.aclose()
        await redis.aclose()
        await db.disconnect()


def _advance(bar: Any, n: int) -> None:
    bar.update(n)
