"""create_app(settings): one Starlette(...) call whose lifespan opens the database, Redis and
the services, reached by handlers through typed request state."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.db import Database
from server.db.migrations import migrate, pending_count
from server.http import ApiError, JSONResponse
from server.hubs import Realtime
from server.jobs import start_scheduler
from server.middleware import AccessLogMiddleware, ApiRateLimitMiddleware, BodyLimitMiddleware
from server.near_cache import NearCache
from server.redis_store import open_redis
from server.repositories.beatmaps import BeatmapRepository
from server.repositories.chat import ChatRepository
from server.repositories.favourites import FavouriteRepository
from server.repositories.notifications import NotificationRepository
from server.repositories.oauth import OAuthRepository
from server.repositories.relations import RelationRepository
from server.repositories.replays import ReplayRepository
from server.repositories.rooms import RoomRepository
from server.repositories.users import UserRepository
from server.routes import ROUTES
from server.services.accounts import AccountService
from server.services.beatmap_files import LocalFileStore
from server.services.beatmap_ingest import BeatmapIngest
from server.services.beatmaps import BeatmapService
from server.services.chat import ChatService
from server.services.limits import ApiRateLimiter, FixedWindowLimiter, LoginGuard
from server.services.multiplayer.hosting import RealtimeRooms
from server.services.multiplayer.leases import RoomLeases
from server.services.notifications import NotificationService
from server.services.oauth import OAuthService
from server.services.passwords import PasswordHasher
from server.services.playlist_scores import PlaylistScores
from server.services.profiles import ProfileService
from server.services.rankings import RankingService
from server.services.relations import RelationService
from server.services.replays import FileReplaySink, ReplayService
from server.services.rooms import RoomService
from server.services.scores import ScoreService, build_score_service
from server.services.tokens import TokenService
from server.services.upstream import Upstream
from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a handler may use, built once per process in the lifespan."""

    settings: Settings
    db: Database
    redis: Any
    near: NearCache
    hasher: PasswordHasher
    users: UserRepository
    favourites: FavouriteRepository
    tokens: TokenService
    oauth: OAuthService
    accounts: AccountService
    profiles: ProfileService
    relations: RelationService
    chat: ChatService
    notifications: NotificationService
    token_limiter: FixedWindowLimiter
    api_limiter: ApiRateLimiter
    registration_limiter: FixedWindowLimiter
    beatmaps: BeatmapService
    scores: ScoreService
    rankings: RankingService
    replays: ReplayService
    rooms: RoomService
    playlist_scores: PlaylistScores

    realtime: Realtime

    async def aclose(self) -> None:
        """Release what the services hold (hubs, worker threads, HTTP clients, parsed maps)."""
        await self.realtime.stop()
        await self.near.stop()
        self.hasher.close()
        await self.beatmaps.aclose()
        self.scores.aclose()


def build_beatmap_service(
    settings: Settings, db: Database, redis: Any, near: NearCache | None = None
) -> BeatmapService:
    """The beatmap service: file store, core cache and upstream fetcher (no I/O)."""
    from server.core.pp import PpCache

    repo = BeatmapRepository(db, near)
    files = LocalFileStore(settings.beatmap_store_dir)
    return BeatmapService(
        db,
        repo,
        files,
        BeatmapIngest(db, repo, files, redis),
        Upstream(settings, redis),
        redis,
        PpCache(),
        all_statuses_ranked=settings.leaderboards_for_all_statuses,
        resync_seconds=settings.upstream_resync_seconds,
        miss_seconds=settings.upstream_miss_seconds,
        proxy_downloads=settings.beatmapset_download_proxy,
        server_url=settings.server_url,
        near=near,
    )


