"""Run a `DenoiseRequest`: in this process, or as a `vfxdenoise seq` subprocess (the hosts' default).

Hosts often ship their own Python without torch, so by default the request runs as the
`vfxdenoise` command of an install that has it; `RunnerConfig.command` names that executable (or an
interpreter plus `-m vfxdenoise.cli.main`), else $VFXDENOISE_COMMAND does, else `vfxdenoise` on
PATH. Both ways report each finished frame to `progress` and
poll `cancelled` between events; both return a `RunResult` or raise a `VfxDenoiseError`
(`plugin.errors` names them all).
What a host checks before its own long work (the runner's setup, what a run would refuse without
reading a frame) is `runner_setup`'s.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from vfxdenoise.core.errors import SequenceError
from vfxdenoise.core.frame_status import FrameStatus
from vfxdenoise.core.io.frame_pattern import pattern_from_text
from vfxdenoise.core.runtime.openmp import PASSIVE, WAIT_POLICY, wait_policy
from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.request import DenoiseRequest

MODES = ("subprocess", "inprocess")
COMMAND_ENV = "VFXDENOISE_COMMAND"
MODE_ENV = "VFXDENOISE_RUNNER"
MODEL_ENV = "VFXDENOISE_MODEL"
DEFAULT_COMMAND = ("vfxdenoise",)


@dataclass(frozen=True)
class RunnerConfig:
    """How requests run: `mode`, the command line of `vfxdenoise`, and how a cancel stops it.

    A config that names no `command` runs the one $VFXDENOISE_COMMAND names when the config is
    made, else `vfxdenoise` on PATH (`environment_command`): `command` always says what a run
    starts, for a host's log and a farm job alike. Given no config, `run_request` and the hosts
    make one for each run, so a daemon whose environment changes between runs starts what it
    names then; a config kept between runs keeps its command, as `from_environment()`'s does."""

    mode: str = "subprocess"
    command: tuple[str, ...] | None = None  # None: $VFXDENOISE_COMMAND or `vfxdenoise`; a tuple once made
    env: Mapping[str, str] | None = None  # extra environment of the subprocess
    poll_seconds: float = 0.1  # how often a cancel is noticed while a frame is being denoised
    stop_seconds: float = 10.0  # wait after an interrupt before the process is killed
    model: str | None = None  # default model for requests that name none
    command_setting: str | None = None  # the $VFXDENOISE_COMMAND value `command` came from

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise PluginError(f"runner mode '{self.mode}' is not one of {', '.join(MODES)} "
                              f"(check ${MODE_ENV})")
        if self.command is None:
            command, setting = environment_command(os.environ)
            object.__setattr__(self, "command", command)  # frozen: set once, as it is made
            if self.command_setting is None:  # one the caller gave is kept
                object.__setattr__(self, "command_setting", setting)
        else:
            object.__setattr__(self, "command", _command_given(self.command))
        if not self.command:
            raise PluginError(f"empty vfxdenoise command (check ${COMMAND_ENV})")

    @property
    def environment(self) -> dict[str, str]:
        """The environment the command runs in: this process's, with `env` over it, and
        OMP_WAIT_POLICY=PASSIVE where neither sets a policy (`core/runtime/openmp.py`), as the
        command sets it itself: $VFXDENOISE_COMMAND may name an older one, which does not."""
        environment = {**os.environ, **(self.env or {})}
        if wait_policy(environment) is None:
            environment[WAIT_POLICY] = PASSIVE
        return environment

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RunnerConfig:
        """Settings for hosts: $VFXDENOISE_COMMAND (e.g. '/opt/vfxdenoise/bin/vfxdenoise' or
        '/opt/py/bin/python -m vfxdenoise.cli.main'), $VFXDENOISE_RUNNER, $VFXDENOISE_MODEL."""
        environ = os.environ if environ is None else environ
        command, setting = environment_command(environ)
        return cls(mode=environ.get(MODE_ENV, "").strip() or cls.mode,
                   command=command, model=environ.get(MODEL_ENV, "").strip() or None,
                   command_setting=setting)


def _command_given(command: object) -> tuple[str, ...]:
    """A `command` a caller gave, as the tuple of words a run starts; a PluginError for text (it
    was started letter by letter: "cannot start the denoiser '/'"), or a word that is empty or
    not text."""
    if isinstance(command, (str, bytes)):
        raise PluginError(f"RunnerConfig command={command!r}: command takes the words of the command "
                          "line, a tuple such as ('/opt/vfxdenoise/bin/vfxdenoise',) or "
                          "(sys.executable, '-m', 'vfxdenoise.cli.main'), not text; "
                          "runner.split_command(text) splits a command line as a shell would")
    try:
        words = tuple(os.fspath(word) for word in command)
    except TypeError:
        words = ()
    if not words or not all(isinstance(word, str) and word for word in words):
        raise PluginError(f"RunnerConfig command={command!r}: command takes a tuple of one or more "
                          "words, each a non-empty str (or a path), the first the vfxdenoise "
                          "executable or a Python interpreter; or None for $VFXDENOISE_COMMAND")
    return words


