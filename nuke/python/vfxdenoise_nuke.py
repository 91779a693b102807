"""The VfxDenoise gizmo's Denoise button: Nuke state in, a plugin request out, the result read back.

Only Nuke translation lives here (knobs, the internal Write/Read nodes, ProgressTask, messages in
knob names); the request, the layer-name mapping, the checks before the input renders and running
the denoiser are `vfxdenoise.plugin`'s.

Nuke rebuilds a gizmo's internal nodes from the .gizmo file whenever a script is opened or a node
pasted, and saves only the gizmo's own knobs: so the result lives in the hidden knobs
`denoised_file`, `denoised_first`, `denoised_last`, which the internal CacheRead reads by expression,
and `denoised_input`, what was denoised (`input_identity`), which `follow_input` compares with the
node's input when that changes (a paste under another Read, a reconnect, a script opened).

Each press writes frames of its own (`<stem>_denoised_v<press>.####.exr`) and the knobs switch to
them only once it succeeds: a press that fails or is cancelled leaves the last result shown, on
the node and on disk, and its own frames are removed; once a press succeeds, the node's earlier
presses' frames are removed but for those the saved script names (`_remove_superseded`).

Nuke imports this module at start-up (init.py), where a comp session may never press Denoise: what
only a press needs (the checks before the input renders, the frame locks, the subprocess runner) is
imported by the press.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shlex
from dataclasses import replace
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
from vfxdenoise.core.io.aov_option import AOV_OPTIONS  # noqa: E402
from vfxdenoise.core.io.feature_table import NETWORK_FEATURES  # noqa: E402
from vfxdenoise.plugin.channels import exr_channels, nuke_layer_channels  # noqa: E402
from vfxdenoise.plugin.errors import DenoiseCancelled, PluginError, RunnerError  # noqa: E402
from vfxdenoise.plugin.flag_terms import in_host_terms  # noqa: E402
from vfxdenoise.plugin.request import DenoiseRequest, frame_spec  # noqa: E402
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
# What identifies the frames a node denoised (`input_identity`): the metadata Nuke's Read gives
# each frame of the file it reads, which most nodes below a Read pass on.
IDENTITY_METADATA = ("input/filename", "input/mtime", "input/filesize")
IDENTITY_SEPARATOR = "\n"
AUTOSAVE_SUFFIX = ".autosave"  # Nuke's autosave of a script: <script>.nk.autosave
# The denoiser's messages name `vfxdenoise seq` flags: each flag a knob of this node sets, as that
# knob (and -o, the output, as what sets it here); the flags the node sets itself are left as they are.
FLAG_KNOBS = {**{seq_flag(knob): knob.replace("_", " ") for knob in OPTION_KNOBS},
              **{f"--{feature}": f"{feature} layer" for feature in LAYER_KNOBS},
              **dict.fromkeys(AOV_OPTIONS, AOVS_LABEL), seq_flag("alpha"): ALPHA_LABEL,
              "-o": "another cache folder"}


def denoise(node=None) -> str | None:
    """Button callback: denoise the node's input frame range; show any error as a Nuke message.

    Returns the denoised frame pattern, or None after an error or a cancel, which leave the last
    result shown (or the input passing through, where there is none).
    """
    node = node or nuke.thisNode()
    try:
        return _denoise(node)
    except DenoiseCancelled:
        _show_error(node, PluginError(_cancelled_text(node)))
        return None
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
    channels = source.channels()
    options = SeqOptions(
        context_frames=f"{first}-{last}", layers=_layers(node, channels), aovs=_aovs(node, channels),
        temporal_radius=int(node["temporal_radius"].value()), device=node["device"].value(),
        motion_vectors=node["motion_vectors"].value(),
        model=node["model"].value().strip() or None,
        alpha="denoise" if node["denoise_alpha"].value() else None,
    )
    request = DenoiseRequest(input_pattern=f"{cache}/{stem}_input.####.exr", frames=f"{first}-{last}",
                             output_pattern=_press_pattern(cache, stem), options=options)
    # so is what the run would refuse without reading a frame, the layer picks read with the
    # channel names the cache Write gives the input's
    check_request(request, runner, exr_channels(channels), "the node's input")
    with _cache_claimed(cache, stem, _own_shown_frames(node, cache, stem)):
        # numbered again now that no other press of the node can start one
        request = replace(request, output_pattern=_press_pattern(cache, stem))
        identity = input_identity(source, first, last)
        try:
            _render_input(node, request.input_pattern, first, last)
            result = _run_with_progress(node, request, runner)
        except BaseException:
            _remove_frames(request.output_pattern)  # never shown: the last result stays
            raise
    _show_result(node, result, first, last, identity)
    _remove_superseded(cache, stem, result.output_pattern)
    return result.output_pattern


def _cancelled_text(node) -> str:
    """What is true after a cancel: the press's frames are gone, the node shows what it showed."""
    source = node.input(0)
    frames = "" if source is None else f" of frames {_range_text(source.frameRange())}"
    after = ("" if node["denoised"].value()
             else "; the input passes through until a press of Denoise finishes")
    return f"Denoise{frames} cancelled: the frames it had denoised are removed{after}"


