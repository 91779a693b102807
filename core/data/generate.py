"""Dataset driver: render many animated sequences into the layout of ARCHITECTURE.md
(`dataset_layout`: the folder and file names, the manifest and its reading and writing).

Sequences render in parallel processes (`jobs`). The run is resumable: a sequence whose manifest
entry is complete (and whose files exist) is skipped, and inside an unfinished sequence every frame
already on disk (written atomically) is kept. A folder made with other render settings is refused.
A sequence that fails ends the run once those already rendering have finished and are recorded
(`generate`), so the rerun renders only what is missing. A sequence whose reference shows nothing
(`empty_frame`) is left out of the dataset, in `.left-out/`, and named in a warning.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vfxdenoise.core.data.camera_effects import draw_depth_of_field, draw_shutter, motion_blur
from vfxdenoise.core.data.light_changes import LightChanges, draw_light_changes
from vfxdenoise.core.data.scenes import (
    LIGHT_GROUPS,
    SCENES_VERSION,
    STYLES,
    SceneDescription,
    as_element,
    generate_scene,
    has_light_group,
    light_group,
)
from vfxdenoise.core.errors import DatasetError, UsageError, VfxDenoiseError
from vfxdenoise.core.io.dataset_layout import (
    DEFAULT_BACKGROUND,
    DEFAULT_LIGHTS,
    FRAME_GLOB,
    MANIFEST,
    NOISY_PREFIX,
    REFERENCE,
    SCENE_SEED_ATTRIBUTE,
    SECOND_NOISY_SUFFIX,
    STYLE_ATTRIBUTE,
    frame_name,
    read_manifest,
    write_manifest,
)
from vfxdenoise.core.io.write_advice import write_advice

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
PARTIAL = ".partial"
# Where a sequence whose reference shows nothing goes (`empty_frame`): out of the dataset, which
# readers take as the folders holding sppN/ at its top, but kept for a look.
LEFT_OUT = ".left-out"
# A reference frame with light in fewer of its pixels than this shows nothing to learn or score.
MIN_LIT_SHARE = 0.01
# What the camera sees where no surface is: the sky, or nothing (alpha 0, as a CG element rendered
# to be composited over a plate, whose silhouettes' alpha is as noisy as its colour).
BACKGROUNDS = (DEFAULT_BACKGROUND, "transparent")
MIN_SIDE = 8  # the smallest frame side rendered (pixels)


class DatasetConfigError(DatasetError, UsageError):
    """Dataset settings no run can take, refused as the `DatasetConfig` is made, before Mitsuba is
    imported or a folder made (the CLI exits 2, so a farm engine does not retry it). `option`: the
    one option whose `value` is at fault, said before the `problem` (`--size 4x64 is too small`),
    for the CLI to name as click names its own refusals; None where options contradict each other."""

    def __init__(self, message: str, option: str | None = None, value: str = "", problem: str = ""):
        super().__init__(message)
        self.option = option
        self.value = value
        self.problem = problem  # said right after the value, with its own separator (": choose ...")


def _bad_value(option: str, value: object, problem: str) -> DatasetConfigError:
    """The refusal of one option's `value`: `{option} {value}{problem}`."""
    return DatasetConfigError(f"{option} {value}{problem}", option, str(value), problem)


