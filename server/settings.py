"""Settings: the only reader of the environment (and of an optional `.env` file).

Everything is read once at boot into a frozen `Settings`; a bad value stops the server with
a message that names the variable. With no `DATABASE_URL` the server runs in the embedded
default (SQLite under `DATA_DIR`, an in-process Redis stand-in) and keeps a generated secret
key under `DATA_DIR`; with a `DATABASE_URL` it is in production mode and insists on a real
`SECRET_KEY` (reliability.md S-AUTH-9).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import msgspec
from dotenv import dotenv_values

# The stock lazer client's OAuth client: id 5 with the production and development secrets
# that ship in its source (osu.Game/Online/*EndpointConfiguration.cs). They are public.
LAZER_CLIENT_ID = 5
LAZER_CLIENT_SECRETS = (
    "FGc9GAtyHzeQDshWP5Ah7dega8hJACAJpQtw6OXk",
    "3LP2mhUrV89xxzD1YKNndXHEhWWCRLPNKioZ9ymT",
)

_PLACEHOLDER_KEYS = {"", "changeme", "change-me", "secret", "your-secret-key", "replace-me"}
_MIN_SECRET_KEY_LENGTH = 32


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Typed server configuration, documented variable by variable in README.md."""

    database_url: str
    redis_url: str | None
    server_url: str
    secret_key: str
    data_dir: Path
    embedded: bool
    port: int = 8000
    host: str = "127.0.0.1"
    bcrypt_rounds: int = 10
    access_token_seconds: int = 86_400
    refresh_token_seconds: int = 90 * 86_400
    token_cache_seconds: int = 300
    near_cache: bool = True
    profile_cache_seconds: int = 10
    login_max_failures: int = 10
    login_max_accounts: int = 50
    login_window_seconds: int = 600
    token_rate_limit_per_minute: int = 60
    api_rate_limit_per_minute: int = 1200
    web_concurrency: int = 1
    registration_rate_limit: int = 60
    registration_window_seconds: int = 600
    registration_enabled: bool = True
    max_body_bytes: int = 1 << 20
    enable_relax_rulesets: bool = False
    seasonal_backgrounds: tuple[str, ...] = ()
    seasonal_backgrounds_ends_at: datetime | None = None
    trusted_proxy_hops: int = 0
    country_header: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    # Shared file storage: beatmap files, .osz archives and replays in an S3-compatible
    # object store when S3_BUCKET is set.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_prefix: str = ""
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    shutdown_timeout_seconds: int = 30
    # Beatmaps: the file store, the status policy and the (optional) upstream fetcher.
    beatmaps_dir: Path | None = None
    leaderboards_for_all_statuses: bool = False
    upstream_api_url: str | None = None
    upstream_token_url: str | None = None
    upstream_client_id: str = ""
    upstream_client_secret: str = ""
    beatmap_file_mirrors: tuple[str, ...] = ()
    beatmapset_download_mirrors: tuple[str, ...] = ()
    beatmapset_download_proxy: bool = False
    upstream_timeout_seconds: float = 10.0
    upstream_retries: int = 2
    upstream_resync_seconds: int = 86_400
    upstream_miss_seconds: int = 600
    # News, changelog, wiki and comments read through to the upstream API (off by default).
    upstream_content: bool = False
    upstream_content_seconds: int = 600
    # Scores: the submission switch (S-SC-1) and how long a score token stays usable.
    score_submission_enabled: bool = True
    score_token_seconds: int = 86_400
    # Scheduled jobs (server/jobs.py): the daily rank-history snapshot and the outbox relay.
    rank_history_snapshot: bool = True
    outbox_relay_seconds: int = 10
    # The daily challenge: the job opening each day's room, and how often each instance's
    # metadata hub looks for a change of the open room (0: only at start).
    daily_challenge_job: bool = True
    daily_challenge_poll_seconds: int = 60
    hub_keepalive_seconds: float = 15.0
    hub_client_timeout_seconds: float = 30.0
    hub_handshake_timeout_seconds: float = 15.0
    hub_max_message_bytes: int = 32 * 1024
    hub_send_queue: int = 1024
    hub_messages_per_second: int = 60
    hub_message_burst: int = 120
    replay_idle_seconds: int = 300
    # How long players of a starting match may take to load before gameplay starts without
    # them (osu-server-spectator's gameplay_load_timeout); short in tests.
    multiplayer_load_timeout_seconds: int = 30
    # A realtime room's owner lease: renewed every third of it; a room whose owner stopped
    # renewing is closed by an instance with members in it (server/services/multiplayer/
    # INSTANCES.md).
    multiplayer_lease_seconds: int = 30
    # An instance stopping with realtime rooms gives them a ServerShuttingDownCountdown this
    # long and waits it out (or until they empty) before it ends them and closes connections.
    multiplayer_shutdown_seconds: int = 20
    # How often an instance closes realtime rooms no instance holds any more (an owner that
    # died with nobody connected elsewhere); 0: never (server/jobs.py).
    multiplayer_sweep_seconds: int = 60
    replay_submit_wait_seconds: int = 600
    replay_max_bytes: int = 16 << 20
    # Accounts: sign-in lockout per account (beside the per-IP one) and the mail that
    # carries password-reset codes (no SMTP_HOST: codes are written to the log).
    login_account_max_failures: int = 30
    session_verification: bool = False
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "osu-server@localhost"
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    # Chat (osu-web's config/osu.php `chat` and `user.min_plays_for_posting`).
    chat_message_length_limit: int = 450
    chat_public_limit: int = 1
    chat_public_window: int = 1
    chat_private_limit: int = 1
    chat_private_window: int = 1
    chat_public_backlog_hours: int = 24
    chat_channel_limit: int = 10_000
    # osu-web asks for 10 plays before posting; off here, so a small server's newcomers can
    # chat at once (a deliberate divergence, as a setting).
    chat_min_plays: int = 0
    chat_bot_enabled: bool = True
    chat_bot_user_id: int = 3
    chat_bot_username: str = "BanchoBot"

    @property
    def dialect(self) -> Literal["mysql", "sqlite"]:
        """SQL dialect of the configured database."""
        return "sqlite" if self.database_url.startswith("sqlite") else "mysql"

    @property
    def beatmap_store_dir(self) -> Path:
        """Where .osu and .osz files are kept (content-addressed by MD5)."""
        return self.beatmaps_dir or self.data_dir / "beatmaps"

    @property
    def notification_endpoint(self) -> str:
        """Absolute ws(s):// URL of the notification socket, derived from SERVER_URL."""
        base = self.server_url.rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base.removeprefix("https://") + "/notifications"
        return "ws://" + base.removeprefix("http://") + "/notifications"


