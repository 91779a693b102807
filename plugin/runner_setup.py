"""What a host checks in seconds before its own long work (Nuke renders the node's whole input to
its cache first, minutes on a real shot): that the runner can start (`check_runner`), and that the
run would not refuse the request for a reason known without reading a frame (`check_request`).

Standard library only, like the rest of the plugin: the model is read from its file's header
(`model_files`: `model_radius`, `recorded_track_problem`), a GPU is looked for without torch where
the run is a subprocess, and the output frames' locks are read as `core.io.frame_locks` writes
them. A check that cannot be sure says nothing: the run itself then refuses, as before.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from vfxdenoise.core.errors import ModelError, OtherTrackError, SequenceError
from vfxdenoise.core.io.aov_option import aov_names
from vfxdenoise.core.io.aovs import resolve_layers
from vfxdenoise.core.io.frame_locks import (
    LOCK_SUFFIX,
    FolderClock,
    frame_refusal,
    is_this_process,
    lock_owner,
    owner_dead,
    owner_text,
)
from vfxdenoise.core.io.frame_pattern import pattern_from_text
from vfxdenoise.core.model_files import (
    DEFAULT_MODEL,
    RENDER,
    header_problem,
    model_radius,
    radius_problem,
    recorded_track_problem,
    resolve_weights,
)
from vfxdenoise.core.runtime.openmp import prefer_passive_wait
from vfxdenoise.plugin.errors import PluginError, RequestDeviceError, RequestUsageError, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import COMMAND_ENV, MODE_ENV, RunnerConfig, command_problem
from vfxdenoise.plugin.seq_options import SeqOptions

# What shows a GPU that PyTorch's `cuda` device may use on Linux, relative to the root: NVIDIA's
# driver (its device files, /proc entry, Jetson's), WSL's GPU, ROCm's (PyTorch's cuda on AMD).
GPU_PATHS = ("dev/nvidiactl", "dev/nvidia0", "proc/driver/nvidia", "dev/nvhost-ctrl-gpu", "dev/dxg",
             "dev/kfd")
PCI_DEVICES = "sys/bus/pci/devices"
NVIDIA_PCI_VENDOR = "0x10de"
# What `vfxdenoise --version` prints (click's version option), and how long a command is given to.
VERSION_LINE = re.compile(r"^vfxdenoise, version \S+", re.MULTILINE)
VERSION_TIMEOUT_SECONDS = 15.0


def check_runner(config: RunnerConfig) -> None:
    """Raise RunnerError now if `config` cannot run any request: the in-process runner where torch
    or the engine does not import, a command that is not an executable file, or one that is no
    vfxdenoise (`_check_is_vfxdenoise`: /bin/true, a site wrapper failing to set up, a Python
    without vfxdenoise), which failed only once the host's long work was done."""
    if config.mode == "inprocess":
        _check_inprocess()
        return
    environment = config.environment
    program = config.command[0]
    if shutil.which(program, path=environment.get("PATH")) is None:
        where = "not found on PATH" if os.path.basename(program) == program else "no executable file there"
        raise RunnerError(command_problem(config, where))
    try:
        _shows_vfxdenoise(config.command, tuple(sorted(environment.items())))
    except _NotVfxdenoise as problem:
        raise RunnerError(command_problem(config, str(problem))) from None


class _NotVfxdenoise(Exception):
    """Internal: why a command is no vfxdenoise (`_shows_vfxdenoise`), raised so that it is not
    remembered: a command fixed meanwhile (a package installed) is looked at again."""


@functools.lru_cache(maxsize=32)
def _shows_vfxdenoise(command: tuple[str, ...], environment: tuple[tuple[str, str], ...]) -> bool:
    """True where `command --version`, run with `environment`, shows vfxdenoise (`VERSION_LINE`
    on stdout, after whatever a wrapper prints first), or cannot tell within
    VERSION_TIMEOUT_SECONDS (a site wrapper resolving its environment slowly: the run says what
    is wrong, if anything); raises _NotVfxdenoise otherwise. Remembered for the session, per
    command and environment: it costs a process start (0.2-0.5 s for vfxdenoise, measured on a
    loaded machine), not to be paid at each press of a host's button."""
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, errors="replace",
                              stdin=subprocess.DEVNULL, env=dict(environment),
                              timeout=VERSION_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return True
    except OSError as exc:
        raise _NotVfxdenoise(str(exc.strerror or exc)) from exc
    if done.returncode == 0 and VERSION_LINE.search(done.stdout):
        return True
    printed = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    shown = printed if len(printed) <= 3 else [printed[0], "...", *printed[-2:]]
    said = f"printed: {' | '.join(shown)}" if printed else "printed nothing"
    raise _NotVfxdenoise(f"'{shlex.join([*command, '--version'])}' exited {done.returncode} and "
                         f"{said}, where vfxdenoise prints 'vfxdenoise, version ...': it is no "
                         "vfxdenoise command")


