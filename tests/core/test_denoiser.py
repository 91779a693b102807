"""The model on its device over one window (`Denoiser`, `denoised_beauty`): the input built whole or
tile by tile from host memory, tiling, the out-of-memory fallback, the results cleaned on their way
to host memory; windows read from small real EXR sequences."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
import torch
from exr_sequences import beauty_of, clean_frame, with_light_groups
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from vfxdenoise.core.denoiser import Denoiser, denoised_beauty
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.errors import DeviceError
from vfxdenoise.core.features import FrameFeatures, features_from_exr
from vfxdenoise.core.io.aovs import resolve_layers
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.feature_table import NETWORK_FEATURES
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.models.temporal_unet import TemporalUNet
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.runtime.device import cpu_has_bfloat16
from vfxdenoise.core.runtime.host_cpus import cpu_threads_for
from vfxdenoise.core.runtime.host_memory import FrameCost, HostPlan
from vfxdenoise.core.sanitize import MAX_RADIANCE
from vfxdenoise.core.slot_plan import plan_slots
from vfxdenoise.core.tiling import MIN_TILE, tile_for_budget
from vfxdenoise.core.weights import RENDER, LoadedModel, load_weights

CPU = torch.device("cpu")


def _window(pattern: str, centre: int, offsets, aovs: tuple[str, ...] = ()) -> dict[int, FrameFeatures]:
    """The features of frames `centre + offset` of `pattern` as a run reads them (and its `aovs`
    layers), keyed by offset: the window `denoised_beauty` is given."""
    sequence = parse_pattern(pattern)
    window = {}
    for offset in offsets:
        image = read_exr(sequence.path(centre + offset))
        layers = resolve_layers(image.channel_names, aovs=aovs)
        window[offset] = features_from_exr(image, layers, NETWORK_FEATURES)[0]
    return window


def _denoiser(loaded: LoadedModel | None = None, **settings) -> Denoiser:
    """A CPU Denoiser in float32 (the same result on every CPU) of `loaded`, else of the shipped
    default model; `settings` are EngineConfig's."""
    loaded = loaded or load_weights("default", track=RENDER)
    return Denoiser(loaded, CPU, EngineConfig(device="cpu", precision="float32", **settings))


def _tiled_host_plan(width: int, height: int) -> HostPlan:
    """A CPU run's plan whose budget leaves no room beside the frames: tiles of MIN_TILE px."""
    cost = FrameCost(width, height, feature_bytes_per_pixel=26, stored_bytes_per_pixel=32,
                     thread_bytes_per_pixel=32, layers=0, radius=2, read_ahead=1, threads=2, frames=5)
    return HostPlan(cost.held(1, False), cost, read_ahead=1, keep_images=False, tiled=True)


@pytest.mark.parametrize("tiling", ["--tile", "host memory plan"])
def test_tiles_built_from_host_memory_equal_the_whole_frame(sequence_factory, tiling):
    """Frame t's input built tile by tile over the frames cropped to each tile (InputByRegion),
    each tile's network run on its own: the whole frame's result, for the shipped model on a frame
    wider than a tile and its overlap."""
    pattern = sequence_factory(frames=range(1, 6), height=32, width=288, motion=3.0)
    window = _window(pattern, 3, range(-2, 3))
    whole = denoised_beauty(_denoiser(), window, None).result()
    if tiling == "--tile":
        tiled = denoised_beauty(_denoiser(tile=96), window, None).result()
    else:
        plan = _tiled_host_plan(288, 32)
        assert plan.tile(margin=8, multiple=16) == MIN_TILE < 288
        tiled = denoised_beauty(_denoiser(), window, plan).result()
    assert tiled.shape == whole.shape == (3, 32, 288) and tiled.dtype == np.float32
    np.testing.assert_allclose(tiled, whole, rtol=1e-3, atol=1e-3)


def test_layers_tiled_from_host_memory_equal_the_whole_frames_layers(sequence_factory):
    """With `--aov` layers the beauty's and the layers' aligned frames go through the tiles
    together: each layer's result, after the beauty's, is the whole frame's."""
    pattern = sequence_factory(frames=range(1, 4), height=16, width=256, motion=2.0)
    with_light_groups(pattern, range(1, 4))
    window = _window(pattern, 2, range(-1, 2), aovs=("key", "fill"))
    whole = denoised_beauty(_denoiser(), window, None, radiance=(False, True)).result()
    tiled = denoised_beauty(_denoiser(tile=96), window, None, radiance=(False, True)).result()
    assert whole.shape == tiled.shape == (9, 16, 256)  # beauty, key, fill
    np.testing.assert_allclose(tiled, whole, rtol=1e-3, atol=1e-3)
    assert denoised_beauty(_denoiser(), window, None).result().shape == (3, 16, 256)  # none asked


