"""Wire shape of seasonal-backgrounds (osu-web SeasonalBackgroundTransformer, trimmed to the
URL lazer and the clients read)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class SeasonalBackground(msgspec.Struct, frozen=True):
    url: str


class SeasonalBackgrounds(msgspec.Struct, frozen=True):
    """`ends_at` is a non-nullable DateTimeOffset in lazer."""

    ends_at: datetime
    backgrounds: list[SeasonalBackground]
