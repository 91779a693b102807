"""The model on its device, applied to one frame's temporal window: the network input built whole or
tile by tile, tiling and out-of-memory fallback, the result cleaned and on its way to host memory.

Cleaning the result (NaN black, Inf the half-float maximum) would hide weights that give NaN or
Inf (a diverged training run's: finite, so loading them passes): the pixels where the network's
result is NaN or Inf and frame t's beauty holds light are counted first (`NetworkFailures`), on
the device, from the network input's own frame t (no upload, no wait), and checked once the
frame's pixels are on the host: a frame with more such pixels than MAX_FAILED_SHARE of its lit
ones and MIN_FAILED_PIXELS fails naming the model, fewer are warned of.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from vfxdenoise.core import neighbour_coverage
from vfxdenoise.core.engine_config import BRIGHTNESS_JUMP, EngineConfig
from vfxdenoise.core.errors import DeviceError, NonFiniteNetworkError
from vfxdenoise.core.features import ALPHA_LAYER, FrameFeatures
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.layer_denoise import denoise_layers, split_layers
from vfxdenoise.core.neighbour_coverage import split_alpha_consistency
from vfxdenoise.core.network_input import InputByRegion, aligned_aovs, build_input, layer_slots_lacking
from vfxdenoise.core.run_warnings import warn
from vfxdenoise.core.runtime.device import model_dtypes
from vfxdenoise.core.runtime.host_cpus import cpu_threads_for
from vfxdenoise.core.runtime.host_memory import HostPlan
from vfxdenoise.core.runtime.openmp import describe_wait
from vfxdenoise.core.runtime.torch_settings import torch_settings
from vfxdenoise.core.sanitize import MAX_RADIANCE
from vfxdenoise.core.slot_plan import plan_slots, with_stand_ins
from vfxdenoise.core.tiling import MIN_TILE, out_of_memory, run_with_oom_retry, tile_for_budget, tile_run
from vfxdenoise.core.weights import LoadedModel

log = logging.getLogger(__name__)

# The share of a frame's lit pixels at which the network may give NaN or Inf before the frame
# fails (`NetworkFailures.check`): 1 in 10,000, some 200 pixels of an HD frame. Fewer are warned of
# and cleaned; more say the weights are broken, and a frame of holes is no result.
MAX_FAILED_SHARE = 1e-4
# However few pixels hold light (a sparse CG element, a sparks pass, a small crop), up to this many
# failed are warned of, not failed: one stray overflow would otherwise fail any frame with fewer
# than 10,000 lit pixels.
MIN_FAILED_PIXELS = 64


@dataclass(frozen=True)
class NetworkFailures:
    """A frame's pixels where the network's result was NaN or Inf while frame t's beauty there
    holds light (`failed`), of the pixels that hold light (`lit`), summed over its views; and
    the reduced precision the network ran in (`reduced`, as `Denoiser.reduced_precision` says
    it; '' in float32), where an overflow rather than broken weights may be the cause."""

    failed: int = 0
    lit: int = 0
    reduced: str = ""

    @classmethod
    def total(cls, counts: Iterable[NetworkFailures]) -> NetworkFailures:
        counts = list(counts)
        return cls(sum(c.failed for c in counts), sum(c.lit for c in counts),
                   next((c.reduced for c in counts if c.reduced), ""))

    @property
    def share(self) -> float:
        return self.failed / max(self.lit, 1)

    @property
    def fails(self) -> bool:
        """Whether so many pixels failed that the frame does: more than MAX_FAILED_SHARE of its
        lit pixels and more than MIN_FAILED_PIXELS."""
        return self.failed > max(MAX_FAILED_SHARE * self.lit, MIN_FAILED_PIXELS)

    def check(self, frame: int | None, model: str, weights: str = "") -> None:
        """Fail frame `frame` (NonFiniteNetworkError) where too many of its lit pixels failed
        (`fails`), naming `model` (as given) and its `weights` file, and the causes: broken
        weights, or an overflow of the reduced precision it ran in (then --precision float32 to
        tell); warn of fewer (cleaned: `Denoiser.__call__`); nothing where none did."""
        if not self.failed:
            return
        what = f"frame {frame}" if frame is not None else "a frame"
        named = f"model '{model}'" + (f" ({weights})" if weights and weights != model else "")
        counted = f"{self.failed} of its {self.lit} lit pixels, {100 * self.share:.3g}%"
        if self.fails:
            raise NonFiniteNetworkError(
                f"{what} not written: {named} gives NaN/Inf on {counted} (not the frames' own: "
                f"those are replaced before the network sees them); {self._causes()}")
        warn(log, "%s: %s gave NaN/Inf on %s, cleaned there (NaN and -Inf written black, +Inf as "
             "the half-float maximum, 65504); should it recur, %s", what, named, counted,
             self._causes(recurring=True))

    def _causes(self, recurring: bool = False) -> str:
        """What may make a network give NaN or Inf (broken weights; in a reduced precision, its
        values overflowing it), and what to do."""
        weights = ("its weights may be from a diverged training run" if recurring
                   else "its weights are likely from a diverged training run")
        overflow = f", or its values overflow the {self.reduced} it ran in" if self.reduced else ""
        if recurring:
            return weights + overflow + (" (--precision float32 tells)" if self.reduced else "")
        advice = "use another model (--model default), or retrain this one with a lower learning rate"
        if self.reduced:
            advice = f"try --precision float32; failing that, {advice}"
        return f"{weights}{overflow}. {advice[0].upper()}{advice[1:]}"


def _failures(y: torch.Tensor, beauty: torch.Tensor | np.ndarray) -> torch.Tensor:
    """(2,) int64 on `y`'s device, without waiting for it: the pixels of the network's result `y`
    (C, H, W) holding NaN or Inf where frame t's `beauty` (3, H, W) holds light, and the pixels
    that hold light. `beauty` is what lies on `y`'s device
    already, the network input's frame t (`_frame_t_beauty`): the noisy beauty scaled to the
    network's exposure, 0 where it is 0 (and where a half-precision input rounds a tiny value to
    0, or `neighbour_patches.bound_own_outliers` bounds a firefly over black to 0: light the
    network never saw), so on a GPU nothing is uploaded and nothing waits. Read once on the host
    (`DenoisedBeauty.failures`). On the CPU, where reading a value costs no wait, a finite sum of
    the result (the usual case) settles it in one pass, a tenth of counting's cost: at most about
    17 ms of an HD frame whose network pass takes about 1 s on 2 cores (BENCHMARKS.md; on a GPU all
    of it is queued there)."""
    if y.device.type == "cpu" and bool(torch.isfinite(y.sum(dtype=torch.float32))):
        return torch.zeros(2, dtype=torch.int64)  # no NaN, no Inf: nothing failed (lit untold)
    lit = (torch.as_tensor(beauty, device=y.device) > 0).any(dim=0)
    failed = ~torch.isfinite(y).all(dim=0) & lit
    return torch.stack([failed.sum(), lit.sum()])


def _frame_t_beauty(x: torch.Tensor | InputByRegion, layout: InputLayout) -> torch.Tensor | np.ndarray:
    """Frame t's beauty (3, H, W) as the network sees it, on the device the result lands on:
    slot 0 of the input tensor `x` (its layers, if any, follow the network input); an
    `InputByRegion`, never built whole and only ever on the CPU, gives its frame t's beauty
    array (no copy). Whole frame either way: tiles are counted on the whole result."""
    if isinstance(x, InputByRegion):
        return x.window[0].beauty
    return x[0, layout.slot_beauty(0)]


class DenoisedBeauty:
    """A frame's denoised beauty (and layers) on its way to host memory; `result()` waits for the
    copy.

    On CUDA the copy into pinned memory runs on a side stream, so the engine's thread goes on to
    the next frame while it completes and only the writer thread that needs the pixels waits.
    """

    def __init__(self, host: torch.Tensor, copied: torch.cuda.Event | None = None,
                 failures: torch.Tensor | None = None, reduced: str = ""):
        self._host = host
        self._copied = copied
        self._failures = failures  # (2,) on the host: `_failures`, copied with the pixels
        self._reduced = reduced  # `Denoiser.reduced_precision`, for `NetworkFailures`

    def _wait(self) -> None:
        """Wait for the copy to host memory (nothing to wait for where there is none; at once
        once waited for)."""
        if self._copied is not None:
            self._copied.synchronize()

    def result(self) -> np.ndarray:
        """(3 + 3 x layers, H, W) float32, finite and within half-float range."""
        self._wait()
        return self._host.numpy()

    def failures(self) -> NetworkFailures:
        """Where the network's result was NaN or Inf before it was cleaned (`_failures`). Waits
        for the copy that brings the count to host memory with the pixels (at once after
        `result()`): read before it lands, the pinned buffer holds whatever it last held."""
        if self._failures is None:
            return NetworkFailures()
        self._wait()
        failed, lit = self._failures.tolist()
        return NetworkFailures(failed, lit, self._reduced)


class _NetworkStopped(BaseException):
    """The network was stopped mid-frame (`Denoiser.stoppable`): its run is ending (a cancel, an
    error), and the frame is not to be written. A BaseException, as KeyboardInterrupt is, so that no
    `except Exception` on its way (a Triton kernel's fallback, the out-of-memory retries) takes it
    for the frame's own failure."""


class Denoiser:
    """The model on its device, applied with tiling and out-of-memory fallback.

    With a GPU memory budget the frames and the network input stay in host memory and only tiles
    visit the GPU, so the budget bounds the whole run, not just the network's activations (an 8K
    input alone is about 1.8 GB in half precision). Otherwise frames live on the model's device.
    """

    def __init__(self, loaded: LoadedModel, device: torch.device, config: EngineConfig):
        self.device = device
        self.dtype, self.convolution_dtype = model_dtypes(device, config.precision)
        self.half = self.dtype == torch.float16
        self.model = loaded.model.to(device, self.dtype, memory_format=torch.channels_last)
        self.model.run_convolutions_in(self.convolution_dtype)
        self.copy_stream = torch.cuda.Stream(device) if device.type == "cuda" else None
        self.cpu_threads = cpu_threads_for(device, config.cpu_threads)
        self.multiple = getattr(self.model, "multiple", 16)
        self.tile = config.tile
        budgeted = bool(config.max_gpu_mem_gb) and device.type == "cuda"
        self.input_device = torch.device("cpu") if budgeted else device
        if self.tile is None and budgeted:
            self.tile = tile_for_budget(config.max_gpu_mem_gb * 2**30, self.multiple, self.half)
        self.tiles_run: set[int] = set()  # the tiles frames ran in (px), for the run's summary

    def settings(self) -> AbstractContextManager[None]:
        """PyTorch's process-wide settings this denoiser's frames run with, for a `with` block
        around them: its CPU threads, and on a GPU in half precision cuDNN's benchmark mode (the
        frames of a shot share a size, so its convolutions are tuned once)."""
        return torch_settings(self.cpu_threads, cudnn_benchmark=self.half and self.device.type == "cuda")

    @contextlib.contextmanager
    def stoppable(self, stop: threading.Event) -> Iterator[None]:
        """For the block's length, the frame being denoised stops before the network's next layer
        once `stop` is set, from any thread: a cancel need not wait for the rest of the frame
        (seconds of a 4K frame on the CPU). The frame's thread raises `_NetworkStopped`, and
        nothing of that frame is written. Each of the model's modules is hooked (a forward
        pre-hook, a check on the host's side as each layer is queued, whatever runs it: PyTorch
        or a fused Triton kernel) for the block only: a caller may run the model again after. Entered
        on the thread that runs the network, so that the hooks last as long as its frame: a run
        that stops waiting for that thread (a second Ctrl-C) leaves it no frame to finish. On a
        GPU the block also makes the denoiser's device that thread's current one: the fused Triton
        kernels launch on the current device, and a new thread's is cuda:0 (`--device cuda:1`)."""
        def check(module: torch.nn.Module, inputs: tuple) -> None:
            if stop.is_set():
                raise _NetworkStopped

        hooks = [module.register_forward_pre_hook(check) for module in self.model.modules()]
        on_device = torch.cuda.device(self.device) if self.device.type == "cuda" else contextlib.nullcontext()
        try:
            with on_device:
                yield
        finally:
            for hook in hooks:
                hook.remove()

    def describe(self) -> str:
        """Where and in which precision the network runs, for the run's summary (on a farm whose
        CPUs differ, which frames ran with bfloat16 convolutions; on a CPU, how its threads wait
        where not passively: a host that loaded torch before the run could set the policy)."""
        where = str(self.device)
        if self.device.type == "cuda":
            where += f" ({torch.cuda.get_device_name(self.device)})"
        else:
            waiting = describe_wait() if self.cpu_threads > 1 else ""  # one thread waits for none
            where += f" ({self.cpu_threads} thread{'s' if self.cpu_threads > 1 else ''}"
            where += f", {waiting})" if waiting else ")"
        precision = {torch.float16: "half precision", torch.float32: "float32"}[self.dtype]
        if self.convolution_dtype != self.dtype:
            precision += f", convolutions in {str(self.convolution_dtype).removeprefix('torch.')}"
        return f"{where}, {precision}"

    @property
    def reduced_precision(self) -> str:
        """The reduced precision the network runs in, for what a NaN or Inf it gives may come of
        (`NetworkFailures`): 'half precision', 'bfloat16 convolutions', or '' in float32."""
        if self.dtype != torch.float32:
            return "half precision"
        if self.convolution_dtype != torch.float32:
            return f"{str(self.convolution_dtype).removeprefix('torch.')} convolutions"
        return ""

    @property
    def input_dtype(self) -> torch.dtype:
        """The type to build the network input in: the model's where the input lives on the
        model's device; float32 in host memory (the CPU's own type to build in), whose tiles are
        converted to the model's as they go over (`_run_tile`). An input tensor given in host
        memory is left in its type (`__call__`): converted whole there, an 8K input would take
        seconds of the CPU and a second copy of it in host memory, for the values each tile's
        conversion gives anyway."""
        return self.dtype if self.input_device == self.device else torch.float32

    def _run_tile(self, x: torch.Tensor, radiance: tuple[bool, ...] = (),
                  lacking: tuple[tuple[int, ...], ...] = (), alpha_apart: bool = False) -> torch.Tensor:
        x = x.to(self.device, self.dtype)
        alpha_consistency = None
        if alpha_apart:  # the consistency the alpha's own pass reads, last
            x, alpha_consistency = split_alpha_consistency(x, self.model.layout)
        network_input, aovs = split_layers(x, self.model.layout)
        if aovs is None:
            return self.model(network_input).to(self.input_device)
        return denoise_layers(self.model, network_input, aovs, radiance, lacking,
                              alpha_consistency).to(self.input_device)

    def __call__(self, x: torch.Tensor | InputByRegion, frame: int | None = None,
                 aovs: torch.Tensor | None = None, tile: int | None = None,
                 radiance: tuple[bool, ...] = (), lacking: tuple[tuple[int, ...], ...] = (),
                 alpha_consistency: torch.Tensor | None = None) -> DenoisedBeauty:
        """The denoised beauty of input `x`, and of the layers' aligned frames `aovs` if given
        (those flagged in `radiance` filtered without the albedo: `layer_denoise.as_radiance`;
        each without the neighbour slots `lacking` names for it, whose frames lack it:
        `network_input.layer_slots_lacking`); in tiles of at most `tile` px if given. An
        `InputByRegion` is built tile by tile. With `alpha_consistency` (or an `InputByRegion`
        built with it), the last layer is the alpha's own and its pass reads that consistency
        (`layer_denoise.denoise_layers`). The pixels where the network gave NaN or Inf are counted
        where frame t's beauty in `x` holds light (`_failures`, `DenoisedBeauty.failures`), over
        the whole frame, layers' included."""
        alpha_apart = alpha_consistency is not None or (isinstance(x, InputByRegion)
                                                         and x.alpha_consistency)
        # tiled together: one tensor, split again by `split_alpha_consistency` and `split_layers`
        x = x if aovs is None else torch.cat(
            [part for part in (x, aovs, alpha_consistency) if part is not None], dim=1)
        if isinstance(x, torch.Tensor) and self.input_device == self.device:
            x = x.to(self.device, self.dtype)  # once, whole, on the model's device
        elif isinstance(x, torch.Tensor):  # host memory: each tile converted as it goes over
            x = x.to(self.input_device)
        limit = min((t for t in (self.tile, tile) if t), default=None)
        try:
            with torch.inference_mode():
                run = partial(self._run_tile, radiance=radiance, lacking=lacking,
                              alpha_apart=alpha_apart)
                y, used = run_with_oom_retry(run, x, limit, self.multiple)
                if used != limit:  # memory ran out: the next frames start from what worked
                    self.tile = used
                if ran := tile_run(used, *x.shape[-2:], self.multiple):
                    self.tiles_run.add(ran)
                failures = _failures(y[0], _frame_t_beauty(x, self.model.layout))  # before cleaning
                # Finite, and within half float so outputs stored as half hold no Inf either.
                # Cleaned and widened to float32 by torch (NumPy's half conversion is slow), on the
                # GPU unless a memory budget already brought the result to the host.
                out = torch.nan_to_num(y[0], nan=0.0, posinf=MAX_RADIANCE, neginf=0.0)
                out = out.clamp_(0.0, MAX_RADIANCE).float()
        except Exception as exc:
            if not out_of_memory(exc):
                raise
            what = f"frame {frame}" if frame is not None else "a frame"
            advice = ("free memory (other jobs?), or run on a machine with more"
                      if self.device.type == "cpu"
                      else "free the device (other jobs?), or run with --device cpu")
            raise DeviceError(f"out of {self.device.type} memory on {what} ({x.shape[-1]}x"
                              f"{x.shape[-2]}) even with {MIN_TILE} px tiles; {advice}") from exc
        if out.device.type == "cpu":
            return DenoisedBeauty(out, failures=failures, reduced=self.reduced_precision)
        return self._copy_to_host(out, failures)

    def _copy_to_host(self, out: torch.Tensor, failures: torch.Tensor) -> DenoisedBeauty:
        """Start the device-to-host copy into pinned memory (PyTorch recycles the buffers), of the
        result and its `failures` count: a pageable copy would block this thread for most of a
        frame's time."""
        host = torch.empty(out.shape, dtype=out.dtype, pin_memory=True)
        counts = torch.empty(failures.shape, dtype=failures.dtype, pin_memory=True)
        self.copy_stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.copy_stream):
            host.copy_(out, non_blocking=True)
            counts.copy_(failures, non_blocking=True)
            out.record_stream(self.copy_stream)
            failures.record_stream(self.copy_stream)
            copied = torch.cuda.Event()
            copied.record(self.copy_stream)
        return DenoisedBeauty(host, copied, counts, self.reduced_precision)