def _check_inprocess() -> None:
    """Import what `run_inprocess` needs (torch, the engine), as it would: torch can be found and
    still not load, e.g. an install's torch built for Python 3.11 appended to Nuke's 3.10 by
    $VFXDENOISE_SITE ("Failed to load PyTorch C extensions")."""
    here = "this Python ({}.{})".format(*sys.version_info[:2])
    advice = (f"unset ${MODE_ENV} to run the default subprocess runner, the vfxdenoise command of "
              f"an install with torch (${COMMAND_ENV})")
    if importlib.util.find_spec("torch") is None:
        raise RunnerError(f"${MODE_ENV}=inprocess needs torch in {here}, which has none: {advice}")
    prefer_passive_wait()  # torch's first import in this Python, maybe (`run_inprocess`)
    try:
        importlib.import_module("torch")
        importlib.import_module("vfxdenoise.core.engine")
    except (ImportError, OSError) as exc:  # OSError: a shared library torch loads is missing
        first = next((line.strip(" :") for line in str(exc).splitlines() if line.strip(" :")),
                     type(exc).__name__)  # torch's own advice after it is on building from source
        raise RunnerError(f"${MODE_ENV}=inprocess cannot import the denoiser in {here}: {first} "
                          f"({_torch_built_for()}): {advice}") from exc


def _torch_built_for() -> str:
    """Which Python the torch found on sys.path was built for, read from the file name of its C
    extension (`_C.cpython-311-x86_64-linux-gnu.so`, `_C.cp311-win_amd64.pyd`) without importing it."""
    spec = importlib.util.find_spec("torch")
    folder = Path(spec.origin).parent if spec and spec.origin else None
    for extension in sorted(folder.glob("_C.*")) if folder else []:
        found = re.search(r"\.(?:cpython-|cp)3(\d+)", extension.name)
        if found:
            return f"torch at {folder} is built for Python 3.{found.group(1)}"
    return f"torch at {folder or 'an unknown place'}, of an install whose Python may differ"


def check_request(request: DenoiseRequest, config: RunnerConfig, channels: Sequence[str] | None = None,
                  source: str = "the input") -> None:
    """Raise now what running `request` the way `config` says would refuse before its first frame,
    where it is known without reading a frame: a model that is not there or no weights file
    (ModelError), weights of the classic track (OtherTrackError), a temporal radius above the
    model's (RequestUsageError: a UsageError, as the run's), device cuda where no GPU can be
    (RequestDeviceError: a DeviceError, as the run's; both worded with seq's flags, as the run's
    own refusals are), output frames another live run is writing (another session's press of the
    same node). With `channels`, the EXR channel names of the frames the run will read (`source`:
    what messages call them), layer picks the run would refuse of them too (ChannelError: `_check_layers`).
    Its messages are the run's, so a host shows them alike."""
    model = request.with_default_model(config.model).options.model or DEFAULT_MODEL
    _check_weights(resolve_weights(model))
    _check_radius(request.options.temporal_radius, model)
    if channels is not None:
        _check_layers(request.options, channels, source)
    if request.options.device == "cuda":
        _check_cuda(config)
    _check_output_locks(request.output_pattern)


def _check_weights(weights: Path) -> None:
    """Refuse a file with no safetensors header (a ModelError: `model_files.header_problem`) and
    classic-track weights (`vfxdenoise classic train`'s), told from the architecture their header
    records (`model_files.recorded_track_problem`), as the run refuses them when it loads them
    (`weights.load_weights`), with its messages: they name the file by the absolute path a request
    passes on (`seq_options.absolute_model`)."""
    path = weights.absolute()
    unreadable = header_problem(path, RENDER)
    if unreadable:
        raise ModelError(unreadable)
    problem = recorded_track_problem(path, RENDER)
    if problem:
        raise OtherTrackError(problem)