@dataclass
class DatasetConfig:
    """Everything that decides what a dataset folder contains (defaults in one place)."""

    sequences: int = 8
    frames: int = 8
    width: int = 128
    height: int = 128
    spp: tuple[int, ...] = (4, 16)
    reference_spp: int = 512
    seed: int = 0
    second_noisy: bool = False
    static_camera_every: int = 0  # every K-th sequence has a locked-off camera (0: none)
    hard_every: int = 0  # every K-th sequence uses the "hard" style (0: none)
    validation: bool = False  # separate seed stream; sequence 0 is hard, sequence 1 static-camera
    style: str = "random"
    single: bool = False  # one sequence written straight into the root folder (the bundled sample)
    first_frame: int = 1001
    reference_chunk: int = 64
    float_bits: int = 23  # mantissa bits kept in the float channels (Z, motion); 23 = exact
    variant: str | None = None  # None: llvm_ad_rgb when usable, else scalar_rgb
    lights: str = DEFAULT_LIGHTS  # light group the scenes keep (scenes.LIGHT_GROUPS): all, local or sky
    background: str = DEFAULT_BACKGROUND  # BACKGROUNDS: the sky seen by the camera, or transparent (alpha 0)
    depth_of_field_every: int = 0  # sequences K-1, 2K-1, ... are shot through a thin lens (0: none)
    motion_blur_every: int = 0  # sequences 0, K, 2K, ... have motion blur (0: none)
    changing_light_every: int = 0  # sequences K-1, 2K-1, ... have lights that move or flicker (0: none)

    # Fields that change pixels: a folder may only be resumed or extended with the same values.
    RENDER_KEYS = ("frames", "width", "height", "spp", "reference_spp", "seed", "second_noisy",
                   "static_camera_every", "hard_every", "validation", "style", "single", "first_frame",
                   "float_bits")

    def __post_init__(self) -> None:
        """Refuse settings no run can take (`DatasetConfigError`, named by make-dataset's options):
        the one place these rules live, for the CLI and for scripts alike."""
        self.spp = tuple(int(s) for s in self.spp)
        self._check_values()
        if self.reference_spp <= max(self.spp):
            raise DatasetConfigError(f"--ref-spp {self.reference_spp} must exceed the noisy levels "
                                     f"(--spp {','.join(map(str, self.spp))})")
        if self.single and self.sequences != 1:
            raise DatasetConfigError("--single writes one sequence into the output folder; use --sequences 1")

    def _check_values(self) -> None:
        """Refuse a value no run can take, whatever the others: `_bad_value` naming its option."""
        for option, count, least in (("--sequences", self.sequences, 1), ("--frames", self.frames, 1),
                                     ("--static-camera-every", self.static_camera_every, 0),
                                     ("--hard-every", self.hard_every, 0),
                                     ("--depth-of-field-every", self.depth_of_field_every, 0),
                                     ("--motion-blur-every", self.motion_blur_every, 0),
                                     ("--changing-light-every", self.changing_light_every, 0)):
            if count < least:
                raise _bad_value(option, count, f" must be at least {least}")
        if min(self.width, self.height) < MIN_SIDE:
            raise _bad_value("--size", f"{self.width}x{self.height}",
                             f" is too small; use at least {MIN_SIDE}x{MIN_SIDE}")
        if not self.spp:
            raise _bad_value("--spp", "", ": give at least one sample count, e.g. 4,16")
        if min(self.spp) < 1 or len(set(self.spp)) != len(self.spp):
            raise _bad_value("--spp", ",".join(map(str, self.spp)),
                             ": give distinct sample counts of 1 or more, e.g. 4,16")
        if not 1 <= self.float_bits <= 23:
            raise _bad_value("--float-bits", self.float_bits, ": choose 1..23 (23 keeps floats exact)")
        for option, value, choices in (("--style", self.style, STYLES),
                                       ("--lights", self.lights, LIGHT_GROUPS),
                                       ("--background", self.background, BACKGROUNDS)):
            if value not in choices:
                raise _bad_value(option, value, f": choose one of {', '.join(choices)}")

    def render_key(self) -> dict:
        values = asdict(self)
        key = {k: list(values[k]) if isinstance(values[k], tuple) else values[k] for k in self.RENDER_KEYS}
        if self.lights != DEFAULT_LIGHTS:  # absent for every light, as in manifests from before the option
            key["lights"] = self.lights
        if self.background != DEFAULT_BACKGROUND:
            key["background"] = self.background
        for effect in ("depth_of_field_every", "motion_blur_every", "changing_light_every"):  # absent when 0
            if getattr(self, effect):
                key[effect] = getattr(self, effect)
        key["scenes"] = SCENES_VERSION  # absent: version 1
        return key

    @property
    def frame_numbers(self) -> list[int]:
        return list(range(self.first_frame, self.first_frame + self.frames))

    def levels(self) -> dict[str, int]:
        """Output folder -> samples per pixel, noisy levels first, reference last."""
        levels = {f"{NOISY_PREFIX}{s}": s for s in self.spp}
        if self.second_noisy:
            levels.update({f"{NOISY_PREFIX}{s}{SECOND_NOISY_SUFFIX}": s for s in self.spp})
        levels[REFERENCE] = self.reference_spp
        return levels


