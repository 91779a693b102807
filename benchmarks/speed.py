"""Speed benchmark: our default model against Intel OIDN on this machine, in one run.

    python benchmarks/speed.py [--sizes 1920x1080,3840x2160] [--repeats 5] [--e2e-frames 24]
                               [--io-threads N] [--budget 7680x4320:4] [--oidn-quality high]
                               [--aovs N] [--compression zstd] [--precision float32] [--stages]
                               [--profile]

Prints markdown tables:
- per frame size: our engine's per-frame cost in steady state over consecutive frames (network input
  from the device-resident window, model, output back to host memory, that copy overlapping the
  next frame as in `seq`), the network alone, OIDN (pyoidn, HDR + albedo + normal, same inputs on
  the same device: CUDA tensors when a GPU is present, else NumPy on the CPU), the ratio, peak
  GPU memory, and OIDN as it recommends for noisy guides (albedo and normal prefiltered, then
  cleanAux: three filters a frame; CPU only, nan on CUDA) with the engine's ratio to it; then the
  network input's build time alone (the PyTorch path, and on CUDA the fused
  slot kernel, with how far the two inputs differ);
- `--stages`: the network's features, U-Net and output stage timed apart;
- `--profile`: one engine call per size (the one the engine's column times) counted and profiled:
  the operators it dispatches, its host waits (a tensor's value read on the host: on a GPU each
  waits for its queue), on CUDA the kernels it launches, and the torch profiler's top operators;
- `--aovs N`: the engine's per-frame cost again with N layers denoised along with the beauty
  (`seq --aov`: their frames warped, one more network pass each);
- `--budget WxH:GB` (CUDA): one frame of that size through the engine's memory-budgeted path as
  `seq --max-gpu-mem GB` runs it (frames in host memory, the network input built there tile by
  tile, each tile's network on the GPU; first call, cuDNN tuning included), with peak GPU memory
  and the largest difference to the untiled result (frames on the GPU, as `seq` without a budget);
- end to end: `vfxdenoise seq` on a 1080p multi-layer EXR sequence made of the bundled sample renders
  (decode, features, model, encode, atomic writes) in frames per second, over the whole run and
  in steady state (after the first quarter of the frames), next to the rate at which
  the same threads only read and write the frames back: when the two are close the run is I/O-bound;
  `--compression NAME` writes the outputs (and the I/O-only copies) as `seq --compression` does.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import vfxdenoise.cli  # noqa: F401  first, as the command: torch's threads wait asleep (core/runtime/openmp.py)

# isort: split
import numpy as np
import torch
from torch.autograd import DeviceType
from torch.utils._python_dispatch import TorchDispatchMode

from vfxdenoise.core import fused_input
from vfxdenoise.core.denoiser import DenoisedBeauty, Denoiser, denoised_beauty
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.engine_config import PRECISIONS
from vfxdenoise.core.errors import ModelError
from vfxdenoise.core.evaluation.baselines import AuxPrefilter, hwc
from vfxdenoise.core.features import FrameFeatures, features_from_exr
from vfxdenoise.core.frame_reading import layers_by_view
from vfxdenoise.core.io.exr import OUTPUT_COMPRESSIONS, ExrImage, read_exr, write_exr
from vfxdenoise.core.io.feature_table import NETWORK_FEATURES
from vfxdenoise.core.models import build_model
from vfxdenoise.core.network_input import SlotFill, build_input
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory
from vfxdenoise.core.runtime.device import model_dtypes, pick_device
from vfxdenoise.core.weights import LoadedModel, load_weights, save_weights


def _frame(height: int, width: int, rng: np.random.Generator) -> FrameFeatures:
    """Random features as `seq` holds the bundled sample's renders: beauty, albedo and normal
    stored as half (so held as float16), motion as float."""
    return FrameFeatures(
        beauty=rng.gamma(2.0, 0.5, (3, height, width)).astype(np.float16),
        albedo=rng.uniform(0, 1, (3, height, width)).astype(np.float16),
        normal=np.broadcast_to(np.array([0, 0, 1], np.float16)[:, None, None], (3, height, width)).copy(),
        motion=rng.normal(0, 2, (2, height, width)).astype(np.float32),
    )


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: allocations, cuDNN/oneDNN algorithm choice
    fn()
    times = []
    for _ in range(repeats):
        _sync()
        start = time.perf_counter()
        fn()
        _sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _model(name: str, weights_dir: Path) -> tuple[LoadedModel, str]:
    try:
        return load_weights(name), name
    except ModelError:
        config = {"temporal_radius": 2}
        path = weights_dir / "untrained.safetensors"
        save_weights(build_model("temporal-unet", **config), path, "temporal-unet", config)
        return load_weights(path), "temporal-unet (untrained: same cost)"


def _oidn(frame: FrameFeatures, device: torch.device, quality: str):
    """A zero-argument call denoising `frame` with OIDN on `device` (inputs already there)."""
    import pyoidn

    def on_device(array: np.ndarray):
        data = hwc(array)
        return torch.from_numpy(data).to(device) if device.type == "cuda" else data

    color, albedo, normal = on_device(frame.beauty), on_device(frame.albedo), on_device(frame.normal)
    return lambda: pyoidn.denoise(color, albedo, normal, hdr=True, quality=quality)


def _oidn_prefiltered(frame: FrameFeatures, device: torch.device, quality: str):
    """A zero-argument call denoising `frame` with OIDN as it recommends for noisy guides (three RT
    filters: albedo, normal, then the beauty with cleanAux; `baselines.AuxPrefilter`, its filters
    set up by the timing's warm-up calls); None on CUDA, where the prefilter is not run (CPU device only)."""
    if device.type == "cuda":
        return None
    import pyoidn

    prefilter = AuxPrefilter(quality)
    color, albedo, normal = hwc(frame.beauty), hwc(frame.albedo), hwc(frame.normal)
    return lambda: pyoidn.denoise(color, prefilter("albedo", albedo), prefilter("normal", normal),
                                  hdr=True, clean_aux=True, quality=quality)


def _engine_call(denoiser: Denoiser, window: dict) -> DenoisedBeauty:
    """One frame through the engine as `seq` denoises it: its input (and the aligned frames of the
    window's `aovs` layers, if any) built and denoised, the copy back started."""
    return denoised_beauty(denoiser, window, None, (False,) * len(window[0].aovs))


# Consecutive frames an engine timing runs, so that each frame's copy back overlaps the next's work.
ENGINE_RUN = 3


def _engine_run(denoiser: Denoiser, window: dict, frames: int = ENGINE_RUN) -> Callable[[], None]:
    """A zero-argument call running the engine over `frames` consecutive frames as `seq` does:
    each frame's input (and the aligned frames of the window's `aovs` layers, if any) built and
    denoised while the previous frame's result is still being copied back; every result waited for."""
    def run() -> None:
        previous = None
        for _ in range(frames):
            current = _engine_call(denoiser, window)
            if previous is not None:
                previous.result()
            previous = current
        previous.result()

    return run


def _timed_ms(fn: Callable[[], None], per: int = 1) -> float:
    """One call of `fn`, waited for on the device, in ms per `per` frames it denoises."""
    _sync()
    start = time.perf_counter()
    fn()
    _sync()
    return (time.perf_counter() - start) * 1000 / per


def _interleaved_ms(calls: dict[str, tuple[Callable[[], None], int]], repeats: int) -> dict[str, float]:
    """Each of `calls` (name: a call and the frames it denoises) timed in `repeats` rounds, one call
    of each a round in an order that turns from round to round (a change of the machine's load,
    or a call's caches left warm, favours none); the median of its rounds' ms per frame. Two
    warm-up calls each first: allocations, cuDNN/oneDNN algorithm choice, pinned buffers."""
    for fn, _ in calls.values():
        fn()
        fn()
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_timed_ms(*calls[name]))
    return {name: statistics.median(ms) for name, ms in times.items()}


