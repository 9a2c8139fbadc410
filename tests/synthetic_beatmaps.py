"""Small, valid, synthetic .osu files for all four rulesets, so pp tests stand alone.

The maps are generated from a seed (same seed, same bytes) and use every object kind each
ruleset has: circles, sliders of each curve type and spinners (osu!, catch), don/kat with
strong finishes, drumrolls and swells (taiko), notes and hold notes (mania). They have
no audio and are not meant to be fun, only to exercise the calculators.
"""

from __future__ import annotations

import random
from pathlib import Path

RULESETS = ("osu", "taiko", "catch", "mania")
_MODE_NUMBER = {"osu": 0, "taiko": 1, "catch": 2, "mania": 3}
_BEAT_MS = 375.0  # 160 BPM


def _header(mode: int, title: str, *, cs: float, od: float, ar: float, hp: float) -> list[str]:
    return [
        "osu file format v14",
        "",
        "[General]",
        "AudioFilename: audio.mp3",
        "AudioLeadIn: 0",
        "PreviewTime: -1",
        "StackLeniency: 0.7",
        f"Mode: {mode}",
        "",
        "[Metadata]",
        f"Title:{title}",
        "Artist:synthetic",
        "Creator:tests/synthetic_beatmaps.py",
        f"Version:{title}",
        "",
        "[Difficulty]",
        f"HPDrainRate:{hp}",
        f"CircleSize:{cs}",
        f"OverallDifficulty:{od}",
        f"ApproachRate:{ar}",
        "SliderMultiplier:1.4",
        "SliderTickRate:1",
        "",
    ]


def _timing(end_ms: float) -> list[str]:
    # One red line, then green lines that change slider velocity (ticks and tails move).
    lines = ["[TimingPoints]", f"0,{_BEAT_MS},4,2,0,60,1,0"]
    t = 8 * _BEAT_MS
    for sv in (-50, -100, -75, -100):
        if t >= end_ms:
            break
        lines.append(f"{t:.0f},{sv},4,2,0,60,0,0")
        t += 16 * _BEAT_MS
    return [*lines, ""]


def _slider_shape(rng: random.Random, x: int, y: int) -> str:
    kind = rng.choice("LBPC")
    if kind == "L":
        return f"L|{min(x + 120, 500)}:{y}"
    if kind == "P":
        return f"P|{x + 40}:{max(y - 60, 10)}|{min(x + 100, 500)}:{y}"
    points = [
        (x + 30, max(y - 80, 10)),
        (min(x + 90, 500), min(y + 40, 380)),
        (min(x + 140, 500), y),
    ]
    return kind + "".join(f"|{px}:{py}" for px, py in points)


_BREAK_MS = 4000.0


def _break_event(lines: list[str]) -> list[str]:
    """A break inside the gap before the middle object, so drain time can leave it out."""
    times = [float(line.split(",")[2]) for line in lines[1:]]
    middle = len(times) // 2
    start, end = times[middle - 1] + 1000, times[middle] - 1000
    return ["[Events]", "//Break Periods", f"2,{start:.0f},{end:.0f}", ""]


def _osu_like_objects(
    rng: random.Random, n_objects: int, *, taiko: bool
) -> tuple[list[str], float]:
    """Circles, sliders and spinners on a beat grid; taiko also gets don/kat/strong sounds."""
    lines = ["[HitObjects]"]
    t = 1000.0
    for i in range(n_objects):
        if i == n_objects // 2:
            t += _BREAK_MS  # room for the break _break_event declares
        x, y = rng.randrange(20, 360), rng.randrange(20, 360)
        new_combo = 4 if i % 8 == 0 else 0
        sound = rng.choice((0, 2, 4, 8, 12)) if taiko else 0
        roll = rng.random()
        if i > 0 and i % 50 == 0:
            length = 4 * _BEAT_MS
            lines.append(f"256,192,{t:.0f},{8 | new_combo},{sound},{t + length:.0f},0:0:0:0:")
            t += length + 2 * _BEAT_MS
        elif roll < 0.3:
            repeats = rng.choice((1, 1, 2, 3))
            shape = _slider_shape(rng, x, y)
            lines.append(f"{x},{y},{t:.0f},{2 | new_combo},{sound},{shape},{repeats},140")
            t += (repeats + 1) * _BEAT_MS
        else:
            lines.append(f"{x},{y},{t:.0f},{1 | new_combo},{sound},0:0:0:0:")
            t += rng.choice((0.5, 0.5, 1.0, 0.25)) * _BEAT_MS
    return lines, t


