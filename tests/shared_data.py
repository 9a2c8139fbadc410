"""Access to ../shared/testdata, which sits beside the project and not inside it.

A fresh clone has no ../shared: tests that need it skip with a message that says so.
`OSU_SHARED_DIR` overrides the location.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """Where ../shared is expected to be."""
    return Path(os.environ.get("OSU_SHARED_DIR", PROJECT_ROOT.parent / "shared"))


def beatmaps_dir() -> Path:
    """The directory of real .osu files with expected values; skips the test when absent."""
    path = shared_dir() / "testdata" / "beatmaps"
    if not path.is_dir():
        pytest.skip(
            f"shared beatmap test data not found at {path} "
            "(it lives beside the project, not in it; set OSU_SHARED_DIR to point at it)"
        )
    return path