# Operators whose result the host reads (`bool()`, `.item()`), or whose result's size it must
# know (a count of true values): on a GPU each waits for the queue to drain.
VALUE_READS = frozenset({"_local_scalar_dense", "is_nonzero", "nonzero", "masked_select"})
MASKED_INDEXING = frozenset({"index", "index_put", "index_put_"})
# The CUDA runtime and driver calls that launch a kernel (PyTorch's, cuDNN's, Triton's).
KERNEL_LAUNCHES = ("cudaLaunchKernel", "cuLaunchKernel")


def _host_wait(name: str, args: tuple, kwargs: dict) -> bool:
    """Whether operator `name` on `args`, `kwargs` has the host wait for the device: it reads a
    value (VALUE_READS), indexes with a boolean mask, or copies from a GPU to host memory without
    `non_blocking` (`.cpu()`, and `.tolist()` of a GPU tensor)."""
    if name in VALUE_READS:
        return True
    if name in MASKED_INDEXING:
        return any(isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8) for i in args[1])
    if name == "_to_copy":
        source, target = args[0].device, kwargs.get("device") or args[0].device
        non_blocking = kwargs.get("non_blocking", False)
    elif name == "copy_":
        target, source = args[0].device, args[1].device
        non_blocking = args[2] if len(args) > 2 else kwargs.get("non_blocking", False)
    else:
        return False
    return source.type == "cuda" and torch.device(target).type == "cpu" and not non_blocking