def build_services(settings: Settings, db: Database, redis: Any) -> Services:
    """Wire repositories and services together (no I/O).

    The near cache caches only once started (the server's lifespan); a CLI command that
    never starts it still publishes its invalidations to running servers."""
    hasher = PasswordHasher(settings.bcrypt_rounds)
    near = NearCache(redis, enabled=settings.near_cache)
    users = UserRepository(db, near)
    favourites = FavouriteRepository(db)
    relations_repo = RelationRepository(db)
    tokens = TokenService(
        db,
        redis,
        settings.secret_key,
        settings.access_token_seconds,
        settings.refresh_token_seconds,
        settings.token_cache_seconds,
        near,
    )
    accounts = AccountService(users, hasher)
    guard = LoginGuard(
        redis,
        settings.secret_key,
        settings.login_max_failures,
        settings.login_max_accounts,
        settings.login_window_seconds,
    )
    beatmaps = build_beatmap_service(settings, db, redis, near)
    scores = build_score_service(settings, db, redis, users, beatmaps, near)
    rankings = RankingService(
        scores.repo, users, redis, snapshot_on_activity=not settings.rank_history_snapshot
    )
    profiles = ProfileService(
        users, redis, rankings.profile_extras, near, settings.profile_cache_seconds
    )
    replays = ReplayService(
        FileReplaySink(settings.data_dir / "replays"), ReplayRepository(db), scores, redis
    )
    rooms = RoomService(db, RoomRepository(db), users, profiles, beatmaps, scores)
    # One id names this instance on the hub bus and in the realtime rooms' leases.
    instance_id = secrets.token_hex(8)
    realtime_rooms = RealtimeRooms(
        rooms,
        users,
        relations_repo,
        beatmaps,
        RoomLeases(redis, instance_id, settings.multiplayer_lease_seconds),
        load_timeout_seconds=settings.multiplayer_load_timeout_seconds,
    )
    realtime = Realtime(
        settings,
        redis,
        tokens,
        users,
        relations_repo,
        profiles,
        replays,
        realtime_rooms,
        instance_id,
    )
    # lazer refreshes the player's statistics when the spectator hub says the score is done.
    scores.on_processed(realtime.spectator.score_processed)
    # The play's frames become its replay once the score for its token exists.
    scores.on_stored(realtime.score_stored)
    # lazer refreshes the sets it holds when the metadata hub says they changed.
    beatmaps.ingest.on_sets_changed(realtime.metadata.beatmap_sets_updated)
    return Services(
        settings=settings,
        db=db,
        redis=redis,
        near=near,
        hasher=hasher,
        users=users,
        favourites=favourites,
        tokens=tokens,
        oauth=OAuthService(db, OAuthRepository(db), users, accounts, tokens, guard),
        accounts=accounts,
        profiles=profiles,
        relations=RelationService(relations_repo, users, profiles),
        chat=ChatService(ChatRepository(db), users, profiles),
        notifications=NotificationService(
            NotificationRepository(db), redis, settings.notification_endpoint
        ),
        token_limiter=FixedWindowLimiter(
            redis, "oauth-token", settings.token_rate_limit_per_minute, 60
        ),
        api_limiter=ApiRateLimiter(
            redis, settings.api_rate_limit_per_minute, instances=settings.web_concurrency
        ),
        registration_limiter=FixedWindowLimiter(
            redis,
            "register",
            settings.registration_rate_limit,
            settings.registration_window_seconds,
        ),
        beatmaps=beatmaps,
        scores=scores,
        rankings=rankings,
        replays=replays,
        # The rooms' chat channels (RoomChannels) are the chat service's to provide.
        rooms=rooms,
        playlist_scores=PlaylistScores(db, rooms, scores, beatmaps),
        realtime=realtime,
    )


async def open_database(settings: Settings) -> Database:
    """Connect, migrating the embedded default; production must be migrated already."""
    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url, settings.dialect)
    await db.connect()
    try:
        if settings.embedded:
            await migrate(db)
        elif (pending := await pending_count(db)) > 0:
            raise RuntimeError(
                f"{pending} database migration(s) pending: run `python -m server migrate` "
                "(the Procfile's release step does)"
            )
    except BaseException:
        await db.disconnect()
        raise
    return db


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, exc.detail)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


async def _disconnected(request: Request, exc: Exception) -> Response:
    # The client went away mid-body: nothing was written, nobody is listening.
    return Response(status_code=400)


async def _server_error(request: Request, exc: Exception) -> Response:
    # S-INT-2: no exception detail in a 5xx body; the log has it.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": "An internal error occurred."}, status_code=500)


def create_app(settings: Settings) -> Starlette:
    """The ASGI application for these settings."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        db = await open_database(settings)
        redis = open_redis(settings)
        services = build_services(settings, db, redis)
        await services.near.start()
        await services.realtime.start()
        scheduler = start_scheduler(settings, services)
        try:
            yield {"services": services, "scheduler": scheduler}
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await services.aclose()
            await redis.aclose()
            await db.disconnect()

    app = Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        middleware=[
            Middleware(AccessLogMiddleware),
            Middleware(ApiRateLimitMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            ClientDisconnect: _disconnected,
            Exception: _server_error,
        },
    )
    app.router.redirect_slashes = False
    return app
