"""Neighbour pixels covered otherwise than frame t's are no context for its light
(`neighbour_coverage`)."""

from dataclasses import replace

import numpy as np
import torch
from flat_frames import flat_frame

from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.neighbour_coverage import covered_otherwise, held
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.slot_plan import plan_slots

LAYOUT = InputLayout(temporal_radius=1)


def _held_out(frame, alpha: np.ndarray):
    """`frame` with `alpha` (8, 8), its beauty premultiplied by it, as a holdout renders."""
    return replace(frame, beauty=frame.beauty * alpha, alpha=alpha[None].astype(np.float16))


def _marks(window, plan=None) -> np.ndarray:
    """`covered_otherwise` of `window`, (slots, 8, 8): t-1, t+1."""
    return covered_otherwise(window, plan or plan_slots(window, LAYOUT))[0].numpy()


def test_a_neighbour_held_out_where_frame_t_is_covered_is_marked_there():
    """t+1 holds a holdout (alpha 0, black) over columns 2-4, its edge half covered in column 5;
    frame t covers every pixel (no alpha of its own: opaque). Its guides match t's there (a ring
    3-15% darker beside a moving holdout took its black): t+1 is marked where its coverage is
    half a pixel or more off t's, and t-1 nowhere."""
    alpha = np.ones((8, 8), np.float32)
    alpha[:, 2:5] = 0.0
    alpha[:, 5] = 0.5
    window = {-1: flat_frame(1.0), 0: flat_frame(1.0), 1: _held_out(flat_frame(1.0), alpha)}
    marks = _marks(window)
    np.testing.assert_array_equal(marks[0], 0.0)
    np.testing.assert_array_equal(marks[1][:, 2:6], 1.0)
    np.testing.assert_array_equal(marks[1][:, [0, 1, 6, 7]], 0.0)


def test_frame_t_held_out_marks_its_covered_neighbours_there_and_a_near_coverage_is_not():
    """Frame t's own holdout (columns 2-4) marks each covered neighbour there; a neighbour pixel a
    quarter off t's coverage (one sample of four at an element's edge) is not marked."""
    alpha = np.ones((8, 8), np.float32)
    alpha[:, 2:5] = 0.0
    near = np.ones((8, 8), np.float32)
    near[:, 6] = 0.75
    window = {-1: _held_out(flat_frame(1.0), near), 0: _held_out(flat_frame(1.0), alpha),
              1: flat_frame(1.0)}
    marks = _marks(window)
    for slot in (0, 1):
        np.testing.assert_array_equal(marks[slot][:, 2:5], 1.0)
        np.testing.assert_array_equal(marks[slot][:, 5:], 0.0)


def test_the_neighbours_coverage_is_warped_as_its_beauty():
    """t+1's holdout in columns 3-4 moved one column right of where t's pixels were (motion 1 px
    to the left towards it: its pixel x shows t's x - 1): t's columns 4-5 read it."""
    alpha = np.ones((8, 8), np.float32)
    alpha[:, 3:5] = 0.0
    window = {-1: flat_frame(1.0), 0: flat_frame(1.0), 1: _held_out(flat_frame(1.0), alpha)}
    plan = plan_slots(window, LAYOUT)
    plan.flows[1] = torch.zeros((1, 2, 8, 8))
    plan.flows[1][:, 0] = -1.0
    marks = _marks(window, plan)
    np.testing.assert_array_equal(marks[1][:, 4:6], 1.0)
    np.testing.assert_array_equal(marks[1][:, 1:4], 0.0)


def test_renders_without_alpha_mark_nothing():
    """No frame with an alpha to read (none rendered, or covered everywhere): nothing held, and
    no neighbour pixel marked."""
    window = {-1: flat_frame(1.0), 0: flat_frame(1.0), 1: flat_frame(1.0)}
    assert not held(window)
    np.testing.assert_array_equal(_marks(window), 0.0)


def test_the_marked_pixels_are_inconsistent_before_the_rules_that_read_the_consistency():
    """The input the light's passes read: each neighbour slot's consistency 0 where marked, left
    out before `leave_out_relit` and the rules after it read the consistency, so the pixels around
    keep theirs; the input built without the marks (whose consistency the alpha's own pass reads)
    as before."""
    alpha = np.ones((8, 8), np.float32)
    alpha[:, 2:5] = 0.0
    window = {-1: flat_frame(1.0), 0: flat_frame(1.0), 1: _held_out(flat_frame(1.0), alpha)}
    plan = plan_slots(window, LAYOUT)
    built = build_input(window, LAYOUT, plan=plan)
    ruled = build_input(window, LAYOUT, plan=plan, covered=covered_otherwise(window, plan))
    assert (built[0, LAYOUT.consistency][1][:, 2:5] > 0.1).all()  # read as built: its guides match t's
    np.testing.assert_array_equal(ruled[0, LAYOUT.consistency][1][:, 2:5].numpy(), 0.0)
    unmarked = np.ones((8, 8), bool)
    unmarked[:, 2:5] = False
    # Marked first, the holdout's black no longer reads as a block lit otherwise around it.
    np.testing.assert_array_equal(ruled[0, LAYOUT.consistency][1].numpy()[unmarked], 1.0)
    assert built[0, LAYOUT.consistency][1].numpy()[unmarked].max() < 0.5
    np.testing.assert_array_equal(ruled[0, LAYOUT.consistency][0].numpy(),
                                  built[0, LAYOUT.consistency][0].numpy())


def test_a_short_windows_stand_ins_are_not_marked():
    """A two-frame shot (t and t+1; radius 2's slots past its ends show frame t's stand-ins, its
    own pixels) with t held out over columns 2-4: t+1, covered there, is marked; the stand-ins'
    slots, which hold no frame of the window, are not (and are no KeyError)."""
    layout = InputLayout(temporal_radius=2)
    alpha = np.ones((8, 8), np.float32)
    alpha[:, 2:5] = 0.0
    window = {0: _held_out(flat_frame(1.0), alpha), 1: flat_frame(1.0)}
    plan = plan_slots(window, layout)
    assert plan.stand_ins
    marks = covered_otherwise(window, plan)[0].numpy()
    for index, offset in enumerate(plan.offsets):
        expected = 1.0 if offset == 1 else 0.0
        np.testing.assert_array_equal(marks[index][:, 2:5], expected, err_msg=f"slot {offset}")
