"""create_app(settings): one Starlette(...) call whose lifespan opens the database, Redis and
the services, reached by handlers through typed request state."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from server import logs, metrics
from server.db import Database
from server.db.migrations import migrate, pending_count
from server.http import ApiError, JSONResponse
from server.hubs import Realtime
from server.jobs import start_scheduler
from server.middleware import EdgeMiddleware
from server.near_cache import NearCache
from server.redis_store import open_redis
from server.repositories.api_keys import ApiKeyRepository
from server.repositories.beatmaps import BeatmapRepository
from server.repositories.chat import ChatRepository
from server.repositories.daily_challenge import DailyChallengeRepository
from server.repositories.favourites import FavouriteRepository
from server.repositories.legacy import LegacyRepository
from server.repositories.moderation import ModerationRepository
from server.repositories.notifications import NotificationRepository
from server.repositories.oauth import OAuthRepository
from server.repositories.packs import PackRepository
from server.repositories.relations import RelationRepository
from server.repositories.replays import ReplayRepository
from server.repositories.rooms import RoomRepository
from server.repositories.score_feed import ScoreFeedRepository
from server.repositories.spotlights import SpotlightRepository
from server.repositories.user_search import UserSearchRepository
from server.repositories.users import UserRepository
from server.routes import DISPATCH, HTTP_DISPATCH
from server.services.accounts import AccountService
from server.services.api_keys import ApiKeyService
from server.services.beatmap_attributes import BeatmapAttributes
from server.services.beatmap_favourites import BeatmapFavourites
from server.services.beatmap_files import FileStore, LocalFileStore
from server.services.beatmap_ingest import BeatmapIngest
from server.services.beatmap_search import BeatmapSearch
from server.services.beatmaps import BeatmapService
from server.services.chat import ChatLimits, ChatService, SendLimiter
from server.services.chat_bot import ChatBot
from server.services.codes import OneTimeCodes
from server.services.content import ContentService
from server.services.credentials import RESET_CODE_SECONDS, CredentialService
from server.services.daily_challenge import DailyChallengeService
from server.services.health import DependencyMonitor, HealthService
from server.services.legacy_api import LegacyApi
from server.services.limits import ApiRateLimiter, FixedWindowLimiter, LoginGuard
from server.services.mail import Mailer
from server.services.moderation import ModerationService
from server.services.multiplayer.hosting import RealtimeRooms
from server.services.multiplayer.leases import RoomLeases
from server.services.notifications import NotificationService
from server.services.oauth import OAuthService
from server.services.oauth_apps import OAuthApps
from server.services.object_store import ObjectFileStore, ObjectReplaySink, ObjectStore
from server.services.packs import PackService
from server.services.passwords import PasswordHasher
from server.services.playlist_scores import PlaylistScores
from server.services.profile_cache import ProfileCache
from server.services.profile_pages import ProfilePages
from server.services.profiles import ProfileService
from server.services.rankings import RankingService
from server.services.relations import RelationService
from server.services.replays import FileReplaySink, ReplayService, ReplaySink
from server.services.rooms import RoomService
from server.services.score_feed import ScoreFeed
from server.services.score_reads import ScoreReads
from server.services.scores import ScoreService, build_score_service
from server.services.session_verification import CODE_SECONDS as VERIFY_CODE_SECONDS
from server.services.session_verification import SessionVerification
from server.services.site_search import SiteSearch
from server.services.socket_relay import SocketRelay
from server.services.spotlights import SpotlightService
from server.services.tags import TagService
from server.services.tokens import TokenService
from server.services.upstream import Upstream
from server.services.web_sessions import WebSessions
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
    beatmap_search: BeatmapSearch
    beatmap_attributes: BeatmapAttributes
    beatmap_favourites: BeatmapFavourites
    scores: ScoreService
    score_reads: ScoreReads
    rankings: RankingService
    replays: ReplayService
    rooms: RoomService
    playlist_scores: PlaylistScores
    moderation: ModerationService
    credentials: CredentialService
    apps: OAuthApps
    web_sessions: WebSessions
    verification: SessionVerification
    api_keys: ApiKeyService
    legacy_api: LegacyApi
    profile_pages: ProfilePages
    site_search: SiteSearch
    score_feed: ScoreFeed
    packs: PackService
    spotlights: SpotlightService
    content: ContentService
    tags: TagService
    daily_challenge: DailyChallengeService

    realtime: Realtime
    socket_relay: SocketRelay
    health: HealthService
    object_store: ObjectStore | None

    async def aclose(self) -> None:
        """Release what the services hold (hubs, worker threads, HTTP clients, parsed maps)."""
        # What committed scores still have in flight: messages, beatmap play counts.
        await self.scores.outbox.drain()
        await self.scores.beatmap_plays.drain()
        await self.health.monitor.stop()
        await self.socket_relay.stop()
        await self.realtime.stop()
        await self.scores.leaderboards.stop()
        await self.near.stop()
        self.hasher.close()
        await self.beatmaps.aclose()
        self.scores.aclose()
        if self.object_store is not None:
            await self.object_store.aclose()


def open_object_store(settings: Settings) -> ObjectStore | None:
    """The S3-compatible store when S3_BUCKET is set (its client opens on first use)."""
    return ObjectStore(settings) if settings.s3_bucket else None


def build_beatmap_service(
    settings: Settings,
    db: Database,
    redis: Any,
    near: NearCache | None = None,
    store: ObjectStore | None = None,
) -> BeatmapService:
    """The beatmap service: file store, core cache and upstream fetcher (no I/O)."""
    from server.core.pp import PpCache

    repo = BeatmapRepository(db, near)
    files: FileStore = (
        ObjectFileStore(store) if store is not None else LocalFileStore(settings.beatmap_store_dir)
    )
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


def build_chat_service(
    settings: Settings,
    db: Database,
    redis: Any,
    users: UserRepository,
    relations: RelationRepository,
    profiles: ProfileService,
    notifications: NotificationService,
) -> ChatService:
    """Chat with its limits from the settings, and the bot when enabled (no I/O)."""
    limits = ChatLimits(
        message_length=settings.chat_message_length_limit,
        public_limit=settings.chat_public_limit,
        public_window=settings.chat_public_window,
        private_limit=settings.chat_private_limit,
        private_window=settings.chat_private_window,
        public_backlog_hours=settings.chat_public_backlog_hours,
        channel_limit=settings.chat_channel_limit,
        min_plays=settings.chat_min_plays,
    )
    bot = (
        ChatBot(settings.chat_bot_user_id, settings.chat_bot_username, users)
        if settings.chat_bot_enabled
        else None
    )
    return ChatService(
        db,
        ChatRepository(db),
        users,
        relations,
        profiles,
        notifications,
        SendLimiter(redis, limits),
        limits,
        bot,
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
        settings.login_account_max_failures,
    )
    # The one owner of rendered profiles and their invalidation.
    profile_cache = ProfileCache(near, settings.profile_cache_seconds)
    store = open_object_store(settings)
    beatmaps = build_beatmap_service(settings, db, redis, near, store)
    scores = build_score_service(settings, db, redis, users, beatmaps, near, profile_cache)
    rankings = RankingService(
        scores.repo, users, redis, snapshot_on_activity=not settings.rank_history_snapshot
    )
    profiles = ProfileService(users, redis, profile_cache, rankings.profile_extras)
    sink: ReplaySink = (
        ObjectReplaySink(store)
        if store is not None
        else FileReplaySink(settings.data_dir / "replays")
    )
    replays = ReplayService(sink, ReplayRepository(db), scores, redis)
    notifications = NotificationService(
        NotificationRepository(db), redis, settings.notification_endpoint
    )
    beatmap_attributes = BeatmapAttributes(beatmaps, beatmaps.cache, beatmaps.pp_cache)
    chat = build_chat_service(settings, db, redis, users, relations_repo, profiles, notifications)
    rooms = RoomService(db, RoomRepository(db), users, profiles, beatmaps, scores, chat)
    playlist_scores = PlaylistScores(db, rooms, scores, beatmaps)
    daily_challenge = DailyChallengeService(db, DailyChallengeRepository(db), rooms, users, redis)
    profiles.challenge_stats = daily_challenge.user_stats
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
        playlist_scores,
        daily_challenge,
        realtime_rooms,
        instance_id,
    )
    # lazer refreshes the player's statistics when the spectator hub says the score is done.
    scores.on_processed(realtime.spectator.score_processed)
    # The play's frames become its replay once the score for its token exists.
    scores.on_stored(realtime.score_stored)
    # lazer refreshes the sets it holds when the metadata hub says they changed.
    beatmaps.ingest.on_sets_changed(realtime.metadata.beatmap_sets_updated)
    # The daily challenge screen's live histogram follows each stored playlist score.
    playlist_scores.on_score_set(realtime.metadata.room_score_set)

    async def rebuild_user(user_id: int) -> None:
        # Bests, statistics and boards of one user from their stored scores (recalc --user).
        from server.services.recalc import RecalcFilter, Recalculator

        recalculator = Recalculator(
            db,
            scores.repo,
            beatmaps,
            scores.leaderboards,
            scores.pp_cache,
            all_statuses=settings.leaderboards_for_all_statuses,
        )
        await recalculator.run(RecalcFilter(user_id=user_id), dry_run=False)

    moderation = ModerationService(
        db,
        users,
        ModerationRepository(db),
        ChatRepository(db),
        tokens,
        notifications,
        realtime.bus,
        realtime.transport.hub_names,
        scores.leaderboards,
        rankings,
        near,
        profile_cache,
        scores.activity.log,
        rebuild_user,
        shared_redis=bool(settings.redis_url),
    )
    credentials = CredentialService(
        users,
        accounts,
        tokens,
        moderation,
        guard,
        OneTimeCodes(redis, settings.secret_key, "password-reset", ttl=RESET_CODE_SECONDS),
        Mailer(settings),
        # S-AUTH-7: reset requests per address and per account.
        FixedWindowLimiter(redis, "password-reset", 5, RESET_CODE_SECONDS),
    )
    apps = OAuthApps(db, OAuthRepository(db), tokens, redis)
    pages = ProfilePages(beatmaps, scores.activity)
    monitor = DependencyMonitor({"database": db.ping, "redis": redis.ping})
    health = HealthService(
        db,
        redis.ping,
        [] if store is not None else [settings.beatmap_store_dir, settings.data_dir / "replays"],
        monitor,
        store.check_writable if store is not None else None,
    )
    return Services(
        settings=settings,
        db=db,
        redis=redis,
        near=near,
        hasher=hasher,
        users=users,
        favourites=favourites,
        tokens=tokens,
        oauth=OAuthService(
            db,
            OAuthRepository(db),
            users,
            accounts,
            tokens,
            guard,
            apps,
            verify_sessions=settings.session_verification,
        ),
        verification=SessionVerification(
            tokens,
            notifications,
            OneTimeCodes(redis, settings.secret_key, "session-verify", ttl=VERIFY_CODE_SECONDS),
            Mailer(settings),
            redis,
            # osu-web: reissue 3 per 5 minutes; S-AUTH-7/8 bound the guesses too.
            FixedWindowLimiter(redis, "session-verify-reissue", 3, 300),
            FixedWindowLimiter(redis, "session-verify", 8, 300),
        ),
        apps=apps,
        accounts=accounts,
        profiles=profiles,
        relations=RelationService(relations_repo, users, profiles),
        chat=chat,
        notifications=notifications,
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
        beatmap_search=BeatmapSearch(
            beatmaps.repo,
            beatmaps.cache,
            beatmaps.beatmapset_shape,
            all_statuses_ranked=settings.leaderboards_for_all_statuses,
        ),
        beatmap_attributes=beatmap_attributes,
        beatmap_favourites=BeatmapFavourites(db, beatmaps, profile_cache),
        scores=scores,
        score_reads=scores.reads,
        rankings=rankings,
        replays=replays,
        # The rooms' chat channels (RoomChannels) are the chat service's to provide.
        rooms=rooms,
        playlist_scores=playlist_scores,
        daily_challenge=daily_challenge,
        moderation=moderation,
        credentials=credentials,
        web_sessions=WebSessions(
            settings.secret_key, secure=settings.server_url.startswith("https")
        ),
        api_keys=ApiKeyService(ApiKeyRepository(db)),
        legacy_api=LegacyApi(
            LegacyRepository(db),
            RoomRepository(db),
            users,
            beatmaps,
            beatmap_attributes,
            scores,
            replays,
            all_statuses=settings.leaderboards_for_all_statuses,
        ),
        profile_pages=pages,
        site_search=SiteSearch(UserSearchRepository(db), users, profiles),
        score_feed=ScoreFeed(ScoreFeedRepository(db), scores),
        packs=PackService(PackRepository(db), beatmaps, pages),
        spotlights=SpotlightService(SpotlightRepository(db), users, beatmaps, profiles),
        content=ContentService(
            beatmaps.upstream,
            redis,
            beatmaps.repo,
            enabled=settings.upstream_content,
            cache_seconds=settings.upstream_content_seconds,
        ),
        tags=TagService(beatmaps.tags, beatmaps.repo, beatmaps.upstream),
        realtime=realtime,
        socket_relay=SocketRelay(redis),
        health=health,
        object_store=store,
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


def _hubs_first_on_sigterm(services: Services) -> Callable[[], None]:
    """On SIGTERM, tell every hub client "Server is shutting down." (a SignalR Close that
    allows reconnecting) before uvicorn starts its shutdown, which would otherwise close the
    sockets first with a bare 1012; then hand the signal to uvicorn, which stops accepting,
    lets in-flight requests finish within SHUTDOWN_TIMEOUT_SECONDS and runs the lifespan's
    shutdown. Returns what restores the previous handler.

    Only for `serve` (main thread, uvicorn's handler installed): the lifespan runs after
    uvicorn took SIGTERM, so the handler found here is uvicorn's."""
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous) or threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    draining = False

    async def drain(signum: int, frame: FrameType | None) -> None:
        log.info(
            "SIGTERM: closing %d hub connection(s)", len(services.realtime.transport.connections)
        )
        try:
            await services.realtime.drain_rooms()
            await services.realtime.transport.stop()
        finally:
            previous(signum, frame)

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal draining
        if draining:  # a second signal: uvicorn's own handling (a forced exit)
            previous(signum, frame)
            return
        draining = True
        loop.call_soon_threadsafe(lambda: loop.create_task(drain(signum, frame)))

    signal.signal(signal.SIGTERM, handle)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


