"""The network input layout: channel count, repeated slots, presence flags."""

import numpy as np
import torch

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.network_input import InputLayout, build_input


def _frame(value: float, aux: bool = True) -> FrameFeatures:
    plane = np.full((3, 8, 8), value, np.float32)
    return FrameFeatures(
        beauty=plane,
        albedo=np.full((3, 8, 8), 0.5, np.float32) if aux else None,
        normal=np.zeros((3, 8, 8), np.float32) if aux else None,
        motion=np.zeros((2, 8, 8), np.float32) if aux else None,
    )


def test_channel_count_and_order():
    layout = InputLayout(temporal_radius=2)
    window = {d: _frame(float(d + 10)) for d in range(-2, 3)}
    x = build_input(window, layout)
    assert x.shape == (1, layout.in_channels, 8, 8)
    beauty_means = [x[0, 3 * i].mean().item() for i in range(5)]
    assert beauty_means == [10.0, 9.0, 8.0, 11.0, 12.0]  # t, t-1, t-2, t+1, t+2


def test_slots_past_the_sequence_end_repeat_a_frame_and_are_marked_inconsistent():
    layout = InputLayout(temporal_radius=2)
    x = build_input({0: _frame(1.0), 1: _frame(2.0)}, layout)
    consistency = x[0, layout.beauty_channels:layout.beauty_channels + 4].mean(dim=(1, 2))
    # slots: t-1, t-2 (both repeat t), t+1 (real), t+2 (repeats t+1)
    assert consistency.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_missing_aux_features_clear_their_flags():
    layout = InputLayout(temporal_radius=1)
    x = build_input({0: _frame(1.0, aux=False)}, layout)
    assert x[0, -3:].sum().item() == 0.0
    y = build_input({0: _frame(1.0)}, layout)
    assert y[0, -3:].mean(dim=(1, 2)).tolist() == [1.0, 1.0, 1.0]


def test_features_moved_to_a_device_give_the_same_input():
    rng = np.random.default_rng(3)
    window = {d: FrameFeatures(beauty=rng.gamma(2.0, 0.5, (3, 8, 8)).astype(np.float32),
                               albedo=rng.uniform(0, 1, (3, 8, 8)).astype(np.float32),
                               normal=rng.uniform(-1, 1, (3, 8, 8)).astype(np.float32),
                               motion=rng.normal(0, 1, (2, 8, 8)).astype(np.float32))
              for d in range(-2, 3)}
    layout = InputLayout(temporal_radius=2)
    moved = {d: f.to("cpu") for d, f in window.items()}
    assert all(isinstance(v, torch.Tensor) for v in (moved[0].beauty, moved[0].motion))
    assert moved[0].depth is None
    assert torch.equal(build_input(window, layout), build_input(moved, layout))