def _mania_objects(rng: random.Random, n_objects: int, keys: int) -> tuple[list[str], float]:
    lines = ["[HitObjects]"]
    t = 1000.0
    for i in range(n_objects):
        if i == n_objects // 2:
            t += _BREAK_MS
        column = rng.randrange(keys)
        x = int((column + 0.5) * 512 / keys)
        if rng.random() < 0.25:
            end = t + rng.choice((1, 2, 3)) * _BEAT_MS / 2
            lines.append(f"{x},192,{t:.0f},128,0,{end:.0f}:0:0:0:0:")
        else:
            lines.append(f"{x},192,{t:.0f},1,0,0:0:0:0:")
        t += rng.choice((0.0, 0.25, 0.5)) * _BEAT_MS
    return lines, t


def synthetic_osu(ruleset: str, *, n_objects: int = 300, seed: int = 0) -> bytes:
    """A valid .osu file for `ruleset` ("osu", "taiko", "catch" or "mania")."""
    rng = random.Random(f"{ruleset}-{seed}")
    mode = _MODE_NUMBER[ruleset]
    if ruleset == "mania":
        keys = rng.choice((4, 7))
        objects, end = _mania_objects(rng, n_objects, keys)
        header = _header(mode, f"mania-{seed}", cs=keys, od=8, ar=5, hp=7)
    else:
        objects, end = _osu_like_objects(rng, n_objects, taiko=ruleset == "taiko")
        header = _header(
            mode,
            f"{ruleset}-{seed}",
            cs=rng.choice((3.5, 4, 4.5)),
            od=rng.choice((7, 8, 9)),
            ar=rng.choice((8, 9, 9.5)),
            hp=5,
        )
    events = _break_event(objects)
    return "\n".join([*header, *events, *_timing(end), *objects, ""]).encode()


def suspicious_osu(n_objects: int = 400) -> bytes:
    """An osu! map rosu-pp's suspicion screen flags: far more than 200 notes in a second."""
    header = _header(0, "suspicious", cs=4, od=8, ar=9, hp=5)
    objects = ["[HitObjects]"]
    objects += [f"256,192,{1000 + i},1,0,0:0:0:0:" for i in range(n_objects)]
    return "\n".join([*header, *_timing(2000), *objects, ""]).encode()


def write_all(directory: Path, *, seed: int = 0) -> dict[str, Path]:
    """Write one synthetic map per ruleset into `directory`; return the paths by ruleset."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for ruleset in RULESETS:
        path = directory / f"synthetic-{ruleset}-{seed}.osu"
        path.write_bytes(synthetic_osu(ruleset, seed=seed))
        paths[ruleset] = path
    return paths


def exploding_slider_osu() -> bytes:
    """One slider that rosu-pp's own screen passes but that expands into ~10^8 ticks."""
    header = _header(0, "exploding-slider", cs=4, od=8, ar=9, hp=5)
    header = [
        line.replace("SliderMultiplier:1.4", "SliderMultiplier:0.4").replace(
            "SliderTickRate:1", "SliderTickRate:8"
        )
        for line in header
    ]
    timing = ["[TimingPoints]", "0,60000,4,2,0,60,1,0", "0,-1000,4,2,0,60,0,0", ""]
    objects = ["[HitObjects]", "256,192,1000,2,0,L|400:200,999,100000"]
    return "\n".join([*header, *timing, *objects, ""]).encode()
