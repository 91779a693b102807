"""Tiled inference equals untiled inference (no seams), at float precision."""

import pytest
import torch

from vfxdenoise.core.models import build_model
from vfxdenoise.core.tiling import run_tiled, run_with_oom_retry, tile_for_budget, tile_run


@pytest.mark.parametrize("arch, config", [("temporal-unet", {}), ("temporal-kpn", {"demodulate": True}),
                                          ("temporal-kpn", {"coarse_levels": 2})])
def test_tiles_have_no_seams(arch, config, torch_threads):
    # One thread: 21 calls of the default-size network on ~200x264 px. Beside the suite's other
    # processes on 2 cores, two threads' waits spun for 90 s of CPU (the three cases) where one
    # thread took 5 s.
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = build_model(arch, **config).eval()
    for head in [model.head, *getattr(model, "coarse_heads", [])]:
        torch.nn.init.normal_(head.weight, std=0.05)  # trained-like: not the untrained filter
    x = torch.rand(1, model.layout.in_channels, 200, 264) * 4
    with torch.inference_mode():
        whole = model(x)
        tiled = run_tiled(model, x, tile=64, multiple=model.multiple)
    assert tiled.shape == whole.shape
    torch.testing.assert_close(tiled, whole, rtol=1e-4, atol=1e-5)


def test_out_of_memory_halves_the_tile_until_it_fits():
    calls = []

    def fussy(x):
        calls.append(x.shape[-1])
        if x.shape[-1] > 400:
            raise torch.OutOfMemoryError("simulated")
        return x[:, :3]

    x = torch.rand(1, 4, 256, 1024)
    out, tile = run_with_oom_retry(fussy, x, tile=None, multiple=16)
    assert tile == 128 and out.shape == (1, 3, 256, 1024)
    assert calls[0] == 1024


def test_the_cpu_running_out_of_memory_halves_the_tile_as_a_gpu_does():
    def greedy(x):
        if x.shape[-1] > 400:
            torch.empty(2**58)  # beyond any address space: the CPU allocator's own error
        return x[:, :3]

    out, tile = run_with_oom_retry(greedy, torch.rand(1, 4, 256, 1024), tile=None, multiple=16)
    assert tile == 128 and out.shape == (1, 3, 256, 1024)


def test_tile_for_budget_grows_with_the_budget():
    small = tile_for_budget(1 * 2**30, 16, half=True)
    large = tile_for_budget(4 * 2**30, 16, half=True)
    assert small % 16 == 0 and large > small


def test_the_tile_a_frame_runs_in_is_rounded_to_the_multiple_and_none_where_it_fits_one():
    """What the summary reports as the tile used (`Denoiser.tiles_run`)."""
    assert tile_run(None, 1080, 1920, 16) is None
    assert tile_run(2048, 1080, 1920, 16) is None  # the whole frame in one tile: run whole
    assert tile_run(1080, 1080, 1920, 16) == 1072
    assert tile_run(128, 1080, 1920, 16) == 128
