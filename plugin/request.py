"""What a host asks for: one denoise of a rendered sequence, as plain data with no host types.

Hosts (Nuke, Houdini) translate their state into a `DenoiseRequest`; the runner turns it into a
`vfxdenoise seq` command line or an in-process engine call. Only the standard library is imported
here: hosts often run a Python without torch, numpy or fileseq.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from vfxdenoise.core.engine_config import IO_THREADS_LIMIT, EngineConfig
from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.existing_outputs import REFUSE
from vfxdenoise.core.io.frame_pattern import (
    frames_problem,
    output_pattern_problem,
    pattern_from_text,
    pattern_problem,
)
from vfxdenoise.core.model_files import pinned_sha256
from vfxdenoise.plugin.errors import PluginError, RequestUsageError
from vfxdenoise.plugin.seq_options import EXISTING_POLICIES, SeqOptions, check_values

# What a request may do with output frames already on disk: the farm's (`EXISTING_POLICIES`), and
# refuse (seq's own default, neither flag): stop before the first frame, naming the output there.
REQUEST_POLICIES = (*EXISTING_POLICIES, REFUSE)


@dataclass(frozen=True)
class DenoiseRequest:
    """One denoise: `input_pattern` (render.####.exr) frames `frames` into `output_pattern`, with
    the `seq` options in `options` (layers, AOVs, device, model...).

    None leaves a setting to `vfxdenoise seq`'s default (output beside the input, every frame on
    disk; in `options`: the model's temporal radius, the shipped model, device auto...). `frames`
    is a `--frames` spec ('1001-1100', '1001,1005', '1001-1100x2'), or frame numbers (a list or
    range of ints, written as such a spec: `frame_spec`). Hosts re-render and re-denoise the same
    frames, so existing outputs are replaced by default (`existing`: "overwrite"; "resume" keeps
    frames already denoised; "refuse", seq's own default, stops at an output already there).
    `keep_going`: a frame that fails is reported failed and the others are denoised (seq
    --keep-going); `io_threads`: EXR decode/encode threads (seq --io-threads; None: seq's default);
    `model_sha256`: the SHA-256 the weights the model names must have (seq --model-sha256, as
    `sha256sum` prints it; None: any), else the run is refused before any frame is read
    (WeightsMismatchError).

    What no run could take is refused as the request is built, with no frame read and without
    torch, numpy or fileseq (`__post_init__`): a PluginError for a value of the wrong type, a
    RequestUsageError (a PluginError and a UsageError) for a value seq refuses.
    """

    input_pattern: str
    frames: str | None = None
    output_pattern: str | None = None
    existing: str = "overwrite"
    options: SeqOptions = field(default_factory=SeqOptions)
    keep_going: bool = False
    io_threads: int | None = None
    model_sha256: str | None = None

    def __post_init__(self) -> None:
        """Refuse what no run could take: values of the wrong type, and what seq refuses before it
        reads a frame where that is known from the request alone (`refuse_what_seq_refuses`: its
        option values, by the run's own check, its frame spec and patterns). What needs the frames
        on disk is the run's (`check_request` says some of it before a long run)."""
        if self.existing not in REQUEST_POLICIES:
            raise PluginError(f"existing outputs: '{self.existing}' is not one of "
                              f"{', '.join(REQUEST_POLICIES)}")
        object.__setattr__(self, "frames", _frames_spec(self.frames))
        if not isinstance(self.keep_going, bool):
            raise PluginError(f"keep_going={self.keep_going!r}: keep_going takes True or False")
        if self.io_threads is not None and (isinstance(self.io_threads, bool) or not isinstance(
                self.io_threads, numbers.Integral)):
            raise PluginError(f"io_threads={self.io_threads!r}: io_threads takes a whole number from 1 "
                              f"to {IO_THREADS_LIMIT}, or None")
        if self.io_threads is not None:
            object.__setattr__(self, "io_threads", int(self.io_threads))  # a numpy scalar as a plain int
        if self.model_sha256 is not None:
            object.__setattr__(self, "model_sha256", _pin(self.model_sha256))
        refuse_what_seq_refuses(self.engine_config(), self.input_pattern, self.output_pattern, self.frames)

    def with_default_model(self, model: str | None) -> DenoiseRequest:
        """This request, with `model` (a site's default) when it names none itself."""
        if self.options.model is not None or model is None:
            return self
        return replace(self, options=replace(self.options, model=model))

    def seq_args(self, existing: bool = True) -> list[str]:
        """Arguments of `vfxdenoise seq` (after the word `seq`) that run this request; without the
        run's own settings (--overwrite/--resume, --keep-going, --io-threads, --model-sha256) when
        `existing` is False: farm jobs choose their own (`farm_submit`, which passes a request's
        `model_sha256` to `farm --model-sha256`; without one a job pins the weights the model names
        where it is written: `farm.job.model_pin`)."""
        args = [self.input_pattern]
        if self.frames is not None:
            args.append(f"--frames={self.frames}")  # '=' keeps negative frames (-5--1) a value
        if self.output_pattern is not None:
            args += ["-o", self.output_pattern]
        if existing:
            args += [f"--{self.existing}"] if self.existing != REFUSE else []  # refuse: neither flag
            args += ["--keep-going"] if self.keep_going else []
            args += ["--io-threads", str(self.io_threads)] if self.io_threads is not None else []
            args += [f"--model-sha256={self.model_sha256}"] if self.model_sha256 is not None else []
        return args + self.options.to_args()

    def engine_config(self) -> EngineConfig:
        """The engine's `EngineConfig` for an in-process run (and the checks as the request is
        built): the options' (`SeqOptions.engine_config`), with this request's own settings
        (existing outputs, keep_going, io_threads, model_sha256)."""
        return self.options.engine_config(existing=self.existing, keep_going=self.keep_going,
                                          io_threads=self.io_threads, model_sha256=self.model_sha256)


def _pin(model_sha256: object) -> str:
    """A request's `model_sha256` as seq takes it (`model_files.pinned_sha256`: `sha256sum`'s
    digits, lowercase); a PluginError for one of another type than str, a RequestUsageError in
    seq's words for a string that is no SHA-256."""
    if not isinstance(model_sha256, str):
        raise PluginError(f"model_sha256={model_sha256!r}: model_sha256 takes the weights' SHA-256 as a "
                          "string of 64 hexadecimal digits, or None")
    try:
        return pinned_sha256(model_sha256)
    except UsageError as exc:
        raise RequestUsageError(f"--model-sha256 {exc}") from exc


def _frames_spec(frames: object) -> str | None:
    """A request's `frames` as the `--frames` spec it passes: a spec as it is, frame numbers (a
    list, tuple, range or set of ints) as `frame_spec` writes them; a PluginError for anything
    else (a list was written '--frames=[1001, 1002]', which seq refused)."""
    if frames is None or isinstance(frames, str):
        return frames
    if isinstance(frames, (list, tuple, range, set, frozenset)) and frames and all(
            isinstance(f, numbers.Integral) and not isinstance(f, bool) for f in frames):
        return frame_spec([int(f) for f in frames])
    raise PluginError(f"frames={frames!r} ({type(frames).__name__}): frames takes a frame spec such as "
                      "'1001-1100' or '1001,1005', a non-empty list or range of frame numbers, or None")


def frame_spec(frames: Iterable[int]) -> str:
    """A `--frames` spec: '1001-1010', '1001-1009x2' (evenly stepped), '1001', or runs of
    consecutive frames joined by commas for any other set ('1001-1003,1005'); split at frame 0
    as `sequence.format_frames` splits it ('-3--1,0-2', not '-3-2'). Standard library only, for
    hosts without fileseq: `format_frames`' twin."""
    frames = sorted(set(frames))
    if len(frames) == 1:
        return str(frames[0])
    if frames and frames[0] < 0 <= frames[-1]:
        negative = [f for f in frames if f < 0]
        return f"{frame_spec(negative)},{frame_spec(frames[len(negative):])}"
    steps = {later - earlier for earlier, later in zip(frames, frames[1:])}
    if len(steps) == 1:
        step = steps.pop()
        return f"{frames[0]}-{frames[-1]}" + (f"x{step}" if step != 1 else "")
    return ",".join(frame_spec(run) for run in _consecutive_runs(frames))


def _consecutive_runs(frames: list[int]) -> list[list[int]]:
    """Sorted frames split where one is not the next after the one before."""
    runs: list[list[int]] = []
    for frame in frames:
        if runs and frame == runs[-1][-1] + 1:
            runs[-1].append(frame)
        else:
            runs.append([frame])
    return runs


def refuse_what_seq_refuses(config: EngineConfig, input_pattern: str | None, output_pattern: str | None,
                            frames: str | None = None) -> None:
    """Raise RequestUsageError (seq's words, naming the value) for what a host gives that seq would
    refuse, found as a request or a hook's settings are built, before a frame is read, in either
    runner mode: the options' values (`check_values`), a frame spec that does not parse
    (`frames_problem`: `frames`, and the options' `context_frames`, seq's --context-frames),
    patterns that name no frame sequence (`pattern_problem`), an output pattern over the input or
    not .exr (`_output_problem`). None: not given (a hook's settings have no input pattern, the
    render's)."""
    check_values(config)
    specs = (("frames", frames), ("context_frames", config.context_frames))
    problems = [frames_problem(spec, name) for name, spec in specs if spec is not None]
    problem = next(filter(None, problems), None) or _patterns_problem(input_pattern, output_pattern)
    if problem:
        raise RequestUsageError(problem)


# An example of each pattern a request's refusal gives.
PATTERN_EXAMPLES = {"input_pattern": "/shots/a/render.####.exr",
                    "output_pattern": "/shots/a/denoised/render.####.exr"}


def _patterns_problem(input_pattern: str | None, output_pattern: str | None) -> str | None:
    """`pattern_problem` of either pattern, then `_output_problem`'s, said naming the pattern."""
    for label, text in (("input_pattern", input_pattern), ("output_pattern", output_pattern)):
        problem = pattern_problem(text) if text is not None else None
        if problem:
            return f"{label} '{text}': {problem}, e.g. {PATTERN_EXAMPLES[label]}"
    return _output_problem(input_pattern, output_pattern) if output_pattern is not None else None


def _output_problem(input_pattern: str | None, output_pattern: str) -> str | None:
    """What seq refuses of an output pattern as written (`frame_pattern.output_pattern_problem`,
    seq's one check): the input pattern itself, or one not ending in .exr; None where neither (or
    where a pattern is left to seq to read)."""
    out = pattern_from_text(output_pattern)
    if out is None:
        return None
    given = pattern_from_text(input_pattern) if input_pattern is not None else None
    problem = output_pattern_problem(given, out, "choose another (None writes them beside the inputs "
                                     "as <name>_denoised.####.exr)", typed=output_pattern,
                                     typed_input=input_pattern)
    return f"output_pattern {problem}" if problem else None