@dataclass(frozen=True)
class SequencePlan:
    """One sequence to render: its folder (relative to the root) and its scene."""

    name: str
    folder: str
    scene_seed: int
    style: str
    static_camera: bool
    depth_of_field: bool = False
    motion_blur: bool = False
    changing_light: bool = False


def plan_sequences(config: DatasetConfig) -> list[SequencePlan]:
    """Deterministic list of sequences; validation sets draw scene seeds from a separate stream.
    Depth of field takes sequences K-1, 2K-1, ... (as --hard-every and --static-camera-every do),
    motion blur sequences 0, K, 2K, ...: with both, some shots have one, some both (every K of
    each: 2 and 3 give 1 and 5 a lens, 0 a shutter, 3 both). Changing light takes K-1, 2K-1, ...
    too (with --static-camera-every of the same K, locked-off shots: a light moving over still
    geometry). None of them changes a scene seed."""
    stream = 1 if config.validation else 0
    plans = []
    for index in range(config.sequences):
        style = config.style
        every = config.static_camera_every
        static = bool(every) and index % every == every - 1
        if config.hard_every and index % config.hard_every == config.hard_every - 1:
            style = "hard"
        if config.validation and index == 0:
            style = "hard"
        if config.validation and index == 1:
            static = True
        name = f"{'val' if config.validation else 'seq'}{index:04d}"
        scene_seed = _scene_seed(config, stream, index, style, static)
        lens = bool(config.depth_of_field_every) and (
            index % config.depth_of_field_every == config.depth_of_field_every - 1)
        shutter = bool(config.motion_blur_every) and index % config.motion_blur_every == 0
        changing = bool(config.changing_light_every) and (
            index % config.changing_light_every == config.changing_light_every - 1)
        plans.append(SequencePlan(name, "." if config.single else name, scene_seed, style, static, lens,
                                  shutter, changing))
    return plans


def _scene_seed(config: DatasetConfig, stream: int, index: int, style: str, static: bool) -> int:
    """The scene seed of sequence `index`; with a light group, the first of its draws whose scene
    that group lights (`scenes.has_light_group`)."""
    draw = 0
    while True:
        key = [config.seed, stream, index] + ([draw] if draw else [])
        seed = int(np.random.SeedSequence(key).generate_state(1)[0] & 0x7FFFFFFF)
        if config.lights == "all" or has_light_group(generate_scene(seed, style, static, config.frames),
                                                     config.lights):
            return seed
        draw += 1


def frame_path(root: Path, plan: SequencePlan, level: str, frame: int) -> Path:
    return root / plan.folder / level / frame_name(frame)


def work_folder(root: Path, plan: SequencePlan) -> Path:
    """Where a sequence renders: `<root>/.partial/<name>` until complete (so readers of the dataset,
    which take every folder holding sppN/, never see half a sequence), or its final folder if that
    already exists (a finished sequence that lost frames is repaired in place)."""
    final = root / plan.folder
    return final if plan.folder == "." or final.is_dir() else root / PARTIAL / plan.name


def _expected_paths(root: Path, plan: SequencePlan, config: DatasetConfig) -> list[Path]:
    return [frame_path(root, plan, level, frame)
            for level in config.levels() for frame in config.frame_numbers]


# ---------------------------------------------------------------------------------------------------
# One sequence (runs in a worker process)


def round_mantissa(values: np.ndarray, bits: int) -> np.ndarray:
    """Round float32 values to `bits` mantissa bits (relative error <= 2**-(bits+1)).

    The zeroed low bits make zip-compressed float channels (Z, motion) several times smaller.
    """
    drop = 23 - bits
    if drop <= 0:
        return values.astype(np.float32)
    raw = np.ascontiguousarray(values, np.float32).view(np.uint32).astype(np.uint64)
    raw = (raw + (1 << (drop - 1))) & ~np.uint64((1 << drop) - 1)
    return raw.astype(np.uint32).view(np.float32)


def _pixel_type(name: str) -> str:
    """The pixel type a frame stores channel `name` as: float for Z and motion, else half."""
    from vfxdenoise.core.data.render import FLOAT_CHANNELS

    return "float" if name in FLOAT_CHANNELS else "half"


