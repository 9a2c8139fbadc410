"""Fixtures shared by the integration modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_upstream import FakeUpstream, ServedFake


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    """A fake osu! API and fake mirrors served on 127.0.0.1, one per test module."""
    upstream = FakeUpstream()
    served = ServedFake(upstream)
    served.start()
    try:
        yield upstream
    finally:
        served.stop()
