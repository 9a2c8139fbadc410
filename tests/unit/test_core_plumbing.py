"""The cffi wrapper over the Rust core: loading, version and error mapping."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server import core
from server.core import cdef

ROOT = Path(__file__).resolve().parents[2]


def test_version_names_the_crate() -> None:
    assert core.version().startswith("rust_core ")


def test_panic_in_rust_becomes_core_panic_with_its_message() -> None:
    with pytest.raises(core.CorePanic, match="deliberate panic"):
        core.rustcall(core.lib.rc_core_panic_for_test)


def test_every_error_code_maps_to_its_own_exception() -> None:
    codes = {cls.code for cls in core._EXCEPTIONS.values()}
    assert codes == set(core.ErrorCode) - {core.ErrorCode.OK}
    assert all(issubclass(cls, core.CoreError) for cls in core._EXCEPTIONS.values())


def test_successful_call_clears_the_previous_error() -> None:
    with pytest.raises(core.CorePanic):
        core.rustcall(core.lib.rc_core_panic_for_test)
    assert core.version()
    assert core._last_error_message() == ""


def test_the_generated_declarations_match_the_headers() -> None:
    """server/core/_ffi.py is what cffi makes of rust_core/include/*.h today: a header changed
    without `python -m server.core.cdef` fails here, not as a wrong call at run time."""
    assert cdef.MODULE.read_text() == cdef.module_source(), "run `python -m server.core.cdef`"


def test_the_declarations_load_without_cffi_s_parser() -> None:
    """Loading the core parses no C at start-up (pycparser was 1.4 MiB of every idle server)."""
    probe = "import sys, server.core; print(sorted(m for m in sys.modules if 'pycparser' in m))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