def _write(path: Path, channels: dict[str, np.ndarray], attributes: dict, float_bits: int) -> None:
    from vfxdenoise.core.io.exr import ExrImage, write_exr

    path.parent.mkdir(parents=True, exist_ok=True)
    types = {name: _pixel_type(name) for name in channels}
    channels = {name: round_mantissa(plane, float_bits) if types[name] == "float" else plane
                for name, plane in channels.items()}
    write_exr(path, ExrImage.from_channels(channels, types, "zip", attributes))


def sequence_scene(plan: SequencePlan, config: DatasetConfig
                   ) -> tuple[SceneDescription, LightChanges | None]:
    """The scene one sequence renders: its plan's, its lighting changing where the plan says
    (`light_changes`: what changes, else None), lit by `config.lights`, and without the backdrop
    wall over a transparent background (`scenes.as_element`)."""
    desc = generate_scene(plan.scene_seed, plan.style, plan.static_camera, config.frames)
    changes = None
    if plan.changing_light:
        desc, changes = draw_light_changes(desc, plan.scene_seed)
    desc = light_group(desc, config.lights)
    return (as_element(desc) if config.background == "transparent" else desc), changes


def empty_frame(rgb: np.ndarray) -> str | None:
    """Why a reference frame (3, H, W) shows nothing to train or score on, or None where it does:
    black, or light in fewer than MIN_LIT_SHARE of its pixels. Such a shot teaches nothing and
    makes `eval`'s relative errors infinite."""
    lit = float(np.any(np.asarray(rgb) > 0, axis=0).mean())
    if lit == 0:
        return "is black (no pixel holds light)"
    if lit < MIN_LIT_SHARE:
        return f"holds light in only {lit:.2%} of its pixels"
    return None


def _empty_reference(path: Path, rendered: dict[str, np.ndarray] | None) -> str | None:
    """`empty_frame` of a reference frame: judged from the channels just `rendered`, as its file
    stores them (`_pixel_type`: a value under half's least rounds to 0 there), or, where an earlier
    run rendered it, read from `path`."""
    if rendered is None:
        from vfxdenoise.core.io.exr import read_exr

        return empty_frame(read_exr(path).get(["R", "G", "B"]))
    return empty_frame(np.stack([rendered[c].astype(np.float16) if _pixel_type(c) == "half" else rendered[c]
                                 for c in "RGB"]))


def render_sequence(root: Path, plan: SequencePlan, config: DatasetConfig,
                    scratch: Path | None = None) -> dict:
    """Render every missing frame of one sequence; return its manifest entry (complete). A
    sequence whose reference frame shows nothing (`empty_frame`) stops there and is left out of
    the dataset (`_leave_out`): its entry says why. Its meshes are written in `scratch` (None: the
    system's temp folder), which a render worker's caller removes (`_render_in_parallel`)."""
    import mitsuba as mi

    from vfxdenoise.core.data.render import FrameRenderer

    desc, light_changes = sequence_scene(plan, config)
    levels = config.levels()
    seconds = {level: 0.0 for level in levels} | {"geometry": 0.0}
    rendered = reused = 0
    empty = None
    started = time.perf_counter()
    base_attributes = {SCENE_SEED_ATTRIBUTE: int(plan.scene_seed), STYLE_ATTRIBUTE: plan.style,
                       "vfxdenoise:renderer": f"mitsuba {mi.__version__} {mi.variant()}",
                       "software": "vfxdenoise make-dataset"}
    work = work_folder(root, plan)
    lens = (draw_depth_of_field(desc, config.frames, config.width, plan.scene_seed)
            if plan.depth_of_field else None)
    with FrameRenderer(desc, config.width, config.height, config.reference_chunk,
                       transparent=config.background == "transparent", lens=lens,
                       scratch=scratch) as renderer:
        if plan.motion_blur:  # enough sub-frame times for the fastest motion of the shot
            clock = time.perf_counter()
            try:
                fastest = renderer.fastest_motion(range(config.frames))
            except (RuntimeError, MemoryError) as exc:
                _raise_cancel_within(exc)
                raise _render_failure(plan, config, config.first_frame, exc) from exc
            renderer.shutter = motion_blur(fastest, draw_shutter(plan.scene_seed))
            seconds["geometry"] += time.perf_counter() - clock
        for t, frame in enumerate(config.frame_numbers):
            paths = {lv: work / lv / frame_name(frame) for lv in levels}
            missing = {lv: path for lv, path in paths.items() if not path.is_file()}
            reused += len(levels) - len(missing)
            reference = None  # its channels, where this frame's reference is rendered now
            if missing:
                try:
                    reference = _render_frame(renderer, plan, config, t, frame, missing, seconds,
                                              base_attributes)
                except (RuntimeError, MemoryError) as exc:  # Mitsuba's and Dr.Jit's failures
                    _raise_cancel_within(exc)
                    raise _render_failure(plan, config, frame, exc) from exc
                except OSError as exc:  # a level folder that cannot be made (a file in its way, no space)
                    raise _write_failure(plan, f"frame {frame}", exc) from exc
                rendered += len(missing)
                log.info("%s frame %d: %s", plan.name, frame, ", ".join(missing))
            if reason := _empty_reference(paths[REFERENCE], reference):
                empty = f"its reference frame {frame} {reason}"
                break
    frames = config.frame_numbers[:t + 1]  # a shot left out stops at the frame showing nothing
    entry = {
        "name": plan.name, "folder": plan.folder, "scene_seed": plan.scene_seed, "complete": True,
        "frames": frames, "resolution": [config.width, config.height],
        "spp": levels, "scene": desc.summary(), "variant": mi.variant(),
        "render_seconds": {k: round(v, 3) for k, v in seconds.items()},
        "wall_seconds": round(time.perf_counter() - started, 3),
        "images_rendered": rendered, "images_reused": reused,
    }
    if lens:  # what the shot was rendered through, to reproduce and analyse it
        entry["depth_of_field"] = lens.manifest()
    if renderer.shutter:
        entry["motion_blur"] = renderer.shutter.manifest()
    if light_changes:
        entry["light_changes"] = light_changes.manifest(desc, config.frames)
    if empty:
        return entry | _leave_out(root, plan, work, empty)
    if work != root / plan.folder:
        try:
            os.replace(work, root / plan.folder)
        except OSError as exc:
            raise _write_failure(plan, f"its folder {root / plan.folder}", exc) from exc
    return entry