def _env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _env_urls(env: Mapping[str, str], name: str, placeholder: str | None) -> tuple[str, ...]:
    """A comma-separated list of http(s) URLs, each holding `placeholder` when one is given."""
    urls = tuple(url.strip() for url in env.get(name, "").split(",") if url.strip())
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"{name}: {url!r} is not an http(s) URL")
        if placeholder is not None and placeholder not in url:
            raise SettingsError(f"{name}: {url!r} has no {placeholder} placeholder")
    return urls


def _normalise_database_url(url: str) -> str:
    # `databases` picks its driver from the scheme; mysql:// already means aiomysql there,
    # but say so explicitly so a copied URL with another driver is refused early.
    if url.startswith(("mysql://", "mariadb://")):
        return "mysql+aiomysql://" + url.split("://", 1)[1]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
    if url.startswith(("mysql+aiomysql://", "sqlite+aiosqlite://")):
        return url
    raise SettingsError(
        "DATABASE_URL must be mysql://user:password@host:port/database (MySQL 8 / MariaDB 10.6+) "
        f"or sqlite:///path; got scheme {url.split(':', 1)[0]!r}"
    )


def _embedded_secret_key(data_dir: Path) -> str:
    """Read, or create once, the secret key the embedded default keeps under DATA_DIR."""
    path = data_dir / "secret_key"
    if path.is_file():
        key = path.read_text().strip()
        if len(key) >= _MIN_SECRET_KEY_LENGTH:
            return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Owner-only from the moment it exists: the key signs every access token.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build Settings from the environment, with `.env` values as defaults."""
    env: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    data_dir = Path(env.get("DATA_DIR") or "data")
    database_url = env.get("DATABASE_URL", "").strip()
    embedded = database_url == ""
    if embedded:
        database_url = f"sqlite+aiosqlite:///{(data_dir / 'osu.db').as_posix()}"
    else:
        database_url = _normalise_database_url(database_url)

    secret_key = env.get("SECRET_KEY", "").strip()
    if secret_key.lower() in _PLACEHOLDER_KEYS or len(secret_key) < _MIN_SECRET_KEY_LENGTH:
        if not embedded:
            raise SettingsError(
                f"SECRET_KEY must be set to a random value of at least {_MIN_SECRET_KEY_LENGTH} "
                "characters in production (it signs access tokens); generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        if secret_key == "":
            secret_key = _embedded_secret_key(data_dir)
        else:
            raise SettingsError(
                f"SECRET_KEY is set but is a placeholder or shorter than {_MIN_SECRET_KEY_LENGTH} "
                "characters; unset it to let the embedded default generate one"
            )

    port = _env_int(env, "PORT", 8000, minimum=1)
    server_url = (env.get("SERVER_URL") or f"http://127.0.0.1:{port}").rstrip("/")
    if not server_url.startswith(("http://", "https://")):
        raise SettingsError(f"SERVER_URL must start with http:// or https://, got {server_url!r}")

    ends_at_raw = env.get("SEASONAL_BACKGROUNDS_ENDS_AT", "").strip()
    try:
        ends_at = datetime.fromisoformat(ends_at_raw) if ends_at_raw else None
    except ValueError:
        raise SettingsError(
            f"SEASONAL_BACKGROUNDS_ENDS_AT must be an ISO-8601 date-time, got {ends_at_raw!r}"
        ) from None

    log_level = env.get("LOG_LEVEL", "info").strip().lower()
    if log_level not in {"debug", "info", "warning", "error"}:
        raise SettingsError(f"LOG_LEVEL must be debug, info, warning or error, got {log_level!r}")

    log_format = env.get("LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in {"text", "json"}:
        raise SettingsError(f"LOG_FORMAT must be text or json, got {log_format!r}")

    redis_url = env.get("REDIS_URL", "").strip() or None
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"REDIS_URL must be a redis:// or rediss:// URL, got {redis_url!r}")

    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        server_url=server_url,
        secret_key=secret_key,
        data_dir=data_dir,
        embedded=embedded,
        port=port,
        host=env.get("HOST", "127.0.0.1"),
        bcrypt_rounds=_env_int(env, "BCRYPT_ROUNDS", 10, minimum=4),
        access_token_seconds=_env_int(env, "ACCESS_TOKEN_SECONDS", 86_400, minimum=120),
        refresh_token_seconds=_env_int(env, "REFRESH_TOKEN_SECONDS", 90 * 86_400, minimum=120),
        token_cache_seconds=_env_int(env, "TOKEN_CACHE_SECONDS", 300, minimum=0),
        near_cache=_env_bool(env, "NEAR_CACHE", True),
        api_rate_limit_per_minute=_env_int(env, "API_RATE_LIMIT_PER_MINUTE", 1200, minimum=0),
        web_concurrency=_env_int(env, "WEB_CONCURRENCY", 1, minimum=1),
        profile_cache_seconds=_env_int(env, "PROFILE_CACHE_SECONDS", 10, minimum=0),
        login_max_failures=_env_int(env, "LOGIN_MAX_FAILURES", 10, minimum=1),
        login_max_accounts=_env_int(env, "LOGIN_MAX_ACCOUNTS", 50, minimum=1),
        login_window_seconds=_env_int(env, "LOGIN_WINDOW_SECONDS", 600, minimum=1),
        token_rate_limit_per_minute=_env_int(env, "TOKEN_RATE_LIMIT_PER_MINUTE", 60, minimum=1),
        registration_rate_limit=_env_int(env, "REGISTRATION_RATE_LIMIT", 60, minimum=1),
        registration_window_seconds=_env_int(env, "REGISTRATION_WINDOW_SECONDS", 600, minimum=1),
        registration_enabled=_env_bool(env, "REGISTRATION_ENABLED", True),
        max_body_bytes=_env_int(env, "MAX_BODY_BYTES", 1 << 20, minimum=1024),
        enable_relax_rulesets=_env_bool(env, "ENABLE_RELAX_RULESETS", False),
        seasonal_backgrounds=tuple(
            url.strip() for url in env.get("SEASONAL_BACKGROUNDS", "").split(",") if url.strip()
        ),
        seasonal_backgrounds_ends_at=ends_at,
        trusted_proxy_hops=_env_int(env, "TRUSTED_PROXY_HOPS", 0, minimum=0),
        country_header=env.get("COUNTRY_HEADER", "").strip() or None,
        log_level=log_level,  # type: ignore[arg-type]
        log_format=log_format,  # type: ignore[arg-type]
        **_object_store_settings(env),
        metrics_port=_env_int(env, "METRICS_PORT", 0, minimum=0) or None,
        metrics_host=env.get("METRICS_HOST", "").strip() or "127.0.0.1",
        shutdown_timeout_seconds=_env_int(env, "SHUTDOWN_TIMEOUT_SECONDS", 30, minimum=0),
        **_beatmap_settings(env),
        **_account_settings(env),
        score_submission_enabled=_env_bool(env, "SCORE_SUBMISSION_ENABLED", True),
        score_token_seconds=_env_int(env, "SCORE_TOKEN_SECONDS", 86_400, minimum=60),
        rank_history_snapshot=_env_bool(env, "RANK_HISTORY_SNAPSHOT", True),
        outbox_relay_seconds=_env_int(env, "OUTBOX_RELAY_SECONDS", 10, minimum=0),
        daily_challenge_job=_env_bool(env, "DAILY_CHALLENGE_JOB", True),
        daily_challenge_poll_seconds=_env_int(env, "DAILY_CHALLENGE_POLL_SECONDS", 60, minimum=0),
        hub_keepalive_seconds=_env_int(env, "HUB_KEEPALIVE_SECONDS", 15, minimum=1),
        hub_client_timeout_seconds=_env_int(env, "HUB_CLIENT_TIMEOUT_SECONDS", 30, minimum=2),
        hub_handshake_timeout_seconds=_env_int(env, "HUB_HANDSHAKE_TIMEOUT_SECONDS", 15, minimum=1),
        hub_max_message_bytes=_env_int(env, "HUB_MAX_MESSAGE_BYTES", 32 * 1024, minimum=1024),
        hub_send_queue=_env_int(env, "HUB_SEND_QUEUE", 1024, minimum=16),
        hub_messages_per_second=_env_int(env, "HUB_MESSAGES_PER_SECOND", 60, minimum=1),
        hub_message_burst=_env_int(env, "HUB_MESSAGE_BURST", 120, minimum=1),
        replay_idle_seconds=_env_int(env, "REPLAY_IDLE_SECONDS", 300, minimum=1),
        multiplayer_load_timeout_seconds=_env_int(
            env, "MULTIPLAYER_LOAD_TIMEOUT_SECONDS", 30, minimum=1
        ),
        multiplayer_lease_seconds=_env_int(env, "MULTIPLAYER_LEASE_SECONDS", 30, minimum=1),
        multiplayer_shutdown_seconds=_env_int(env, "MULTIPLAYER_SHUTDOWN_SECONDS", 20, minimum=0),
        multiplayer_sweep_seconds=_env_int(env, "MULTIPLAYER_SWEEP_SECONDS", 60, minimum=0),
        replay_submit_wait_seconds=_env_int(env, "REPLAY_SUBMIT_WAIT_SECONDS", 600, minimum=1),
        replay_max_bytes=_env_int(env, "REPLAY_MAX_BYTES", 16 << 20, minimum=1024),
        **_chat_settings(env),
    )


def _account_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The per-account lockout and the SMTP server for account mail."""
    security = (env.get("SMTP_SECURITY") or "starttls").strip().lower()
    if security not in ("starttls", "tls", "none"):
        raise SettingsError(f"SMTP_SECURITY must be starttls, tls or none, got {security!r}")
    return {
        "login_account_max_failures": _env_int(env, "LOGIN_ACCOUNT_MAX_FAILURES", 30, minimum=1),
        "session_verification": _env_bool(env, "SESSION_VERIFICATION", False),
        "smtp_host": (env.get("SMTP_HOST") or "").strip() or None,
        "smtp_port": _env_int(env, "SMTP_PORT", 465 if security == "tls" else 587, minimum=1),
        "smtp_username": (env.get("SMTP_USERNAME") or "").strip(),
        "smtp_password": env.get("SMTP_PASSWORD") or "",
        "smtp_from": (env.get("SMTP_FROM") or "").strip() or "osu-server@localhost",
        "smtp_security": security,
    }


