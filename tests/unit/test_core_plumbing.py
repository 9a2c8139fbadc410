"""The cffi wrapper over the Rust core: loading, version and error mapping."""

import pytest

from server import core


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