class _Dispatches(TorchDispatchMode):
    """The operators a call dispatches, by name, and of them its host waits (`_host_wait`). Each
    is counted once, as the host issues it: what an operator calls inside it is not dispatched to
    the mode again (the profiler counts `aten::to` as 3 calls: `to`, `_to_copy`, `copy_`)."""

    def __init__(self):
        super().__init__()
        self.ops: Counter[str] = Counter()
        self.waits: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._overloadpacket.__name__
        self.ops[name] += 1
        if _host_wait(name, args, kwargs):
            self.waits[name] += 1
        return func(*args, **kwargs)


def _profile(denoiser: Denoiser, window: dict, label: str) -> None:
    """Where one engine call's time goes (`_engine_call`, waited for: the call the engine's column
    times), for finding overheads: the operators it dispatches and its host waits (`_Dispatches`),
    on CUDA the kernels it launches, and the torch profiler's top operators by self CPU time and
    by self CUDA time. Counted and profiled in two calls, each after `_interleaved_ms`'s warm-up."""
    from torch.profiler import ProfilerActivity, profile

    cuda = denoiser.device.type == "cuda"
    with _Dispatches() as counted:
        _engine_call(denoiser, window).result()
    _sync()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        _engine_call(denoiser, window).result()
        _sync()
    averages = prof.key_averages()
    dispatched, waited = sum(counted.ops.values()), sum(counted.waits.values())
    most = ", ".join(f"{name} {n}" for name, n in counted.ops.most_common(8))
    waits = ", ".join(f"{name} {n}" for name, n in counted.waits.most_common())
    line = (f"\nprofile of one engine call at {label}: {dispatched} operator dispatches ({most}, ...); "
            f"{waited} host waits{f' ({waits})' if waits else ''}")
    if cuda:
        launches = sum(event.count for event in averages if event.key.startswith(KERNEL_LAUNCHES))
        on_gpu = sum(1 for event in prof.events() if event.device_type == DeviceType.CUDA)
        line += f"; {launches} kernel launches ({on_gpu} events on the GPU: kernels, copies, memsets)"
    print(line + "; by self CPU time:\n"
          + averages.table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=40))
    if cuda:
        print("by self CUDA time:\n"
              + averages.table(sort_by="self_device_time_total", row_limit=12, max_name_column_width=40))


