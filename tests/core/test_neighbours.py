"""Whether a neighbour can be a frame's context: the cut detector (the rest runs through the engine,
tests/core/test_engine.py and tests/reliability)."""

import numpy as np
import pytest
import torch
from torch_counts import HostReads

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.frame_source import LoadedFrame
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.pixel_box import Box
from vfxdenoise.core.neighbours import albedo_match, context_mismatch, layers_lacking, on_data_window


def _panned(shift: float, pattern: int = 0, size: int = 64, motion: float | None = None) -> FrameFeatures:
    """An 8-px checker albedo panned `shift` px right (another set with `pattern` 1), its motion
    vectors pointing `motion` px (default: `shift`) back to where each pixel was before the pan."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    albedo = ((np.floor((xs - shift) / 8) + ys // 8 + pattern) % 2).astype(np.float32)
    back = -shift if motion is None else -motion
    return FrameFeatures(beauty=np.stack([albedo] * 3), albedo=np.stack([albedo] * 3),
                         motion=np.stack([np.full((size, size), back, np.float32),
                                          np.zeros((size, size), np.float32)]))


@pytest.mark.parametrize("shift", [1.0, 2.5, 3.0, 4.0, 5.0, 6.0, 12.0])
def test_the_albedo_of_consecutive_frames_of_one_shot_matches(shift):
    """A pan over a checker the size of the compared blocks: moved by whole blocks (each block's
    mean compared), any pan but by 8 px read as a cut."""
    assert albedo_match(_panned(0), _panned(shift)) > 0.9


def test_the_albedo_across_a_cut_does_not_match():
    assert albedo_match(_panned(0), _panned(8, pattern=1)) == 0.0  # another set
    assert albedo_match(_panned(0), _panned(8, motion=200.0)) is None  # all outside the frame before
    assert albedo_match(_panned(0), FrameFeatures(beauty=np.zeros((3, 4, 4), np.float32))) is None


def test_a_pair_of_frames_is_told_a_cut_or_not_in_one_read():
    """Frames held on a GPU are compared there (`FrameSource` uploads them as it reads them), and
    each value read waits for its queue: the blocks placed in both frames and those matching are
    read together (each read separately took three)."""
    with HostReads() as counted:
        assert albedo_match(_panned(0), _panned(2.0)) > 0.9
    assert counted.count == 1


def test_a_neighbour_on_another_data_window_is_placed_on_frame_ts_zero_outside_its_own():
    """An auto-cropped or overscanned neighbour is read over frame t's data window, in display
    space, as compositors read it; on the same window it is the very same features."""
    beauty = np.ones((3, 4, 5), np.float32)
    features = FrameFeatures(beauty=beauty, albedo=beauty * 0.5)
    assert on_data_window(features, (0, 0, 4, 3), Box(0, 0, 4, 3)) is features
    placed = on_data_window(features, Box(2, 1, 6, 4), (0, 0, 7, 5))
    assert tuple(placed.beauty.shape) == (3, 6, 8)
    expected = np.zeros((6, 8), np.float32)
    expected[1:5, 2:7] = 1.0
    np.testing.assert_array_equal(np.asarray(placed.beauty[0]), expected)
    np.testing.assert_array_equal(np.asarray(placed.albedo[1]), expected * 0.5)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_a_half_neighbour_placed_on_another_window_stays_half_in_its_own_type(as_tensor):
    """Frame t is held as the EXR stores it (half) and so is an unplaced neighbour: a placed one
    is not widened to float32, nor turned from a NumPy array into a tensor."""
    beauty = np.arange(3 * 4 * 5, dtype=np.float16).reshape(3, 4, 5)
    motion = np.full((2, 4, 5), 0.5, np.float32)
    features = FrameFeatures(beauty=torch.as_tensor(beauty) if as_tensor else beauty,
                             motion=torch.as_tensor(motion) if as_tensor else motion)
    placed = on_data_window(features, (2, 1, 6, 4), (0, 0, 7, 5))
    kind = torch.Tensor if as_tensor else np.ndarray
    assert isinstance(placed.beauty, kind) and isinstance(placed.motion, kind)
    assert (str(placed.beauty.dtype), str(placed.motion.dtype)) == (
        ("torch.float16", "torch.float32") if as_tensor else ("float16", "float32"))
    np.testing.assert_array_equal(np.asarray(placed.beauty)[:, 1:5, 2:7], beauty)


def _frame(layers: dict[str, LayerMap]) -> LoadedFrame:
    """A frame holding `layers` (view -> its map), of one size and brightness: all it differs in."""
    views = dict.fromkeys(layers)
    return LoadedFrame({view: FrameFeatures(beauty=np.zeros((3, 2, 2), np.float32)) for view in views},
                       None, layers, dict.fromkeys(views, (0, 0, 1, 1)), (0, 0, 1, 1),
                       dict.fromkeys(views, 1.0), None)


def test_a_neighbour_whose_channels_differ_is_no_context_naming_each_difference_per_view():
    """Every feature and --aov layer whose channels differ, in frame t's order then the
    neighbour's own layers, '(none)' for a feature a frame lacks (`LayerMap.differences`); a
    layer one frame lacks is no difference (`layers_lacking`)."""
    rgb = ("R", "G", "B")
    centre = _frame({"left": LayerMap(beauty=rgb, albedo=("albedo.R", "albedo.G", "albedo.B"),
                                      aovs=(("key", ("key.R", "key.G", "key.B")),)),
                     "right": LayerMap(beauty=rgb)})
    other = _frame({"left": LayerMap(beauty=rgb, normal=("N.X", "N.Y", "N.Z"),
                                     aovs=(("key", ("key.r", "key.g", "key.b")),
                                           ("rim", ("rim.R", "rim.G", "rim.B")))),
                    "right": LayerMap(beauty=rgb, depth=("Z",))})
    assert context_mismatch(other, centre, 4.0) == (
        "its channels differ (view left albedo (none) there, albedo.R,albedo.G,albedo.B here; "
        "view left normal N.X,N.Y,N.Z there, (none) here; view left aov key key.r,key.g,key.b there, "
        "key.R,key.G,key.B here; view right depth Z there, (none) here)")
    assert context_mismatch(_frame({"": LayerMap(beauty=rgb)}),
                            _frame({"": LayerMap(beauty=rgb, albedo=("a.R", "a.G", "a.B"))}), 4.0) == (
        "its channels differ (albedo (none) there, a.R,a.G,a.B here)")
    assert context_mismatch(centre, centre, 4.0) == ""


def test_a_neighbour_lacking_a_layer_is_context_and_names_the_layer_it_lacks():
    """A wildcard's light group left out of one frame's render (`--aov 'RGBA_lg*'`): that frame
    is still context, either way round, for the beauty and the layers it has; each frame is told
    the layers it lacks that the other has, per view."""
    rgb = ("R", "G", "B")
    key, rim = (("key", ("key.R", "key.G", "key.B")), ("rim", ("rim.R", "rim.G", "rim.B")))
    both = _frame({"left": LayerMap(beauty=rgb, aovs=(key, rim)), "right": LayerMap(beauty=rgb, aovs=(key,))})
    keyless = _frame({"left": LayerMap(beauty=rgb, aovs=(rim,)), "right": LayerMap(beauty=rgb, aovs=(rim,))})
    assert context_mismatch(keyless, both, 4.0) == context_mismatch(both, keyless, 4.0) == ""
    assert layers_lacking(keyless, both) == ["left aov key", "right aov key"]
    assert layers_lacking(both, keyless) == ["right aov rim"]
    assert layers_lacking(both, both) == []
