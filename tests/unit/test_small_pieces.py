"""Pure pieces: password hashing, level curve, log redaction, client IP, country names."""

from __future__ import annotations

import bcrypt
from starlette.requests import Request

from server.http import client_ip
from server.logs import redact_query
from server.services.countries import country_name, normalise_country
from server.services.passwords import PasswordHasher, password_md5
from server.services.profiles import level_for_score, required_score_for_level


async def test_passwords_are_bcrypt_over_md5_and_read_osu_web_hashes() -> None:
    """S-AUTH-1: bcrypt(md5 hex), `$2y$` hashes from osu-web verify, cost changes rehash."""
    hasher = PasswordHasher(rounds=4)
    try:
        stored = await hasher.hash("hunter22")
        assert bcrypt.checkpw(password_md5("hunter22").encode(), stored.encode())
        assert await hasher.verify("hunter22", stored)
        assert not await hasher.verify("hunter23", stored)
        osu_web_style = stored.replace("$2b$", "$2y$", 1)
        assert await hasher.verify("hunter22", osu_web_style)
        assert not hasher.needs_rehash(stored)
        assert PasswordHasher(rounds=5).needs_rehash(stored)
        assert not await hasher.verify("hunter22", None)
        assert not await hasher.verify("hunter22", "not-a-bcrypt-hash")
        # The unknown-user check (S-AUTH-5) is a well-formed hash at the configured cost.
        assert not hasher.needs_rehash(hasher._dummy.decode())
        assert not bcrypt.checkpw(password_md5("hunter22").encode(), hasher._dummy)
    finally:
        hasher.close()


def test_level_curve() -> None:
    assert level_for_score(0).current == 1
    assert level_for_score(int(required_score_for_level(2))).current == 2
    assert level_for_score(int(required_score_for_level(50)) - 1).current == 49
    halfway = int((required_score_for_level(30) + required_score_for_level(31)) / 2) + 1
    level = level_for_score(halfway)
    assert (level.current, level.progress) == (30, 50)
    assert level_for_score(26_931_190_827 + 2 * 99_999_999_999).current == 102


def test_access_log_redacts_secrets() -> None:
    """S-TOK-9."""
    assert redact_query("u=2&k=apikey&m=0") == "u=2&k=[redacted]&m=0"
    assert redact_query("h=md5&access_token=abc") == "h=[redacted]&access_token=[redacted]"
    assert "secret" not in redact_query("p=secret&password=secret&token=secret")
    # A query with nothing to redact is remembered; one with a secret never is, and is
    # redacted every time.
    assert redact_query("mode=osu&limit=50") == "mode=osu&limit=50"
    assert redact_query("mode=osu&limit=50") == "mode=osu&limit=50"
    for _ in range(2):
        assert redact_query("mode=osu&access_token=abc") == "mode=osu&access_token=[redacted]"


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "headers": headers, "client": (peer, 1)})


def test_client_ip_trusts_only_configured_proxy_hops() -> None:
    """S-RL-3: never the leftmost X-Forwarded-For entry."""
    assert client_ip(_request("10.0.0.1", "6.6.6.6, 1.2.3.4"), 0) == "10.0.0.1"
    assert client_ip(_request("10.0.0.1", "6.6.6.6, 1.2.3.4"), 1) == "1.2.3.4"
    assert client_ip(_request("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2"), 2) == "1.2.3.4"
    assert client_ip(_request("10.0.0.1", None), 1) == "10.0.0.1"


def test_country_codes() -> None:
    assert country_name("AU") == "Australia"
    assert country_name("XX") == "Unknown"
    assert normalise_country("jp") == "JP"
    assert normalise_country("ZZ") == "XX" and normalise_country(None) == "XX"
