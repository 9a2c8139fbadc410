"""Driver errors become our own types inside server/db/, on both dialects: a duplicate key is
DuplicateKey, other failures DatabaseError, and the driver's exception is only the cause."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from server.db import DatabaseError, DuplicateKey
from tests.helpers import SignedIn
from tests.score_play import stored_map


async def test_duplicate_key_is_our_type(player: SignedIn, services: Any) -> None:
    beatmap = await stored_map(services)
    repo = services.beatmaps.repo
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    await repo.add_favourite(player.id, beatmap.set_id, now)
    with pytest.raises(DuplicateKey) as raised:
        await repo.add_favourite(player.id, beatmap.set_id, now)
    assert type(raised.value.__cause__).__module__.split(".")[0] in {"sqlite3", "pymysql"}
    assert await repo.is_favourite(player.id, beatmap.set_id)


async def test_other_failures_are_database_errors(services: Any) -> None:
    with pytest.raises(DatabaseError) as raised:
        await services.db.execute_raw("SELECT no_such_column FROM users")
    assert not isinstance(raised.value, DuplicateKey)
    with pytest.raises(DatabaseError):
        async with services.db.transaction():
            await services.db.execute_raw("INSERT INTO no_such_table VALUES (1)")
