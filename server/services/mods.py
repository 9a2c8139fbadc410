"""lazer's mods as the server needs them: which acronyms and settings each ruleset has, which
mods exclude each other, which are ranked, and the score multiplier of a mod combination.

The table below was transcribed from two sources at the same point in time, and must be
updated from them together:

- ppy/osu-web `database/mods.json` @ 3f5de518e8 (2026-08-21), which ppy generate from lazer:
  acronyms per ruleset, setting names, `IncompatibleMods`, `UserPlayable` and `Type`;
- ppy/osu @ e9451fe70b (2026-08-21), `osu.Game/Rulesets/Mods/*.cs` and each ruleset's
  `Mods/*.cs`: the `Ranked` override of each mod class (walking up to its base class), and
  `osu.Game.Rulesets.*/Scoring/*ScoreMultiplierCalculator.cs` (osu!: V2) for multipliers.

`Ranked` in lazer is `false` unless a class overrides it; some overrides depend on settings
(`UsesDefaultConfiguration`: every setting at its default; DT/HT: `SpeedChange.IsDefault`).
lazer's APIMod sends only settings that differ from their defaults, so a sent setting is
compared with the default we know and any other counts as changed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import msgspec

# How a mod's `Ranked` is decided (lazer: Mod.Ranked and its overrides).
_ALWAYS: Final = "always"
_NEVER: Final = "never"
_DEFAULT: Final = "default"  # UsesDefaultConfiguration
_DEFAULT_SPEED: Final = "default_speed"  # SpeedChange.IsDefault (other settings are free)


class ModDefinition(msgspec.Struct, frozen=True):
    """One mod of one ruleset."""

    ranked: str
    settings: tuple[str, ...]
    incompatible: tuple[str, ...]
    playable: bool = True
    automation: bool = False


def _mod(
    ranked: str,
    settings: tuple[str, ...],
    incompatible: tuple[str, ...],
    *,
    playable: bool = True,
    automation: bool = False,
) -> ModDefinition:
    return ModDefinition(ranked, settings, incompatible, playable, automation)


# ruleset id -> acronym -> definition, in mods.json's order.
MODS: Final[dict[int, dict[str, ModDefinition]]] = {
    0: {  # osu
        "EZ": _mod(_DEFAULT, ("retries",), ("AC", "DA", "HR")),
        "NF": _mod(_DEFAULT, (), ("AC", "CN", "PF", "SD")),
        "HT": _mod(
            _DEFAULT_SPEED, ("speed_change", "adjust_pitch"), ("AS", "DC", "DT", "NC", "WD", "WU")
        ),
        "DC": _mod(_DEFAULT, ("speed_change",), ("AS", "DT", "HT", "NC", "WD", "WU")),
        "HR": _mod(_DEFAULT, (), ("DA", "EZ", "MR")),
        "SD": _mod(_ALWAYS, ("fail_on_slider_tail", "restart"), ("CN", "NF", "PF", "TP")),
        "PF": _mod(_ALWAYS, ("restart",), ("AC", "CN", "NF", "SD")),
        "DT": _mod(
            _DEFAULT_SPEED, ("speed_change", "adjust_pitch"), ("AS", "DC", "HT", "NC", "WD", "WU")
        ),
        "NC": _mod(_DEFAULT, ("speed_change",), ("AS", "DC", "DT", "HT", "WD", "WU")),
        "HD": _mod(_DEFAULT, ("only_fade_approach_circles",), ("AD", "DP", "FR", "SI", "TC")),
        "TC": _mod(_ALWAYS, (), ("DF", "DP", "GR", "HD", "SI", "TP")),
        "FL": _mod(_DEFAULT, ("follow_delay", "size_multiplier", "combo_based_size"), ("BL", "BM")),
        "BL": _mod(_ALWAYS, (), ("FL",)),
        "ST": _mod(_NEVER, (), ("CL", "TP")),
        "AC": _mod(
            _ALWAYS,
            ("minimum_accuracy", "accuracy_judge_mode", "restart"),
            ("CN", "EZ", "NF", "PF"),
        ),
        "TP": _mod(_NEVER, ("seed", "metronome"), ("AD", "DA", "DP", "RD", "SD", "SO", "ST", "TC")),
        "DA": _mod(
            _NEVER,
            ("circle_size", "approach_rate", "drain_rate", "overall_difficulty", "extended_limits"),
            ("EZ", "HR", "TP"),
        ),
        "CL": _mod(
            _NEVER,
            (
                "no_slider_head_accuracy",
                "classic_note_lock",
                "always_play_tail_sample",
                "fade_hit_circle_early",
                "classic_health",
            ),
            ("ST",),
        ),
        "RD": _mod(_NEVER, ("angle_sharpness", "seed"), ("TP",)),
        "MR": _mod(_NEVER, ("reflection",), ("HR",)),
        "AL": _mod(_ALWAYS, (), ("AT", "CN", "RX", "SG")),
        "SG": _mod(_ALWAYS, (), ("AL", "AT", "CN", "RX")),
        "AT": _mod(
            _NEVER,
            (),
            ("AL", "AP", "AS", "CN", "MG", "RP", "RX", "SG", "SO", "TD"),
            playable=False,
            automation=True,
        ),
        "CN": _mod(
            _NEVER,
            (),
            ("AC", "AL", "AP", "AS", "AT", "MG", "NF", "PF", "RP", "RX", "SD", "SG", "SO", "TD"),
            playable=False,
            automation=True,
        ),
        "RX": _mod(_NEVER, (), ("AL", "AP", "AT", "CN", "MG", "SG"), automation=True),
        "AP": _mod(_NEVER, (), ("AT", "CN", "MG", "RP", "RX", "SO", "TD"), automation=True),
        "SO": _mod(_DEFAULT, (), ("AP", "AT", "CN", "TP"), automation=True),
        "TR": _mod(_NEVER, (), ("DP", "FR", "MG", "RP", "WG")),
        "WG": _mod(_NEVER, ("strength",), ("DP", "MG", "RP", "TR")),
        "SI": _mod(_NEVER, (), ("AD", "DF", "DP", "GR", "HD", "TC")),
        "GR": _mod(_NEVER, ("start_scale",), ("AD", "DF", "DP", "SI", "TC")),
        "DF": _mod(_NEVER, ("start_scale",), ("AD", "DP", "GR", "SI", "TC")),
        "WU": _mod(
            _NEVER,
            ("initial_rate", "final_rate", "adjust_pitch"),
            ("AS", "DC", "DT", "HT", "NC", "WD"),
        ),
        "WD": _mod(
            _NEVER,
            ("initial_rate", "final_rate", "adjust_pitch"),
            ("AS", "DC", "DT", "HT", "NC", "WU"),
        ),
        "BR": _mod(_NEVER, ("spin_speed", "direction"), ("BU",)),
        "AD": _mod(_NEVER, ("scale", "style"), ("DF", "FR", "GR", "HD", "SI", "TP")),
        "MU": _mod(
            _ALWAYS,
            ("inverse_muting", "enable_metronome", "mute_combo_count", "affects_hit_sounds"),
            (),
        ),
        "NS": _mod(_ALWAYS, ("hidden_combo_count",), ("BM",)),
        "MG": _mod(
            _NEVER, ("attraction_strength",), ("AP", "AT", "BU", "CN", "DP", "RP", "RX", "TR", "WG")
        ),
        "RP": _mod(
            _NEVER, ("repulsion_strength",), ("AP", "AT", "BU", "CN", "DP", "MG", "TR", "WG")
        ),
        "AS": _mod(
            _NEVER,
            ("initial_rate", "adjust_pitch"),
            ("AT", "CN", "DC", "DT", "HT", "NC", "WD", "WU"),
        ),
        "FR": _mod(_NEVER, (), ("AD", "DP", "HD", "TR")),
        "BU": _mod(_NEVER, (), ("BR", "MG", "RP")),
        "SY": _mod(_NEVER, (), ()),
        "DP": _mod(
            _NEVER,
            ("max_depth", "show_approach_circles"),
            ("DF", "FR", "GR", "HD", "MG", "RP", "SI", "TC", "TP", "TR", "WG"),
        ),
        "BM": _mod(_NEVER, ("max_size_combo_count", "max_cursor_size"), ("FL", "NS", "TD")),
        "TD": _mod(_DEFAULT, (), ("AP", "AT", "BM", "CN")),
        "SV2": _mod(_NEVER, (), (), playable=False),
    },
    1: {  # taiko
        "EZ": _mod(_DEFAULT, (), ("DA", "HR")),
        "NF": _mod(_DEFAULT, (), ("AC", "CN", "PF", "SD")),
        "HT": _mod(
            _DEFAULT_SPEED, ("speed_change", "adjust_pitch"), ("AS", "DC", "DT", "NC", "WD", "WU")
        ),
        "DC": _mod(_DEFAULT, ("speed_change",), ("AS", "DT", "HT", "NC", "WD", "WU")),
        "SR": _mod(
            _NEVER, ("one_third_conversion", "one_sixth_conversion", "one_eighth_conversion"), ()
        ),
        "HR": _mod(_DEFAULT, (), ("DA", "EZ")),
        "SD": _mod(_ALWAYS, ("restart",), ("CN", "NF", "PF")),
        "PF": _mod(_ALWAYS, ("restart",), ("AC", "CN", "NF", "SD")),
        "DT": _mod(
            _DEFAULT_SPEED, ("speed_change", "adjust_pitch"), ("AS", "DC", "HT", "NC", "WD", "WU")
        ),
        "NC": _mod(_DEFAULT, ("speed_change",), ("AS", "DC", "DT", "HT", "WD", "WU")),
        "HD": _mod(_DEFAULT, (), ()),
        "FL": _mod(_DEFAULT, ("size_multiplier", "combo_based_size"), ()),
        "AC": _mod(
            _ALWAYS, ("minimum_accuracy", "accuracy_judge_mode", "restart"), ("CN", "NF", "PF")
        ),
        "RD": _mod(_NEVER, ("seed",), ("SW",)),
        "DA": _mod(
            _NEVER,
            ("scroll_speed", "drain_rate", "overall_difficulty", "extended_limits"),
            ("EZ", "HR"),
        ),
        "CL": _mod(_NEVER, (), ()),
        "SW": _mod(_ALWAYS, (), ("RD",)),
        "SG": _mod(_ALWAYS, (), ("AT", "CN", "RX")),
        "CS": _mod(_NEVER, (), ()),
        "AT": _mod(_NEVER, (), ("AS", "CN", "RX", "SG"), playable=False, automation=True),
        "CN": _mod(
            _NEVER,
            (),
            ("AC", "AS", "AT", "NF", "PF", "RX", "SD", "SG"),
            playable=False,
            automation=True,
        ),
        "RX": _mod(_NEVER, (), ("AT", "CN", "SG"), automation=True),
        "WU": _mod(
            _NEVER,
            ("initial_rate", "final_rate", "adjust_pitch"),
            ("AS", "DC", "DT", "HT", "NC", "WD"),
        ),
        "WD": _mod(
            _NEVER,
            ("initial_rate", "final_rate", "adjust_pitch"),
            ("AS", "DC", "DT", "HT", "NC", "WU"),
        ),
        "MU": _mod(
            _ALWAYS,
            ("inverse_muting", "enable_metronome", "mute_combo_count", "affects_hit_sounds"),
            (),
        ),
        "AS": _mod(
            _NEVER,
            ("initial_rate", "adjust_pitch"),
            ("AT", "CN", "DC", "DT", "HT", "NC", "WD", "WU"),
        ),
        "SV2": _mod(_NEVER, (), (), playable=False),
    },
    2: {  # catch
        "EZ": _mod(_DEFAULT, ("retries",), ("AC", "DA", "HR")),
        "NF": _mod(_DEFAULT, (), ("AC", "CN", "PF", "SD")),
        "HT": _mod(
            _DEFAULT_SPEED, ("speed_change", "adjust_pitch"), ("DC", "DT", "NC", "WD", "WU")
        ),
        "DC": _mod(_DEFAULT, ("speed_change",), ("DT", "HT", "NC", "WD", "WU")),
        "HR": _mod(_DEFAULT, (), ("DA", "EZ")),
        "SD": _mod(_ALWAYS, ("restart",), ("CN", "NF", "PF")),
        "PF": _mod(_ALWAYS, ("restart",), ("AC", "CN", "NF", "SD")),
        "DT": _mod(
            _DEFAULT_SPEED, ("speed_change", "adjust_pitch"), ("DC", "HT", "NC", "WD", "WU")
        ),
        "NC": _mod(_DEFAULT, ("speed_change",), ("DC", "DT", "HT", "WD", "WU")),
        "HD": _mod(_DEFAULT, (), ()),
        "FL": _mod(_DEFAULT, ("size_multiplier", "combo_based_size"), ()),
        "AC": _mod(
            _ALWAYS,
            ("minimum_accuracy", "accuracy_judge_mode", "restart"),
            ("CN", "EZ", "NF", "PF"),
        ),
        "DA": _mod(
            _NEVER,
            (
                "circle_size",
                "approach_rate",
                "hard_rock_offsets",
                "drain_rate",
                "overall_difficulty",
                "extended_limits",
            ),
            ("EZ", "HR"),
        ),
        "CL": _mod(_NEVER, (), ()),
        "MR": _mod(_NEVER, (), ()),
        "AT": _mod(_NEVER, (), ("CN", "MF", "RX"), playable=False, automation=True),
        "CN": _mod(
            _NEVER, (), ("AC", "AT", "MF", "NF", "PF", "RX", "SD"), playable=False, automation=True
        ),
        "RX": _mod(_NEVER, (), ("AT", "CN", "MF"), automation=True),
        "WU": _mod(
            _NEVER, ("initial_rate", "final_rate", "adjust_pitch"), ("DC", "DT", "HT", "NC", "WD")
        ),
        "WD": _mod(
            _NEVER, ("initial_rate", "final_rate", "adjust_pitch"), ("DC", "DT", "HT", "NC", "WU")
        ),
        "FF": _mod(_NEVER, (), ()),
        "MU": _mod(
            _ALWAYS,
            ("inverse_muting", "enable_metronome", "mute_combo_count", "affects_hit_sounds"),
            (),
        ),
        "NS": _mod(_ALWAYS, ("hidden_combo_count",), ()),
        "MF": _mod(_NEVER, (), ("AT", "CN", "RX")),
        "SY": _mod(_NEVER, (), ()),
        "SV2": _mod(_NEVER, (), (), playable=False),
    },
    3: {  # mania
        "EZ": _mod(_DEFAULT, ("retries",), ("AC", "DA", "HR")),
        "NF": _mod(_DEFAULT, (), ("AC", "CN", "PF", "SD")),
        "HT": _mod(
            _DEFAULT_SPEED, ("speed_change", "adjust_pitch"), ("AS", "DC", "DT", "NC", "WD", "WU")
        ),
        "DC": _mod(_DEFAULT, ("speed_change",), ("AS", "DT", "HT", "NC", "WD", "WU")),
        "NR": _mod(_NEVER, (), ("HO", "IN")),
        "HR": _mod(_NEVER, (), ("DA", "EZ")),
        "SD": _mod(_ALWAYS, ("restart",), ("CN", "NF", "PF")),
        "PF": _mod(_ALWAYS, ("require_perfect_hits", "restart"), ("AC", "CN", "NF", "SD")),
        "DT": _mod(
            _DEFAULT_SPEED, ("speed_change", "adjust_pitch"), ("AS", "DC", "HT", "NC", "WD", "WU")
        ),
        "NC": _mod(_DEFAULT, ("speed_change",), ("AS", "DC", "DT", "HT", "WD", "WU")),
        "FI": _mod(_DEFAULT, (), ("CO", "FL", "HD")),
        "HD": _mod(_DEFAULT, (), ("CO", "FI", "FL")),
        "CO": _mod(_ALWAYS, ("coverage", "direction"), ("FI", "FL", "HD")),
        "FL": _mod(_DEFAULT, ("size_multiplier", "combo_based_size"), ("CO", "FI", "HD")),
        "AC": _mod(
            _ALWAYS,
            ("minimum_accuracy", "accuracy_judge_mode", "restart"),
            ("CN", "EZ", "NF", "PF"),
        ),
        "RD": _mod(_NEVER, ("seed",), ()),
        "DS": _mod(_NEVER, (), ()),
        "MR": _mod(_DEFAULT, (), ()),
        "DA": _mod(_NEVER, ("overall_difficulty", "drain_rate", "extended_limits"), ("EZ", "HR")),
        "CL": _mod(_NEVER, (), ()),
        "IN": _mod(_NEVER, (), ("HO", "NR")),
        "CS": _mod(_NEVER, (), ()),
        "HO": _mod(_NEVER, (), ("IN", "NR")),
        "1K": _mod(_NEVER, (), ("10K", "2K", "3K", "4K", "5K", "6K", "7K", "8K", "9K")),
        "2K": _mod(_NEVER, (), ("10K", "1K", "3K", "4K", "5K", "6K", "7K", "8K", "9K")),
        "3K": _mod(_NEVER, (), ("10K", "1K", "2K", "4K", "5K", "6K", "7K", "8K", "9K")),
        "4K": _mod(_DEFAULT, (), ("10K", "1K", "2K", "3K", "5K", "6K", "7K", "8K", "9K")),
        "5K": _mod(_DEFAULT, (), ("10K", "1K", "2K", "3K", "4K", "6K", "7K", "8K", "9K")),
        "6K": _mod(_DEFAULT, (), ("10K", "1K", "2K", "3K", "4K", "5K", "7K", "8K", "9K")),
        "7K": _mod(_DEFAULT, (), ("10K", "1K", "2K", "3K", "4K", "5K", "6K", "8K", "9K")),
        "8K": _mod(_DEFAULT, (), ("10K", "1K", "2K", "3K", "4K", "5K", "6K", "7K", "9K")),
        "9K": _mod(_DEFAULT, (), ("10K", "1K", "2K", "3K", "4K", "5K", "6K", "7K", "8K")),
        "10K": _mod(_NEVER, (), ("1K", "2K", "3K", "4K", "5K", "6K", "7K", "8K", "9K")),
        "AT": _mod(_NEVER, (), ("AS", "CN"), playable=False, automation=True),
        "CN": _mod(
            _NEVER, (), ("AC", "AS", "AT", "NF", "PF", "SD"), playable=False, automation=True
        ),
        "WU": _mod(
            _NEVER,
            ("initial_rate", "final_rate", "adjust_pitch"),
            ("AS", "DC", "DT", "HT", "NC", "WD"),
        ),
        "WD": _mod(
            _NEVER,
            ("initial_rate", "final_rate", "adjust_pitch"),
            ("AS", "DC", "DT", "HT", "NC", "WU"),
        ),
        "MU": _mod(
            _ALWAYS,
            ("inverse_muting", "enable_metronome", "mute_combo_count", "affects_hit_sounds"),
            (),
        ),
        "AS": _mod(
            _NEVER,
            ("initial_rate", "adjust_pitch"),
            ("AT", "CN", "DC", "DT", "HT", "NC", "WD", "WU"),
        ),
        "SV2": _mod(_NEVER, (), (), playable=False),
    },
}

# Setting defaults that decide `Ranked` or a multiplier (lazer's bindable defaults); keyed by
# (acronym, setting), with a per-ruleset override where rulesets differ.
_DEFAULTS: Final[dict[tuple[str, str], Any]] = {
    ("EZ", "retries"): 2,
    ("DT", "speed_change"): 1.5,
    ("NC", "speed_change"): 1.5,
    ("HT", "speed_change"): 0.75,
    ("DC", "speed_change"): 0.75,
    ("DT", "adjust_pitch"): False,
    ("HT", "adjust_pitch"): False,
    ("HD", "only_fade_approach_circles"): False,
    ("FL", "follow_delay"): 120.0,
    ("FL", "size_multiplier"): 1.0,
    ("FL", "combo_based_size"): True,
    ("CL", "classic_note_lock"): True,
    ("DF", "start_scale"): 2.0,
    ("MG", "attraction_strength"): 0.5,
    ("WU", "initial_rate"): 1.0,
    ("WU", "final_rate"): 1.5,
    ("WD", "initial_rate"): 1.0,
    ("WD", "final_rate"): 0.75,
    ("AS", "initial_rate"): 1.0,
}
_RULESET_DEFAULTS: Final[dict[tuple[int, str, str], Any]] = {
    (3, "FL", "combo_based_size"): False,  # ManiaModFlashlight
}

# Numeric settings that feed a multiplier or the playback rate, with lazer's bindable bounds
# (MinValue/MaxValue; DA's extended limits). A value outside them is refused: lazer clamps,
# so no real client sends one.
SETTING_BOUNDS: Final[dict[tuple[str, str], tuple[float, float]]] = {
    ("DT", "speed_change"): (1.01, 2.0),
    ("NC", "speed_change"): (1.01, 2.0),
    ("HT", "speed_change"): (0.5, 0.99),
    ("DC", "speed_change"): (0.5, 0.99),
    ("EZ", "retries"): (0, 10),
    ("FL", "size_multiplier"): (0.5, 3.0),
    ("DF", "start_scale"): (1.0, 25.0),
    ("MG", "attraction_strength"): (0.05, 1.0),
    ("WU", "initial_rate"): (0.5, 1.99),
    ("WU", "final_rate"): (0.51, 2.0),
    ("WD", "initial_rate"): (0.51, 2.0),
    ("WD", "final_rate"): (0.5, 1.99),
    ("AS", "initial_rate"): (0.5, 2.0),
    ("DA", "circle_size"): (0.0, 11.0),
    ("DA", "approach_rate"): (-10.0, 11.0),
    ("DA", "drain_rate"): (0.0, 11.0),
    ("DA", "overall_difficulty"): (0.0, 11.0),
}

# ModRateAdjust mods (their speed_change scales the clock for the whole play).
RATE_ADJUST: Final = frozenset({"DT", "NC", "HT", "DC"})
# ModAdaptiveSpeed's fastest rate (max_allowable_rate).
_ADAPTIVE_MAX_RATE: Final = 2.5


class BaseDifficulty(msgspec.Struct, frozen=True):
    """A beatmap's own difficulty settings before mods (lazer's ScoreMultiplierContext)."""

    cs: float
    ar: float
    od: float
    hp: float


def definition(ruleset_id: int, acronym: str) -> ModDefinition | None:
    """The mod of this ruleset with this acronym, if lazer has one."""
    return MODS.get(ruleset_id, {}).get(acronym)


def setting(mod: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A mod's setting as sent, else `default`."""
    settings = mod.get("settings") or {}
    return settings.get(name, default) if isinstance(settings, dict) else default


