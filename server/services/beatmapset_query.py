"""The filter syntax inside beatmapsets/search's `q`, read as osu-web's BeatmapsetQueryParser
reads it (ppy/osu-web app/Libraries/Search/BeatmapsetQueryParser.php, which follows lazer's
FilterQueryParser).

`key<op>value` with `op` one of `=`, `:`, `<`, `<=`, `>`, `>=` (`:` is `=`), values bare or in
double quotes (`artist="camellia feat"`; `\\"` inside quotes is a quote). A recognised key
with a value it cannot read stays in the keywords, as in osu-web.

- `star`/`stars`, `ar`, `cs`, `od`, `hp`/`dr`, `bpm`: a number (`,` may be the decimal
  point), matched on a difficulty within half the display precision;
- `length`: `90`, `1:30`, `1m30s`, `500ms`, a difficulty's length within half the unit given;
- `keys`/`key` (a mania difficulty's key count), `circles`, `sliders`: integers;
- `status`: a name or its prefix (`r`, `lov`, `grave`), a difficulty's status;
- `favourites`: the set's favourite count;
- `created`/`submitted`, `updated`, `ranked`: `2024`, `2024-05`, `2024-05-01` or an ISO time,
  meaning that year, month, day or second (`ranked` also needs a ranked, approved or loved set);
- `artist`, `title`, `source`, `creator`, `tag` (repeatable), `difficulty`: text with `=`
  only, every word in the field (`artist=""Exact""` for the whole field). Two divergences:
  `tag` reads the set's own tags (osu-web reads user-voted tags, which are not kept here),
  and `creator` the set creator's name (osu-web also finds a named user's guest difficulties);
- `divisor`: a difficulty's beat snap divisor (the file's [Editor] BeatDivisor). osu-web
  parses it but leaves it unsupported in its search; here it filters;
- `featured_artist`: matches nothing, as `c=featured_artists`: no artist catalogue is kept.

Every difficulty condition must hold on the same difficulty (osu-web's nested query).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

from server.repositories.beatmaps import Bounds, Span, Words

# osu-web's pattern: `\b(?<key>\w+)(?<op>(:|=|(>|<)(:|=)?))(?<value>("{1,2})(?:\\"|.)*?\7|\S*)`.
_OPTION: Final = re.compile(
    r'\b(?P<key>\w+)(?P<op>:|=|[<>][:=]?)(?P<value>(?P<quote>"{1,2})(?:\\"|.)*?(?P=quote)|\S*)',
    re.IGNORECASE | re.ASCII,
)
# PHP's is_numeric for what a search box holds (no leading spaces, no hex).
_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LENGTH_PATTERNS: Final = (
    re.compile(r"(?:(?P<hours>\d+):)?(?P<minutes>\d+):(?P<seconds>\d+)"),
    re.compile(
        r"(?:(?P<hours>\d+(?:\.\d+)?)h)?(?:(?P<minutes>\d+(?:\.\d+)?)m)?"
        r"(?:(?P<seconds>\d+(?:\.\d+)?)s)?(?:(?P<milliseconds>\d+(?:\.\d+)?)ms)?"
    ),
    re.compile(r"(?P<seconds>\d+(?:\.\d+)?)"),
)
_LENGTH_SCALES: Final = {"milliseconds": 0.001, "seconds": 1.0, "minutes": 60.0, "hours": 3600.0}
_YEAR: Final = re.compile(r"(?P<year>\d{4})")
_MONTH: Final = re.compile(r"(?P<year>\d{4})[-./]?(?P<month>\d{1,2})")
_DAY: Final = re.compile(r"(?P<year>\d{4})[-./]?(?P<month>\d{1,2})[-./]?(?P<day>\d{1,2})")
# osu-web's Beatmapset::STATES, in its order (a prefix picks the first that starts with it).
STATES: Final[dict[str, int]] = {
    "graveyard": -2,
    "wip": -1,
    "pending": 0,
    "ranked": 1,
    "approved": 2,
    "qualified": 3,
    "loved": 4,
}


class ParsedQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Keywords left after the options, and the options read from `q`."""

    keywords: str = ""
    stars: Bounds | None = None
    ar: Bounds | None = None
    cs: Bounds | None = None
    od: Bounds | None = None
    hp: Bounds | None = None
    bpm: Bounds | None = None
    length: Bounds | None = None
    keys: Bounds | None = None
    circles: Bounds | None = None
    sliders: Bounds | None = None
    status: Bounds | None = None
    favourites: Bounds | None = None
    divisor: Bounds | None = None
    featured_artist: int | None = None
    created: Span | None = None
    updated: Span | None = None
    ranked: Span | None = None
    artist: Words | None = None
    title: Words | None = None
    source: Words | None = None
    creator: Words | None = None
    difficulty: Words | None = None
    tags: tuple[Words, ...] = ()


