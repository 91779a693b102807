"""benchmarks/shot_ends.py: which frames it scores, and that its one-sided window gives the slots
past a shot's end frame t's stand-ins (what BENCHMARKS.md's "Stand-ins past a long shot's ends"
compares the reaching window against)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from flat_frames import flat_frame

from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.slot_plan import plan_slots

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "shot_ends.py"


def _script():
    spec = importlib.util.spec_from_file_location("shot_ends", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_end_frames_and_with_second_frames_the_ones_beside_them():
    scored = _script()._scored_frames
    assert scored(8, False) == [0, 7]
    assert scored(8, True) == [0, 1, 6, 7]
    assert scored(3, True) == [0, 1, 2]
    assert scored(1, True) == [0]


def test_the_one_sided_windows_slots_past_the_end_show_stand_ins_the_reaching_ones_frames():
    """First frame: t-1 and t-2 stood in for (reaching: t+3, t+4); second frame: t-2 (reaching:
    t+3); the last frame mirrored; a middle frame's window is the same either way."""
    script, layout = _script(), InputLayout(temporal_radius=2)
    frames = [flat_frame(1.0 + t) for t in range(8)]
    for t, stood_in, reaching in ((0, [-2, -1], [3, 4, 1, 2]), (1, [-2], [-1, 3, 1, 2]),
                                  (7, [1, 2], [-1, -2, -3, -4]), (6, [2], [-1, -2, 1, -3])):
        one_sided = plan_slots(script.one_sided_window(frames, t, 2), layout)
        assert sorted(one_sided.stand_ins) == stood_in, t
        assert plan_slots(script.window_around(frames, t, 2), layout).offsets == reaching, t
        assert not plan_slots(script.window_around(frames, t, 2), layout).stand_ins
    assert not plan_slots(script.one_sided_window(frames, 3, 2), layout).stand_ins


def test_a_dark_shot_reaches_the_network_lifted_as_eval_gives_it_and_the_render_is_kept():
    """As rendered, a dark shot's end frames scored otherwise than `eval` and `seq` score them
    (long60606/seq0001's first frame 42.00 / 42.38 dB against their 43.11 / 42.55)."""
    rendered = [flat_frame(0.001 * (1 + t)) for t in range(6)]
    exposure, frames = _script().as_the_network_sees(rendered, 2)
    assert exposure.scale > 1
    for ours, theirs in zip(frames, rendered):
        np.testing.assert_allclose(ours.beauty, theirs.beauty * exposure.scale, rtol=1e-6)
    assert rendered[0].beauty[0, 0, 0] == np.float32(0.001)
