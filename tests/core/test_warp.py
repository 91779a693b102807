"""Motion warping follows the canonical motion convention."""

import torch

from vfxdenoise.core.warp import flows_from_motion, warp


def _ramp(shift: float, width: int = 32) -> torch.Tensor:
    xs = torch.arange(width, dtype=torch.float32) - shift
    return (xs * 0.1).expand(1, 1, 8, width).clone()


def test_constant_motion_aligns_previous_and_next_frames():
    # content moves right by 2 px per frame, so motion (to the previous frame) is -2 px in x
    motion = torch.zeros(1, 2, 8, 32)
    motion[:, 0] = -2.0
    flows = flows_from_motion({-1: motion, 0: motion, 1: motion, 2: motion}, back=2, forward=2)
    centre = _ramp(0.0)
    for offset in (-2, -1, 1, 2):
        warped, inside = warp(_ramp(2.0 * offset), flows[offset])
        valid = inside[0, 0].bool()
        assert torch.allclose(warped[0, 0][valid], centre[0, 0][valid], atol=1e-5), offset
        assert valid.sum() == 8 * (32 - 2 * abs(offset))


def test_zero_flow_is_identity():
    image = torch.rand(1, 3, 5, 7)
    warped, inside = warp(image, torch.zeros(1, 2, 5, 7))
    assert torch.allclose(warped, image) and inside.all()


def test_a_strided_warp_is_the_full_warp_at_every_strideth_pixel():
    torch.manual_seed(0)
    image, flow = torch.rand(2, 3, 21, 27), torch.randn(2, 2, 21, 27) * 4
    full, inside = warp(image, flow)
    strided, strided_inside = warp(image, flow[..., ::4, ::4], stride=4)
    assert strided.shape == (2, 3, 6, 7)
    assert torch.allclose(strided, full[..., ::4, ::4], atol=1e-6)
    assert torch.equal(strided_inside, inside[..., ::4, ::4]) and not inside.all()


def test_a_band_of_rows_warped_alone_is_that_band_of_the_whole_warp():
    torch.manual_seed(1)
    image, flow = torch.rand(2, 3, 21, 27), torch.randn(2, 2, 21, 27) * 4
    full, inside = warp(image, flow)
    for top, bottom in ((0, 5), (5, 13), (20, 21)):
        band, band_inside = warp(image, flow[..., top:bottom, :], top=top)
        assert torch.equal(band, full[..., top:bottom, :])
        assert torch.equal(band_inside, inside[..., top:bottom, :])