def _number(value: str) -> float | None:
    value = value.replace(",", ".")
    return float(value) if _NUMBER.fullmatch(value) else None


def float_range(op: str, value: str | float, tolerance: float) -> Bounds | None:
    """A float condition, widened by `tolerance` as osu-web's makeFloatRangeOption."""
    number = _number(value) if isinstance(value, str) else value
    if number is None:
        return None
    return {
        "=": Bounds(gte=number - tolerance, lte=number + tolerance),
        "<": Bounds(lte=number - tolerance),
        "<=": Bounds(lte=number + tolerance),
        ">": Bounds(gte=number + tolerance),
        ">=": Bounds(gte=number - tolerance),
    }[op]


def int_range(op: str, value: str | int | None) -> Bounds | None:
    """An integer condition (osu-web's makeIntRangeOption: PHP's (int) truncates)."""
    if value is None:
        return None
    number = float(value) if isinstance(value, int) else _number(value)
    if number is None or abs(number) > 2**53:
        return None
    whole = float(int(number))
    return {
        "=": Bounds(gte=whole, lte=whole),
        "<": Bounds(lt=whole),
        "<=": Bounds(lte=whole),
        ">": Bounds(gt=whole),
        ">=": Bounds(gte=whole),
    }[op]


def length_seconds(value: str) -> tuple[float, float] | None:
    """(seconds, smallest unit written) of a length, as osu-web's get_length_seconds."""
    for pattern in _LENGTH_PATTERNS:
        match = pattern.fullmatch(value)
        if match is None:
            continue
        total, unit = 0.0, 3600.0
        for name, scale in _LENGTH_SCALES.items():
            part = match.groupdict().get(name)
            if part is not None:
                total += float(part) * scale
                unit = min(unit, scale)
        return total, unit
    return None


def _datetime(year: str, month: str = "1", day: str = "1") -> datetime | None:
    try:
        return datetime(int(year), int(month), int(day))
    except ValueError:
        return None


def _add_month(start: datetime) -> datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def date_range(op: str, value: str) -> Span | None:
    """A date condition: a year, month or day is that whole span, a full time that second
    (osu-web's makeDateRangeOption)."""
    value = value.strip('"')
    start: datetime | None
    if match := _YEAR.fullmatch(value):
        start = _datetime(match["year"])
        end = start.replace(year=start.year + 1) if start and start.year < 9999 else None
    elif match := _MONTH.fullmatch(value):
        start = _datetime(match["year"], match["month"])
        end = _add_month(start) if start and start.year < 9999 else None
    elif match := _DAY.fullmatch(value):
        start = _datetime(match["year"], match["month"], match["day"])
        end = start + timedelta(days=1) if start and start.year < 9999 else None
    else:
        try:
            parsed = datetime.fromisoformat(value) if value else None
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        start = parsed
        end = start + timedelta(seconds=1) if start and start.year < 9999 else None
    if start is None or end is None:
        return None
    return {
        "=": Span(gte=start, lt=end),
        "<": Span(lt=start),
        "<=": Span(lt=end),
        ">": Span(gte=end),
        ">=": Span(gte=start),
    }[op]


def text_match(op: str, value: str) -> Words | None:
    """A text condition (`=` only), one layer of quotes off and `\\"` unescaped."""
    if op != "=":
        return None
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    value = value.replace('\\"', '"')
    exact = len(value) >= 2 and value.startswith('"') and value.endswith('"')
    text = (value[1:-1] if exact else value).strip()
    return Words(text, exact) if text else None


def state(value: str) -> int | None:
    """A status name, or the first one it is a prefix of."""
    if not value:
        return None
    if value in STATES:
        return STATES[value]
    return next((number for name, number in STATES.items() if name.startswith(value)), None)


