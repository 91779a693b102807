"""What a run finds out about the whole shot before its first frame (the rest runs through the
engine: tests/core/test_engine.py, tests/core/test_motion_vectors.py, tests/core/test_exposure.py)."""

import logging

import numpy as np
import OpenImageIO as oiio
import pytest

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.io.exr import ExrImage, ExrPart, write_exr
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


def _multi_part(path, parts: dict[str, list[str]]) -> None:
    """A real multi-part EXR frame, one part per `parts` item (name -> its channels)."""
    written = []
    for name, channels in parts.items():
        spec = oiio.ImageSpec(8, 4, len(channels), oiio.HALF)
        spec.channelnames = tuple(channels)
        spec.attribute("oiio:subimagename", name)
        written.append(ExrPart(spec, np.full((4, 8, len(channels)), 0.5, np.float32)))
    write_exr(path, ExrImage(written))


def test_guides_not_found_and_a_beauty_taken_by_the_parts_order_are_warned_of_once(tmp_path, caplog):
    """A run says what it could not tell from the frames' names, once, naming the frame: a guide
    it goes without, a beauty chosen among parts by their order. Named (or `none`), no warning."""
    for frame in (1, 2):
        _multi_part(tmp_path / f"r.{frame:04d}.exr", {"main": ["R", "G", "B"], "key": ["R", "G", "B"],
                                                      "N": ["X", "Y", "Z"]})
    pattern = parse_pattern(str(tmp_path / "r.####.exr"))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, [1, 2], EngineConfig())
    albedo, order = caplog.messages
    assert albedo.startswith("r.0001.exr: no albedo layer found") and "other RGB layers: key" in albedo
    assert order.startswith("r.0001.exr: parts main, key hold bare R,G,B") and "--beauty key" in order
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, [1, 2], EngineConfig(layers={"albedo": "none", "beauty": "main"}))
    assert caplog.messages == []