def environment_command(environ: Mapping[str, str]) -> tuple[tuple[str, ...], str | None]:
    """The command a config naming none runs where the environment is `environ`, and the
    $VFXDENOISE_COMMAND text it came from (None: not set, or only blanks: `vfxdenoise`)."""
    setting = environ.get(COMMAND_ENV, "").strip()
    return (command_words(setting), setting) if setting else (DEFAULT_COMMAND, None)


def split_command(value: str, windows: bool = os.name == "nt") -> tuple[str, ...]:
    """The argv that command text `value` names, for every place a command is given as text
    ($VFXDENOISE_COMMAND, `vfxdenoise farm --command`); ValueError where it does not split (an
    unclosed quote), which the caller words for its setting.

    A value that names an existing file is that one program, spaces and backslashes included
    (`/opt/my tools/bin/vfxdenoise`, `C:\\Program Files\\vfxdenoise\\vfxdenoise.exe`), so a path
    needs no quoting. Anything else is split into words as the OS's shell would: POSIX quoting, or
    on Windows (`windows`) at spaces outside double quotes, keeping backslashes.
    """
    if os.path.isfile(value):
        return (value,)
    words = shlex.split(value, posix=not windows)
    if windows:
        words = [word[1:-1] if len(word) > 1 and word[0] == word[-1] and word[0] in "\"'" else word
                 for word in words]
    return tuple(words)


def command_words(value: str, windows: bool = os.name == "nt") -> tuple[str, ...]:
    """The argv that a $VFXDENOISE_COMMAND `value` names (`split_command`); a PluginError saying
    to close its quotes where it does not split, or naming an empty word ('""')."""
    try:
        words = split_command(value, windows)
    except ValueError as exc:
        raise PluginError(f"${COMMAND_ENV} '{value}' cannot be split into words ({exc}): "
                          "close its quotes") from exc
    if not all(words):
        raise PluginError(f"${COMMAND_ENV} '{value}' names an empty word (quotes around nothing): "
                          "set it to the vfxdenoise executable's path")
    return words


def command_origin(config: RunnerConfig) -> str:
    """The command a config runs, said with where it came from: "$VFXDENOISE_COMMAND ('...')", or
    the command itself ('vfxdenoise' on PATH, or one a caller gave)."""
    if config.command_setting is not None:
        return f"${COMMAND_ENV} ('{config.command_setting}')"
    return f"the vfxdenoise command '{shlex.join(config.command)}'"


def command_problem(config: RunnerConfig, reason: str) -> str:
    """Why the denoiser command cannot start, with the value it came from and how to fix it."""
    program = config.command[0]
    if config.command_setting is None:
        tried = f"'{program}' ({reason})"
    else:
        tried = (f"'{program}' ({reason}), from ${COMMAND_ENV}='{config.command_setting}'"
                 + (f" read as {len(config.command)} words" if len(config.command) > 1 else ""))
    return (f"cannot start the denoiser {tried}; set ${COMMAND_ENV} to the vfxdenoise executable "
            "of an install with torch, e.g. /opt/vfxdenoise/.venv/bin/vfxdenoise. A path with "
            "spaces needs no quotes as the whole value (the file must exist); followed by "
            "arguments, quote it: "
            "\"/opt/my tools/bin/python\" -m vfxdenoise.cli.main")


@dataclass(frozen=True)
class Progress:
    """One finished output frame: the `index`-th of `total` this run denoised, written (`status`
    FrameStatus.WRITTEN) or failed under keep_going (FAILED), in `seconds`. `message`: its notes
    (why it was denoised again, a window cut short, an input held) or why it failed;
    `held_from`: the frame held in place of its missing input (missing='hold'), None for its
    own; `degraded`: its window lost a neighbour that could not be read (keep_going)."""

    index: int
    total: int
    frame: int
    path: str
    status: str = FrameStatus.WRITTEN
    message: str = ""
    seconds: float = 0.0
    held_from: int | None = None
    degraded: bool = False

    @property
    def fraction(self) -> float:
        return self.index / self.total if self.total else 1.0

    @property
    def held(self) -> bool:
        """Whether the frame was written from another frame held in place of its missing input."""
        return self.held_from is not None