def _size_row(denoiser: Denoiser, layout, device: torch.device, width: int, height: int,
              args, rng) -> str:
    """One table row: our engine's per-frame cost, the network alone, and OIDN, at one size."""
    window = {d: _frame(height, width, rng).to(device) for d in range(-2, 3)}
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    x = build_input(window, layout, device).to(denoiser.dtype)  # the engine's input, as it is

    def network() -> None:
        with torch.inference_mode():
            denoiser.model(x)

    oidn_frame = _frame(height, width, rng)
    calls = {"engine": (_engine_run(denoiser, window), ENGINE_RUN), "network": (network, 1),
             "oidn": (_oidn(oidn_frame, device, args.oidn_quality), 1)}
    prefiltered = _oidn_prefiltered(oidn_frame, device, args.oidn_quality)
    if prefiltered:
        calls["prefiltered"] = (prefiltered, 1)
    timed = _interleaved_ms(calls, args.repeats)
    engine_ms, network_ms, oidn_ms = timed["engine"], timed["network"], timed["oidn"]
    prefiltered_ms = timed.get("prefiltered", float("nan"))
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else float("nan")
    if args.profile:
        _profile(denoiser, window, f"{width}x{height}")
    if args.stages:
        print(_network_stages(denoiser.model, x, args.repeats))
    row = (f"| {width}x{height} | {engine_ms:.1f} | {network_ms:.1f} | {oidn_ms:.1f} | "
           f"{engine_ms / oidn_ms:.2f} | {network_ms / oidn_ms:.2f} | {peak:.0f} | {prefiltered_ms:.1f} | "
           f"{engine_ms / prefiltered_ms:.2f} |")
    row += "\n\n" + _input_paths(window, layout, device, denoiser.input_dtype, args.repeats)
    if args.aovs:  # the same frames with layers that sum to the beauty (as light groups do)
        for frame in window.values():
            frame.aovs = {f"layer{i}": frame.beauty / args.aovs for i in range(args.aovs)}
        with_aovs = _interleaved_ms({"engine": (_engine_run(denoiser, window), ENGINE_RUN)},
                                    args.repeats)["engine"]
        row += (f"\n\nwith {args.aovs} layers denoised with the beauty (`seq --aov`), "
                f"{width}x{height}: engine {with_aovs:.1f} ms/frame, "
                f"+{(with_aovs - engine_ms) / args.aovs:.1f} ms per layer\n")
    return row


def _network_stages(model, x: torch.Tensor, repeats: int) -> str:
    """Median ms of the network's stages on input `x`: the features (log beauty into the stem's
    buffer), the U-Net (features included), the output stage (head, weights, filtering, residual)."""
    with torch.inference_mode():
        h = model.body(x)
        times = {"features": _median_ms(lambda: model._features(x, model.stem[0].weight.dtype), repeats),
                 "U-Net with features": _median_ms(lambda: model.body(x), repeats),
                 "output stage": _median_ms(lambda: model._output(h, x), repeats)}
    return "network stages: " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in times.items()) + "\n"


def _input_paths(window: dict, layout, device: torch.device, dtype: torch.dtype, repeats: int) -> str:
    """The network input's build time (flows included), its neighbour slots filled by the
    PyTorch path and, where it can run, by the fused kernel, with how far the two inputs differ."""
    frames = [window[0], *(window[d] for d in window if d)]
    paths = {"PyTorch path": SlotFill.PYTORCH}
    if fused_input.available(torch.empty(1, device=device), frames):
        paths = {"fused slot kernel": SlotFill.FUSED_KERNEL, **paths}
    times, inputs = {}, {}
    for name, fill in paths.items():
        times[name] = _median_ms(lambda fill=fill: build_input(
            window, layout, device, dtype=dtype, fill=fill), repeats)
        inputs[name] = build_input(window, layout, device, dtype=dtype, fill=fill).float()
    line = ", ".join(f"{name} {ms:.2f} ms" for name, ms in times.items())
    if len(inputs) == 2:
        first, second = inputs.values()
        line += f", largest difference {(first - second).abs().max().item():.2g}"
    if fused_input.FALLBACK.failure:
        line += f" (the fused slot kernel failed here: {fused_input.FALLBACK.failure})"
    return f"network input at {window[0].width}x{window[0].height} ({dtype}): {line}\n"


def _sizes_table(loaded: LoadedModel, device: torch.device, args, rng) -> None:
    denoiser = Denoiser(loaded, device, EngineConfig(device=str(device), precision=args.precision))
    print("| size | ours, engine ms/frame | ours, network only ms | "
          f"OIDN 2.x ms/frame (HDR+albedo+normal, {args.oidn_quality}) | engine / OIDN | "
          "network / OIDN | peak GPU MB | OIDN, guides prefiltered ms/frame (3 filters) | "
          "engine / OIDN prefiltered |")
    print("|---|---|---|---|---|---|---|---|---|")
    with denoiser.settings():  # its threads (and cuDNN tuning) as seq runs it
        for size in args.sizes.split(","):
            width, height = map(int, size.split("x"))
            print(_size_row(denoiser, loaded.model.layout, device, width, height, args, rng))
            if device.type == "cuda":
                torch.cuda.empty_cache()


