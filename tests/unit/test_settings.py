"""Settings come only from the environment (and .env) and fail at boot with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings

GOOD_KEY = "k" * 40


def test_embedded_default_generates_and_keeps_a_secret_key(tmp_path: Path) -> None:
    first = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert first.embedded and first.dialect == "sqlite" and first.redis_url is None
    assert first.database_url == f"sqlite+aiosqlite:///{tmp_path / 'osu.db'}"
    assert len(first.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    second = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert second.secret_key == first.secret_key


@pytest.mark.parametrize("key", [None, "", "changeme", "short"])
def test_production_refuses_a_missing_or_placeholder_key(tmp_path: Path, key: str | None) -> None:
    """S-AUTH-9."""
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": "mysql://root@127.0.0.1/test"}
    if key is not None:
        env["SECRET_KEY"] = key
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(env, env_file=None)
    assert not (tmp_path / "secret_key").exists()


def test_production_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "mysql://u:p@db:3306/osu",
            "REDIS_URL": "redis://r:6379/0",
            "SECRET_KEY": GOOD_KEY,
            "SERVER_URL": "https://osu.example.com/",
            "PORT": "5000",
            "ENABLE_RELAX_RULESETS": "yes",
            "SEASONAL_BACKGROUNDS": "https://a.ppy.sh/1.jpg, https://a.ppy.sh/2.jpg",
        },
        env_file=None,
    )
    assert settings.dialect == "mysql" and not settings.embedded
    assert settings.database_url == "mysql+aiomysql://u:p@db:3306/osu"
    assert settings.notification_endpoint == "wss://osu.example.com/notifications"
    assert settings.port == 5000 and settings.enable_relax_rulesets
    assert settings.seasonal_backgrounds == ("https://a.ppy.sh/1.jpg", "https://a.ppy.sh/2.jpg")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DATABASE_URL": "postgres://x/y"}, "DATABASE_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"BCRYPT_ROUNDS": "2"}, "BCRYPT_ROUNDS"),
        ({"REGISTRATION_ENABLED": "maybe"}, "REGISTRATION_ENABLED"),
        ({"SERVER_URL": "osu.example.com"}, "SERVER_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"SEASONAL_BACKGROUNDS_ENDS_AT": "soon"}, "SEASONAL_BACKGROUNDS_ENDS_AT"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"UPSTREAM_CONTENT": "true"}, "UPSTREAM_CONTENT"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"METRICS_PORT": "-1"}, "METRICS_PORT"),
        ({"SHUTDOWN_TIMEOUT_SECONDS": "soon"}, "SHUTDOWN_TIMEOUT_SECONDS"),
        ({"S3_ENDPOINT_URL": "minio:9000", "S3_BUCKET": "b"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://minio:9000"}, "S3_BUCKET"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        load_settings({"DATA_DIR": str(tmp_path), "SECRET_KEY": GOOD_KEY, **env}, env_file=None)


def test_dotenv_supplies_defaults_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"PORT=7000\nSERVER_URL=http://from-dotenv\nSECRET_KEY={GOOD_KEY}\n")
    settings = load_settings({"DATA_DIR": str(tmp_path), "PORT": "7100"}, env_file=env_file)
    assert settings.port == 7100
    assert settings.server_url == "http://from-dotenv"
    assert settings.notification_endpoint == "ws://from-dotenv/notifications"


def test_operation_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "LOG_FORMAT": "JSON",
            "METRICS_PORT": "9100",
            "SHUTDOWN_TIMEOUT_SECONDS": "5",
            "S3_BUCKET": "osu",
            "S3_ENDPOINT_URL": "http://minio:9000",
            "S3_PREFIX": "/prod",
        },
        env_file=None,
    )
    assert settings.log_format == "json"
    assert settings.metrics_port == 9100 and settings.metrics_host == "127.0.0.1"
    assert settings.shutdown_timeout_seconds == 5
    assert (settings.s3_bucket, settings.s3_endpoint_url) == ("osu", "http://minio:9000")
    assert settings.s3_prefix == "prod/" and settings.s3_region == "us-east-1"
    off = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert off.metrics_port is None and off.s3_bucket is None and off.log_format == "text"
