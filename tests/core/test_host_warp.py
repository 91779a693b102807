"""host_warp: NumPy's strided bilinear warp samples as warp.warp (PyTorch's grid_sample) does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vfxdenoise.core.host_warp import warp_at_stride
from vfxdenoise.core.warp import warp


@pytest.mark.parametrize(("height", "width", "stride"), [(21, 27, 1), (21, 27, 4), (64, 40, 3), (1, 9, 1)])
def test_the_warp_is_torchs(height, width, stride):
    """The same samples as `warp.warp`, with flows reaching past every edge, to within what
    PyTorch's positions lose to float32 (made in [-1, 1] and back: 2e-6 of a pixel at x = 20), and
    the same pixels in bounds but where a position lies within that of half a pixel out."""
    rng = np.random.default_rng(height * width * stride)
    image = rng.random((3, height, width), dtype=np.float32)
    flow = (rng.standard_normal((2, height, width)) * 6).astype(np.float32)[:, ::stride, ::stride].copy()
    ours, inside = warp_at_stride(np.moveaxis(image, 0, -1).copy(), flow, stride)
    theirs, theirs_inside = warp(torch.from_numpy(image)[None], torch.from_numpy(flow)[None], stride)
    np.testing.assert_allclose(np.moveaxis(ours, -1, 0), theirs[0].numpy(), rtol=0, atol=1e-5)
    rows, columns = np.mgrid[0:height:stride, 0:width:stride]
    tie = (np.abs((columns + flow[0]) % 1 - 0.5) < 1e-4) | (np.abs((rows + flow[1]) % 1 - 0.5) < 1e-4)
    assert np.array_equal(inside[~tie], theirs_inside[0, 0].numpy().astype(bool)[~tie])
    assert not inside.all() and inside.any()


def test_whole_pixel_flows_move_pixels_exactly():
    image = np.arange(5 * 7 * 2, dtype=np.float32).reshape(5, 7, 2)
    flow = np.stack([np.full((5, 7), 2.0, np.float32), np.full((5, 7), -1.0, np.float32)])
    warped, inside = warp_at_stride(image, flow)
    assert np.array_equal(warped[1:, :5], image[:-1, 2:])
    assert inside[1:, :5].all() and not inside[0].any() and not inside[:, 5:].any()


def test_a_position_half_a_pixel_out_is_in_bounds_where_it_rounds_to_an_even_pixel():
    """As grid_sample's nearest sampling rounds: -0.5 to 0, in; 6.5 to 6 in a frame 7 wide, in;
    5.5 to 6 in one 6 wide, out; the value there the edge pixel's (border)."""
    for width, offset, within in ((7, -0.5, True), (7, 0.5, True), (6, 0.5, False)):
        image = np.arange(width, dtype=np.float32).reshape(1, width, 1)
        column = 0 if offset < 0 else width - 1
        flow = np.zeros((2, 1, width), np.float32)
        flow[0, 0, column] = offset
        warped, inside = warp_at_stride(np.repeat(image, 3, axis=0), np.repeat(flow, 3, axis=1))
        assert inside[1, column] == within and warped[1, column, 0] == column