@dataclass(frozen=True)
class RunResult:
    """What a finished run did, for the host to show its artist, the same in both runner modes
    (the CLI's `done` event and summary say the same):
    - `output_pattern`, and the frames by outcome: `written`, `skipped` (kept: existing='resume'),
      `missing` (input not on disk, missing='skip'), `failed` (keep_going); among those written,
      `held` (made from a frame held in place of a missing input, missing='hold') and `degraded`
      (its window lost a neighbour that could not be read, keep_going);
    - `notes`: frame -> what its result says beyond its status (a written frame's notes, a failed
      frame's reason, an earlier output left at a missing frame's path);
    - `warnings`: what this run warned of (as the CLI's `warning:` lines say them, without the
      prefix, and its JSON `done` event lists them: a guide layer not found, a window cut short);
    - `cut_short`: frames written whose window stopped before a neighbour unfit as context (a
      flash, a cut: the warnings say which);
    - `sanitized`: how many input values of each kind were replaced (not finite, negative...);
      `device`: where and in which precision the network ran; `exposure`: how the shot was
      exposed for the network; `layers`: the --aov layers denoised with the beauty (a wildcard's
      matches); `tiles`: the tiles (px) frames ran in, [] where each ran whole; `alpha`: what
      became of the alpha under alpha='denoise' ('' otherwise); `seconds`: the run's time."""

    output_pattern: str
    written: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    degraded: list[int] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)
    sanitized: dict[str, int] = field(default_factory=dict)
    device: str = ""
    seconds: float = 0.0
    cut_short: list[int] = field(default_factory=list)
    exposure: str = ""
    layers: list[str] = field(default_factory=list)
    tiles: list[int] = field(default_factory=list)
    alpha: str = ""


ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]
CommandCallback = Callable[[list[str]], None]


def run_request(request: DenoiseRequest, config: RunnerConfig | None = None,
                progress: ProgressCallback | None = None,
                cancelled: CancelCheck | None = None,
                announce: CommandCallback | None = None) -> RunResult:
    """Denoise `request` the way `config` says; raise RunnerError, DenoiseCancelled or another
    VfxDenoiseError (whose message names the file or frame) when it cannot finish: in a subprocess,
    a RunnerError whose `kind` names the CLI's error class, and which is an instance of that class
    where `plugin.errors` has it (`RunnerError.stopped_by`: an OutputLockedError is one in either
    mode). `announce` is
    given the command line of a subprocess run as it starts, for a host's log (an in-process run
    has none). No `config`: a `RunnerConfig()` made now, which reads $VFXDENOISE_COMMAND now."""
    config = config or RunnerConfig()
    request = request.with_default_model(config.model)
    if config.mode == "inprocess":
        from vfxdenoise.plugin.inprocess import run_inprocess

        return run_inprocess(request, progress, cancelled)
    from vfxdenoise.plugin.seqprocess import run_subprocess

    return run_subprocess(request, config, progress, cancelled, announce)


def cancel_message(request: DenoiseRequest, done: list[int]) -> str:
    """What a cancelled run tells the artist: which sequence, and which frames are already done."""
    frames = sorted(set(done))
    kept = (f"frames finished before it are kept: {', '.join(map(str, frames))}" if frames
            else "no frame was finished")
    return f"denoise of {request.input_pattern} cancelled; {kept}"


OutputFiles = dict[int, tuple[int, int, int]]  # frame -> (inode, size, mtime in ns)


def output_files(pattern: str | None) -> OutputFiles | None:
    """The frames of output `pattern` on disk now, found as seq finds a sequence's frames
    (`FramePattern.files_on_disk`: render.01002.exr is no frame of render.####.exr), each with
    what tells a rewrite of it apart (a frame is written to a temp file and renamed over: a new
    inode); None where the pattern is not known (the CLI's default beside the input) or has no
    single frame token in its file name."""
    parsed = pattern_from_text(pattern) if pattern else None
    if parsed is None:
        return None
    try:
        entries = parsed.files_on_disk()
    except (SequenceError, OSError):
        return {}
    found: OutputFiles = {}
    for frame, entry in entries.items():
        stat = entry.stat()
        found[frame] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return found


def frames_written_since(before: OutputFiles | None, pattern: str | None) -> list[int]:
    """Frames of `pattern` written or rewritten on disk since `before` (an `output_files` taken
    then): what a cancelled run finished, its last frames included, which it may have renamed
    into place after its last progress line."""
    after = output_files(pattern)
    if before is None or after is None:
        return []
    return sorted(frame for frame, stat in after.items() if before.get(frame) != stat)

