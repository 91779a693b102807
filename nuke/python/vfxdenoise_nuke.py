"""The VfxDenoise gizmo's Denoise button: Nuke state in, a plugin request out, the result read back.

Only Nuke translation lives here (knobs, the internal Write/Read nodes, ProgressTask, messages in
knob names); the request, the layer-name mapping, the checks before the input renders and running
the denoiser are `vfxdenoise.plugin`'s.

Nuke rebuilds a gizmo's internal nodes from the .gizmo file whenever a script is opened or a node
pasted, and saves only the gizmo's own knobs: so the result lives in the hidden knobs
`denoised_file`, `denoised_first`, `denoised_last`, which the internal CacheRead reads by expression.

Nuke imports this module at start-up (init.py), where a comp session may never press Denoise: what
only a press needs (the checks before the input renders, the frame locks, the subprocess runner) is
imported by the press.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import nuke

if TYPE_CHECKING:
    from vfxdenoise.core.io.frame_locks import FrameLocks

SITE_ENV = "VFXDENOISE_SITE"


def _check_vfxdenoise_importable() -> None:
    """ModuleNotFoundError saying how to set $VFXDENOISE_SITE where vfxdenoise cannot be imported
    (init.py appends it to sys.path), rather than a bare "No module named 'vfxdenoise'"."""
    if importlib.util.find_spec("vfxdenoise") is not None:
        return
    folder = os.environ.get(SITE_ENV, "").strip()
    where = f"${SITE_ENV}='{folder}' holds no vfxdenoise package" if folder else f"${SITE_ENV} is not set"
    raise ModuleNotFoundError(
        f"the VfxDenoise node cannot import vfxdenoise: {where}. Set ${SITE_ENV} to the site-packages "
        "folder of the vfxdenoise install (its python -c \"import sysconfig; "
        "print(sysconfig.get_paths()['purelib'])\") before Nuke starts, or install vfxdenoise into "
        "Nuke's Python", name="vfxdenoise")


_check_vfxdenoise_importable()

from vfxdenoise.core.errors import VfxDenoiseError  # noqa: E402
from vfxdenoise.core.io.aovs import AOV_OPTIONS, NETWORK_FEATURES  # noqa: E402
from vfxdenoise.plugin.channels import exr_channels, nuke_layer_channels  # noqa: E402
from vfxdenoise.plugin.errors import PluginError, RunnerError  # noqa: E402
from vfxdenoise.plugin.flag_terms import in_host_terms  # noqa: E402
from vfxdenoise.plugin.request import DenoiseRequest  # noqa: E402
from vfxdenoise.plugin.runner import Progress, RunnerConfig, RunResult, run_request  # noqa: E402
from vfxdenoise.plugin.seq_options import SeqOptions, seq_flag  # noqa: E402

# The gizmo's layer pickers (VfxDenoise.gizmo): one per feature the networks read, knob named after
# it and labelled '<feature> layer', each setting seq's --<feature>.
LAYER_KNOBS = NETWORK_FEATURES
# The knobs that set the `SeqOptions` option of their own name, each labelled as its name reads.
OPTION_KNOBS = ("temporal_radius", "device", "model", "motion_vectors")
AOVS_LABEL = "also denoise"  # the label of the `aovs` knob, which sets seq's AOV_OPTIONS
ALPHA_LABEL = "denoise alpha"  # the label of the `denoise_alpha` checkbox, which sets seq --alpha denoise
WRITE_NODE = "CacheWrite"
READ_NODE = "CacheRead"
WARNINGS_SHOWN = 5  # in the box after a denoise; the status knob says how many there were
# The denoiser's messages name `vfxdenoise seq` flags: each flag a knob of this node sets, as that
# knob (and -o, the output, as what sets it here); the flags the node sets itself are left as they are.
FLAG_KNOBS = {**{seq_flag(knob): knob.replace("_", " ") for knob in OPTION_KNOBS},
              **{f"--{feature}": f"{feature} layer" for feature in LAYER_KNOBS},
              **dict.fromkeys(AOV_OPTIONS, AOVS_LABEL), seq_flag("alpha"): ALPHA_LABEL,
              "-o": "another cache folder"}


def denoise(node=None) -> str | None:
    """Button callback: denoise the node's input frame range; show any error as a Nuke message.

    Returns the denoised frame pattern, or None after an error or a cancel. Once the input's cache
    is being replaced, the node passes its input through until the denoise succeeds, so a failure
    never looks like a black or stale frame; a press refused before that keeps the last result.
    """
    node = node or nuke.thisNode()
    try:
        return _denoise(node)
    except VfxDenoiseError as exc:
        _show_error(node, exc)
        return None


def _denoise(node) -> str:
    from vfxdenoise.plugin.runner_setup import check_request, check_runner

    source = node.input(0)
    if source is None:
        raise PluginError("the node has no input: connect the render to denoise")
    _refuse_proxy_mode()
    runner = RunnerConfig.from_environment()
    check_runner(runner)  # a setup mistake is told before the input's frames are rendered
    first, last = source.frameRange().first(), source.frameRange().last()
    cache, stem = _cache_folder(node), _cache_stem(node)
    options = SeqOptions(
        context_frames=f"{first}-{last}", layers=_layers(node, source.channels()),
        aovs=_aovs(node, source.channels()),
        temporal_radius=int(node["temporal_radius"].value()), device=node["device"].value(),
        motion_vectors=node["motion_vectors"].value(),
        model=node["model"].value().strip() or None,
        alpha="denoise" if node["denoise_alpha"].value() else None,
    )
    request = DenoiseRequest(input_pattern=f"{cache}/{stem}_input.####.exr", frames=f"{first}-{last}",
                             output_pattern=f"{cache}/{stem}_denoised.####.exr", options=options)
    # so is what the run would refuse without reading a frame, the layer picks read with the
    # channel names the cache Write gives the input's
    check_request(request, runner, exr_channels(source.channels()), "the node's input")
    with _cache_claimed(cache, stem):
        node["denoised"].setValue(False)  # the cache is replaced from here: the input passes until done
        _render_input(node, request.input_pattern, first, last)
        result = _run_with_progress(node, request, runner)
    _show_result(node, result, first, last)
    return result.output_pattern


def _show_error(node, error: VfxDenoiseError) -> None:
    """Tell the artist why the press did nothing, in the node's terms (`in_knob_terms`), as a
    message and in the status knob; the whole error, with a failed run's exit status and command,
    goes to Nuke's terminal for a TD."""
    reason = in_knob_terms(error.reason if isinstance(error, RunnerError) else str(error))
    nuke.tprint(f"VfxDenoise {node.name()}: {error}")
    kept = "; the last denoised result is still shown" if node["denoised"].value() else ""
    node["status"].setValue(f"not denoised: {reason}{kept}")
    nuke.message(f"VfxDenoise {node.name()}: {reason}")


