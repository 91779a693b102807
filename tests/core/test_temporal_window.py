"""How far a frame's temporal window reaches."""

from vfxdenoise.core.temporal_window import window_reach


def test_windows_reach_further_in_at_a_shots_ends():
    assert window_reach(2, past=10, future=10) == (2, 2)
    assert window_reach(2, past=0, future=10) == (0, 4)  # first frame: t+1..t+4
    assert window_reach(2, past=1, future=10) == (1, 3)
    assert window_reach(2, past=10, future=0) == (4, 0)
    assert window_reach(2, past=0, future=2) == (0, 2)  # a 3-frame shot has no more
