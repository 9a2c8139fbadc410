"""Mod validation of realtime rooms as osu-server-spectator does it (EnsureModsValid on
AddPlaylistItem / EditPlaylistItem, ValidateUserMods on ChangeUserMods and ChangeUserStyle),
ChangeUserStyle's checks, and refusal texts checked against the official source."""

from __future__ import annotations

import pytest

from server.models import multiplayer as mp
from server.services.multiplayer.rules import (
    NOT_JOINED,
    BeatmapFacts,
    Refusal,
    StyleFacts,
    check_item_mods,
    incompatible_mods,
    validate_user_mods,
)
from tests.unit.test_multiplayer_room import MAP, item, make_room, targets


def mods(*acronyms: str) -> list[mp.APIMod]:
    return [mp.APIMod(a) for a in acronyms]


@pytest.mark.parametrize(
    ("required", "allowed", "ruleset", "freestyle", "text"),
    [
        (("HR", "XX"), (), 0, False, "Invalid mods were selected for specified ruleset: XX"),
        ((), ("HD", "TC"), 1, False, "Invalid mods were selected for specified ruleset: TC"),
        (("HR", "EZ"), (), 0, False, "Invalid combination of required mods: EZ,HR"),
        (("AT",), (), 0, False, "Invalid required mods were selected: AT"),
        (("HD",), (), 0, True, "Invalid required mods were selected: HD"),
        ((), ("HD", "DT"), 0, False, "Invalid free mods were selected: DT"),
        (
            ("HR",),
            ("HD", "EZ"),
            0,
            False,
            "Invalid combination of required and allowed mods: EZ,HR",
        ),
    ],
)
def test_item_mods_refused_with_the_official_texts(
    required: tuple[str, ...],
    allowed: tuple[str, ...],
    ruleset: int,
    freestyle: bool,
    text: str,
) -> None:
    new = item(
        required_mods=mods(*required),
        allowed_mods=mods(*allowed),
        ruleset_id=ruleset,
        freestyle=freestyle,
    )
    assert check_item_mods(new) == Refusal(text)
    machine = make_room()
    beatmap = MAP
    if freestyle and allowed:
        pytest.skip("freestyle items with allowed mods are refused before the mods are read")
    assert machine.add_item(1, new, beatmap) == Refusal(text)
    assert len(machine.room.playlist) == 1
    assert machine.edit_item(1, item(id=1, **_fields(new)), beatmap) == Refusal(text)
    assert machine.room.playlist[0].required_mods == []


def _fields(new: mp.MultiplayerPlaylistItem) -> dict[str, object]:
    return {
        "required_mods": new.required_mods,
        "allowed_mods": new.allowed_mods,
        "ruleset_id": new.ruleset_id,
        "freestyle": new.freestyle,
    }


def test_valid_item_mods_are_queued_with_upper_case_acronyms() -> None:
    machine = make_room()
    new = item(required_mods=mods("hr"), allowed_mods=mods("hd", "Fl"))
    assert isinstance(machine.add_item(1, new, MAP), list)
    added = machine.room.playlist[-1]
    assert [m.acronym for m in added.required_mods] == ["HR"]
    assert [m.acronym for m in added.allowed_mods] == ["HD", "FL"]


def test_freestyle_required_mods_must_be_valid_for_freestyle() -> None:
    assert check_item_mods(item(freestyle=True, required_mods=mods("HR"))) is None


def test_incompatible_mods_lists_each_exclusion() -> None:
    assert [m.acronym for m in incompatible_mods(0, mods("HR", "EZ", "HD"))] == ["EZ", "HR"]
    assert incompatible_mods(0, mods("HR", "HD", "DT")) == []


def test_user_mods_must_be_allowed_known_and_compatible() -> None:
    machine = make_room(2)
    machine.room.playlist[0] = item(id=1, required_mods=mods("HR"), allowed_mods=mods("HD", "EZ"))
    assert machine.change_user_mods(2, mods("HD", "FL")) == Refusal(
        "Incompatible mods were selected: FL"
    )
    assert machine.change_user_mods(2, mods("EZ")) == Refusal("Incompatible mods were selected: EZ")
    assert machine.change_user_mods(2, mods("XX", "HD")) == Refusal(
        "Incompatible mods were selected: XX"
    )
    out = machine.change_user_mods(2, mods("HD"))
    assert targets(out) == ["UserModsChanged"]
    assert machine.change_user_mods(2, mods("HD")) == []


def test_freestyle_allows_any_known_mod_compatible_with_the_required() -> None:
    machine = make_room(2)
    machine.room.playlist[0] = item(id=1, freestyle=True, required_mods=mods("HR"))
    assert targets(machine.change_user_mods(2, mods("HD", "FL"))) == ["UserModsChanged"]
    assert machine.change_user_mods(2, mods("EZ")) == Refusal("Incompatible mods were selected: EZ")