def _object_store_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The S3-compatible object store (off without S3_BUCKET)."""
    bucket = (env.get("S3_BUCKET") or "").strip() or None
    endpoint = (env.get("S3_ENDPOINT_URL") or "").strip() or None
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise SettingsError(f"S3_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}")
    if endpoint is not None and bucket is None:
        raise SettingsError("S3_ENDPOINT_URL is set but S3_BUCKET is not")
    prefix = (env.get("S3_PREFIX") or "").strip().lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return {
        "s3_bucket": bucket,
        "s3_endpoint_url": endpoint,
        "s3_region": (env.get("S3_REGION") or "").strip() or "us-east-1",
        "s3_access_key_id": (env.get("S3_ACCESS_KEY_ID") or "").strip(),
        "s3_secret_access_key": (env.get("S3_SECRET_ACCESS_KEY") or "").strip(),
        "s3_prefix": prefix,
    }


def _beatmap_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The beatmap store, status policy and upstream fetcher settings."""
    api_url = (env.get("UPSTREAM_API_URL") or "").strip().rstrip("/") or None
    token_url = (env.get("UPSTREAM_TOKEN_URL") or "").strip() or None
    for name, url in (("UPSTREAM_API_URL", api_url), ("UPSTREAM_TOKEN_URL", token_url)):
        if url is not None and not url.startswith(("http://", "https://")):
            raise SettingsError(f"{name} must be an http(s) URL, got {url!r}")
    if api_url is not None and token_url is None:
        # An osu! API v2 base is https://host/api/v2; its token endpoint is https://host/oauth/token.
        token_url = api_url.removesuffix("/api/v2") + "/oauth/token"
    client_id = (env.get("UPSTREAM_CLIENT_ID") or "").strip()
    client_secret = (env.get("UPSTREAM_CLIENT_SECRET") or "").strip()
    if api_url is not None and not (client_id and client_secret):
        raise SettingsError("UPSTREAM_API_URL needs UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET")
    raw_timeout = (env.get("UPSTREAM_TIMEOUT_SECONDS") or "").strip()
    try:
        timeout = float(raw_timeout) if raw_timeout else 10.0
    except ValueError:
        raise SettingsError(
            f"UPSTREAM_TIMEOUT_SECONDS must be a number, got {raw_timeout!r}"
        ) from None
    if not 0 < timeout <= 120:
        raise SettingsError(f"UPSTREAM_TIMEOUT_SECONDS must be in (0, 120], got {timeout}")
    beatmaps_dir = (env.get("BEATMAPS_DIR") or "").strip()
    content = _env_bool(env, "UPSTREAM_CONTENT", False)
    if content and api_url is None:
        raise SettingsError("UPSTREAM_CONTENT needs UPSTREAM_API_URL")
    return {
        "beatmaps_dir": Path(beatmaps_dir) if beatmaps_dir else None,
        "leaderboards_for_all_statuses": _env_bool(env, "LEADERBOARDS_FOR_ALL_STATUSES", False),
        "upstream_api_url": api_url,
        "upstream_token_url": token_url,
        "upstream_client_id": client_id,
        "upstream_client_secret": client_secret,
        "beatmap_file_mirrors": _env_urls(env, "BEATMAP_FILE_MIRRORS", "{id}"),
        "beatmapset_download_mirrors": _env_urls(env, "BEATMAPSET_DOWNLOAD_MIRRORS", "{id}"),
        "beatmapset_download_proxy": _env_bool(env, "BEATMAPSET_DOWNLOAD_PROXY", False),
        "upstream_timeout_seconds": timeout,
        "upstream_retries": _env_int(env, "UPSTREAM_RETRIES", 2, minimum=0),
        "upstream_resync_seconds": _env_int(env, "UPSTREAM_RESYNC_SECONDS", 86_400, minimum=0),
        "upstream_miss_seconds": _env_int(env, "UPSTREAM_MISS_SECONDS", 600, minimum=0),
        "upstream_content": content,
        "upstream_content_seconds": _env_int(env, "UPSTREAM_CONTENT_SECONDS", 600, minimum=1),
    }