def _leave_out(root: Path, plan: SequencePlan, work: Path, reason: str) -> dict:
    """Move the frames of a sequence that shows nothing from `work` to LEFT_OUT/, out of the
    dataset: the manifest fields saying so. It is said once in each place: make-dataset's line for
    the sequence as it finishes (`generate`'s `on_sequence`: why), and the run's closing warning
    (`_warn_of_left_out`: why and where its frames are). Left in, such a shot would train
    the network on black silently and make `eval`'s means infinite. Drawing another scene in its
    place would change the scene seeds of the sequences after it, which the manifests of shipped
    weights record. A --single sequence has no other place: the DatasetError says what to do."""
    what = f"{plan.name} (scene seed {plan.scene_seed}, style {plan.style}): {reason}"
    if plan.folder == ".":
        raise DatasetError(f"{what}; a shot that shows nothing is no sample: render another --seed "
                           f"into a new folder (or remove {root})")
    kept = root / LEFT_OUT / plan.name
    try:
        if kept.exists():  # an earlier run's frames of it, left before the manifest said so
            shutil.rmtree(kept)
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work, kept)
    except OSError as exc:
        raise _write_failure(plan, f"its folder {kept}", exc) from exc
    return {"folder": f"{LEFT_OUT}/{plan.name}", "left_out": reason}


def _render_frame(renderer, plan: SequencePlan, config: DatasetConfig, t: int, frame: int,
                  missing: dict[str, Path], seconds: dict[str, float], attributes: dict
                  ) -> dict[str, np.ndarray] | None:
    """Render and write the `missing` levels (folder -> path) of one frame at time `t`, adding
    each pass's time to `seconds`; the reference's channels as rendered, where it is missing (for
    `_empty_reference`, which need not read back the file just written), else None."""
    from vfxdenoise.core.data.render import sample_seed

    levels = config.levels()
    reference = None
    clock = time.perf_counter()
    geometry = renderer.geometry(t) if set(missing) - {REFERENCE} else None
    seconds["geometry"] += time.perf_counter() - clock
    for level, path in missing.items():
        clock = time.perf_counter()
        seed = sample_seed(plan.scene_seed, frame, level)
        if level == REFERENCE:
            channels = reference = renderer.beauty(t, levels[level], seed)
        else:
            channels = renderer.noisy(t, levels[level], seed, geometry)
        seconds[level] += time.perf_counter() - clock
        _write(path, channels, attributes | {"vfxdenoise:spp": int(levels[level]),
                                             "vfxdenoise:sampleSeed": int(seed),
                                             "vfxdenoise:frameTime": float(t)},
               config.float_bits)
    return reference


