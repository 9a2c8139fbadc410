"""lazer's mods: score multipliers per ScoreMultiplierCalculator (osu!: V2), `Ranked` with its
settings, and `IncompatibleMods`. Expected values are worked out by hand from the lazer
source named in server/services/mods.py."""

from __future__ import annotations

from typing import Any

import pytest

from server.services import mods
from server.services.mods import BaseDifficulty

MAP = BaseDifficulty(cs=4, ar=9, od=8, hp=5)


def _m(acronym: str, **settings: Any) -> dict[str, Any]:
    return {"acronym": acronym, **({"settings": settings} if settings else {})}


@pytest.mark.parametrize(
    ("ruleset", "chosen", "expected"),
    [
        (0, [], 1.0),
        (0, [_m("HD"), _m("HR")], 1.04 * 1.09),
        (0, [_m("DT")], 1.23),
        (0, [_m("DT", speed_change=1.2)], (1.2 - 1) * 0.46 + 1 - 0.01),
        (0, [_m("HT")], 0.55),
        (0, [_m("EZ"), _m("NF")], 0.8 * 0.5),
        (0, [_m("EZ", retries=5)], 0.5),
        (0, [_m("FL", combo_based_size=False)], 1.04),
        # Difficulty Adjust: 0.05x off per 0.1 a setting moves from the map's own value.
        (0, [_m("DA")], 1.0),
        (0, [_m("DA", circle_size=4)], 1.0),
        (0, [_m("DA", circle_size=5)], 0.5),
        (0, [_m("DA", approach_rate=9.5, overall_difficulty=7)], 0.75 * 0.5),
        (0, [_m("DA", circle_size=11, approach_rate=0)], 0.1),
        # Wind Up/Down: 0.8 of the slower end's rate multiplier plus 0.2 of the faster's.
        (0, [_m("WU")], 0.8 * 1.0 + 0.2 * 1.23),
        (0, [_m("WD")], 0.8 * 0.55 + 0.2 * 1.0),
        (0, [_m("WU", initial_rate=1.2, final_rate=2.0)], 0.8 * 1.082 + 0.2 * 1.45),
        (0, [_m("MG")], 0.7 - 0.5 * 0.6),
        (0, [_m("MG", attraction_strength=1.0)], 0.7 - 0.6),
        (0, [_m("DF")], 1.0),
        (0, [_m("DF", start_scale=3.0)], 0.98),
        (0, [_m("CL")], 0.985),
        (0, [_m("CL", classic_note_lock=False)], 0.96),
        (0, [_m("AS")], 0.1),
        (0, [_m("SY")], 0.99),
        (0, [_m("AD")], 0.7),
        # Combinations priced as a pair.
        (0, [_m("HD"), _m("BL")], 1.24),
        (0, [_m("TC"), _m("BL")], 1.24),
        (0, [_m("HD"), _m("WG")], 1.02),
        (0, [_m("HD", only_fade_approach_circles=True), _m("GR")], 1.0),
        (0, [_m("HD"), _m("DF", start_scale=3.0)], 1.02 * 0.98),
        (0, [_m("FL"), _m("FR")], 1.1),
        (1, [_m("DT")], 1.1),
        (1, [_m("HT")], 0.3),
        (1, [_m("HR"), _m("HD")], 1.06 * 1.06),
        (1, [_m("FL", size_multiplier=1.2)], 1.0),  # customised FL: 1.0
        (1, [_m("DA")], 0.5),
        (1, [_m("WU")], 0.5),
        (1, [_m("SR")], 0.6),
        (1, [_m("CS")], 0.9),
        (2, [_m("HR")], 1.12),
        (2, [_m("FL"), _m("HD")], 1.12 * 1.06),
        (2, [_m("SY")], 0.8),
        (3, [_m("DT")], 1.0),  # mania prices DT and NC at 1.0
        (3, [_m("NC")], 1.0),
        (3, [_m("HT")], 0.3),
        (3, [_m("4K")], 0.9),
        (3, [_m("HD"), _m("FL")], 1.0),
        (3, [_m("AS")], 0.5),
    ],
)
def test_score_multiplier(ruleset: int, chosen: list[dict[str, Any]], expected: float) -> None:
    assert mods.score_multiplier(ruleset, chosen, MAP) == pytest.approx(expected, abs=1e-9)


def test_float_settings_are_priced_as_csharp_floats() -> None:
    """BindableFloat settings reach the multiplier as C# floats (0.05f != 0.05)."""
    assert mods.score_multiplier(0, [_m("MG", attraction_strength=0.05)], MAP) == (
        0.7 - 0.05000000074505806 * 0.6
    )
    assert mods.score_multiplier(0, [_m("MG", attraction_strength=0.05)], MAP) != 0.7 - 0.03