def parse(query: str) -> ParsedQuery:
    """Options and keywords of a search box's text."""
    options: dict[str, Any] = {}
    tags: list[Words] = []

    def take(match: re.Match[str]) -> str:
        key = match["key"].lower()
        op = match["op"].replace(":", "=")
        value = match["value"]
        option: object = None
        if key in ("star", "stars"):
            key, option = "stars", float_range(op, value, 0.01 / 2)
        elif key in ("ar", "cs", "od"):
            option = float_range(op, value, 0.1 / 2)
        elif key in ("dr", "hp"):
            key, option = "hp", float_range(op, value, 0.1 / 2)
        elif key == "bpm":
            option = float_range(op, value, 0.01 / 2)
        elif key in ("circles", "sliders", "divisor", "favourites"):
            option = int_range(op, value)
        elif key in ("key", "keys"):
            key, option = "keys", int_range(op, value)
        elif key == "length":
            parsed = length_seconds(value)
            if parsed is not None:
                option = float_range(op, parsed[0], parsed[1] / 2)
        elif key == "featured_artist":
            number = _number(value)
            if number is not None and op == "=" and abs(number) < 2**63:
                option = int(number)
        elif key == "status":
            option = int_range(op, state(value))
        elif key in ("creator", "difficulty", "artist", "source", "title"):
            option = text_match(op, value)
        elif key == "tag":
            found = text_match(op, value)
            if found is not None:
                tags.append(found)
                return ""
        elif key in ("created", "submitted"):
            key, option = "created", date_range(op, value)
        elif key in ("ranked", "updated"):
            option = date_range(op, value)
        if option is None:
            return match[0]
        options[key] = option
        return ""

    keywords = _OPTION.sub(take, query)
    return ParsedQuery(keywords=" ".join(keywords.split()), tags=tuple(tags), **options)


# Which stored column each difficulty option reads.
_DIFFICULTY_OPTIONS: Final = (
    ("stars", "difficulty_rating"),
    ("ar", "ar"),
    ("cs", "cs"),
    ("od", "od"),
    ("hp", "hp"),
    ("bpm", "bpm"),
    ("length", "total_length"),
    ("circles", "count_circles"),
    ("sliders", "count_sliders"),
    ("status", "status"),
    ("divisor", "beat_divisor"),
)
_TEXT_OPTIONS: Final = (
    ("artist", ("artist", "artist_unicode")),
    ("title", ("title", "title_unicode")),
    ("source", ("source",)),
    ("creator", ("creator",)),
)
_MANIA: Final = 3
# osu-web's `ranked=` also requires a ranked, approved or loved set.
RANKED_STATES: Final = (1, 2, 4)


def filter_fields(
    parsed: ParsedQuery, mode: int | None, statuses: tuple[int, ...] | None
) -> dict[str, Any]:
    """The SearchFilter fields the options ask for: `mode` is the search's ruleset, which the
    difficulty conditions then hold in, and `statuses` the category's set statuses, which
    `ranked=` narrows."""
    difficulty = [
        (column, bounds)
        for option, column in _DIFFICULTY_OPTIONS
        if (bounds := getattr(parsed, option)) is not None
    ]
    difficulty_mode = mode
    match_nothing = parsed.featured_artist is not None
    if parsed.keys is not None:
        # A mania difficulty's key count is its CS (osu-web filters diff_size in mania).
        difficulty.append(("cs", parsed.keys))
        match_nothing |= mode not in (None, _MANIA)
        difficulty_mode = _MANIA
    set_bounds = [("favourite_count", parsed.favourites)] if parsed.favourites else []
    set_spans = [
        (column, span)
        for column, span in (
            ("submitted_date", parsed.created),
            ("last_updated", parsed.updated),
            ("ranked_date", parsed.ranked),
        )
        if span is not None
    ]
    set_words = [
        (columns, words)
        for option, columns in _TEXT_OPTIONS
        if (words := getattr(parsed, option)) is not None
    ]
    set_words += [(("tags",), tag) for tag in parsed.tags]
    has_difficulty = bool(difficulty) or parsed.difficulty is not None
    if parsed.ranked is not None:
        statuses = tuple(s for s in statuses or RANKED_STATES if s in RANKED_STATES)
        match_nothing |= not statuses
    return {
        "statuses": statuses,
        "difficulty_bounds": tuple(difficulty),
        "difficulty_words": parsed.difficulty,
        "difficulty_mode": difficulty_mode if has_difficulty else None,
        "set_bounds": tuple(set_bounds),
        "set_spans": tuple(set_spans),
        "set_words": tuple(set_words),
        "match_nothing": match_nothing,
    }