def _check_layers(options: SeqOptions, channels: Sequence[str], source: str) -> None:
    """Refuse the layer picks of `options` that seq's own mapping of `channels` refuses
    (`aovs.resolve_layers`, a ChannelError in its words): one layer picked for two features the
    networks read (albedo the beauty's R,G,B, motion the normal's X,Y), a layer the denoiser
    reads as a feature named to be denoised too (an --aov of the normal)."""
    resolve_layers(channels, options.layers, source, aovs=aov_names(options.aovs, options.radiance_aovs))


def _check_radius(radius: int | None, model: str) -> None:
    """Refuse a temporal radius `model` was not trained for (`model_files.radius_problem`, the
    run's own rule), where its weights here record their radius (`model_radius`): a
    RequestUsageError, a UsageError as the run's refusal is (exit 2, not retried)."""
    trained = model_radius(model)
    problem = None if trained is None else radius_problem(radius, trained, model)
    if problem:
        raise RequestUsageError(problem)


def _check_cuda(config: RunnerConfig) -> None:
    """Refuse device cuda where the run would find no CUDA GPU: in this process, as PyTorch sees
    it (`device.cuda_unusable`, the run's own judgement); in a subprocess, where `no_cuda_gpu` is
    sure of it from its environment. A RequestDeviceError, a DeviceError as the run's refusal is."""
    if config.mode == "inprocess":
        # check_runner has imported torch: the in-process runner needs it
        from vfxdenoise.core.runtime.device import cuda_unusable

        why = cuda_unusable()
    else:
        why = no_cuda_gpu(config.environment)
    if why:
        raise RequestDeviceError(f"--device cuda was requested but {why}; use --device cpu")


def no_cuda_gpu(environ: Mapping[str, str], root: Path = Path("/"), platform: str = sys.platform
                ) -> str | None:
    """Why a process with `environ` on this machine (`root`: its file system's root, `platform`:
    sys.platform) can have no CUDA GPU, told without torch; None where it may have one. Only
    what is sure: CUDA_VISIBLE_DEVICES hiding every GPU, macOS (no CUDA build of PyTorch), and a
    Linux machine showing no GPU (`_linux_gpu_seen`); Windows is not looked at."""
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.split(",")[0].strip() in ("", "-1"):
        return f"CUDA_VISIBLE_DEVICES='{visible}' hides every GPU"
    if platform == "darwin":
        return "PyTorch has no CUDA on macOS"
    if platform.startswith("linux") and _linux_gpu_seen(root) is False:
        return "this machine has no NVIDIA GPU (none on its PCI bus, no GPU driver loaded)"
    return None


def _linux_gpu_seen(root: Path) -> bool | None:
    """Whether Linux at `root` shows a GPU PyTorch's cuda device may use (`GPU_PATHS`, an NVIDIA
    device on the PCI bus); None where its PCI bus cannot be listed (a sandbox hiding /sys)."""
    if any((root / path).exists() for path in GPU_PATHS):
        return True
    try:
        devices = list((root / PCI_DEVICES).iterdir())
    except OSError:
        return None
    for device in devices:
        try:
            if (device / "vendor").read_text().strip().lower() == NVIDIA_PCI_VENDOR:
                return True
        except OSError:
            continue
    return False


def _check_output_locks(output_pattern: str | None) -> None:
    """Refuse output frames another live run holds the lock of (`_live_owner`): that run reads the
    input the host would rewrite first, and the run would refuse them anyway once it starts."""
    pattern = pattern_from_text(output_pattern) if output_pattern else None
    if pattern is None:
        return
    try:
        locks = pattern.with_name(suffix=pattern.suffix + LOCK_SUFFIX).files_on_disk()
    except SequenceError:
        return  # the folder cannot be listed: the run says why
    clock = FolderClock(pattern.directory)
    for frame, entry in sorted(locks.items()):
        owner = _live_owner(Path(entry.path), clock)
        if owner:
            raise PluginError(frame_refusal(pattern.path(frame), owner))


def _live_owner(lock: Path, clock: FolderClock) -> str | None:
    """The run holding `lock` ('pid 123 on host'), where it is alive (`frame_locks.owner_dead`, on
    the folder's `clock`, as the run itself judges it) and not this process (`is_this_process`:
    by boot, pid namespace and start time too, as the run tells its own locks). None for a dead
    run's lock, this process's, and one naming no run yet (being written): the run judges those.
    Said as the run says it (`frame_locks.owner_text`)."""
    owner = lock_owner(lock)
    if "pid" not in owner or is_this_process(owner) or owner_dead(owner, lock, clock):
        return None
    return owner_text(owner)