def test_user_mods_are_checked_in_the_users_own_ruleset() -> None:
    machine = make_room(2)
    machine.room.playlist[0] = item(id=1, freestyle=True)
    guest = machine.room.users[1]
    guest.ruleset_id = 1  # taiko has no Traceable
    valid, kept = validate_user_mods(machine.room.playlist[0], guest, mods("TC", "HD"))
    assert not valid and [m.acronym for m in kept] == ["HD"]


ITEM_SET = StyleFacts(item_set_id=5, beatmap_set_id=5, beatmap_ruleset_id=0)


def test_user_style_refusals_in_the_official_order() -> None:
    machine = make_room(2)
    assert machine.change_user_style(2, None, 4, ITEM_SET) == Refusal(
        "Attempted to select an unsupported ruleset."
    )
    assert machine.change_user_style(2, 76, None, ITEM_SET) == Refusal(
        "Current item does not allow free user styles."
    )
    assert machine.change_user_style(2, None, None, ITEM_SET) == []  # nothing to change
    machine.room.playlist[0].freestyle = True
    missing = StyleFacts(item_set_id=5)
    assert machine.change_user_style(2, 999, None, missing) == Refusal("Invalid beatmap selected.")
    other_set = StyleFacts(item_set_id=5, beatmap_set_id=6)
    assert machine.change_user_style(2, 80, None, other_set) == Refusal(
        "Selected beatmap is not from the same beatmap set."
    )
    mania_map = StyleFacts(item_set_id=5, beatmap_set_id=5, beatmap_ruleset_id=3)
    assert machine.change_user_style(2, 77, 1, mania_map) == Refusal(
        "Selected ruleset is not supported for the given beatmap."
    )
    out = machine.change_user_style(2, 77, 3, mania_map)
    assert targets(out) == ["UserStyleChanged"]
    guest = machine.room.users[1]
    assert (guest.beatmap_id, guest.ruleset_id) == (77, 3)


def test_a_new_style_drops_the_mods_it_does_not_allow() -> None:
    machine = make_room(2)
    machine.room.playlist[0].freestyle = True
    assert targets(machine.change_user_mods(2, mods("FL", "TC"))) == ["UserModsChanged"]
    out = machine.change_user_style(2, None, 1, ITEM_SET)  # taiko: no Traceable
    assert targets(out) == ["UserModsChanged", "UserStyleChanged"]
    assert [m.acronym for m in machine.room.users[1].mods] == ["FL"]


def test_referees_cannot_set_style_or_mods() -> None:
    machine = make_room(2)
    machine.room.users[1].role = mp.MultiplayerRoomUserRole.REFEREE
    assert machine.change_user_style(2, None, 1, ITEM_SET) == Refusal(
        "Referees do not participate in the match and cannot set their own style."
    )
    assert machine.change_user_mods(2, []) == Refusal(
        "Referees do not participate in the match and cannot set their own mods."
    )


def test_not_joined_is_the_official_exception() -> None:
    assert (
        Refusal("This user has not yet joined a multiplayer room.", "NotJoinedRoomException")
        == NOT_JOINED
    )


def test_a_current_item_without_freestyle_resets_styles_first() -> None:
    """ensureAllUsersValidStyle: the current item edited to one without freestyle drops
    every style (and the mods it no longer allows) before the item change is announced."""
    machine = make_room(2)
    machine.room.playlist[0].freestyle = True
    machine.change_user_style(2, None, 1, ITEM_SET)
    out = machine.edit_item(1, item(id=1), MAP)
    assert targets(out)[:1] == ["UserStyleChanged"] and targets(out)[-1] == "PlaylistItemChanged"
    assert out[0].args == (2, None, None)
    guest = machine.room.users[1]
    assert (guest.beatmap_id, guest.ruleset_id) == (None, None)


def test_a_new_freestyle_set_keeps_only_styles_it_can_play() -> None:
    """On a freestyle item of another set, a difficulty outside it is dropped, and a ruleset
    the (item's) beatmap cannot be played in; the new set comes with the item's facts."""
    machine = make_room(2, 3)
    machine.room.playlist[0].freestyle = True
    machine._sets[75] = {75: 0, 76: 0}
    machine.change_user_style(2, 76, 1, StyleFacts(5, 5, 0))  # a sibling, in taiko
    machine.change_user_style(3, None, 2, ITEM_SET)  # the item's map, in catch
    mania_set = BeatmapFacts("def", 3, 2.0, ((90, 3), (91, 3)))
    moved = item(id=1, beatmap_id=90, beatmap_checksum="def", freestyle=True, ruleset_id=3)
    out = machine.edit_item(1, moved, mania_set)
    changed = [c.args for c in out if c.target == "UserStyleChanged"]
    assert changed == [(2, None, None), (3, None, None)]


def test_mods_no_longer_allowed_by_the_current_item_are_dropped() -> None:
    machine = make_room(2)
    machine.room.playlist[0].allowed_mods = mods("HD", "FL")
    machine.change_user_mods(2, mods("HD", "FL"))
    out = machine.edit_item(1, item(id=1, allowed_mods=mods("FL")), MAP)
    assert [c.args for c in out if c.target == "UserModsChanged"] == [(2, mods("FL"))]