def _show_error(node, error: VfxDenoiseError) -> None:
    """Tell the artist why the press did nothing, in the node's terms (`in_knob_terms`), as a
    message and in the status knob; the whole error, with a failed run's exit status and command,
    goes to Nuke's terminal for a TD."""
    reason = in_knob_terms(error.reason if isinstance(error, RunnerError) else str(error))
    if node.input(0) is not None:
        reason = _in_layer_names(reason, node, node.input(0).channels())
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


def _cache_claimed(cache: str, stem: str, shown: list[Path]) -> FrameLocks:
    """The node's input cache held by this press while it renders and is denoised (the lock file
    `<stem>_input.lock`, as `frame_locks` claims an output frame: created exclusively, naming this
    process, taken over from a press whose Nuke is gone), so that a second press of the node (in
    another Nuke session) is refused rather than rewriting the frames this one renders or reads.
    So are the frames of the node's result shown (`shown`): a run still writing them reads that
    cache. Another host's press is refused at once rather than watched (`FrameLocks`' `wait`)."""
    from vfxdenoise.core.io.frame_locks import FrameLocks, frame_refusal

    cached = Path(cache) / f"{stem}_input"

    def refusal(path: Path, owner: str) -> str:
        if path != cached:
            return frame_refusal(path, owner)
        return (f"another press of Denoise on this node ({owner}) is rendering its input to the cache "
                "folder or denoising it: wait for it to finish, then press Denoise again")

    return FrameLocks([cached, *shown], wait=False, refusal=refusal)


def _press_pattern(cache: str, stem: str) -> str:
    """The frames a new press writes: `<stem>_denoised_v<n>.####.exr`, n one more than any press
    of the node's on disk (its frames or their locks: a run that has begun counts)."""
    done = _presses_on_disk(cache, stem)
    return f"{cache}/{stem}_denoised_v{max(done, default=0) + 1:03d}.####.exr"


def _presses_on_disk(cache: str, stem: str) -> set[int]:
    """The numbers of the node's presses with a file in the cache folder (a frame, a lock)."""
    name = _press_name(stem)
    try:
        return {int(match.group(1)) for entry in os.scandir(cache)
                if (match := name.match(entry.name)) and entry.is_file(follow_symlinks=False)}
    except OSError:
        return set()


def _press_name(stem: str) -> re.Pattern:
    """A file name of a press of the node whose cache names start `stem`: its number is group 1."""
    return re.compile(rf"{re.escape(stem)}_denoised_v(\d+)\.")


def _own_shown_frames(node, cache: str, stem: str) -> list[Path]:
    """The frames of the result the node shows, where a press of this node in this cache folder
    wrote them (not a result pasted from another script's node)."""
    shown = node["denoised_file"].value()
    folder, name = os.path.split(shown)
    if not node["denoised"].value() or folder != cache or not _press_name(stem).match(name):
        return []
    first, last = int(node["denoised_first"].value()), int(node["denoised_last"].value())
    return [_frame_path(shown, frame) for frame in range(first, last + 1)]


def _frame_path(pattern: str, frame: int) -> Path:
    from vfxdenoise.core.io.sequence import parse_pattern

    return parse_pattern(pattern).path(frame)