_UNKNOWN: Final = object()


def _default_of(ruleset_id: int, acronym: str, name: str) -> Any:
    key = (ruleset_id, acronym, name)
    if key in _RULESET_DEFAULTS:
        return _RULESET_DEFAULTS[key]
    return _DEFAULTS.get((acronym, name), _UNKNOWN)


def _is_default(ruleset_id: int, acronym: str, name: str, value: Any) -> bool:
    default = _default_of(ruleset_id, acronym, name)
    if default is _UNKNOWN or isinstance(value, bool) != isinstance(default, bool):
        return False
    return bool(value == default)


def uses_default_configuration(ruleset_id: int, mod: Mapping[str, Any]) -> bool:
    """lazer's Mod.UsesDefaultConfiguration: every setting at its default."""
    settings = mod.get("settings") or {}
    return all(
        _is_default(ruleset_id, mod["acronym"], name, value) for name, value in settings.items()
    )


def is_ranked(ruleset_id: int, mod: Mapping[str, Any]) -> bool:
    """lazer's Mod.Ranked for this mod with its settings."""
    found = definition(ruleset_id, mod["acronym"])
    if found is None:
        return False
    if found.ranked == _DEFAULT:
        return uses_default_configuration(ruleset_id, mod)
    if found.ranked == _DEFAULT_SPEED:
        speed = setting(mod, "speed_change")
        return speed is None or _is_default(ruleset_id, mod["acronym"], "speed_change", speed)
    return found.ranked == _ALWAYS