def _held_out_window(pattern: str, frames, centre: int) -> dict[int, FrameFeatures]:
    """`pattern`'s frames with a holdout (alpha 0, beauty 0; guides as rendered) 12 px wide moving
    4 px a frame over the pan, read as `seq --alpha denoise` reads them: the alpha as the last
    layer, and held for `neighbour_coverage`."""
    sequence = parse_pattern(pattern)
    window = {}
    for index, frame in enumerate(frames):
        image = read_exr(sequence.path(frame))
        alpha = np.ones((1, image.height, image.width), np.float32)
        alpha[:, 4:12, 100 + 4 * index:112 + 4 * index] = 0.0
        image.set(["A"], alpha)
        image.set(["R", "G", "B"], image.get(["R", "G", "B"]) * alpha)
        layers = resolve_layers(image.channel_names)
        features = features_from_exr(image, layers, NETWORK_FEATURES, alpha_layer=True)[0]
        window[frame - centre] = replace(features, alpha=alpha)
    return window


def test_the_alphas_pass_is_the_rules_own_whole_or_tiled_and_the_beauty_leaves_out_the_holdout(
        sequence_factory):
    """A holdout moving over the shot: its denoised alpha (`--alpha denoise`, the last layer) is
    the one denoised with no neighbour left out (the frames' alpha not held), bit for bit, whole
    and tiled; the beauty leaves out the neighbours that show the holdout where t does not, and
    tiled it is the whole frame's."""
    pattern = sequence_factory(frames=range(1, 4), height=16, width=256, motion=2.0)
    window = _held_out_window(pattern, range(1, 4), 2)
    unheld = {offset: replace(frame, alpha=None) for offset, frame in window.items()}
    results = {(held, tile): denoised_beauty(_denoiser(tile=tile), frames, None, radiance=(True,)).result()
               for held, frames in (("held", window), ("unheld", unheld)) for tile in (None, 96)}
    whole = results["held", None]
    assert whole.shape == (6, 16, 256)
    np.testing.assert_array_equal(whole[3:], results["unheld", None][3:])
    np.testing.assert_array_equal(results["held", 96][3:], results["unheld", 96][3:])
    assert not np.allclose(whole[:3], results["unheld", None][:3], atol=1e-3)
    np.testing.assert_allclose(results["held", 96], whole, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(("offsets", "size"), [
    ((0,), (37, 53)), ((0, 1), (48, 64)), ((0, 1, 2, 3, 4), (37, 53)), ((-2, -1, 0, 1, 2), (48, 64)),
    ((-4, -3, -2, -1, 0), (21, 70))],
    ids=["alone", "two-frame shot", "first frame", "mid-shot", "last frame"])
def test_windows_of_any_length_and_frames_of_any_size_are_denoised(sequence_factory, offsets, size):
    """A window holds frame t alone (its own pixels stand in), a shot's few frames, or up to 2k
    frames to one side at a shot's ends; frames need not be a multiple of the model's size
    multiple. Each gives frame t's size, finite, and nearer the clean frame than the noise."""
    height, width = size
    pattern = sequence_factory(frames=range(1, 10), height=height, width=width)
    window = _window(pattern, 5, offsets)
    out = denoised_beauty(_denoiser(), window, None, frame=5).result()
    assert out.shape == (3, height, width) and out.dtype == np.float32
    assert np.isfinite(out).all()
    clean = clean_frame(height, width, shift=4.0)  # frame 5 of the pan, 1 px a frame
    noisy_error = ((window[0].beauty - clean) ** 2).mean()
    assert ((out - clean) ** 2).mean() < noisy_error / 2


def test_a_stopped_denoise_ends_before_the_networks_next_layer_and_only_inside_the_block(
        sequence_factory, tiny_weights):
    """A run's cancel stops the frame being denoised at once rather than after its whole network
    (`Denoiser.stoppable`): here the stop is set as the network's first convolution ends, and no
    layer runs after it. What is raised is no Exception, which a kernel's fallback or the
    out-of-memory retry would take for the frame's failure. Out of the block the model is as it
    was: a caller runs it again, the event set or not, through all its layers."""
    denoiser = _denoiser(load_weights(tiny_weights))
    window = _window(sequence_factory(frames=range(1, 6), height=32, width=32), 3, range(-2, 3))
    layers = [m for m in denoiser.model.modules() if not list(m.children())]
    ran: list[torch.nn.Module] = []
    for layer in layers:
        layer.register_forward_hook(lambda module, inputs, output: ran.append(module))
    stop = threading.Event()
    with denoiser.stoppable(stop):
        layers[0].register_forward_hook(lambda module, inputs, output: stop.set())
        with pytest.raises(BaseException) as raised:
            denoised_beauty(denoiser, window, None, frame=3)
        assert not isinstance(raised.value, Exception) and stop.is_set()
        assert ran == [layers[0]]
    ran.clear()
    assert np.isfinite(denoised_beauty(denoiser, window, None, frame=3).result()).all()
    assert len(ran) > 10 and ran[0] is layers[0]


@pytest.mark.parametrize("tile", [None, 96], ids=["whole", "tiled"])
def test_a_nan_or_inf_reaching_the_network_never_reaches_the_result(sequence_factory, tile):
    """Features are sanitised as they are read; should a NaN or Inf still reach the network's
    input, the result is finite and within half-float range all the same."""
    pattern = sequence_factory(frames=range(1, 6), height=32, width=192)
    window = _window(pattern, 3, range(-2, 3))
    denoiser = _denoiser(tile=tile)
    layout = denoiser.model.layout
    x = build_input(window, layout, plan=plan_slots(window, layout))
    x[0, :, 20, 100] = float("nan")
    x[0, layout.slot_beauty(0), 30, 150] = float("inf")
    out = denoiser(x, frame=3).result()
    assert out.shape == (3, 32, 192) and out.dtype == np.float32
    assert np.isfinite(out).all() and 0.0 <= out.min() and out.max() <= MAX_RADIANCE


class _Emits(TemporalUNet):
    """The tiny network whose result holds `values` in its first pixels: a model gone wrong."""

    def __init__(self, values: list[float], **config):
        super().__init__(**config)
        self.values = values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        y[0, 0, 0, :len(self.values)] = torch.tensor(self.values, dtype=y.dtype)
        return y


def test_a_results_nan_and_inf_are_cleaned_to_black_and_the_half_float_maximum(sequence_factory,
                                                                             tiny_weights):
    """NaN and -Inf become black, +Inf and values beyond half floats the half-float maximum,
    negatives black, so outputs stored as half hold neither NaN nor Inf."""
    tiny = load_weights(tiny_weights)
    model = _Emits([float("nan"), float("inf"), float("-inf"), 1e6, -3.0, 0.5], **tiny.config)
    model.load_state_dict(tiny.model.state_dict())
    window = _window(sequence_factory(frames=range(1, 4)), 2, range(-1, 2))
    out = denoised_beauty(_denoiser(LoadedModel(model.eval(), tiny.architecture, tiny.config)),
                          window, None).result()
    assert out[0, 0, :6].tolist() == [0.0, MAX_RADIANCE, 0.0, MAX_RADIANCE, 0.0, 0.5]
    assert np.isfinite(out).all() and out.dtype == np.float32


class _PretendDevice(TemporalUNet):
    """The tiny network on a pretend device too small for inputs of more than `limit` pixels:
    `fail` (which raises) is called for those, as the device fails them; the sizes it ran kept."""

    def __init__(self, limit: int, fail: Callable[[], None], **config):
        super().__init__(**config)
        self.limit, self.fail = limit, fail
        self.ran: list[tuple[int, int]] = []
        self.refused = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] * x.shape[-1] > self.limit:
            self.refused += 1
            self.fail()
        self.ran.append(tuple(x.shape[-2:]))
        return super().forward(x)


