"""osu-web's Event (users/{user}/recent_activity; EventTransformer): id, type and dates,
plus the fields each event type adds."""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType


class EventLink(msgspec.Struct, frozen=True):
    """A beatmap or beatmapset an event names."""

    title: str
    url: str


class EventUser(msgspec.Struct, frozen=True, omit_defaults=True):
    """The user an event names (with the old name on a username change)."""

    username: str
    url: str
    previousUsername: str | UnsetType = UNSET  # osu-web's key


class EventDetails(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """What one event type adds (stored as JSON with the event)."""

    scoreRank: str | UnsetType = UNSET  # osu-web's key
    rank: int | UnsetType = UNSET
    mode: str | UnsetType = UNSET
    approval: str | UnsetType = UNSET
    beatmap: EventLink | UnsetType = UNSET
    beatmapset: EventLink | UnsetType = UNSET
    user: EventUser | UnsetType = UNSET


class Event(EventDetails, frozen=True, omit_defaults=True, kw_only=True):
    """One event as osu-web sends it."""

    created_at: datetime
    createdAt: datetime  # osu-web still sends the camel-case copy
    id: int
    type: str