def incompatible_pair(ruleset_id: int, acronyms: Iterable[str]) -> bool:
    """Whether any two of the mods exclude each other (osu-web Mods::assertValidExclusivity)."""
    chosen = set(acronyms)
    for acronym in chosen:
        found = definition(ruleset_id, acronym)
        if found is not None and chosen.intersection(found.incompatible):
            return True
    return False


# The multiplayer validity flags of osu-web `database/mods.json` (same snapshot as MODS), kept
# as the few mods each flag excludes (or, where fewer, the mods it includes) per ruleset.
# `ValidForMultiplayer` / `ValidForMultiplayerAsFreeMod` bound required / allowed mods of
# realtime items; `ValidForFreestyleAsRequiredMod` bounds required mods of freestyle items;
# `AlwaysValidForSubmission` mods may be in a playlist score whatever the item allows.
_NOT_FOR_MULTIPLAYER: Final[dict[int, frozenset[str]]] = {
    0: frozenset({"AT", "CN", "AS", "TD", "SV2"}),
    1: frozenset({"AT", "CN", "AS", "SV2"}),
    2: frozenset({"AT", "CN", "SV2"}),
    3: frozenset({"AT", "CN", "AS", "SV2"}),
}
_RATE_CHANGES: Final = frozenset({"HT", "DC", "DT", "NC", "WU", "WD"})
_NOT_AS_FREE_MOD: Final[dict[int, frozenset[str]]] = {
    ruleset: excluded | _RATE_CHANGES for ruleset, excluded in _NOT_FOR_MULTIPLAYER.items()
}
_FREESTYLE_REQUIRED: Final = frozenset(
    {"EZ", "NF", "HT", "DC", "HR", "SD", "PF", "DT", "NC", "DA", "WU", "WD", "MU"}
)
# catch is the one ruleset where the flag is true for most mods.
_NOT_FREESTYLE_REQUIRED_CATCH: Final = frozenset(
    {"HD", "FL", "AC", "CL", "MR", "AT", "CN", "RX", "FF", "NS", "MF", "SY", "SV2"}
)
_ALWAYS_VALID_FOR_SUBMISSION: Final[dict[int, frozenset[str]]] = {0: frozenset({"TD"})}


