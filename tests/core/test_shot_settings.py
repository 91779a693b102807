"""What a run finds out about the whole shot before its first frame (the rest runs through the
engine: tests/core/test_engine.py, tests/core/test_motion_vectors.py, tests/core/test_exposure.py)."""

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.shot_settings import exposure_frames


def test_the_exposure_is_found_from_the_shots_first_window_whatever_the_run_reads():
    on_disk = list(range(1001, 1011))
    assert exposure_frames(on_disk, EngineConfig(), 2) == [1001, 1002, 1003, 1004, 1005]
    assert exposure_frames(on_disk[3:], EngineConfig(), 1) == [1004, 1005, 1006]
    # the render's own range decides, not the frames it has written yet
    assert exposure_frames([1003, 1004], EngineConfig(context_frames="1001-1100"), 1) == [1001, 1002, 1003]
    assert exposure_frames(on_disk, EngineConfig(exposure=4.0), 2) == []  # given: found from none
