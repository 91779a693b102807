"""`vfxdenoise seq`: denoise an EXR sequence (the main job)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TextIO

import click
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from vfxdenoise.cli.cancels import cancel_said
from vfxdenoise.cli.json_errors import JsonUsageErrors, option_value
from vfxdenoise.cli.main import STARTED, error_message
from vfxdenoise.cli.options import (
    SEQ_FLAGS,
    existing_policy,
    layer_overrides,
    seq_pass_through_options,
    sha256_value,
)
from vfxdenoise.core.engine import EngineConfig, RunSummary, denoise_sequence
from vfxdenoise.core.engine_config import IO_THREADS_LIMIT, MAX_IO_THREADS
from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.exposure import Exposure
from vfxdenoise.core.frame_status import FrameResult, FrameStatus
from vfxdenoise.core.io.sequence import format_frames
from vfxdenoise.core.output_plan import NOT_ON_DISK
from vfxdenoise.plugin.errors import DenoiseCancelled
from vfxdenoise.plugin.events import (
    done_event,
    encode,
    error_details,
    error_event,
    frame_event,
    start_event,
)
from vfxdenoise.plugin.seq_options import engine_settings


class _ReportClosed(VfxDenoiseError):
    """The run's report cannot be written (its reader went away, a full disk): the --progress json
    events or openjd's progress lines on stdout, the frame lines or the summary on stderr. The
    run stops, exit 1, as in every --progress mode: a run that goes on unseen, or stops with
    141 and no word (a shell's SIGPIPE status, which farm engines do not retry), left a shot half
    written with nothing said. Stderr says why where it still can."""


# `ctx.meta`'s key for the run's `_FrameReporter`, shared with the group's context (`main`).
_REPORTER = "vfxdenoise.seq.reporter"

# What a run stopped mid-shot leaves: every frame in it said is whole on disk.
_STOPPED = ("the run stopped. The frames written are complete on disk (each is written whole: a "
            "frame stopped mid-way leaves no file); run again with --resume to finish")
# What a run whose summary could not be said leaves: it had ended.
_ENDED = ("the run had ended, its frames whole on disk; the same command with --resume says its "
          "summary, keeping them")


def _report_closed(exc: OSError, stream: str, writer: str, lines: str, after: str = _STOPPED,
                   silence: TextIO | None = None) -> _ReportClosed:
    """The error ending a run whose `stream` ('stdout', 'stderr') could not take the `lines`
    ('frame lines') `writer` ('--progress none') writes, `exc` the write's error; `after`: what
    the run had done by then. `silence`, sys's stream that failed, is pointed at /dev/null first:
    Python's flush of its unwritten bytes at exit failed again (exit 120, a traceback)."""
    why = (f"{stream} was closed while {writer} wrote its {lines} (the program reading them exited)"
           if isinstance(exc, BrokenPipeError) else
           f"cannot write the {writer} {lines} to {stream} ({exc.strerror or exc})")
    if silence is not None:
        _point_at_devnull(silence)
    return _ReportClosed(f"{why}: {after}")


def _point_at_devnull(stream) -> None:
    """Point the file descriptor under `stream` at /dev/null, where it is one (not click's test
    runner's). The descriptor opened on /dev/null is closed once duplicated: it was left open."""
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        target = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, target)
        finally:
            os.close(devnull)


def _emit(event: dict, stream=None) -> None:
    stream = stream or sys.stdout
    try:
        stream.write(encode(event) + "\n")
        stream.flush()
    except OSError as exc:
        raise _report_closed(exc, "stdout", "--progress json", "events") from exc


def _run_reporting_errors(pattern: str, output: str | None, frames: str | None, options: dict[str, Any],
                          report, events) -> RunSummary:
    """`denoise_sequence` with the settings seq's `options` give (`_engine_config`: --model-sha256
    too, which the run checks the weights --model names against before any frame is read), then
    with --progress json (`events` the stream for them) its `done` event; a refusal (--resume with
    --overwrite too) or a failure is an `error` event instead, so a pipeline reading the events
    learns why the run stopped; a cancel is said by the command wherever it lands (`_Seq`). Every
    `error` event names its error's class and holds the error's data (`error_details`: a locked
    frame's path and owner, the missing frames...), which the host's runner gives its error as an
    in-process run's has it. The summary counts the process's start-up before the run
    (`_startup_seconds`)."""
    try:
        config, startup = _engine_config(options), _startup_seconds()
        summary = denoise_sequence(pattern, output, frames, config, progress=report)
        summary.startup_seconds = startup
        if events is not None:
            if not report.started:  # nothing to denoise (all kept by --resume, or skipped)
                _emit(start_event(0), events)
            _emit(_done_event(summary), events)
        return summary
    except _ReportClosed:
        raise
    except Exception as exc:  # `main` says it on stderr in the same words (`error_message`)
        if events is not None:  # by its class, which the host's runner keeps (`RunnerError.kind`)
            _emit(error_event(error_message(exc), type(exc).__name__, error_details(exc)), events)
        raise