def valid_for_multiplayer(ruleset_id: int, acronym: str) -> bool:
    """mods.json `ValidForMultiplayer` (a known mod of this ruleset, usable as required)."""
    return (
        definition(ruleset_id, acronym) is not None
        and acronym not in _NOT_FOR_MULTIPLAYER[ruleset_id]
    )


def valid_for_multiplayer_as_free_mod(ruleset_id: int, acronym: str) -> bool:
    """mods.json `ValidForMultiplayerAsFreeMod` (usable as an allowed mod in realtime)."""
    return (
        definition(ruleset_id, acronym) is not None and acronym not in _NOT_AS_FREE_MOD[ruleset_id]
    )


def valid_for_freestyle_as_required(ruleset_id: int, acronym: str) -> bool:
    """mods.json `ValidForFreestyleAsRequiredMod`."""
    if definition(ruleset_id, acronym) is None:
        return False
    if ruleset_id == 2:
        return acronym not in _NOT_FREESTYLE_REQUIRED_CATCH
    return acronym in _FREESTYLE_REQUIRED


def always_valid_for_submission(ruleset_id: int, acronym: str) -> bool:
    """mods.json `AlwaysValidForSubmission`: ignored when matching a play against an item."""
    return acronym in _ALWAYS_VALID_FOR_SUBMISSION.get(ruleset_id, frozenset())


