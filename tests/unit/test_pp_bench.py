"""bench/bench_pp.py refuses to time a debug build of the core."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from server.core import pp

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_pp.py"


def _load_bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_pp", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the file executes.
    monkeypatch.setitem(sys.modules, "bench_pp", module)
    spec.loader.exec_module(module)
    return module


def test_bench_refuses_a_debug_build(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load_bench(monkeypatch)
    monkeypatch.setattr(pp, "build_profile", lambda: "debug")
    monkeypatch.setattr(sys, "argv", ["bench_pp.py"])
    assert bench.main() == 2
    assert "refusing to benchmark a debug build" in capsys.readouterr().out