@pytest.mark.parametrize(
    ("ruleset", "mod", "ranked"),
    [
        (0, _m("HD"), True),
        (0, _m("HD", only_fade_approach_circles=True), False),
        (0, _m("HD", only_fade_approach_circles=False), True),  # sent at its default
        (0, _m("DT"), True),
        (0, _m("DT", adjust_pitch=True), True),  # only SpeedChange decides
        (0, _m("DT", speed_change=1.2), False),
        (0, _m("NC", speed_change=1.2), False),
        (0, _m("EZ", retries=3), False),
        (0, _m("FL", size_multiplier=1.5), False),
        (0, _m("CL"), False),
        (0, _m("DA"), False),
        (0, _m("MR"), False),
        (0, _m("TD"), True),
        (0, _m("SO"), True),
        (0, _m("BL"), True),
        (0, _m("AC"), True),
        (0, _m("RX"), False),
        (0, _m("WU"), False),
        (1, _m("SW"), True),
        (1, _m("SG"), True),
        (3, _m("4K"), True),
        (3, _m("1K"), False),
        (3, _m("10K"), False),
        (3, _m("HR"), False),
        (3, _m("MR"), True),
        (3, _m("CO"), True),
        (2, _m("MR"), False),
        (0, _m("ZZ"), False),
    ],
)
def test_ranked_flags(ruleset: int, mod: dict[str, Any], ranked: bool) -> None:
    assert mods.is_ranked(ruleset, mod) is ranked


@pytest.mark.parametrize(
    ("ruleset", "acronyms", "clash"),
    [
        (0, ["HR", "EZ"], True),
        (0, ["DT", "HT"], True),
        (0, ["HR", "MR"], True),
        (0, ["HD", "TC"], True),
        (0, ["NF", "SD"], True),
        (0, ["DA", "HR"], True),
        (0, ["WU", "DT"], True),
        (0, ["HD", "DT", "HR"], False),
        (0, ["HD", "BL"], False),
        (1, ["RD", "SW"], True),
        (1, ["HR", "HD"], False),
        (3, ["1K", "4K"], True),
        (3, ["HD", "FI"], True),
        (3, ["HD", "DT"], False),
    ],
)
def test_incompatible_mods(ruleset: int, acronyms: list[str], clash: bool) -> None:
    assert mods.incompatible_pair(ruleset, acronyms) is clash


def test_rates() -> None:
    assert mods.fastest_rate([]) == 1.0
    assert mods.fastest_rate([_m("DT")]) == 1.5
    assert mods.fastest_rate([_m("HT", speed_change=0.6)]) == 0.6
    assert mods.fastest_rate([_m("WD")]) == 1.0
    assert mods.fastest_rate([_m("WU", initial_rate=0.8, final_rate=1.8)]) == 1.8
    assert mods.fastest_rate([_m("AS")]) == 2.5
    assert mods.clock_rate([_m("NC")]) == 1.5
    assert mods.clock_rate([_m("WU")]) == 1.0  # not a rate-adjust mod for play length


def test_table_covers_every_ruleset() -> None:
    assert sorted(mods.MODS) == [0, 1, 2, 3]
    for ruleset, table in mods.MODS.items():
        for acronym, found in table.items():
            # An exclusion is listed on at least one side and names a mod of the ruleset.
            assert set(found.incompatible) <= set(table), (ruleset, acronym)
            assert acronym not in found.incompatible


@pytest.mark.parametrize(
    ("ruleset", "acronym", "flags"),
    [
        # (UserPlayable, ValidForMultiplayer, AsFreeMod, FreestyleRequired, AlwaysValid),
        # values of osu-web database/mods.json @ 3f5de518e8.
        (0, "HD", (True, True, True, False, False)),
        (0, "DT", (True, True, False, True, False)),
        (0, "TD", (True, False, False, False, True)),
        (0, "AT", (False, False, False, False, False)),
        (1, "AS", (True, False, False, False, False)),
        (2, "HD", (True, True, True, False, False)),
        (2, "DA", (True, True, True, True, False)),
        (3, "MU", (True, True, True, True, False)),
        (3, "ZZ", (False, False, False, False, False)),
    ],
)
def test_multiplayer_flags(ruleset: int, acronym: str, flags: tuple[bool, ...]) -> None:
    assert (
        mods.user_playable(ruleset, acronym),
        mods.valid_for_multiplayer(ruleset, acronym),
        mods.valid_for_multiplayer_as_free_mod(ruleset, acronym),
        mods.valid_for_freestyle_as_required(ruleset, acronym),
        mods.always_valid_for_submission(ruleset, acronym),
    ) == flags
