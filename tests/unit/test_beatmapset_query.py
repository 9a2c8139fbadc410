"""osu-web's BeatmapsetQueryParser rules, one by one: operators and tolerances, lengths,
dates, status prefixes, quoting, and what stays a keyword."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.repositories.beatmaps import Bounds, Span, Words
from server.services.beatmapset_query import filter_fields, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stars=3", Bounds(gte=2.995, lte=3.005)),
        ("star>3", Bounds(gte=3.005)),
        ("stars>=3", Bounds(gte=2.995)),
        ("stars<3", Bounds(lte=2.995)),
        ("stars<=3", Bounds(lte=3.005)),
        ("stars:3", Bounds(gte=2.995, lte=3.005)),
        ("STARS>3,5", Bounds(gte=3.505)),
    ],
)
def test_float_options_widen_by_half_the_precision(text: str, expected: Bounds) -> None:
    found = parse(text).stars
    assert (found is not None and expected.gte is None) or found.gte == pytest.approx(expected.gte)
    assert found is not None
    for side in ("gt", "gte", "lt", "lte"):
        want, got = getattr(expected, side), getattr(found, side)
        assert (want is None and got is None) or got == pytest.approx(want), side


def test_each_difficulty_key() -> None:
    parsed = parse("ar>9 cs=4 od>=8 hp<5 dr<=6 bpm>200")
    assert parsed.ar == Bounds(gte=pytest.approx(9.05))
    assert parsed.cs == Bounds(gte=pytest.approx(3.95), lte=pytest.approx(4.05))
    assert parsed.od == Bounds(gte=pytest.approx(7.95))
    assert parsed.hp == Bounds(lte=pytest.approx(6.05))  # the later of hp/dr wins
    assert parsed.bpm == Bounds(gte=pytest.approx(200.005))
    assert parsed.keywords == ""


def test_integer_options() -> None:
    parsed = parse("keys=7 key>4 circles<100 sliders>=5 divisor=4 favourites>10")
    assert parsed.keys == Bounds(gt=4)
    assert parsed.circles == Bounds(lt=100)
    assert parsed.sliders == Bounds(gte=5)
    assert parsed.divisor == Bounds(gte=4, lte=4)
    assert parsed.favourites == Bounds(gt=10)
    assert parse("keys=7.9").keys == Bounds(gte=7, lte=7)  # PHP's (int) truncates


@pytest.mark.parametrize(
    ("value", "seconds", "unit"),
    [("90", 90, 1), ("1:30", 90, 1), ("1:01:30", 3690, 1), ("1m30s", 90, 1), ("2m", 120, 60),
     ("1h", 3600, 3600), ("500ms", 0.5, 0.001), ("1.5m", 90, 60)],
)  # fmt: skip
def test_lengths(value: str, seconds: float, unit: float) -> None:
    assert parse(f"length={value}").length == Bounds(
        gte=pytest.approx(seconds - unit / 2), lte=pytest.approx(seconds + unit / 2)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("created=2024", Span(datetime(2024, 1, 1), datetime(2025, 1, 1))),
        ("submitted=2024-02", Span(datetime(2024, 2, 1), datetime(2024, 3, 1))),
        ("created=2024.12", Span(datetime(2024, 12, 1), datetime(2025, 1, 1))),
        ("created=2024/02/29", Span(datetime(2024, 2, 29), datetime(2024, 3, 1))),
        ("created<2024", Span(None, datetime(2024, 1, 1))),
        ("created<=2024", Span(None, datetime(2025, 1, 1))),
        ("created>2024-05", Span(datetime(2024, 6, 1), None)),
        ("created>=2024-05-03", Span(datetime(2024, 5, 3), None)),
        (
            'created="2024-05-03T10:00:00+02:00"',
            Span(datetime(2024, 5, 3, 8), datetime(2024, 5, 3, 8, 0, 1)),
        ),
    ],
)
def test_dates(text: str, expected: Span) -> None:
    assert parse(text).created == expected


def test_ranked_and_updated_dates() -> None:
    parsed = parse("ranked=2023 updated>=2024-01-02")
    assert parsed.ranked == Span(datetime(2023, 1, 1), datetime(2024, 1, 1))
    assert parsed.updated == Span(datetime(2024, 1, 2), None)


@pytest.mark.parametrize(
    ("value", "state"),
    [("ranked", 1), ("r", 1), ("lov", 4), ("grave", -2), ("q", 3), ("a", 2), ("p", 0), ("w", -1)],
)
def test_status_names_and_prefixes(value: str, state: int) -> None:
    assert parse(f"status={value}").status == Bounds(gte=state, lte=state)


def test_text_options_and_quotes() -> None:
    parsed = parse(
        'artist="camellia feat" title=ghost source=touhou creator=alpha difficulty="Extra" '
        'tag=jazz tag="lo fi" free words'
    )
    assert parsed.artist == Words("camellia feat")
    assert parsed.title == Words("ghost")
    assert parsed.source == Words("touhou")
    assert parsed.creator == Words("alpha")
    assert parsed.difficulty == Words("Extra")
    assert parsed.tags == (Words("jazz"), Words("lo fi"))
    assert parsed.keywords == "free words"
    assert parse('artist=""Camellia""').artist == Words("Camellia", exact=True)
    assert parse(r'title="say \"hi\""').title == Words('say "hi"')


@pytest.mark.parametrize(
    "text",
    ["stars>abc", "artist>camellia", "created=2024-13", "status=nope", "length=1x", "ar=", "foo=1"],
)
def test_unreadable_options_stay_keywords(text: str) -> None:
    parsed = parse(f"{text} tail")
    assert parsed.keywords == f"{text} tail"
    assert parsed == parse(f"{text} tail")


def test_featured_artist_and_keys_filter_as_osu_web() -> None:
    assert filter_fields(parse("featured_artist=5"), None, None)["match_nothing"] is True
    keys = filter_fields(parse("keys=7"), None, None)
    assert keys["difficulty_mode"] == 3 and keys["difficulty_bounds"] == (
        ("cs", Bounds(gte=7, lte=7)),
    )
    assert filter_fields(parse("keys=7"), 0, None)["match_nothing"] is True
    ranked = filter_fields(parse("ranked=2024"), None, (1, 2, 3, 4))
    assert ranked["statuses"] == (1, 2, 4)
    assert filter_fields(parse("ranked=2024"), None, (3,))["match_nothing"] is True
    assert filter_fields(parse("divisor=4"), None, None)["difficulty_bounds"] == (
        ("beat_divisor", Bounds(gte=4, lte=4)),
    )