def user_playable(ruleset_id: int, acronym: str) -> bool:
    """mods.json `UserPlayable` (a known mod a player can select)."""
    found = definition(ruleset_id, acronym)
    return found is not None and found.playable


def fastest_rate(mods: Sequence[Mapping[str, Any]]) -> float:
    """The fastest playback rate the mods can reach at any point of the play: the product of
    the rate-adjust mods, Wind Up/Down's faster end, Adaptive Speed's ceiling."""
    rate = 1.0
    for mod in mods:
        acronym = mod["acronym"]
        if acronym in RATE_ADJUST:
            rate *= float(setting(mod, "speed_change", _DEFAULTS[(acronym, "speed_change")]))
        elif acronym in ("WU", "WD"):
            rate *= max(
                float(setting(mod, "initial_rate", _DEFAULTS[(acronym, "initial_rate")])),
                float(setting(mod, "final_rate", _DEFAULTS[(acronym, "final_rate")])),
            )
        elif acronym == "AS":
            rate *= _ADAPTIVE_MAX_RATE
    return rate


def clock_rate(mods: Sequence[Mapping[str, Any]]) -> float:
    """The product of the rate-adjust mods' speed changes (osu-queue-score-statistics
    PlayValidityHelper.GetPlayLength divides the map's length by it)."""
    rate = 1.0
    for mod in mods:
        acronym = mod["acronym"]
        if acronym in RATE_ADJUST:
            rate *= float(setting(mod, "speed_change", _DEFAULTS[(acronym, "speed_change")]))
    return rate