def _gpu_full() -> None:
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def _cpu_full() -> None:
    torch.empty(2**58)  # beyond any address space: the CPU allocator's own RuntimeError


def _a_bug() -> None:
    raise ValueError("a bug in the network")


def _on_pretend_device(tiny_weights, limit: int, fail: Callable[[], None]) -> LoadedModel:
    tiny = load_weights(tiny_weights)
    model = _PretendDevice(limit, fail, **tiny.config)
    model.load_state_dict(tiny.model.state_dict())
    return LoadedModel(model.eval(), tiny.architecture, tiny.config)


@pytest.mark.parametrize("fail", [_gpu_full, _cpu_full], ids=["CUDA", "CPU allocator"])
def test_out_of_memory_halves_the_tile_and_later_frames_start_from_it(sequence_factory, tiny_weights,
                                                                       caplog, fail):
    """320x32 does not fit, its 160 px tiles with their 128 px overlap (288x32) do: the same
    result as the whole frame, and the next frame goes straight to the tile that worked."""
    window = _window(sequence_factory(frames=range(1, 6), height=32, width=320), 3, range(-2, 3))
    whole = denoised_beauty(_denoiser(load_weights(tiny_weights)), window, None).result()
    loaded = _on_pretend_device(tiny_weights, limit=9_500, fail=fail)
    denoiser = _denoiser(loaded)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.tiling"):
        first = denoised_beauty(denoiser, window, None, frame=3).result()
        assert caplog.messages == ["out of device memory; retrying with 160 px tiles"]
        assert denoiser.tile == 160 and loaded.model.refused == 1
        second = denoised_beauty(denoiser, window, None, frame=4).result()
    assert len(caplog.messages) == 1 and loaded.model.refused == 1  # no whole frame tried again
    assert loaded.model.ran == [(32, 288)] * 4
    np.testing.assert_allclose(first, whole, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(second, first, rtol=1e-3, atol=1e-4)  # built by region: rounding


@pytest.mark.parametrize("fail", [_gpu_full, _cpu_full], ids=["CUDA", "CPU allocator"])
def test_out_of_memory_at_the_smallest_tile_names_the_frame_and_what_to_do(sequence_factory, tiny_weights,
                                                                            fail):
    window = _window(sequence_factory(frames=range(1, 4), height=32, width=320), 2, range(-1, 2))
    denoiser = _denoiser(_on_pretend_device(tiny_weights, limit=100, fail=fail))
    with pytest.raises(DeviceError, match=r"^out of cpu memory on frame 7 \(320x32\) even with 128 px "
                                          r"tiles; free memory \(other jobs\?\), or run on a machine "
                                          r"with more$") as error:
        denoised_beauty(denoiser, window, None, frame=7)
    assert isinstance(error.value.__cause__, (torch.OutOfMemoryError, RuntimeError))
    assert denoiser.model.refused == 3  # whole, 160 px and 128 px tiles


def test_an_error_other_than_memory_is_raised_as_it_is_and_not_retried(sequence_factory, tiny_weights):
    window = _window(sequence_factory(frames=range(1, 4), height=32, width=320), 2, range(-1, 2))
    denoiser = _denoiser(_on_pretend_device(tiny_weights, limit=100, fail=_a_bug))
    with pytest.raises(ValueError, match="a bug in the network"):
        denoised_beauty(denoiser, window, None, frame=7)
    assert denoiser.model.refused == 1 and denoiser.tile is None


def test_a_cpu_run_says_its_threads_and_precision(tiny_weights, monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # as the command and in-process runs set it
    loaded = load_weights(tiny_weights)
    assert _denoiser(loaded, cpu_threads=1).describe() == "cpu (1 thread), float32"
    assert _denoiser(loaded, cpu_threads=3).describe() == "cpu (3 threads), float32"
    auto = Denoiser(loaded, CPU, EngineConfig(device="cpu", cpu_threads=2))
    bfloat16 = ", convolutions in bfloat16" if cpu_has_bfloat16() else ""
    assert auto.describe() == f"cpu (2 threads), float32{bfloat16}"
    assert (auto.dtype, auto.input_device, auto.input_dtype) == (torch.float32, CPU, torch.float32)


def test_a_cpu_run_says_how_its_threads_wait_where_they_do_not_sleep(tiny_weights, monkeypatch):
    """A host that loaded torch before an in-process run could not have it set (`openmp`)."""
    loaded = load_weights(tiny_weights)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    unset = "cpu (2 threads, spinning while they wait: OMP_WAIT_POLICY unset), float32"
    assert _denoiser(loaded, cpu_threads=2).describe() == unset
    assert _denoiser(loaded, cpu_threads=1).describe() == "cpu (1 thread), float32"  # waits for none
    monkeypatch.setenv("OMP_WAIT_POLICY", "active")
    assert _denoiser(loaded, cpu_threads=2).describe() == "cpu (2 threads, OMP_WAIT_POLICY=ACTIVE), float32"


def test_a_denoiser_sets_pytorchs_threads_only_inside_its_settings_block(tiny_weights, torch_threads):
    """A Denoiser is built before a run's checks pass: building one set the threads of the whole
    process, where a refused run (or a host that only asked what it would run on) left them set."""
    torch.set_num_threads(2)
    denoiser = _denoiser(load_weights(tiny_weights), cpu_threads=1)
    assert torch.get_num_threads() == 2
    with denoiser.settings():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_a_gpu_memory_budget_leaves_a_cpu_run_on_whole_frames(tiny_weights):
    """--max-gpu-mem bounds a GPU: a CPU run keeps whole frames (its own budget is --max-mem)."""
    denoiser = _denoiser(load_weights(tiny_weights), max_gpu_mem_gb=0.05)
    assert denoiser.tile is None and denoiser.input_device == CPU


def test_tiled_run_matches_untiled(sequence_factory, tmp_path, tiny_weights):
    pattern = sequence_factory(frames=range(1, 4), height=80, width=192)  # two tiles of the least side
    whole = str(tmp_path / "a" / "o.####.exr")
    tiled = str(tmp_path / "b" / "o.####.exr")
    denoise_sequence(pattern, whole, config=EngineConfig(model=str(tiny_weights), device="cpu"))
    denoise_sequence(pattern, tiled,
                     config=EngineConfig(model=str(tiny_weights), device="cpu", tile=MIN_TILE))
    # outputs are half floats: allow one half-float step
    np.testing.assert_allclose(beauty_of(tiled, 2), beauty_of(whole, 2), rtol=2e-3, atol=1e-3)


def test_aov_layers_tiled_match_untiled(sequence_factory, tmp_path):
    pattern = sequence_factory(frames=range(1, 4), height=80, width=192)
    with_light_groups(pattern, range(1, 4))
    outputs = {}
    for tile in (None, MIN_TILE):
        folder = tmp_path / f"tile{tile}"
        summary = denoise_sequence(pattern, str(folder / "o.####.exr"), config=EngineConfig(
            model="default", device="cpu", aovs=("key",), tile=tile))
        outputs[tile] = read_exr(summary.output_pattern.path(2)).get(["key.R", "key.G", "key.B"])
    np.testing.assert_allclose(outputs[MIN_TILE], outputs[None], rtol=1e-4, atol=1e-4)


def test_bfloat16_convolutions_stay_within_rounding_of_float32(sequence_factory, tmp_path, monkeypatch):
    # The shipped model (an untrained one gives the same output whatever its convolutions compute).
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # as the command has its threads wait: unsaid
    pattern = sequence_factory(frames=range(1, 4), height=48, width=64)
    outputs, devices = {}, {}
    for precision in ("float32", "auto"):
        out = str(tmp_path / precision / "o.####.exr")
        summary = denoise_sequence(pattern, out, config=EngineConfig(device="cpu", precision=precision))
        outputs[precision], devices[precision] = np.log1p(beauty_of(out, 2)), summary.device
    difference = np.abs(outputs["auto"] - outputs["float32"])
    threads = cpu_threads_for(CPU)
    cpu = f"cpu ({threads} thread{'s' if threads > 1 else ''})"
    assert devices["float32"] == f"{cpu}, float32"
    if cpu_has_bfloat16():  # auto ran the convolutions in bfloat16
        assert devices["auto"] == f"{cpu}, float32, convolutions in bfloat16"
        assert 0 < difference.mean() < 2e-3 and difference.max() < 0.05
    else:
        assert devices["auto"] == f"{cpu}, float32" and difference.max() == 0


CUDA_ONLY = pytest.mark.skipif(not torch.cuda.is_available(),
                               reason="needs a CUDA GPU: benchmarks/gpu_check.sh runs it on a lent machine")


@CUDA_ONLY
def test_a_gpu_memory_budget_keeps_the_input_in_host_memory_and_tiles_it_onto_the_gpu(sequence_factory):
    """With --max-gpu-mem the input is built in float32 in host memory, tile by tile, and only
    the tiles visit the GPU; results come back through pinned memory: the whole frame's on the
    GPU, within half precision."""
    pattern = sequence_factory(frames=range(1, 6), height=160, width=600, motion=3.0)
    window = _window(pattern, 3, range(-2, 3))
    loaded = load_weights("default", track=RENDER)
    cuda = torch.device("cuda")
    budgeted = Denoiser(loaded, cuda, EngineConfig(device="cuda", max_gpu_mem_gb=0.05))
    assert (budgeted.input_device, budgeted.input_dtype) == (CPU, torch.float32)
    assert budgeted.tile == tile_for_budget(0.05 * 2**30, budgeted.multiple, half=True) < 600
    tiled = denoised_beauty(budgeted, window, None).result()
    whole_gpu = Denoiser(loaded, cuda, EngineConfig(device="cuda"))
    whole = denoised_beauty(whole_gpu, {o: f.to(cuda) for o, f in window.items()}, None).result()
    assert tiled.shape == whole.shape == (3, 160, 600) and tiled.dtype == whole.dtype == np.float32
    assert np.abs(np.log1p(tiled) - np.log1p(whole)).max() < 0.01


@CUDA_ONLY
def test_a_gpu_memory_budget_tiles_from_host_memory_as_the_whole_frame_runs(sequence_factory, tmp_path):
    """--max-gpu-mem: frames in host memory, the input built tile by tile there, each tile's
    network on the GPU; the same output as whole frames on the GPU, layers included."""
    frames = range(1, 6)
    pattern = sequence_factory(frames=frames, height=160, width=1200, motion=3.0, noise=0.3)
    with_light_groups(pattern, frames)
    written = {}
    for budget in (None, 0.05):  # 0.05 GB: tiles of a few hundred px
        summary = denoise_sequence(pattern, str(tmp_path / str(budget) / "o.####.exr"),
                                   config=EngineConfig(model="default", device="cuda",
                                                       aovs=("key",), max_gpu_mem_gb=budget))
        written[budget] = [read_exr(summary.output_pattern.path(frame)) for frame in frames]
    for whole, tiled in zip(written[None], written[0.05]):
        for names in (["R", "G", "B"], ["key.R", "key.G", "key.B"]):
            assert np.abs(np.log1p(tiled.get(names)) - np.log1p(whole.get(names))).max() < 0.01


class _HostHalves(TorchDispatchMode):
    """The shapes of the float16 tensors PyTorch's operators make in host memory while active."""

    def __init__(self):
        super().__init__()
        self.shapes: list[tuple[int, ...]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.shapes += [tuple(t.shape) for t in tree_leaves(out) if isinstance(t, torch.Tensor)
                        and t.device.type == "cpu" and t.dtype == torch.float16]
        return out


def test_a_host_half_made_whole_is_seen():
    """`_HostHalves`, which the next test relies on to see a whole input converted in host
    memory, sees one, and neither float32 tensors nor half ones on another device."""
    x = torch.rand(1, 4, 8, 8)
    with _HostHalves() as made:
        x.to(CPU, torch.float32).clone().mul(2)
        x.to("meta", torch.float16)
    assert made.shapes == []
    with _HostHalves() as made:
        x.to(CPU, torch.float16)
    assert made.shapes == [(1, 4, 8, 8)]


@CUDA_ONLY
def test_a_gpu_memory_budget_converts_an_input_in_host_memory_tile_by_tile(sequence_factory,
                                                                          tiny_weights):
    """With --max-gpu-mem an input tensor in host memory stays as it was given there (float32,
    `Denoiser.input_dtype`): it was converted whole to half precision on the CPU, seconds of an
    8K input and a second copy of it beside the first, for the values each tile's conversion on
    its way to the GPU gives anyway."""
    window = _window(sequence_factory(frames=range(1, 4), height=32, width=600, motion=3.0), 2,
                     range(-1, 2))
    budgeted = Denoiser(load_weights(tiny_weights), torch.device("cuda"),
                        EngineConfig(device="cuda", max_gpu_mem_gb=0.05))
    assert budgeted.half and budgeted.input_device == CPU and budgeted.tile < 600 // 3
    layout = budgeted.model.layout
    x = build_input(window, layout, CPU, plan_slots(window, layout), budgeted.input_dtype)
    assert x.dtype == torch.float32
    with _HostHalves() as made:
        tiled = budgeted(x).result()
    assert made.shapes and x.shape not in made.shapes  # the results' tiles, not the input whole
    given_half = budgeted(x.half()).result()  # converted whole before the call: the same values
    np.testing.assert_allclose(tiled, given_half, rtol=1e-3, atol=1e-4)


def test_the_pixels_a_network_gave_nan_or_inf_for_are_counted_where_frame_t_holds_light(sequence_factory,
                                                                                     tiny_weights):
    """Cleaning the result hides them (the test above): they are counted first, where frame t's
    noisy beauty holds light, for the writer to fail the frame or warn (`NetworkFailures`)."""
    from vfxdenoise.core.denoiser import NetworkFailures

    tiny = load_weights(tiny_weights)
    model = _Emits([float("nan"), float("inf"), float("-inf"), 1e6, -3.0, 0.5], **tiny.config)
    model.load_state_dict(tiny.model.state_dict())
    denoiser = _denoiser(LoadedModel(model.eval(), tiny.architecture, tiny.config))
    window = _window(sequence_factory(frames=range(1, 4)), 2, range(-1, 2))
    lit = int((window[0].beauty > 0).any(axis=0).sum())
    assert lit > 1000
    assert denoised_beauty(denoiser, window, None).failures() == NetworkFailures(3, lit)
    window[0].beauty[:, 0, 1] = 0.0  # the Inf falls where frame t holds no light: not counted
    assert denoised_beauty(denoiser, window, None).failures() == NetworkFailures(2, lit - 1)
    plain = denoised_beauty(_denoiser(tiny), window, None)
    assert plain.failures().failed == 0


def test_a_frame_the_network_failed_on_beyond_a_few_pixels_fails_naming_the_model(caplog):
    """More than MAX_FAILED_SHARE of its lit pixels: the weights are broken, the frame fails (the
    run stops, --keep-going or not); fewer are warned of, naming the frame and count and what
    the cleaning made of them."""
    from vfxdenoise.core.denoiser import MAX_FAILED_SHARE, NetworkFailures, NonFiniteNetworkError
    from vfxdenoise.core.errors import ModelError

    NetworkFailures(0, 5000).check(7, "default")
    assert not caplog.messages
    few = int(MAX_FAILED_SHARE * 1_000_000)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.denoiser"):
        NetworkFailures(few, 1_000_000).check(7, "models/ft", "/shows/x/models/ft/model.safetensors")
    assert caplog.messages == [
        f"frame 7: model 'models/ft' (/shows/x/models/ft/model.safetensors) gave NaN/Inf on {few} of "
        "its 1000000 lit pixels, 0.01%, cleaned there (NaN and -Inf written black, +Inf as the "
        "half-float maximum, 65504); should it recur, its weights may be from a diverged training run"]
    with pytest.raises(NonFiniteNetworkError, match=(
            r"^frame 7 not written: model 'models/div' gives NaN/Inf on 101 of its 1000000 lit pixels, "
            r"0.0101% \(not the frames' own: .*\); its weights are likely from a diverged training run. "
            r"Use another model \(--model default\), or retrain this one")) as error:
        NetworkFailures(few + 1, 1_000_000).check(7, "models/div")
    assert isinstance(error.value, ModelError)
    assert NetworkFailures.total([NetworkFailures(1, 10), NetworkFailures(2, 20)]) == NetworkFailures(3, 30)


def test_a_frame_with_few_lit_pixels_is_failed_only_beyond_a_floor_of_failed_pixels(caplog):
    """A sparse CG element, a sparks pass, a small crop: one NaN pixel of fewer than 10,000 lit
    ones was above MAX_FAILED_SHARE and failed the frame. Up to MIN_FAILED_PIXELS are warned of,
    whatever the share."""
    from vfxdenoise.core.denoiser import MIN_FAILED_PIXELS, NetworkFailures, NonFiniteNetworkError

    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.denoiser"):
        NetworkFailures(1, 500).check(3, "default")
        NetworkFailures(MIN_FAILED_PIXELS, 5000).check(4, "default")
    assert [m.split(":")[0] for m in caplog.messages] == ["frame 3", "frame 4"]
    assert not NetworkFailures(MIN_FAILED_PIXELS, MIN_FAILED_PIXELS).fails
    assert NetworkFailures(MIN_FAILED_PIXELS + 1, 5000).fails
    with pytest.raises(NonFiniteNetworkError, match=rf"^frame 5 not written: .* {MIN_FAILED_PIXELS + 1} of"):
        NetworkFailures(MIN_FAILED_PIXELS + 1, 5000).check(5, "default")


def test_in_a_reduced_precision_an_overflow_is_named_with_broken_weights(caplog):
    """Half precision on a GPU, bfloat16 convolutions on a CPU: a network's values may overflow
    there, weights sound. The error said only "a diverged training run"; it now names the
    precision too and suggests --precision float32 (in float32, not)."""
    from vfxdenoise.core.denoiser import NetworkFailures, NonFiniteNetworkError

    with pytest.raises(NonFiniteNetworkError, match=(
            r"; its weights are likely from a diverged training run, or its values overflow the half "
            r"precision it ran in. Try --precision float32; failing that, use another model "
            r"\(--model default\), or retrain this one with a lower learning rate$")):
        NetworkFailures(500, 1000, "half precision").check(2, "default")
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.denoiser"):
        NetworkFailures(1, 1000, "bfloat16 convolutions").check(2, "default")
    assert caplog.messages[0].endswith(
        "should it recur, its weights may be from a diverged training run, or its values overflow "
        "the bfloat16 convolutions it ran in (--precision float32 tells)")
    with pytest.raises(NonFiniteNetworkError) as error:
        NetworkFailures(500, 1000).check(2, "default")
    assert "precision" not in str(error.value)
    assert NetworkFailures.total([NetworkFailures(1, 2), NetworkFailures(1, 2, "half precision")]).reduced \
        == "half precision"


def test_a_denoiser_tells_the_reduced_precision_it_runs_in(tiny_weights):
    tiny = load_weights(tiny_weights)
    assert _denoiser(tiny).reduced_precision == ""
    auto = Denoiser(tiny, CPU, EngineConfig(device="cpu", precision="auto"))
    assert auto.reduced_precision == ("bfloat16 convolutions" if cpu_has_bfloat16() else "")


class _NanWhereBright(TemporalUNet):
    """The tiny network giving NaN wherever frame t's input is brighter than `above` in red
    (whatever the tile: the same pixels tiled or whole), and +Inf in green where brighter still."""

    def __init__(self, above: float, **config):
        super().__init__(**config)
        self.above = above

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        red = x[:, self.layout.slot_beauty(0)][:, :1]
        y[:, :1] = torch.where(red > self.above, float("nan"), y[:, :1])
        y[:, 1:2] = torch.where(red > 2 * self.above, float("inf"), y[:, 1:2])
        return y


@pytest.mark.parametrize("tile", [None, 96])
def test_the_failed_pixels_are_counted_from_the_network_input_over_the_whole_frame(sequence_factory,
                                                                                  tiny_weights, tile):
    """The lit pixels are read from the input the network was given (its frame t), not uploaded
    from the noisy frame again (a full-frame copy and wait per frame on a GPU): a `Denoiser`
    called on an input alone counts them, tiled (tile by tile, from host memory) or not, over the
    whole frame."""
    from vfxdenoise.core.denoiser import NetworkFailures

    tiny = load_weights(tiny_weights)
    model = _NanWhereBright(0.6, **tiny.config)
    model.load_state_dict(tiny.model.state_dict())
    denoiser = _denoiser(LoadedModel(model.eval(), tiny.architecture, tiny.config), tile=tile)
    pattern = sequence_factory(frames=range(1, 4), height=32, width=288, motion=3.0)
    window = _window(pattern, 2, range(-1, 2))
    window[0].beauty[:, :, :40] = 0.0  # an empty background on the left: no light there
    lit = int((window[0].beauty > 0).any(axis=0).sum())
    failed = int((window[0].beauty[0] > 0.6).sum())
    assert 0 < failed < lit < 32 * 288
    assert denoised_beauty(denoiser, window, None).failures() == NetworkFailures(failed, lit)
    if tile is None:  # an input tensor on its own: its frame t says where the light is
        x = build_input(window, model.layout, CPU, plan_slots(window, model.layout))
        assert denoiser(x).failures() == NetworkFailures(failed, lit)


@CUDA_ONLY
def test_the_failed_pixels_are_read_once_their_copy_from_the_gpu_has_landed(sequence_factory,
                                                                           tiny_weights):
    """On a GPU the count comes back with the pixels, on the copy stream, while the engine's
    thread goes on: `failures()` waits for that copy itself, asked before `result()` or not (read
    before the copy lands, the pinned buffer holds whatever it last held)."""
    from vfxdenoise.core.denoiser import NetworkFailures

    tiny = load_weights(tiny_weights)
    model = _NanWhereBright(0.6, **tiny.config)
    model.load_state_dict(tiny.model.state_dict())
    cuda = torch.device("cuda")
    denoiser = Denoiser(LoadedModel(model.eval(), tiny.architecture, tiny.config), cuda,
                        EngineConfig(device="cuda", precision="float32"))
    pattern = sequence_factory(frames=range(1, 4), height=32, width=288, motion=3.0)
    window = _window(pattern, 2, range(-1, 2))
    lit = int((window[0].beauty > 0).any(axis=0).sum())
    failed = int((window[0].beauty[0] > 0.6).sum())
    assert 0 < failed < lit
    on_gpu = {offset: frame.to(cuda) for offset, frame in window.items()}
    x = build_input(on_gpu, model.layout, cuda, plan_slots(on_gpu, model.layout, cuda),
                    denoiser.input_dtype)
    # Warmed up (allocations, handles) on a black frame, whose count, (0, 0), its freed pinned
    # buffer still holds when the next frame's copy is given it.
    denoiser(torch.zeros_like(x)).result()
    torch.cuda.synchronize()
    torch.cuda._sleep(2**30)  # the GPU busy for a while: the network and the copy queue behind
    denoised = denoiser(x)
    assert not torch.cuda.current_stream().query()  # still busy: the copy has not landed
    assert denoised.failures() == NetworkFailures(failed, lit)


@CUDA_ONLY
def test_a_frame_on_the_networks_thread_runs_on_the_denoisers_device(tiny_weights):
    """A thread the engine starts for the network begins on cuda:0, where the fused Triton kernels
    would launch; inside `stoppable` the denoiser's own device (the last GPU here) is current."""
    last = torch.device("cuda", torch.cuda.device_count() - 1)
    denoiser = Denoiser(load_weights(tiny_weights), last, EngineConfig(device=str(last)))
    seen: list[int] = []

    def on_a_new_thread() -> None:
        with denoiser.stoppable(threading.Event()):
            seen.append(torch.cuda.current_device())

    thread = threading.Thread(target=on_a_new_thread)
    thread.start()
    thread.join()
    assert seen == [last.index]
