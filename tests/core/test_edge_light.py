"""An element's edge holds no more light than its denoised alpha covers (`edge_light`)."""

import numpy as np

from vfxdenoise.core.edge_light import hold_to_coverage


def _edge(light_at_edge: float):
    """A 6x8 frame: nothing in columns 0-1, partly covered (alpha 0.5) in 2, covered in 3-7, of
    colour 0.5 in the render; the denoised beauty `light_at_edge` in column 2, 0.5 beyond."""
    alpha = np.zeros((1, 6, 8), np.float32)
    alpha[:, :, 2] = 0.5
    alpha[:, :, 3:] = 1.0
    noisy = np.repeat(0.5 * alpha, 3, axis=0)
    beauty = np.repeat(0.5 * (alpha > 0), 3, axis=0).astype(np.float32)
    beauty[:, :, 2] = light_at_edge
    return beauty, alpha, noisy


def test_light_beyond_the_cover_is_scaled_down_in_the_beauty_and_each_layer_alike():
    beauty, alpha, noisy = _edge(0.4)
    layer = beauty / 4
    assert hold_to_coverage([beauty, layer], alpha, noisy, alpha) == 6
    np.testing.assert_allclose(beauty[:, :, 2], 0.25)
    np.testing.assert_allclose(layer, beauty / 4)
    np.testing.assert_array_equal(beauty[:, :, 3:], 0.5)


def test_a_lamps_infinite_light_and_a_non_finite_render_leave_the_pixel_as_it_is():
    """+Inf kept from a float render's lamp stays +Inf (scaled, it would come out NaN); a render
    whose light or alpha is NaN around the pixel gives no bound from it, the opaque one holding."""
    beauty, alpha, noisy = _edge(0.4)
    beauty[:, 0, 2] = np.inf
    noisy[:, 3, 1] = np.nan
    assert hold_to_coverage([beauty], alpha, noisy, alpha) == 5
    np.testing.assert_array_equal(beauty[:, 0, 2], np.inf)
    assert np.isfinite(beauty[:, 1:]).all()
    np.testing.assert_allclose(beauty[:, 1:, 2], 0.25)


def test_edges_at_the_frames_border_read_no_pixel_beyond_it():
    """The partial pixels on the frame's first and last rows, and an edge in the last column,
    bounded by the pixels inside the frame alone."""
    beauty, alpha, noisy = _edge(0.4)
    flipped = [np.ascontiguousarray(array[:, :, ::-1]) for array in (beauty, alpha, noisy)]
    for frame in ((beauty, alpha, noisy), flipped):
        assert hold_to_coverage([frame[0]], frame[1], frame[2], frame[1]) == 6
    np.testing.assert_allclose(flipped[0][:, :, 5], 0.25)