def _budget_check(loaded: LoadedModel, device: torch.device, spec: str, precision: str, rng) -> None:
    """One large frame through the memory-budgeted path as `seq --max-gpu-mem` runs it
    (`denoised_beauty` with a budgeted Denoiser: the frames in host memory, the network input
    built there tile by tile, `InputByRegion`, each tile's network on the GPU), against the
    untiled result (the frames on the GPU, as `seq` without a budget)."""
    size, budget = spec.split(":")
    width, height = map(int, size.split("x"))
    window = {d: _frame(height, width, rng) for d in range(-2, 3)}
    budgeted = Denoiser(loaded, device, EngineConfig(device=str(device), max_gpu_mem_gb=float(budget),
                                                     precision=precision))
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    with budgeted.settings():
        tiled = denoised_beauty(budgeted, window, None).result()
    _sync()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    whole = Denoiser(loaded, device, EngineConfig(device=str(device), precision=precision))
    try:
        with whole.settings():
            on_device = {offset: frame.to(device) for offset, frame in window.items()}
            untiled = denoised_beauty(whole, on_device, None).result()
        diff = f"{np.abs(np.log1p(tiled) - np.log1p(untiled)).max():.2e}"
    except Exception as exc:  # the untiled frame may simply not fit: report, don't fail
        diff = f"untiled run failed: {type(exc).__name__}"
    print(f"\n| {width}x{height}, --max-gpu-mem {budget} | tile {budgeted.tile} px | "
          f"{seconds:.2f} s/frame | peak GPU {peak:.2f} GB | max |log(1+x)| diff to untiled {diff} |")


SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "demo" / "spp4"