def _render_failure(plan: SequencePlan, config: DatasetConfig, frame: int, exc: BaseException
                    ) -> DatasetError:
    """A render that Mitsuba failed, as one line naming the sequence, frame and frame size, with
    the failure's first cause (Dr.Jit wraps it in 'error while performing a custom differentiable
    operation'): a frame too large for this machine printed a traceback."""
    cause = _first_cause(exc)
    message = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return DatasetError(
        f"Mitsuba could not render frame {frame} of {plan.name} at {config.width}x{config.height} pixels "
        f"({message}); frames already written are kept (a rerun of the same command resumes from "
        "them); to render with other settings (a smaller --size, say) choose a new output folder, or "
        "this one while it holds no frame")


def _raise_cancel_within(exc: BaseException) -> None:
    """Raise the cancel (Ctrl-C's KeyboardInterrupt, SIGTERM's SystemExit) that a render failure
    wraps, where one does: Mitsuba renders in a Dr.Jit custom operation, which raises a RuntimeError
    from whatever stopped it, and a cancel landing in a render (most of a run's time) ended the run
    as a failed render (exit 1, 'once the cause is mended'), not cancelled (130 or 143, said in one
    line: `cli.cancels`)."""
    cause = _first_cause(exc)
    if isinstance(cause, (KeyboardInterrupt, SystemExit)):
        raise cause from None


def _first_cause(exc: BaseException) -> BaseException:
    """The exception at the end of `exc`'s chain of causes (`raise ... from`)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def _write_failure(plan: SequencePlan, what: str, exc: OSError) -> DatasetError:
    """A sequence whose frame or folder could not be written, naming both and what to do about
    the error at hand (`write_advice`)."""
    return DatasetError(
        f"could not write {what} of {plan.name} ({exc.strerror or exc}"
        f"{f': {exc.filename}' if exc.filename else ''}); {write_advice(exc)}, then rerun the same "
        "command: frames already written are kept, for it to resume from")


def _worker_init(variant: str | None, threads: int) -> None:
    """Set up a render worker. A terminal's Ctrl-C reaches the whole process group: the workers
    ignore it and are ended by the dataset command (`_stop_workers`), rather than each idle one
    printing its KeyboardInterrupt's traceback above the command's one line. Until this runs,
    the worker holds SIGINT blocked (`_ctrl_c_held_from_new_workers`); ignoring it drops one held."""
    from vfxdenoise.core.data.render import init_mitsuba

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    init_mitsuba(variant, threads)


def _exit_with_parent(parent: int) -> None:
    """End this render worker once the dataset command that started it is gone (killed, crashed):
    an orphaned worker would keep rendering, unseen, into the dataset folder. Its finished frames
    stay; a rerun resumes from them."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


# ---------------------------------------------------------------------------------------------------
# Manifest


def _start_manifest(root: Path, config: DatasetConfig) -> dict:
    existing = read_manifest(root)
    fresh = {"format": MANIFEST_FORMAT, "generator": "vfxdenoise make-dataset",
             "config": config.render_key(), "sequences": {}}
    if existing is None:
        return fresh
    if existing.get("config") != config.render_key():
        old = existing.get("config", {})
        differing = sorted(k for k, v in config.render_key().items() if old.get(k) != v)
        if not _holds_frames(root):
            log.info("%s was made with other settings (%s differ), but no frame was rendered with them "
                     "(the run stopped or failed first): starting it again with these", root / MANIFEST,
                     ", ".join(differing))
            return fresh
        if old.get("scenes", 1) != SCENES_VERSION:
            raise DatasetError(
                f"{root / MANIFEST} was made by an earlier make-dataset, whose scenes differ from "
                f"this one's for some seeds (version {old.get('scenes', 1)}, now {SCENES_VERSION}): "
                "resuming would mix the two; render into a new output folder")
        raise DatasetError(
            f"{root / MANIFEST} was made with other settings ({', '.join(differing)} differ); "
            "resume with the same options or choose a new output folder")
    return existing