def denoised_beauty(denoiser: Denoiser, window: dict[int, FrameFeatures], host: HostPlan | None,
                    radiance: tuple[bool, ...] = (), frame: int | None = None,
                    brightness_jump: float = BRIGHTNESS_JUMP) -> DenoisedBeauty:
    """Frame t's denoised beauty and its `--aov` layers' (one `radiance` flag each): from an input
    built whole, or, where tiles are denoised from host memory, built tile by tile, so that no
    whole input is held. A neighbour `brightness_jump` times brighter or darker is relit
    (`slot_plan.plan_slots`). A layer is filtered over the frames of the window that have it
    (`network_input.layer_slots_lacking`)."""
    with_aovs = bool(radiance)
    layout, device, dtype = denoiser.model.layout, denoiser.input_device, denoiser.input_dtype
    window = with_stand_ins(window, layout)  # no usable neighbour: itself, shifted, stands in
    plan = plan_slots(window, layout, device, brightness_jump)
    lacking = layer_slots_lacking(window, plan) if with_aovs else ()
    # Neighbours covered otherwise than t are left out of the light's passes, not the alpha's.
    held = neighbour_coverage.held(window)
    alpha_apart = held and ALPHA_LAYER in window[0].aovs
    if device.type == "cpu" and ((host is not None and host.tiled) or denoiser.tile is not None):
        x = InputByRegion(window, layout, plan, device, dtype, with_aovs, held, alpha_apart)
        tile = host.tile(x.margin, denoiser.multiple) if host else None
        return denoiser(x, frame=frame, tile=tile, radiance=radiance, lacking=lacking)
    covered = neighbour_coverage.covered_otherwise(window, plan, device, dtype) if held else None
    x = build_input(window, layout, device, plan, dtype, covered=covered)
    aovs = aligned_aovs(window, plan, device, dtype) if with_aovs else None
    # A copy: a view would keep the whole second input alive while the network runs.
    alpha_consistency = (build_input(window, layout, device, plan, dtype)[:, layout.consistency].clone()
                         if alpha_apart else None)
    return denoiser(x, frame=frame, aovs=aovs, radiance=radiance, lacking=lacking,
                    alpha_consistency=alpha_consistency)