def in_knob_terms(message: str) -> str:
    """`message` with each `vfxdenoise seq` flag it names that a knob of this node sets named as
    that knob (FLAG_KNOBS): '--temporal-radius 5 is outside 0..2' -> 'temporal radius 5 is outside
    0..2', '... or use -o' -> '... or use another cache folder'."""
    return in_host_terms(message, FLAG_KNOBS)


def _refuse_proxy_mode() -> None:
    """Refuse while proxy mode is on: the cache Write would render the input at proxy size, and
    the full-size comp would blend a smaller denoised image."""
    proxy = nuke.root().knob("proxy")
    if proxy is not None and proxy.value():
        raise PluginError("proxy mode is on, so the input would be rendered and denoised at proxy "
                          "size; turn proxy mode off and press Denoise again")


def _cache_folder(node) -> str:
    """The evaluated cache folder knob; an unsaved script leaves its default relative, so refuse that."""
    folder = node["cache_folder"].evaluate().strip().rstrip("/")
    if not folder or not os.path.isabs(folder):
        raise PluginError(f"cache folder '{folder}' is not an absolute path: save the script or set "
                          "the cache folder knob")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise PluginError(f"cannot create cache folder {folder}: {exc.strerror}") from exc
    return folder


def _cache_stem(node) -> str:
    """The start of the node's cache file names: the script's name and the node's full name, so
    that two versions of a script (each with its VfxDenoise1) or nodes of the same name in two
    groups never share cached frames."""
    script = os.path.splitext(os.path.basename(nuke.root().name()))[0]
    return f"{script}.{node.fullName()}" if script and script != "Root" else node.fullName()


