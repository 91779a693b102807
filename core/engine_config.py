"""The knobs of a sequence run (`EngineConfig`), with their defaults in one place, and the values
and limits each may take, named once: `EngineConfig.check` refuses others for `seq`, in-process
runs and farm jobs alike, and hosts' requests run the same check as they are built
(`plugin.seq_options.check_values`). `seq`'s options set them (the farm's and the hosts' through
`SeqOptions.engine_config`), all but the two that `EngineConfig` names.

Standard library only at import (`threads` imports the CPU count when asked): hosts build and
check requests in a Python without torch, numpy or fileseq. The modules that need torch or numpy
import these values from here; the compressions and motion conventions, which modules needing
OpenEXR and torch map to what they mean (`exr.OUTPUT_COMPRESSIONS`, `motion_vectors.CONVENTIONS`),
are named here too, and tests/core/test_engine_config.py holds the names equal."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields

from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.existing_outputs import EXISTING, REFUSE
from vfxdenoise.core.io.aov_option import AovName, aov_names
from vfxdenoise.core.io.feature_table import LAYER_FEATURES, SIZES
from vfxdenoise.core.io.layer_lookup import names_none
from vfxdenoise.core.model_files import DEFAULT_MODEL, pinned_sha256

MISSING_POLICIES = ("error", "hold", "skip")
# What becomes of the alpha of the frames (`--alpha`): written as rendered, or denoised as a layer
# of light is and settled (`coverage.settled_alpha`).
ALPHA_RENDERED, ALPHA_DENOISE = "rendered", "denoise"
ALPHA_MODES = (ALPHA_RENDERED, ALPHA_DENOISE)
PRECISIONS = ("auto", "float32")  # --precision: what each means, `runtime/device`
# --motion-vectors: found from the shot's frames, or a renderer's convention (`motion_vectors.CONVENTIONS`).
MOTION_AUTO = "auto"
MOTION_CHOICES = (MOTION_AUTO, "previous", "next", "previous-y-up", "next-y-up")
COMPRESSIONS = ("none", "rle", "zips", "zip", "piz", "zstd")  # --compression: `exr.OUTPUT_COMPRESSIONS`
MIN_TILE = 128  # --tile's least, and `tiling`'s: smaller tiles would mostly compute their own overlap
# The context each tile carries on every side (`tiling`), which host memory counts too
DEFAULT_OVERLAP = 128
CPU_THREADS_LIMIT = 1024  # the most --cpu-threads takes (from 1)
IO_THREADS_LIMIT = 64  # the most --io-threads takes (from 1)
BRIGHTNESS_JUMP = 3.0  # a neighbour this much brighter is no context (`frame_brightness`: why 3)
MAX_IO_THREADS = 16  # decode/encode threads a run picks itself at most (`EngineConfig.threads`)
MIN_IO_THREADS = 2  # and at least, on one CPU too: a frame is decoded while another is denoised
# The knobs that decide how a run goes, not what its outputs hold (where it runs, in what memory,
# which frames, what to do with those on disk or failing, which weights it refuses to run: the
# weights run are in the settings as their contents): every other one is in `output_settings`.
RUN_ONLY = frozenset({"device", "existing", "tile", "max_gpu_mem_gb", "max_mem_gb",
                      "missing", "keep_going", "io_threads", "cpu_threads", "context_frames",
                      "job_frames", "model_sha256"})
# Settings added after outputs recorded their settings (`output_settings`): left out of them while
# they hold their default, so that those records still match a run that leaves them alone.
LEFT_OUT_AT_DEFAULT = frozenset({"alpha"})


@dataclass
class EngineConfig:
    """Every knob of a sequence run. All but `brightness_jump` and `exposure` are `seq` options
    (the layer options fill `layers`; --max-mem and --max-gpu-mem are the `_gb` fields); those two
    have no option: code sets them (tests, benchmarks), and runs keep their defaults."""

    model: str = DEFAULT_MODEL
    device: str = "auto"
    temporal_radius: int | None = None  # None: the model's own radius
    layers: dict[str, str] = field(default_factory=dict)  # feature -> layer/channels override
    keep_noisy: bool = False
    existing: str = REFUSE  # output frames already on disk: existing_outputs.EXISTING (--resume, --overwrite)
    tile: int | None = None  # pixels; None: whole frame, or from max_gpu_mem on CUDA
    max_gpu_mem_gb: float | None = None
    max_mem_gb: float | None = None  # a CPU run's host memory; None: most of what is free (host_memory)
    missing: str = "error"
    keep_going: bool = False
    io_threads: int | None = None  # EXR decode/encode threads; None: `threads`
    cpu_threads: int | None = None  # the network's threads on a CPU; None: one per CPU (host_cpus)
    aovs: tuple[str, ...] = ()  # RGB layers (light groups...) denoised along with the beauty
    radiance_aovs: tuple[str, ...] = ()  # more such layers, filtered as radiance whatever their names
    views: tuple[str, ...] = ()  # a multi-view (stereo) EXR's views to denoise; (): every view
    compression: str | None = None  # outputs' EXR compression (COMPRESSIONS); None: the input's
    precision: str = "auto"  # PRECISIONS
    motion_vectors: str = MOTION_AUTO  # MOTION_CHOICES: a convention, or found from the shot's frames
    motion_scale: float = 1.0  # multiplies the motion vectors (2: measured over a half-frame shutter)
    brightness_jump: float = BRIGHTNESS_JUMP  # a neighbour this much brighter or darker is no context
    context_frames: str | None = None  # frame spec: only these frames are neighbours; None: all on disk
    # Frame spec: the frames of the farm job this run is one task of, whose --frames typo check
    # (`frame_choice.check_missing`) looks at them; None: a run of its own.
    job_frames: str | None = None
    exposure: float | None = None  # the radiance's scale into the network; None: the shot's (exposure.py)
    alpha: str = ALPHA_RENDERED  # ALPHA_MODES: the frames' alpha as rendered, or denoised (--alpha denoise)
    # The SHA-256 the weights `model` names must have (--model-sha256, which farm jobs pass every
    # task): others are refused before any frame is read (`run_plan`); None: any weights.
    model_sha256: str | None = None

    def output_settings(self, **resolved: object) -> str:
        """The settings an output's pixels and channels depend on, as text (in its
        `provenance.record`: --resume keeps no frame made under others); `resolved` gives the
        values a run resolved some of them to (the model's weights, the radius run), so that two
        spellings of one setting read alike, as do 1 and 1.0, a list and a tuple, dict orders.
        A setting of `LEFT_OUT_AT_DEFAULT` is there only when it is not its default."""
        values = {}
        for f in fields(self):
            if f.name not in RUN_ONLY:
                value = resolved.get(f.name, getattr(self, f.name))
                if f.name in LEFT_OUT_AT_DEFAULT and value == f.default:
                    continue
                if f.type.startswith("float") and isinstance(value, int):
                    value = float(value)
                values[f.name] = value
        return json.dumps(values, sort_keys=True, default=list)

    def check(self) -> None:
        """Refuse (UsageError) values no run can take, whatever its frames hold, before anything
        is read: unknown choices (`existing` too: --resume with --overwrite is refused as the
        command line is read, `cli/options.existing_policy`), scales and memory budgets
        that are not finite numbers above 0 (NaN and inf pass click's ranges), tile sizes and
        thread counts out of their ranges (`_check_ranges`), layer options wrong by their form
        (`--beauty R,G`: two channels for three) or for a feature no option names, a
        `model_sha256` that is no SHA-256. That pin is read as every boundary that takes one
        reads it (`model_files.pinned_sha256`: either case, spaces around left out) and kept so,
        lowercase, for the run to compare. What the frames hold (a layer or view they lack) is
        checked on the first frame (`shot_settings.check_layers`)."""
        for option, value, choices in (("existing", self.existing, EXISTING),
                                       ("--missing", self.missing, MISSING_POLICIES),
                                       ("--precision", self.precision, PRECISIONS),
                                       ("--motion-vectors", self.motion_vectors, MOTION_CHOICES),
                                       ("--alpha", self.alpha, ALPHA_MODES)):
            if value not in choices:
                raise UsageError(f"{option} must be one of {', '.join(choices)} (got '{value}')")
        if self.compression is not None and self.compression not in COMPRESSIONS:
            raise UsageError(f"--compression must be one of {', '.join(COMPRESSIONS)} "
                             f"(got '{self.compression}'); leave it out to keep the input's")
        for option, value in (("--motion-scale", self.motion_scale), ("--max-mem", self.max_mem_gb),
                              ("--max-gpu-mem", self.max_gpu_mem_gb)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise UsageError(f"{option} must be a finite number above 0 (got {value})")
        if self.model_sha256 is not None:
            try:
                self.model_sha256 = pinned_sha256(self.model_sha256)
            except UsageError as exc:
                raise UsageError(f"--model-sha256 {exc}") from exc
        self._check_ranges()
        self._check_layer_values()

    def _check_ranges(self) -> None:
        """Whole-number settings out of the range seq's options take: the in-process API and farm
        jobs pass them without click (a tile of -5 px ran as 16 px tiles, 22 times slower)."""
        if self.temporal_radius is not None and self.temporal_radius < 0:
            raise UsageError(f"--temporal-radius must be 0 or more (got {self.temporal_radius})")
        if self.tile is not None and self.tile < MIN_TILE:
            raise UsageError(f"--tile must be at least {MIN_TILE} px, the smallest tile the engine picks "
                             f"itself (got {self.tile}); leave it out to let the memory decide")
        for option, value, most, default in (
                ("--cpu-threads", self.cpu_threads, CPU_THREADS_LIMIT, "one per CPU this process may use"),
                ("--io-threads", self.io_threads, IO_THREADS_LIMIT,
                 f"one per CPU, {MIN_IO_THREADS} to {MAX_IO_THREADS}")):
            if value is not None and not 1 <= value <= most:
                raise UsageError(f"{option} must be from 1 to {most} (got {value}); leave it out for "
                                 f"{default}")

    def _check_layer_values(self) -> None:
        """Layer options wrong by their form alone: the beauty named 'none', a feature given as
        channels of the wrong number, --aov none, a feature no layer option names (a misspelt
        key of the in-process API's `layers`). A name is left to the frames to map."""
        unknown = sorted(set(self.layers) - set(LAYER_FEATURES))
        if unknown:
            raise UsageError(f"unknown layer feature(s) {', '.join(map(repr, unknown))}; the features "
                             f"whose layer can be named are {', '.join(LAYER_FEATURES)}")
        for feature, value in self.layers.items():
            if not value:
                continue
            if feature == "beauty" and names_none(value):
                raise UsageError("--beauty cannot be 'none': the beauty is what gets denoised; "
                                 "name its layer or channels instead")
            names = [name.strip() for name in value.split(",")]
            if len(names) > 1 and len(names) != SIZES.get(feature, len(names)):
                raise UsageError(f"--{feature} {value}: {feature} needs {SIZES[feature]} channel(s), "
                                 f"got {len(names)}; name its layer or its {SIZES[feature]} channels")
        for option, names in (("--aov", self.aovs), ("--aov-radiance", self.radiance_aovs)):
            if any(names_none(name) for name in names):
                raise UsageError(f"{option} none: 'none' is not a layer; leave {option} out instead")

    def all_aovs(self) -> tuple[AovName, ...]:
        """Every layer to denoise along with the beauty, with the option it was given with, which
        its errors name (`aovs`, then `radiance_aovs`: `aovs.aov_names`)."""
        return aov_names(self.aovs, self.radiance_aovs)

    def denoises_alpha(self) -> bool:
        """Whether the frames' alpha is denoised (`--alpha denoise`) rather than kept as rendered."""
        return self.alpha == ALPHA_DENOISE

    def threads(self) -> int:
        """Reader (and writer) threads: enough to keep a GPU fed on a many-core machine (on a
        16-core H200 host end to end went 12.3 -> 15.5 frames/s from 8 threads to 16, BENCHMARKS.md),
        capped because each thread holds a frame or two in memory. The CPUs are those this
        process may use (`host_cpus`, imported here: it needs torch, which hosts building a
        config to check it may lack), or --cpu-threads where fewer: a farm task booked with N
        cores runs `seq --cpu-threads N`, and engines do not always confine it to those cores."""
        if self.io_threads:
            return self.io_threads
        from vfxdenoise.core.runtime.host_cpus import available_cpus

        cpus = available_cpus()
        if self.cpu_threads:
            cpus = min(cpus, self.cpu_threads)
        return max(MIN_IO_THREADS, min(MAX_IO_THREADS, cpus))

    def read_ahead(self) -> int:
        """Output frames whose inputs are read ahead of the one being denoised: one per spare
        reader thread, so decode runs in parallel with the network (and bounds the memory)."""
        return max(1, self.threads() - 1)
