"""Denoising one still image with a classic model: gray models on colour images, tiles, values
beyond the display range, BM3D's smallest image."""

import threading

import numpy as np
import pytest
import torch
from classic_data import one_torch_thread, pattern  # noqa: F401 (autouse fixture)
from torch import nn

from vfxdenoise.core.classic.image_denoise import (
    BM3D_BLOCK,
    bm3d_denoise,
    denoise_array,
    within_display_range,
)
from vfxdenoise.core.errors import ImageError, ModelError
from vfxdenoise.core.models.dncnn import DnCNN


def _dncnn(channels: int) -> DnCNN:
    """A small DnCNN in eval mode whose last layer is drawn, so it is no identity (it starts as one)."""
    torch.manual_seed(0)
    model = DnCNN(channels=channels, depth=4, features=8)
    nn.init.normal_(model.body[-1].weight, std=0.1)
    return model.eval()


def test_a_gray_model_denoises_a_colour_image_channel_by_channel():
    model, image = _dncnn(1), pattern(1, 3, 20, 24)
    out = denoise_array(model, image)
    assert out.shape == image.shape and np.abs(out - image).max() > 1e-3
    for channel in range(3):
        np.testing.assert_allclose(out[channel], denoise_array(model, image[channel]), atol=1e-5)


def test_tiles_do_not_change_the_result():
    model, image = _dncnn(3), pattern(2, 3, 48, 60)
    whole = denoise_array(model, image, tile=None)
    np.testing.assert_allclose(denoise_array(model, image, tile=16), whole, atol=1e-5)


def test_values_beyond_the_display_range_are_added_back_undenoised():
    image = np.array([[[0.2, 3.0], [-0.5, 1.0]]], np.float32)
    out, beyond = within_display_range(lambda clipped: np.full_like(clipped, 0.5), image)
    np.testing.assert_allclose(out, [[[0.5, 2.5], [0.0, 0.5]]])
    assert beyond == 2


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 7, 40)])
def test_an_image_too_small_for_bm3d_is_refused_naming_it(shape):
    """An 8x8 image killed the process inside the bm3d package."""
    with pytest.raises(ImageError, match=rf"scan.png is {shape[2]}x{shape[1]} pixels, too small for BM3D"):
        bm3d_denoise(np.zeros(shape, np.float32), 0.1, "scan.png")
    assert min(shape[1:]) <= BM3D_BLOCK


def test_a_model_in_training_mode_is_refused_and_left_as_it_was():
    """denoise_array switched the model to eval and back around each call, so threads sharing one
    model flipped it under each other's calls (a resnet-sd's stochastic depth on mid-run)."""
    model, image = _dncnn(1), pattern(3, 1, 16, 16)
    model.train()
    with pytest.raises(ModelError, match=r"the DnCNN model is in training mode: call model.eval\(\)"):
        denoise_array(model, image)
    assert all(module.training for module in model.modules())
    model.eval()
    model.body[0].train()
    with pytest.raises(ModelError, match=r"1 of the DnCNN model's modules are in training mode"):
        denoise_array(model, image)


def test_threads_sharing_a_model_get_the_same_result():
    model, image = _dncnn(3), pattern(4, 3, 40, 40)
    expected = denoise_array(model, image, tile=None)
    results: list[np.ndarray] = []

    def work() -> None:
        results.extend(denoise_array(model, image, tile=16) for _ in range(5))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 15 and not model.training
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-5)