def _holds_frames(root: Path) -> bool:
    """Whether the dataset folder holds any rendered frame, finished or in .partial/: those of a
    run with other settings must not be resumed (or mixed with) by this one."""
    return next(root.rglob(FRAME_GLOB), None) is not None


def _is_complete(root: Path, plan: SequencePlan, config: DatasetConfig, manifest: dict) -> bool:
    """Whether the manifest records the sequence as done: its frames all in place, or left out."""
    entry = manifest["sequences"].get(plan.name)
    return bool(entry and entry.get("complete")) and (bool(entry.get("left_out")) or all(
        p.is_file() for p in _expected_paths(root, plan, config)))


@dataclass
class GenerateResult:
    manifest: dict
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # rendered this run, but showing nothing
    seconds: float = 0.0


def generate(root: str | Path, config: DatasetConfig, jobs: int = 1,
             on_sequence: Callable[[dict], None] | None = None) -> GenerateResult:
    """Render every unfinished sequence of `config` into `root`; update the manifest as they finish.

    A sequence that fails stops the run from starting others, and the run ends with a `DatasetError`
    naming each failed sequence, after every sequence that finished is in the manifest. Sequences
    already handed to a render process (`jobs` of them, and the one more the process pool queues)
    are completed and recorded rather than abandoned: a process cannot be stopped mid-frame without
    killing it (which breaks the pool), and their finished frames would otherwise wait for the
    rerun. Sequences not yet handed over are cancelled; the rerun renders them, and the failed ones
    from the frames they left in .partial/. A cancel (Ctrl-C, SIGTERM) ends the render processes at
    once (`_stop_workers`), their finished frames kept likewise. The manifest lists sequences in
    plan order, whatever order they finished in, so a resumed run's equals one that never failed
    (but for the render times and the counts of images rendered and reused).
    """
    from vfxdenoise.core.data.render import init_mitsuba

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = _start_manifest(root, config)
    plans = plan_sequences(config)
    todo = [p for p in plans if not _is_complete(root, p, config, manifest)]
    result = GenerateResult(manifest, skipped=[p.name for p in plans if p not in todo])
    started = time.perf_counter()
    jobs = max(1, min(jobs, len(todo) or 1))

    def finished(entry: dict) -> None:
        manifest["sequences"] = _in_plan_order(manifest["sequences"] | {entry["name"]: entry}, plans)
        write_manifest(root, manifest)
        (result.left_out if entry.get("left_out") else result.rendered).append(entry["name"])
        if on_sequence:
            on_sequence(entry)

    write_manifest(root, manifest)
    if jobs == 1:
        init_mitsuba(config.variant)
        failures = _render_one_by_one(root, todo, config, finished)
    else:
        failures = _render_in_parallel(root, todo, config, jobs, finished)
    result.seconds = time.perf_counter() - started
    _remove_if_empty(root / PARTIAL)
    _warn_of_left_out(root, manifest)
    if failures:
        not_started = len(todo) - len(failures) - len(result.rendered) - len(result.left_out)
        raise _failure_report(root, failures, len(result.rendered), not_started) from failures[0][1]
    return result


def _remove_if_empty(folder: Path) -> None:
    """Remove `folder` where it is empty: a finished dataset keeps no empty .partial/, while one
    holding an unfinished sequence's frames (a failed run's, for the rerun) stays."""
    with contextlib.suppress(OSError):  # not empty, or not there
        folder.rmdir()


Failures = list[tuple[SequencePlan, Exception]]


def _render_one_by_one(root: Path, todo: list[SequencePlan], config: DatasetConfig,
                       finished: Callable[[dict], None]) -> Failures:
    """Render `todo` in this process, up to the first sequence that fails: [(it, its error)]."""
    for plan in todo:
        try:
            entry = render_sequence(root, plan, config)
        except Exception as exc:  # reported with the sequence named (_failure_report)
            return [(plan, exc)]
        finished(entry)
    return []