def _write_sequence(folder: Path, frames: int, width: int = 1920, height: int = 1080,
                    pixel_type: str | None = None) -> str:
    """A multi-layer sequence (1080p unless told) made of real renders: the bundled sample's
    frames (Mitsuba, 4 spp, beauty + alpha, depth, normal, albedo, motion) tiled to the size with
    every channel, pixel type (or all `pixel_type`: 'half', 'float') and the compression of the
    originals, so encode and decode see the statistics of renders (random noise in every AOV
    compresses 3-5x slower than real AOVs do)."""
    sources = sorted(SAMPLE.glob("render.*.exr"))
    for frame in range(1, frames + 1):
        sample = read_exr(sources[(frame - 1) % len(sources)])
        names, types = sample.channel_names, sample.parts[0].channel_types
        types = {name: pixel_type for name in names} if pixel_type else types
        reps = (-(-height // sample.height), -(-width // sample.width))
        channels = {n: np.tile(plane, reps)[:height, :width]
                    for n, plane in zip(names, sample.get(names))}
        compression = sample.parts[0].spec.get_string_attribute("compression")
        write_exr(folder / f"in.{frame:04d}.exr",
                  ExrImage.from_channels(channels, pixel_types=types, compression=compression))
    return f"{len(names)} channels ({', '.join(sorted(set(types.values())))}), {compression}"


def _copy_frame(path: Path, target: Path, compression: str | None) -> dict[str, float]:
    """Read, map and write one frame back as `seq` does without the network (`compression`: the
    output's, as `seq --compression`); seconds of each stage: decode, map to features, encode."""
    start = time.perf_counter()
    image = read_exr(path)
    decoded = time.perf_counter()
    features_from_exr(image, next(iter(layers_by_view(image, path).values())), NETWORK_FEATURES,
                      keep_half=True)  # as seq maps them
    mapped = time.perf_counter()
    if compression:
        image.set_compression(compression)
    write_exr(target, image)
    return {"decode": decoded - start, "map": mapped - decoded, "encode": time.perf_counter() - mapped}


def _codec_fps(folder: Path, frames: int, threads: int, compression: str | None) -> float:
    """Frames per second at which `threads` workers only read, map and write the sequence back
    (EXR decode + features + encode, no network): the I/O bound of an end-to-end run."""
    def copy(frame: int) -> None:
        _copy_frame(folder / f"in.{frame:04d}.exr", folder / f"copy.{frame:04d}.exr", compression)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(copy, range(1, frames + 1)))
    return frames / (time.perf_counter() - start)


def _codec_stages(frame: Path, target: Path, compression: str | None, repeats: int = 3) -> str:
    """Median ms of each I/O stage of `frame` on this thread as `seq` runs them: decode, map to
    features, encode (into `target`)."""
    runs = [_copy_frame(frame, target, compression) for _ in range(repeats)]
    medians = {stage: statistics.median(run[stage] for run in runs) for stage in runs[0]}
    cores = os.cpu_count() or 1
    return (", ".join(f"{k} {t * 1000:.0f} ms" for k, t in medians.items())
            + f" (so {cores} cores manage at most {cores / sum(medians.values()):.1f} frames/s of I/O)")


def _end_to_end(model: str, frames: int, device: torch.device, folder: Path, args) -> None:
    described = _write_sequence(folder, frames)
    compression = args.compression
    config = EngineConfig(model=model, device=str(device), existing="overwrite", io_threads=args.io_threads,
                          compression=compression, precision=args.precision)
    codec = _codec_fps(folder, frames, config.threads(), compression)
    stages = _codec_stages(folder / "in.0001.exr", folder / "stage.exr", compression)
    done: list[float] = []  # when each frame was on disk
    summary = denoise_sequence(str(folder / "in.####.exr"), str(folder / "out.####.exr"), config=config,
                               progress=lambda *_: done.append(time.perf_counter()))
    written = f", written as {compression}" if compression else ""
    print(f"\nend to end `seq`, 1920x1080 tiled sample renders, {described}{written}, {frames} frames, "
          f"{config.threads()} I/O "
          f"threads: {frames / summary.seconds:.2f} frames/s (model load included); "
          f"{_steady_rate(done)}; "
          f"EXR read + write alone on the same threads: {codec:.2f} frames/s; one frame on one "
          f"thread: {stages}")


def _steady_rate(done: list[float]) -> str:
    """Frames per second once running: over the frames finished after the first quarter, so the
    model load, the first calls' compilation and tuning, and the pipeline's filling are left out."""
    first = len(done) // 4
    if len(done) - first < 2:
        return "too few frames for a steady-state rate"
    rate = (len(done) - 1 - first) / (done[-1] - done[first])
    return f"steady state (frames {first + 2}-{len(done)}): {rate:.2f} frames/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1920x1080")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--oidn-quality", default="high", choices=["high", "balanced", "fast"])
    parser.add_argument("--budget", help="WxH:GB, e.g. 7680x4320:4 (CUDA: seq --max-gpu-mem)")
    parser.add_argument("--e2e-frames", type=int, default=8)
    parser.add_argument("--io-threads", type=int, help="end to end: EXR threads (default: seq's)")
    parser.add_argument("--compression", choices=list(OUTPUT_COMPRESSIONS),
                        help="end to end: the outputs' compression (default: the input's, zip)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="seq --precision")
    parser.add_argument("--profile", action="store_true", help="print a torch profile per size")
    parser.add_argument("--stages", action="store_true", help="time the network's stages per size")
    parser.add_argument("--aovs", type=int, default=0,
                        help="also time the engine with this many layers denoised with the beauty")
    args = parser.parse_args()
    keep_freed_memory()  # as the `vfxdenoise` command does
    device = pick_device(args.device)
    if args.budget and device.type != "cuda":
        parser.error(f"--budget times seq --max-gpu-mem, which bounds a CUDA GPU's memory (on {device} "
                     "it does nothing): run it with --device cuda, or leave --budget out")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        loaded, label = _model(args.model, Path(tmp))
        gpu = f" {torch.cuda.get_device_name()}" if device.type == "cuda" else ""
        print(f"machine: {platform.node()} {platform.machine()}, {torch.get_num_threads()} torch threads, "
              f"device {device}{gpu}, torch {torch.__version__}")
        dtype, convolutions = model_dtypes(device, args.precision)
        print(f"model: {label}; precision {args.precision}: {dtype}, convolutions in {convolutions}\n")
        _sizes_table(loaded, device, args, rng)
        if args.budget:
            _budget_check(loaded, device, args.budget, args.precision, rng)
        if args.e2e_frames:
            _end_to_end(str(loaded.path), args.e2e_frames, device, Path(tmp), args)


if __name__ == "__main__":
    main()