# -- score multipliers ----------------------------------------------------------------------


def _f32(value: float) -> float:
    """`value` as a C# float (BindableFloat settings and beatmap difficulty are floats)."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _half_time(speed: float) -> float:
    return int(speed * 20) / 20.0 * 1.4 - 0.5


def _double_time(speed: float) -> float:
    value = int(speed * 10) / 10.0
    penalty = 0.01 if value not in (1.5, 1.0) else 0.0
    return (value - 1) * 0.46 + 1 - penalty


def _rate_adjust(speed: float) -> float:
    """Taiko, catch and mania: rateAdjustMultiplier."""
    value = int(speed * 10) / 10.0 - 1
    return 1 + value / 5 if speed >= 1 else 0.6 + value


def _speed(mod: Mapping[str, Any]) -> float:
    return float(setting(mod, "speed_change", _DEFAULTS[(mod["acronym"], "speed_change")]))


def _hidden(mod: Mapping[str, Any], timing_from_others: bool) -> float:
    value = 1.04
    if setting(mod, "only_fade_approach_circles", False):
        value -= 0.02
    if timing_from_others:
        value -= 0.02
    return value


def _flashlight(mod: Mapping[str, Any]) -> float:
    size = _f32(_f32(float(setting(mod, "size_multiplier", 1.0))) - 1)
    value = max(1.02, min(1.2, 1.2 - 0.2 * size))
    if not setting(mod, "combo_based_size", True):
        value = 1 + (value - 1) / 5
    return value


def _deflate(mod: Mapping[str, Any]) -> float:
    start = _f32(_f32(float(setting(mod, "start_scale", 2.0))) - _f32(2.0))
    return 1.0 - max(0.0, 0.02 * start)


def _time_ramp(mod: Mapping[str, Any]) -> float:
    acronym = mod["acronym"]
    initial = float(setting(mod, "initial_rate", _DEFAULTS[(acronym, "initial_rate")]))
    final = float(setting(mod, "final_rate", _DEFAULTS[(acronym, "final_rate")]))
    low, high = min(initial, final), max(initial, final)
    low_value = _half_time(low) if low < 1 else _double_time(low)
    high_value = _half_time(high) if high < 1 else _double_time(high)
    return 0.8 * low_value + 0.2 * high_value


def _difficulty_adjust(mod: Mapping[str, Any], base: BaseDifficulty) -> float:
    result = 1.0
    for name, value in (
        ("circle_size", base.cs),
        ("drain_rate", base.hp),
        ("overall_difficulty", base.od),
        ("approach_rate", base.ar),
    ):
        chosen = setting(mod, name)
        own = _f32(value)
        selected = own if chosen is None else _f32(float(chosen))
        result *= max(0.1, 1.0 - abs(selected - own) * 0.5)
    return max(0.1, result)


def _easy(mod: Mapping[str, Any]) -> float:
    retries = int(setting(mod, "retries", 2))
    return max(0.4, 0.8 - max(0, 0.1 * (retries - 2)))


def _osu_single(mod: Mapping[str, Any], base: BaseDifficulty) -> float:
    acronym = mod["acronym"]
    if acronym == "EZ":
        return _easy(mod)
    if acronym in ("HT", "DC"):
        return _half_time(_speed(mod))
    if acronym in ("DT", "NC"):
        return _double_time(_speed(mod))
    if acronym == "HD":
        return _hidden(mod, timing_from_others=False)
    if acronym == "FL":
        return _flashlight(mod)
    if acronym == "DA":
        return _difficulty_adjust(mod, base)
    if acronym == "CL":
        return 0.985 if setting(mod, "classic_note_lock", True) else 0.96
    if acronym == "DF":
        return _deflate(mod)
    if acronym in ("WU", "WD"):
        return _time_ramp(mod)
    if acronym == "MG":
        return 0.7 - _f32(float(setting(mod, "attraction_strength", 0.5))) * 0.6
    return _OSU_FLAT.get(acronym, 1.0)


_OSU_FLAT: Final = {
    "NF": 0.5,
    "HR": 1.09,
    "TC": 1.02,
    "BL": 1.24,
    "TP": 0.01,
    "RD": 0.7,
    "RX": 0.1,
    "AP": 0.1,
    "SO": 0.95,
    "AD": 0.7,
    "AS": 0.1,
    "SY": 0.99,
}


def _osu_combinations(
    mods: dict[str, Mapping[str, Any]],
) -> tuple[float, set[str]]:
    """OsuScoreMultiplierCalculatorV2's combinations, in its order: each one that matches
    prices its pair and takes both out of the single-mod pricing."""
    result = 1.0
    remaining = set(mods)
    if len(mods) < 2:
        return result, remaining
    combinations: list[tuple[str, str, Any]] = [
        ("HD", "BL", lambda hd, bl: 1.24),
        ("HD", "WG", lambda hd, other: _hidden(hd, True)),
        ("HD", "GR", lambda hd, other: _hidden(hd, True)),
        ("HD", "DF", lambda hd, df: _hidden(hd, True) * _deflate(df)),
        ("HD", "RP", lambda hd, other: _hidden(hd, True)),
        ("HD", "DP", lambda hd, other: _hidden(hd, True)),
        ("TC", "BL", lambda tc, bl: 1.24),
        ("FL", "FR", lambda fl, fr: 1 + (_flashlight(fl) - 1) / 2),
    ]
    for first, second, price in combinations:
        if first in remaining and second in remaining:
            result *= price(mods[first], mods[second])
            remaining -= {first, second}
    return result, remaining


# Taiko, catch and mania: flat multipliers; the rate mods and "default configuration only"
# ones are handled in _other_single.
_FLAT: Final[dict[int, dict[str, float]]] = {
    1: {
        "EZ": 0.5,
        "NF": 0.5,
        "SR": 0.6,
        "DA": 0.5,
        "CS": 0.9,
        "RX": 0.1,
        "WU": 0.5,
        "WD": 0.5,
        "AS": 0.5,
    },
    2: {"EZ": 0.5, "NF": 0.5, "DA": 0.5, "RX": 0.1, "WU": 0.5, "WD": 0.5, "SY": 0.8},
    3: {
        "EZ": 0.5,
        "NF": 0.5,
        "NR": 0.9,
        "DA": 0.5,
        "CS": 0.9,
        "HO": 0.9,
        "WU": 0.5,
        "WD": 0.5,
        "AS": 0.5,
        # Key mods: 0.9 since lazer 2025.718 (ppy/osu#30506); older clients' scores are
        # priced at 1.0 by lazer, which we cannot tell apart here.
        **{f"{k}K": 0.9 for k in range(1, 11)},
    },
}
# Priced only with their default configuration (otherwise 1.0).
_DEFAULT_ONLY: Final[dict[int, dict[str, float]]] = {
    1: {"HR": 1.06, "HD": 1.06, "FL": 1.12},
    2: {"HR": 1.12, "HD": 1.06, "FL": 1.12},
}


def _other_single(ruleset_id: int, mod: Mapping[str, Any]) -> float:
    acronym = mod["acronym"]
    if acronym in ("HT", "DC") or (acronym in ("DT", "NC") and ruleset_id != 3):
        # Mania prices DT and NC at 1.0 (ManiaScoreMultiplierCalculator lists no multiplier).
        return _rate_adjust(_speed(mod))
    priced = _DEFAULT_ONLY.get(ruleset_id, {}).get(acronym)
    if priced is not None:
        return priced if uses_default_configuration(ruleset_id, mod) else 1.0
    return _FLAT.get(ruleset_id, {}).get(acronym, 1.0)


def score_multiplier(
    ruleset_id: int, mods: Sequence[Mapping[str, Any]], base: BaseDifficulty
) -> float:
    """ScoreMultiplierCalculator.CalculateFor: what total_score_without_mods is multiplied by
    (Classic is priced as for current scores: 1.0 in taiko, catch and mania)."""
    by_acronym = {mod["acronym"]: mod for mod in mods}
    if ruleset_id != 0:
        result = 1.0
        for mod in by_acronym.values():
            result *= _other_single(ruleset_id, mod)
        return result
    result, remaining = _osu_combinations(by_acronym)
    for acronym in remaining:
        result *= _osu_single(by_acronym[acronym], base)
    return result