def _render_in_parallel(root: Path, todo: list[SequencePlan], config: DatasetConfig, jobs: int,
                        finished: Callable[[dict], None]) -> Failures:
    """Render `todo` in `jobs` processes, passing each sequence to `finished` as it completes; after
    a failure, cancel those not yet started and wait for the rest (`generate`). [(plan, error)].
    The workers write their meshes in one temp folder of this process's, removed as it returns or
    is cancelled: a worker a cancel ends (`_stop_workers`) runs no clean-up of its own, and each
    left its meshes' folder in the system's temp folder."""
    from vfxdenoise.core.data.render import default_threads

    failures: Failures = []
    context = multiprocessing.get_context("spawn")  # never fork a process holding JIT threads
    init_args = (config.variant, default_threads(jobs))
    others = set(multiprocessing.active_children())
    with tempfile.TemporaryDirectory(prefix="vfxdenoise-dataset-", ignore_cleanup_errors=True) as meshes, \
            ProcessPoolExecutor(jobs, context, _worker_init, init_args) as pool:
        try:
            with _ctrl_c_held_from_new_workers():  # the pool starts its workers in `submit`
                pending: dict[Future, SequencePlan] = {
                    pool.submit(render_sequence, root, plan, config, Path(meshes)): plan for plan in todo}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    plan = pending.pop(future)
                    try:
                        entry = future.result()
                    except Exception as exc:  # a worker's error, or a worker that died
                        failures.append((plan, exc))
                        pending = {f: p for f, p in pending.items() if not f.cancel()}
                        if pending:
                            log.warning("%s failed; finishing the %d sequence(s) already rendering so the "
                                        "manifest records them, starting no other", plan.name, len(pending))
                        continue
                    finished(entry)
        except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM (`cli.main`)
            _stop_workers(pool, others)
            raise
    return failures


@contextlib.contextmanager
def _ctrl_c_held_from_new_workers() -> Iterator[None]:
    """SIGINT blocked in this thread while it starts render workers. A spawned process inherits
    the mask through exec, so a Ctrl-C in a worker's first moment (its start-up, before
    `_worker_init` ignores SIGINT, which drops the pending one) waits, where it raised
    KeyboardInterrupt there and printed the traceback `_worker_init` is there to spare. Blocked
    rather than ignored (SIG_IGN would also pass to the workers): a Ctrl-C meant for this process
    meanwhile is held, not lost, and raises once the mask is restored (or at once, in a thread of
    this process that does not block it). A spawn context's pool starts a worker at each `submit`
    that finds none idle, up to its size, and never after but to replace one that exits (which
    ours do not); the pool's manager thread, started in the first `submit`, inherits the mask."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks, nor exec to pass one
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_workers(pool: ProcessPoolExecutor, others: set) -> None:
    """A cancel's end of `pool`: the sequences not started cancelled, and its render workers (this
    process's children but `others`) ended now, as a render in this process stops at once, rather
    than the pool waiting for the sequences rendering (minutes at a large --ref-spp). Their frames
    on disk and the sequences recorded stay, for the rerun."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in multiprocessing.active_children():
        if process not in others:
            process.terminate()


def _warn_of_left_out(root: Path, manifest: dict) -> None:
    """Warn, at the end of every run, of the sequences left out of the dataset as showing nothing
    (this run's or an earlier one's), each named with where its frames are."""
    left = [entry for entry in manifest["sequences"].values() if entry.get("left_out")]
    if left:
        named = "; ".join(f"{e['name']} ({e['left_out']}; frames in {root / e['folder']})" for e in left)
        log.warning("%d sequence(s) of %s show nothing and are left out of it: %s. Training and eval "
                    "read the others; for more, rerun with a larger --sequences", len(left), root, named)


def _in_plan_order(entries: dict, plans: list[SequencePlan]) -> dict:
    """Manifest entries in the order of `plans` (those of sequences no longer planned, from a run
    with more --sequences, after them by name): the manifest does not depend on which finished first."""
    order = {plan.name: index for index, plan in enumerate(plans)}
    return dict(sorted(entries.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))


def _failure_report(root: Path, failures: Failures, recorded: int, not_started: int) -> DatasetError:
    """One error for the sequences that failed, each named with its cause, and what the rerun does."""
    causes = []
    for plan, exc in failures:
        text = str(exc).strip() if isinstance(exc, VfxDenoiseError) else f"{type(exc).__name__}: {exc}"
        causes.append(text if plan.name in text else f"{plan.name}: {text}")
    names = ", ".join(plan.name for plan, _ in failures)
    return DatasetError(
        f"{'; '.join(causes)}. {len(failures)} sequence(s) failed ({names}); {recorded} finished and "
        f"are recorded in {root / MANIFEST}; {not_started} not started. Rerun the same command, once "
        "the cause is mended, to render only what is missing")