def _startup_seconds() -> float | None:
    """The seconds since the process started (`main.STARTED`), for the summary's time: a farm
    task's wall time counts its imports too. None where `main` did not start it (a test's runner)."""
    started = (click.get_current_context().obj or {}).get(STARTED)
    return None if started is None else time.perf_counter() - started


def _engine_config(options: dict[str, Any]) -> EngineConfig:
    """The engine's settings: seq's options by their names (`engine_settings`), --resume and
    --overwrite as the one `existing` setting (`existing_policy`: both is a UsageError)."""
    existing = existing_policy(options.pop("resume"), options.pop("overwrite"), SEQ_FLAGS)
    return EngineConfig(**engine_settings(options), existing=existing)


@contextlib.contextmanager
def _events_alone_on_stdout() -> Iterator:
    """For --progress json: the stream that writes to stdout, which then carries the events
    alone. What else the process writes there (the OpenEXR binding's warnings about a damaged
    file, through Python or C++) goes to stderr. A stdout that is no file (click's test
    runner) is yielded as it is."""
    try:
        is_fd_1 = sys.stdout.fileno() == 1
    except (AttributeError, OSError, io.UnsupportedOperation):
        is_fd_1 = False
    if not is_fd_1:
        yield sys.stdout
        return
    sys.stdout.flush()
    events, previous = os.fdopen(os.dup(1), "w"), sys.stdout
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        yield events
    finally:
        with contextlib.suppress(OSError):  # its reader gone (`_ReportClosed`)
            events.flush()
        os.dup2(events.fileno(), 1)
        sys.stdout = previous
        with contextlib.suppress(OSError):
            events.close()


def _wants_events(args: list[str]) -> bool:
    """Whether a seq command line asks for --progress json (as typed: it may not parse) as click
    reads it: `-o --progress json` is the output '--progress' and an extra argument, no JSON mode."""
    return option_value(seq, "--progress", args) == "json"


class _Seq(JsonUsageErrors):
    """seq's click command, which says a cancel (SIGTERM from a farm engine, Ctrl-C) wherever in
    the command it lands (`main.ReportsCancels`): while its modules import, before the run, or
    after its `done` event (exit 130 or 143 all the same)."""

    def report_cancel(self, cancel: BaseException, args: list[str]) -> None:
        """The cancel on stderr and, with --progress json (on `args` as typed), as an `error` event
        of class 'DenoiseCancelled', what a host's runner raises for its own cancel. Before any
        frame was reported (in the start-up, the command's `_FrameReporter` not made or at none)
        it says so, not that the frames reported written are complete."""
        ctx = click.get_current_context(silent=True)
        report = ctx.meta.get(_REPORTER) if ctx else None
        if report is None or not report.reported:
            message = (f"{cancel_said(cancel)} before any frame was reported written: run the command "
                       "again (--resume keeps any frame it finds written whole)")
        else:
            message = (f"{cancel_said(cancel)}: the frames reported written are complete on disk; run "
                       "again with --resume to finish")
        if _wants_events(args):
            with contextlib.suppress(_ReportClosed):  # its reader gone: stderr says it alone
                _emit(error_event(message, DenoiseCancelled.__name__))
        click.echo(f"error: {message}", err=True)


