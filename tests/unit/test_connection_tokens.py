"""Negotiated SignalR connection tokens: signed for one hub and user, and short-lived."""

from __future__ import annotations

from server.hubs.transport import (
    CONNECTION_TOKEN_SECONDS,
    connection_token,
    connection_token_valid,
)

KEY = b"k" * 32


def test_a_token_is_valid_for_its_hub_and_user_until_it_expires() -> None:
    token = connection_token(KEY, "spectator", 7, now=1000.0)
    assert connection_token_valid(KEY, token, "spectator", 7, now=1000.0)
    assert connection_token_valid(KEY, token, "spectator", 7, now=1000.0 + CONNECTION_TOKEN_SECONDS)
    assert not connection_token_valid(
        KEY, token, "spectator", 7, now=1001.0 + CONNECTION_TOKEN_SECONDS
    )
    assert not connection_token_valid(KEY, token, "metadata", 7, now=1000.0)
    assert not connection_token_valid(KEY, token, "spectator", 8, now=1000.0)
    assert not connection_token_valid(b"x" * 32, token, "spectator", 7, now=1000.0)


def test_tampered_and_malformed_tokens_are_refused() -> None:
    token = connection_token(KEY, "spectator", 7, now=1000.0)
    expires, nonce, mac = token.split(".")
    later = f"{int(expires) + 10_000}.{nonce}.{mac}"
    assert not connection_token_valid(KEY, later, "spectator", 7, now=1000.0)
    for bad in ("", ".", "..", "abc", f"{expires}..{mac}", f"-1.{nonce}.{mac}", token + "x"):
        assert not connection_token_valid(KEY, bad, "spectator", 7, now=1000.0), bad
    assert connection_token(KEY, "spectator", 7, now=1000.0) != token  # a fresh nonce