class _Server(Starlette):
    """Starlette whose HTTP requests pass one layer, the edge (server/middleware.py), which
    also applies the app's exception handlers, and then go straight to the route table
    (routes.HTTP_DISPATCH): Starlette's ServerErrorMiddleware, ExceptionMiddleware and Router
    would add three more layers, a Request and two send wrappers to every request.
    WebSocket and lifespan scopes go through Starlette's own stack, under the edge."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settings = settings

    def build_middleware_stack(self) -> ASGIApp:
        handlers = dict(self.exception_handlers)
        server_error = handlers.pop(Exception)
        return EdgeMiddleware(
            HTTP_DISPATCH,
            self._settings,
            others=super().build_middleware_stack(),
            handlers=handlers,
            server_error=server_error,
        )


def create_app(settings: Settings, *, handle_signals: bool = False) -> Starlette:
    """The ASGI application for these settings (`handle_signals`: run by `serve`, whose
    SIGTERM closes hub connections with a reason first)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        db = await open_database(settings)
        redis = open_redis(settings)
        services = build_services(settings, db, redis)
        await services.near.start()
        await services.chat.ensure_bot_account()
        await services.realtime.start()
        await services.socket_relay.start()
        scheduler = start_scheduler(settings, services)
        restore_signal = _hubs_first_on_sigterm(services) if handle_signals else lambda: None
        try:
            yield {"services": services, "scheduler": scheduler}
        finally:
            restore_signal()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await services.aclose()
            await redis.aclose()
            await db.disconnect()
            logs.flush_deferred()

    if settings.metrics_port is not None:
        metrics.enable()
    app = _Server(
        settings,
        routes=DISPATCH,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            ClientDisconnect: _disconnected,
            Exception: _server_error,
        },
    )
    app.router.redirect_slashes = False
    return app


def app_from_environment() -> Starlette:
    """The app factory each worker process of `serve --workers N` calls (uvicorn imports it by
    name, so the settings are read again from the environment in every worker)."""
    from server.logs import configure
    from server.settings import load_settings

    settings = load_settings()
    configure(settings.log_level, settings.log_format)
    return create_app(settings, handle_signals=True)
