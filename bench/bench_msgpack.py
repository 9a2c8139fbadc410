"""Spectator frame relay: envelope parse + splice versus decode and re-encode.

Run: python bench/bench_msgpack.py [--iterations N]
Needs a release build of the core (refuses a debug build) and msgpack-python (test extra).

The message is a realistic SendFrameDataV2: 30 LegacyReplayFrames and a FrameHeader with
statistics and mods. The baselines that use stock decoders (msgpack-python, msgspec) get
the same message with settings-free mods, because they cannot read the APIMod settings
quirk at all; they are therefore lower bounds on what a correct Python path would cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgpack
import msgspec

from server.core import msgpack as m

USER_ID = 1234567


def bundle(mod_settings: bool) -> dict[str, Any]:
    """A FrameDataBundle as lazer sends it mid-play (about 5 per second)."""
    dt_settings: dict[str, Any] = (
        {"speed_change": 1.35, "adjust_pitch": True} if mod_settings else {}
    )
    return {
        "Header": {
            "TotalScore": 734_512,
            "Accuracy": 0.9712,
            "Combo": 211,
            "MaxCombo": 388,
            "Statistics": {5: 402, 4: 17, 3: 6, 1: 3, 8: 120, 10: 95, 12: 4},
            "ScoreProcessorStatistics": {
                "BaseScore": 128_400.0,
                "MaximumBaseScore": 131_000.0,
                "AccuracyJudgementCount": 428,
                "ComboPortion": 0.634,
                "BonusPortion": 1_400.0,
            },
            "ReceivedTime": datetime(1, 1, 1, tzinfo=UTC),
            "Mods": [
                {"Acronym": "DT", "Settings": dt_settings},
                {"Acronym": "HD", "Settings": {}},
                {"Acronym": "HR", "Settings": {}},
            ],
            "TotalScoreWithoutMods": 612_093,
            "Pauses": [],
        },
        "Frames": [
            {
                "Time": 81_234.5 + 16.6 * i,
                "MouseX": 256.0 + i * 3.25,
                "MouseY": 192.0 - i * 1.5,
                "ButtonState": 1 if i % 4 else 0,
            }
            for i in range(30)
        ],
    }


def send_frame_data(mod_settings: bool) -> bytes:
    """An unframed SendFrameDataV2(token, bundle) invocation, as the splitter yields it."""
    args = m.encode("long?,FrameDataBundle", [9_876_543, bundle(mod_settings)])
    (message,) = m.FrameSplitter(1 << 20).feed(m.encode_invocation("SendFrameDataV2", args))
    return message


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def best_ns(func: Callable[[], object], iterations: int, repeats: int = 5) -> float:
    """Best mean time per call over several repeats, in nanoseconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            func()
        best = min(best, (time.perf_counter_ns() - start) / iterations)
    return best


def main() -> int:
    """Run every case once and print times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args()
    if m.is_debug_build():
        print("refusing to benchmark a debug build of rust_core: pip install -e . (release)")
        return 2

    quirky = send_frame_data(mod_settings=True)
    plain = send_frame_data(mod_settings=False)
    # The stock decoders really cannot read the quirky message.
    try:
        msgpack.unpackb(quirky)
        raise SystemExit("msgpack-python unexpectedly read the settings quirk")
    except (msgpack.ExtraData, ValueError):
        pass

    def relay() -> object:
        return m.relay_frames(quirky, USER_ID, validate=False).message

    def relay_validated() -> object:
        return m.relay_frames(quirky, USER_ID, validate=True).message

    def envelope() -> object:
        return m.parse_envelope(quirky)

    def msgpack_python() -> object:
        _, headers, _, _, (_, data), _ = msgpack.unpackb(plain, strict_map_key=False, timestamp=0)
        out = msgpack.packb([1, headers, None, "UserSentFrames", [USER_ID, data], []])
        return varint(len(out)) + out

    encoder = msgspec.msgpack.Encoder()
    decoder = msgspec.msgpack.Decoder()

    def msgspec_any() -> object:
        _, headers, _, _, (_, data), _ = decoder.decode(plain)
        out = encoder.encode([1, headers, None, "UserSentFrames", [USER_ID, data], []])
        return varint(len(out)) + out

    def typed() -> object:
        env = m.parse_envelope(quirky)
        assert env.payload is not None
        _, data = m.decode("long?,FrameDataBundle", env.payload)
        return m.encode_invocation(
            "UserSentFrames", m.encode("int,FrameDataBundle", [USER_ID, data])
        )

    # Every path produces the same watcher message. The stock re-encoders widen lazer's
    # float32 mouse positions to float64, so theirs match in value, not in bytes.
    assert typed() == relay() == relay_validated()

    def value(framed: object) -> object:
        assert isinstance(framed, bytes)
        (body,) = m.FrameSplitter(1 << 20).feed(framed)
        return msgpack.unpackb(body, strict_map_key=False, timestamp=0)

    spliced = value(m.relay_frames(plain, USER_ID, validate=True).message)
    assert value(msgpack_python()) == value(msgspec_any()) == spliced

    n = args.iterations
    results = {
        "relay_frames (envelope + splice)": best_ns(relay, n),
        "relay_frames, bundle validated": best_ns(relay_validated, n),
        "parse_envelope only": best_ns(envelope, n),
        "msgpack-python unpackb + packb": best_ns(msgpack_python, n),
        "msgspec decode + encode": best_ns(msgspec_any, n),
        "rust_core typed decode + encode": best_ns(typed, n // 4),
    }
    print(f"message: {len(quirky)} bytes (30 frames, 3 mods, DT with settings)")
    for name, ns in results.items():
        print(f"  {name:38s} {ns / 1000:8.2f} us")
    baselines = (
        "msgpack-python unpackb + packb",
        "msgspec decode + encode",
        "rust_core typed decode + encode",
    )
    for relay_name in ("relay_frames (envelope + splice)", "relay_frames, bundle validated"):
        print(f"{relay_name} speed-up (target >= 10x):")
        for name in baselines:
            print(f"  vs {name:35s} {results[name] / results[relay_name]:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
