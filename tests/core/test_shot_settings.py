"""What a run finds out about the whole shot before its first frame (the rest runs through the
engine: tests/core/test_engine.py, tests/core/test_motion_vectors.py, tests/core/test_exposure.py)."""

import numpy as np
import pytest

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.shot_settings import check_layers, exposure_frames


def test_the_exposure_is_found_from_the_shots_first_window_whatever_the_run_reads():
    on_disk = list(range(1001, 1011))
    assert exposure_frames(on_disk, EngineConfig(), 2) == [1001, 1002, 1003, 1004, 1005]
    assert exposure_frames(on_disk[3:], EngineConfig(), 1) == [1004, 1005, 1006]
    # the render's own range decides, not the frames it has written yet
    assert exposure_frames([1003, 1004], EngineConfig(context_frames="1001-1100"), 1) == [1001, 1002, 1003]
    assert exposure_frames(on_disk, EngineConfig(exposure=4.0), 2) == []  # given: found from none


def _key(value: float = 0.25) -> dict:
    return {f"key.{c}": np.full((32, 48), value, np.float32) for c in "RGB"}


def test_layer_options_the_first_frame_lacks_are_refused_from_its_header(sequence_factory):
    """Once, naming the frame, before the model loads: the probes of the exposure each warned of
    it first (`--view left`: five warnings, then the error)."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4)))
    with pytest.raises(ChannelError, match=r"--view left: no such view in .*render\.0002\.exr"):
        check_layers(pattern, [2, 3], EngineConfig(views=("left",)))
    with pytest.raises(ChannelError, match=r"--aov key: no layer 'key' in .*render\.0001\.exr"):
        check_layers(pattern, [1, 2, 3], EngineConfig(aovs=("key",), keep_going=True))
    check_layers(pattern, [1, 2], EngineConfig(layers={"albedo": "albedo"}))


def test_a_frame_that_lacks_a_layer_is_left_to_fail_alone_with_keep_going(sequence_factory):
    """README: with --keep-going, a frame without a named layer fails alone; the others map."""
    sequence_factory(frames=[1])
    pattern = parse_pattern(sequence_factory(frames=[2, 3], extra=_key()))
    check_layers(pattern, [1, 2, 3], EngineConfig(aovs=("key",), keep_going=True))
    with pytest.raises(ChannelError, match=r"render\.0001\.exr"):
        check_layers(pattern, [1, 2, 3], EngineConfig(aovs=("key",)))
    pattern.path(1).write_bytes(b"not an exr")  # unreadable: passed over, the run reports it
    check_layers(pattern, [1, 2, 3], EngineConfig(aovs=("key",)))