def _cache_claimed(cache: str, stem: str) -> FrameLocks:
    """The node's input cache held by this press while it renders and is denoised (the lock file
    `<stem>_input.lock`, as `frame_locks` claims an output frame: created exclusively, naming this
    process, taken over from a press whose Nuke is gone), so that a second press of the node (in
    another Nuke session) is refused rather than rewriting the frames this one renders or reads.
    Another host's press is refused at once rather than watched (`FrameLocks`' `wait`)."""
    from vfxdenoise.core.io.frame_locks import FrameLocks

    def refusal(_path, owner: str) -> str:
        return (f"another press of Denoise on this node ({owner}) is rendering its input to the cache "
                "folder or denoising it: wait for it to finish, then press Denoise again")

    return FrameLocks([Path(cache) / f"{stem}_input"], wait=False, refusal=refusal)


def _layers(node, channels: list[str]) -> dict[str, str]:
    """Layer flags for the picked Nuke layers, as the channel names the Write node gives them."""
    picked = {feature: nuke_layer_channels(feature, node[feature].value(), channels)
              for feature in LAYER_KNOBS}
    return {feature: value for feature, value in picked.items() if value is not None}


def _aovs(node, channels: list[str]) -> tuple[str, ...]:
    """The 'also denoise' layers, each as the three channels the Write node gives it; a wildcard
    (RGBA_*) goes to the denoiser as it is: the Write keeps Nuke's layer names."""
    names = node["aovs"].value().replace(",", " ").split()
    return tuple(name if any(c in name for c in "*?[")
                 else nuke_layer_channels("beauty", name, channels, label="also denoise layer")
                 for name in names)


def _render_input(node, pattern: str, first: int, last: int) -> None:
    """Write the input's frames with all channels as EXR through the gizmo's internal Write node."""
    with node:
        write = nuke.toNode(WRITE_NODE)
    write["file"].setValue(pattern)
    write["channels"].setValue("all")
    write["file_type"].setValue("exr")
    try:
        nuke.execute(write, first, last)
    except RuntimeError as exc:
        raise PluginError(f"rendering the node's input to {pattern} (frames {first}-{last}) "
                          f"failed: {exc}") from exc


def _run_with_progress(node, request: DenoiseRequest, runner: RunnerConfig) -> RunResult:
    """Run the request with a Nuke progress bar whose Cancel button stops the denoiser; the command
    line of a subprocess run goes to Nuke's terminal as it starts, for a TD."""
    # Nuke closes a ProgressTask when it is deleted: hold it in a list emptied on the way out, so
    # an error's traceback does not keep the bar open behind the message box.
    tasks = [nuke.ProgressTask(f"VfxDenoise {node.name()}")]
    tasks[0].setMessage(f"starting: {request.input_pattern}")

    def report(progress: Progress) -> None:
        tasks[0].setMessage(f"frame {progress.frame} ({progress.index} of {progress.total})")
        tasks[0].setProgress(int(100 * progress.fraction))

    try:
        return run_request(request, runner, report, lambda: bool(tasks) and tasks[0].isCancelled(),
                           lambda argv: nuke.tprint(f"VfxDenoise {node.name()}: running {shlex.join(argv)}"))
    finally:
        tasks.clear()


def _show_result(node, result: RunResult, first: int, last: int) -> None:
    """Record the denoised frames in the node's own knobs (the internal Read follows them by
    expression, and they are saved with the script), reload the Read and switch the blend on."""
    node["denoised_file"].setValue(result.output_pattern)
    node["denoised_first"].setValue(first)
    node["denoised_last"].setValue(last)
    with node:
        read = nuke.toNode(READ_NODE)
    read["reload"].execute()
    node["denoised"].setValue(True)
    status = f"denoised frames {first}-{last}: {result.output_pattern}"
    if result.warnings:
        status += f"; {len(result.warnings)} warning(s), the first: {result.warnings[0]}"
        nuke.alert(_warnings_text(node, result.warnings, first, last))
    node["status"].setValue(status)


def _warnings_text(node, warnings: list[str], first: int, last: int) -> str:
    """The warning box after a denoise that warned (a guide layer not found, a window cut short):
    the first WARNINGS_SHOWN of them, and how many more."""
    shown = "\n".join(f"- {warning}" for warning in warnings[:WARNINGS_SHOWN])
    more = len(warnings) - WARNINGS_SHOWN
    return (f"VfxDenoise {node.name()} denoised frames {first}-{last}, with warnings:\n{shown}"
            + (f"\n... and {more} more" if more > 0 else ""))
