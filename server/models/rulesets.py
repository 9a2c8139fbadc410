"""Rulesets as the API names them, and the relax/autopilot variants private servers add."""

from __future__ import annotations

from typing import Final

# API names by legacy ruleset id (lazer-protocol.md §3.2: osu|taiko|fruits|mania).
RULESETS: Final[tuple[str, ...]] = ("osu", "taiko", "fruits", "mania")
RULESET_IDS: Final[dict[str, int]] = {name: i for i, name in enumerate(RULESETS)}

# Relax and autopilot keep their own statistics and leaderboards when ENABLE_RELAX_RULESETS
# is on. This diverges from official osu!, which has no such rulesets; the names follow the
# convention other lazer servers use so existing tools recognise them.
RELAX_RULESETS: Final[tuple[str, ...]] = ("osurx", "osuap", "taikorx", "fruitsrx")


def known_rulesets(relax_enabled: bool) -> tuple[str, ...]:
    """Every ruleset name the server answers for."""
    return RULESETS + RELAX_RULESETS if relax_enabled else RULESETS