def _chat_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Chat limits and the bot (osu-web's CHAT_* variable names where it has them)."""
    bot_name = (env.get("CHAT_BOT_USERNAME") or "BanchoBot").strip()
    if not 3 <= len(bot_name) <= 15:
        raise SettingsError(f"CHAT_BOT_USERNAME must be 3 to 15 characters, got {bot_name!r}")
    return {
        "chat_message_length_limit": _env_int(env, "CHAT_MESSAGE_LENGTH_LIMIT", 450, minimum=1),
        "chat_public_limit": _env_int(env, "CHAT_PUBLIC_LIMIT", 1, minimum=1),
        "chat_public_window": _env_int(env, "CHAT_PUBLIC_WINDOW", 1, minimum=1),
        "chat_private_limit": _env_int(env, "CHAT_PRIVATE_LIMIT", 1, minimum=1),
        "chat_private_window": _env_int(env, "CHAT_PRIVATE_WINDOW", 1, minimum=1),
        "chat_public_backlog_hours": _env_int(
            env, "CHAT_PUBLIC_BACKLOG_LIMIT_HOURS", 24, minimum=1
        ),
        "chat_channel_limit": _env_int(env, "CHAT_CHANNEL_LIMIT", 10_000, minimum=1),
        "chat_min_plays": _env_int(env, "CHAT_MIN_PLAYS", 0, minimum=0),
        "chat_bot_enabled": _env_bool(env, "CHAT_BOT_ENABLED", True),
        "chat_bot_user_id": _env_int(env, "CHAT_BOT_USER_ID", 3, minimum=2),
        "chat_bot_username": bot_name,
    }