def _remove_frames(pattern: str) -> None:
    """Remove the EXR frames of `pattern` (one press's output) from its folder; a file that cannot
    be removed is said on the terminal and left, as is anything there that is no file."""
    from vfxdenoise.core.io.sequence import parse_pattern

    try:
        files = parse_pattern(pattern).files_on_disk()
    except OSError:
        return
    for entry in files.values():
        try:
            os.remove(entry.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            nuke.tprint(f"VfxDenoise: cannot remove {entry.path}: {exc.strerror}")


def _remove_superseded(cache: str, stem: str, shown: str) -> None:
    """Remove the frames of the node's presses before the one now shown, but for those a node of
    this session shows (a copy pasted before) or the saved script (or its autosave) names:
    reopened unsaved, it shows those. Only this node's presses in this cache folder (`stem`), so
    a script saved under another name keeps its own."""
    current = int(_press_name(stem).match(os.path.basename(shown)).group(1))
    in_use = _results_in_use()
    for number in _presses_on_disk(cache, stem):
        name = f"{stem}_denoised_v{number:03d}.####.exr"
        if number < current and name not in in_use:
            _remove_frames(f"{cache}/{name}")


def _results_in_use() -> str:
    """The text naming the results still wanted: the saved script and its autosave ('' for an
    unsaved script), and the result each node of the session shows."""
    script = nuke.root().name()
    text = ""
    for path in (script, script + AUTOSAVE_SUFFIX):
        with contextlib.suppress(OSError):
            text += Path(path).read_text(errors="replace")
    shown = [node["denoised_file"].value() for node in nuke.allNodes(recurseGroups=True)
             if node.knob("denoised_file") is not None]
    return "\n".join([text, *shown])


def _in_layer_names(message: str, node, channels: list[str]) -> str:
    """`message` with the EXR channels of each layer picked on the node (`R,G,B` for rgba,
    `diffuse_direct.R,diffuse_direct.G,diffuse_direct.B`) named as the Nuke layer picked, so a
    refusal of a pick reads as the knob does: 'beauty layer rgba: rgba in the node's input ...'."""
    picks = {feature: node[feature].value() for feature in LAYER_KNOBS}
    picks.update((f"aov {name}", name) for name in node["aovs"].value().replace(",", " ").split())
    names = {}
    for feature, layer in picks.items():
        try:
            exr = nuke_layer_channels("beauty" if feature.startswith("aov ") else feature, layer, channels)
        except PluginError:
            continue
        if exr and "," in exr:
            names.setdefault(exr, layer)
    for exr in sorted(names, key=len, reverse=True):
        message = re.sub(rf"(?<![\w.,]){re.escape(exr)}(?![\w.]|,\w)", names[exr], message)
    return message


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


def _show_result(node, result: RunResult, first: int, last: int, identity: str) -> None:
    """Record the denoised frames and what they were made of (`identity`) in the node's own knobs
    (the internal Read follows them by expression, and they are saved with the script), reload
    the Read and switch the blend on."""
    node["denoised_file"].setValue(result.output_pattern)
    node["denoised_first"].setValue(first)
    node["denoised_last"].setValue(last)
    node["denoised_input"].setValue(identity)
    with node:
        read = nuke.toNode(READ_NODE)
    read["reload"].execute()
    node["denoised"].setValue(True)
    status = _result_status(node)
    if result.warnings:
        status += f"; {len(result.warnings)} warning(s), the first: {result.warnings[0]}"
        nuke.alert(_warnings_text(node, result.warnings, first, last))
    node["status"].setValue(status)


def _result_status(node) -> str:
    return f"denoised frames {_frames_text(node)}: {node['denoised_file'].value()}"


def _range_text(frames) -> str:
    """A Nuke FrameRange as the CLI writes a range ('1001-1006', '-3--1,0-1')."""
    return frame_spec(range(frames.first(), frames.last() + 1))


def _frames_text(node) -> str:
    """The node's denoised frames as the CLI writes a range ('1001-1006', '-3--1,0-1')."""
    return frame_spec(range(int(node["denoised_first"].value()), int(node["denoised_last"].value()) + 1))


def input_identity(source, first: int, last: int) -> str:
    """What identifies the frames `first`-`last` of `source` without reading a pixel: the range
    and, of its first and last frame, the file each comes from with its time and size
    (IDENTITY_METADATA, as Nuke's Read gives them); the node's name where they have none (a
    procedural input). Re-rendered frames, another shot, another range: another identity."""
    parts = [frame_spec(range(first, last + 1))]
    for frame in (first, last):
        parts += [str(source.metadata(key, frame) or "") for key in IDENTITY_METADATA]
    if not any(parts[1:]):
        parts.append(source.fullName())
    return IDENTITY_SEPARATOR.join(parts)


def follow_input(node, knob=None) -> None:
    """The node's onCreate and knobChanged callback (a script opened, a node pasted, its input
    reconnected: Nuke's `inputChange`): show the denoised result only while the node's input is
    what was denoised (`input_identity`) and its frames are on disk, else pass the input through
    saying why. A node with no result, or none recorded of what it was made from (an older
    script's), is left as it is."""
    if knob is not None and knob.name() != "inputChange":
        return
    source = node.input(0)
    if source is None or not node["denoised_input"].value() or not node["denoised_file"].value():
        return
    reason = _why_not_shown(node, source)
    if (reason is None) == bool(node["denoised"].value()):
        return
    node["denoised"].setValue(reason is None)
    node["status"].setValue(_result_status(node) if reason is None else (
        f"not shown: {reason}, so the input passes through; press Denoise to denoise it"))


def _why_not_shown(node, source) -> str | None:
    """Why the node's result cannot stand for its input `source` now; None where it can."""
    frames, denoised = source.frameRange(), node["denoised_input"].value()
    if input_identity(source, frames.first(), frames.last()) != denoised:
        made_from = denoised.split(IDENTITY_SEPARATOR)[1] or "another input"
        return f"the node's input is not what was denoised (frames {_frames_text(node)} of {made_from})"
    if not _frame_path(node["denoised_file"].value(), int(node["denoised_first"].value())).is_file():
        return f"the denoised frames {node['denoised_file'].value()} are no longer on disk"
    return None


def _warnings_text(node, warnings: list[str], first: int, last: int) -> str:
    """The warning box after a denoise that warned (a guide layer not found, a window cut short):
    the first WARNINGS_SHOWN of them, and how many more."""
    shown = "\n".join(f"- {warning}" for warning in warnings[:WARNINGS_SHOWN])
    more = len(warnings) - WARNINGS_SHOWN
    return (f"VfxDenoise {node.name()} denoised frames {frame_spec(range(first, last + 1))}, with "
            f"warnings:\n{shown}"
            + (f"\n... and {more} more" if more > 0 else ""))