def _one_spec(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """A frame spec option's value, given at most once: given twice, the last would win silently
    (a farm task's chunk `--frames` followed by another in the job's further seq options would each
    denoise the latter), so a repeat is refused, saying how to name several frames in one."""
    if len(values) > 1:
        raise click.BadParameter(f"given {len(values)} times ({' and '.join(values)}); pass one "
                                 f"frame spec, e.g. {param.opts[-1]} {','.join(values)}")
    return values[0] if values else None


# A command line click refuses (an option's bad value) is an `error` event too under --progress json,
# as every other refusal is: a pipeline reading the events alone learns why.
@click.command("seq", cls=_Seq, wants_json=_wants_events, emit=_emit)
@click.argument("pattern")
@click.option("-o", "--output",
              help="Output frame pattern [default: <name>_denoised.####.exr beside the input].")
@click.option("--frames", multiple=True, callback=_one_spec,
              help="Frames to write, e.g. 1001-1100, 1001-1100x2 or 1001-1100:2 (every other frame), "
                   "1001,1005, -5--1 (negative frames); given once [default: those of "
                   "--context-frames, else first to last on disk].")
@click.option("--context-frames", metavar="FRAMES", multiple=True, callback=_one_spec,
              help="The render's own range, e.g. 1001-1100: the frames written when --frames is not "
                   "given, and the only frames read as temporal neighbours, so that frames an older "
                   "render left beside it are never blended in [default: every frame on disk].")
@click.option("--job-frames", metavar="FRAMES", multiple=True, callback=_one_spec,
              help="The frames of the farm job this run is one task of, which farm jobs pass "
                   "(--frames then some of them): the --frames typo check (frames none of which is "
                   "on disk or within the shot) looks at them, so a task of handles held past the "
                   "render's ends runs as the whole job does; such a task exits 1 where it wrote "
                   "frames without a frame that could not be read (a neighbour under --keep-going, "
                   "or one the shot's exposure is found from), so that the farm retries it "
                   "[default: --frames].")
@seq_pass_through_options(for_farm=False)
@click.option("--model-sha256", metavar="HEX", callback=sha256_value,
              help="Refuse to run, before any frame is read, unless the weights --model names here "
                   "have this SHA-256 (`sha256sum` of the .safetensors file): farm jobs pass the "
                   "submitter's, so a worker with another install never mixes models into a shot.")
@click.option("--resume", is_flag=True,
              help="Skip frames already written, readable, and made from the inputs on disk now "
                   "(re-rendered frames and their neighbours' outputs are denoised again; every "
                   "frame, when the exposure found from the shot's first 2K+1 frames changes).")
@click.option("--overwrite", is_flag=True, help="Replace existing output frames.")
@click.option("--keep-going", is_flag=True,
              help="Denoise the other frames when one fails; exit 1 at the end.")
@click.option("--progress", type=click.Choice(["bar", "json", "none", "openjd"]), default="bar",
              show_default=True,
              help="none: a line per frame, then the summary, on stderr; bar: the same under a bar "
                   "(on a terminal; elsewhere, such as a farm's log, as none); openjd: as none, and "
                   "`openjd_progress: PERCENT` lines on stdout (Open Job Description's progress, which "
                   "Deadline Cloud shows as a task's; farm jobs use it); json: JSON events alone on "
                   "stdout. Warnings and errors go to stderr.")
@click.option("--io-threads", type=click.IntRange(1, IO_THREADS_LIMIT),
              help="EXR decode/encode threads; more than the CPUs cost memory for no speed (warned) "
                   "[default: one per CPU this process may use (or per --cpu-threads thread, where "
                   f"fewer), at least 2 and at most {MAX_IO_THREADS}].")
def seq(pattern: str, output: str | None, frames: str | None, progress: str, **options: Any) -> None:
    """Denoise the frames of PATTERN (render.####.exr, %04d, $F4, @) into new EXRs."""
    # The other options are the engine's settings (`_engine_config`).
    options["layers"] = layer_overrides(options)
    farm_task = options["job_frames"] is not None
    report = _FrameReporter(progress)
    click.get_current_context().meta[_REPORTER] = report  # for a cancel's words (`_Seq.report_cancel`)
    try:
        with report.opened(), (_events_alone_on_stdout() if progress == "json"
                               else contextlib.nullcontext()) as events:
            report.events = events
            summary = _run_reporting_errors(pattern, output, frames, options, report, events)
    finally:
        report.close()
    unfinished = _unfinished_task(summary) if farm_task else []
    try:
        if progress != "json":
            _print_summary(summary)
        for line in unfinished:
            click.echo(f"error: {line}", err=True)
        if summary.frames(FrameStatus.FAILED):
            _print_failures(summary)
    except OSError as exc:
        raise _report_closed(exc, "stderr", "seq", "summary lines", after=_ENDED,
                             silence=sys.stderr) from exc
    if summary.frames(FrameStatus.FAILED) or unfinished:
        sys.exit(1)


class _FrameReporter:
    """The engine's progress callback for seq: each finished frame as a JSON `frame` event (after
    a `start` event) on `events` with --progress json, else as a line on stderr, under a tqdm
    bar with --progress bar, followed by an `openjd_progress:` line on stdout with --progress
    openjd. The bar is drawn on a terminal only: elsewhere (a farm's log, a pipe) its redraws
    would fill the log, and the lines come alone, as with --progress none."""

    def __init__(self, progress: str):
        self.asked = progress  # as typed, for an error's words
        self.progress = "none" if progress == "bar" and not _is_terminal(sys.stderr) else progress
        self.events = None  # the JSON events' stream, once open
        self.bar: tqdm | None = None
        self.started = False  # whether the `start` event is out
        self.reported = 0  # the frames reported

    def __call__(self, result: FrameResult, index: int, total: int) -> None:
        self.reported = index
        if self.events is not None:
            if index == 1:
                _emit(start_event(total), self.events)
                self.started = True
            _emit(frame_event(result.frame, index, total, result.status, str(result.path),
                              result.seconds, result.message, result.held_from, result.degraded), self.events)
            return
        line = f"frame {result.frame}: {result.status} in {result.seconds:.2f} s"
        if result.status != FrameStatus.FAILED:  # a failed frame's output was never written
            line += f" -> {result.path}"
        try:
            self._say(line, total)
        except OSError as exc:
            raise _report_closed(exc, "stderr", f"--progress {self.asked}", "frame lines",
                                 silence=sys.stderr) from exc
        if self.progress == "openjd":
            try:
                click.echo(f"openjd_progress: {100 * index // total}")
            except OSError as exc:
                raise _report_closed(exc, "stdout", "--progress openjd", "progress lines",
                                     silence=sys.stdout) from exc

    def _say(self, line: str, total: int) -> None:
        """A frame's line on stderr, above the bar where there is one (its total, unknown as the
        run starts, comes with the first frame)."""
        if self.bar is not None:
            if self.bar.total is None:
                self.bar.total = total
                self.bar.set_description_str("", refresh=False)
            self.bar.update(1)
            self.bar.write(line, file=sys.stderr)
        else:
            click.echo(line, err=True)

    @contextlib.contextmanager
    def opened(self) -> Iterator[None]:
        """With --progress bar (on a terminal), the bar drawn as the run starts, and the run's
        warnings logged above it, not over it: made with the first frame, it left the start-up
        and the first frame (minutes at 4K on a CPU) without a word, and its first rate was one
        frame over the instant since it was made ('6123 frame/s'); now the rate counts from the
        start."""
        if self.progress != "bar":
            yield
            return
        try:
            self.bar = tqdm(total=None, unit="frame", file=sys.stderr, desc="starting")
        except OSError as exc:
            raise _report_closed(exc, "stderr", f"--progress {self.asked}", "bar redraws",
                                 silence=sys.stderr) from exc
        with logging_redirect_tqdm(tqdm_class=tqdm):
            yield

    def close(self) -> None:
        """The bar's last state left on the terminal, where it counted any frame; else erased."""
        if self.bar is not None:
            self.bar.leave = self.bar.n > 0
            self.bar.close()


def _is_terminal(stream) -> bool:
    """Whether `stream` is a terminal (a closed or detached one is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Finding(NamedTuple):
    """One thing a run's summary tells: its key in the `done` event (None: said to people only)
    with its value there, and the lines it prints on stderr (none where it is not worth a line)."""

    key: str | None
    value: Callable[[RunSummary], Any]
    lines: Callable[[RunSummary], list[str]]


def _frames(label: str, status: str) -> _Finding:
    """The frames of one outcome: listed in the event, counted and spanned in a line where any."""
    return _frame_list(status, label, lambda summary: summary.frames(status))


def _frame_list(key: str, label: str, frames: Callable[[RunSummary], list[int]]) -> _Finding:
    """Frames the summary lists (`frames`): under `key` in the event, counted and spanned in a
    line where any."""
    def lines(summary: RunSummary) -> list[str]:
        frame_list = frames(summary)
        return [f"{label}: {len(frame_list)} frame(s) {format_frames(frame_list)}"] if frame_list else []
    return _Finding(key, frames, lines)


def _line(key: str, label: str, shown: Callable[[Any], bool] = bool) -> _Finding:
    """A finding whose value is the summary's attribute `key`, said as 'label: value' where `shown`."""
    def lines(summary: RunSummary) -> list[str]:
        value = getattr(summary, key)
        return [f"{label}: {value}"] if shown(value) else []
    return _Finding(key, lambda summary: getattr(summary, key), lines)


def _notes(summary: RunSummary) -> list[str]:
    """The notes of the frames written, each once, naming the frames it is of (frames denoised
    again for one reason, say). Not those of frames whose window was cut short: a flash's would
    repeat, with its own figures, in every window reaching it. The `cut_short` line names those
    frames; the run warned of each neighbour left out, and said why any was denoised again as it
    planned (the events carry every frame's whole note)."""
    frames_of: dict[str, list[int]] = {}
    for result in summary.results:
        if result.status == FrameStatus.WRITTEN and result.message and not result.left_out:
            frames_of.setdefault(result.message, []).append(result.frame)
    return [f"note: frame{'s' if len(frames) > 1 else ''} {format_frames(frames)}: {note}"
            for note, frames in frames_of.items()]


def _missing_notes(summary: RunSummary) -> dict[int, str]:
    """The missing frames whose output path holds an earlier run's output, which the run leaves
    there, each with what its result says of it (`output_plan._missing`): listed as missing, they
    would seem to have none. Frame events tell of the frames denoised only: the `done` event
    carries these."""
    return {result.frame: result.message for result in summary.results
            if result.status == FrameStatus.MISSING and result.message not in ("", NOT_ON_DISK)}


def _exposure_found_without(summary: RunSummary) -> list[str]:
    """The frames the shot's exposure was found without, unreadable, where any: warned of as the
    run began, and what a clean run may find otherwise."""
    without = summary.exposure_found_without
    return ([f"the shot's exposure found without (unreadable): {len(without)} frame(s) "
             f"{format_frames(without)}"] if without else [])


def _layers_line(summary: RunSummary) -> list[str]:
    layers = summary.aov_layers()
    return [f"layers denoised with the beauty: {', '.join(layers)}"] if layers else []


def _peak_memory(summary: RunSummary) -> list[str]:
    if not summary.peak_host_bytes:
        return []
    gpu = f", {summary.peak_gpu_bytes / 2**30:.2f} GiB GPU" if summary.peak_gpu_bytes else ""
    return [f"peak memory: {summary.peak_host_bytes / 2**30:.2f} GiB host{gpu}"]


def _tiles(summary: RunSummary) -> list[str]:
    """The tiles frames ran in, where any did: on a CPU they cost time (--tile's help says how
    much), and the tile the memory plan chose was said nowhere."""
    return [f"tiles: {', '.join(map(str, summary.tiles))} px"] if summary.tiles else []


def _time(summary: RunSummary) -> list[str]:
    """The run's time, with the process's start-up where it is known (a farm task's wall time
    counts it: 2.6 s on the 2-core development machine, most of it importing PyTorch)."""
    if summary.startup_seconds is None:
        return [f"time: {summary.seconds:.1f} s"]
    return [f"time: {summary.seconds + summary.startup_seconds:.1f} s, "
            f"{summary.startup_seconds:.1f} s of it start-up"]


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


# What the `done` event and the printed summary say, in their order.
_SUMMARY: tuple[_Finding, ...] = (
    _Finding("output", lambda s: s.output_pattern.typed, lambda s: [f"output: {s.output_pattern.typed}"]),
    _frames("written", FrameStatus.WRITTEN),
    _frames("skipped (already done)", FrameStatus.SKIPPED),
    _frames("missing (not written)", FrameStatus.MISSING),
    _frames("FAILED", FrameStatus.FAILED),
    # Among those written: made of a held input (--missing hold), of a window short of an unreadable frame
    _frame_list("held", "held (input missing, another frame's in its place)", RunSummary.held),
    _frame_list("degraded", "degraded (a neighbour unreadable, window cut short)", RunSummary.degraded),
    _frame_list("cut_short", "context cut short (neighbours left out: warned above)", RunSummary.cut_short),
    _Finding(None, lambda s: None, _exposure_found_without),  # the warnings (in the event) say it
    _Finding(None, lambda s: None, _notes),
    _Finding("missing_notes", _missing_notes,
             lambda s: [f"note: frame {frame}: {note}" for frame, note in _missing_notes(s).items()]),
    _Finding("sanitized", lambda s: s.sanitized.counts,
             lambda s: [f"sanitised input values: {s.sanitized.describe()}"] if s.sanitized.total else []),
    _line("memory", "host memory"),
    _Finding("tiles", lambda s: s.tiles, _tiles),
    _line("device", "device", shown=lambda value: True),
    _Finding("views", lambda s: [view for view in s.layers if view],
             lambda s: [f"views denoised: {', '.join(s.layers)}"] if any(s.layers) else []),
    _line("motion_vectors", "motion vectors"),
    _line("exposure", "exposure", shown=lambda value: value not in ("", Exposure().describe())),
    _Finding("layers", RunSummary.aov_layers, _layers_line),
    _Finding("alpha", lambda s: s.alpha, lambda s: [f"alpha: {s.alpha}"] if s.alpha else []),
    _Finding("storage", lambda s: s.storage, lambda s: [f"outputs: {change}" for change in s.storage]),
    _Finding("peak_host_bytes", lambda s: s.peak_host_bytes, _peak_memory),
    _Finding("peak_gpu_bytes", lambda s: s.peak_gpu_bytes, lambda s: []),  # in the peak memory line
    _Finding("seconds", lambda s: round(s.seconds, 3), _time),
    _Finding("startup_seconds", lambda s: _rounded(s.startup_seconds), lambda s: []),  # in the time line
    _Finding("warnings", lambda s: list(s.warnings), lambda s: []),  # on stderr as they came
)


def _done_event(summary: RunSummary) -> dict:
    """The JSON `done` event of --progress json: the frames by outcome and what the run found."""
    found = {finding.key: finding.value(summary) for finding in _SUMMARY if finding.key is not None}
    return done_event(found.pop("output"), found.pop(FrameStatus.WRITTEN), found.pop(FrameStatus.SKIPPED),
                      **found)


def _print_summary(summary: RunSummary) -> None:
    """The run's summary on stderr, for people: the frames by outcome, then only what is worth
    a line (notes, sanitised values, a view, motion vectors or exposure found), device and time."""
    for finding in _SUMMARY:
        for line in finding.lines(summary):
            click.echo(line, err=True)


def _unfinished_task(summary: RunSummary) -> list[str]:
    """Why a farm task's outputs (a run given --job-frames) are not yet what a run over readable
    frames makes, one line each: frames written without an unreadable neighbour (--keep-going),
    and a shot's exposure found without frames that could not be read. A plain run exits 0 with
    them listed in its summary, every frame asked written; a farm task exits 1, for the farm
    retries only the tasks that fail, and nothing else would denoise those frames again once the
    frames lost read. The retry's --resume denoises them again (their headers say what they lack:
    `provenance`)."""
    lines = []
    degraded, lost = summary.degraded(), summary.unreadable_neighbours()
    if degraded:
        lines.append(f"frame(s) {format_frames(degraded)} were written without frame(s) "
                     f"{format_frames(lost)} of their windows, which could not be read (--keep-going): "
                     "this farm task fails so that the farm retries it; re-render or re-copy those "
                     "frames, and the retry (--resume) denoises these again with them")
    without = summary.exposure_found_without
    written = summary.frames(FrameStatus.WRITTEN) + summary.frames(FrameStatus.SKIPPED)
    if without and written:
        lines.append(f"the shot's exposure was found without frame(s) {format_frames(without)}, which "
                     f"could not be read, so frame(s) {format_frames(written)} may differ from a run "
                     "that reads them: this farm task fails so that the farm retries it; re-render or "
                     "re-copy those frames, and the retry (--resume) denoises again those whose "
                     "exposure they change")
    return lines


def _print_failures(summary: RunSummary) -> None:
    """An `error:` line on stderr for each frame that failed (under --keep-going)."""
    for result in summary.results:
        if result.status == FrameStatus.FAILED:
            click.echo(f"error: frame {result.frame}: {result.message}", err=True)
