"""Houdini ROP hooks: denoise what a Karma, Mantra, Arnold, Redshift or USD Render ROP just rendered.

Only Houdini translation lives here (which parm holds the output image, which frames the render
wrote, progress and errors in Houdini's UI); turning `$F4` into `####`, planning windows, building
the request, running the denoiser or writing a farm job are `vfxdenoise.plugin`'s. The shelf tool
calls `install_on_selected()`, which adds three calls to each selected ROP's scripts, beside what is
there: `render_started` (Pre-Render) starts a record of the frames this render writes, on the node
for this session only (cached user data), and warns of what will stop the denoise (an output image
it could not read: one folder per frame, no EXR; sub-frames), letting the render run,
`frame_rendered` (Post-Frame) adds each frame to it, and
`post_render` (Post-Render) denoises those frames, reading the frames of the ROP's range an
earlier render left as their neighbours. Which frames to denoise and read is planned by
`vfxdenoise.plugin.render_hook` (`plan_post_render`, `plan_frame`) from what this module reads.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shlex
import site
import sys
import time

import hou

SITE_ENV = "VFXDENOISE_SITE"


def _add_vfxdenoise_site() -> None:
    """Append $VFXDENOISE_SITE (the install holding vfxdenoise; Houdini's own packages win) to
    sys.path, or say how to set it where vfxdenoise cannot be found, rather than a bare
    "No module named 'vfxdenoise'" at Houdini's start-up or a ROP's first render."""
    folder = os.environ.get(SITE_ENV, "").strip()
    if folder:
        site.addsitedir(folder)
    if importlib.util.find_spec("vfxdenoise") is None:
        where = (f"${SITE_ENV}='{folder}' holds no vfxdenoise package" if folder
                 else f"${SITE_ENV} is not set")
        raise ModuleNotFoundError(
            f"vfxdenoise_houdini cannot import vfxdenoise: {where}. Set ${SITE_ENV} to the "
            "site-packages folder of the vfxdenoise install (its python -c \"import sysconfig; "
            "print(sysconfig.get_paths()['purelib'])\"), or install vfxdenoise into Houdini's Python",
            name="vfxdenoise")


_add_vfxdenoise_site()

from vfxdenoise.core.errors import VfxDenoiseError  # noqa: E402
from vfxdenoise.core.model_files import model_ref  # noqa: E402
from vfxdenoise.plugin.errors import DenoiseCancelled, PluginError, RunnerError  # noqa: E402
from vfxdenoise.plugin.flag_terms import in_host_terms  # noqa: E402
from vfxdenoise.plugin.host_paths import (  # noqa: E402
    DigitBesideFrameError,
    frame_path,
    frame_pattern,
    holds_frame_variable,
)
from vfxdenoise.plugin.render_hook import (  # noqa: E402
    HookSettings,
    WrittenFrames,
    denoise_render,
    failed_frames_error,
    frame_list,
    frame_spec,
    frames_written,
    pattern_from_paths,
    per_frame_settings,
    plan_frame,
    plan_post_render,
    refuse_unreadable_output,
    request_for,
    setting_flags,
    started_by_folder_clock,
)
from vfxdenoise.plugin.runner import Progress, RunnerConfig  # noqa: E402
from vfxdenoise.plugin.runner_setup import check_runner  # noqa: E402

# Output image parm of each renderer's ROP: Karma, Mantra, Arnold, Redshift, USD Render.
OUTPUT_PARMS = ("picture", "vm_picture", "ar_picture", "RS_outputFileNamePrefix", "outputimage")
CURRENT_FRAME_ONLY = 0  # trange menu: 0 current frame, 1 frame range, 2 frame range (strict)
# Script slot (Scripts tab) -> its label, the call the shelf tool adds there, and what finds a
# vfxdenoise call already there (kept as it is, with its arguments). post_frame records the frame
# as frame_rendered does, so a per-frame hook's slot needs no second call.
HOOK_CALLS = {  # (a call in a comment is not one)
    "prerender": ("Pre-Render Script", "vfxdenoise_houdini.render_started(hou.pwd())",
                  r"(?m)^[^#\n]*vfxdenoise_houdini\.render_started\("),
    "postframe": ("Post-Frame Script", "vfxdenoise_houdini.frame_rendered(hou.pwd(), hou.frame())",
                  r"(?m)^[^#\n]*vfxdenoise_houdini\.(frame_rendered|post_frame)\("),
    "postrender": ("Post-Render Script", "vfxdenoise_houdini.post_render(hou.pwd())",
                   r"(?m)^[^#\n]*vfxdenoise_houdini\.post_render\("),
}
_OUR_LINE = re.compile(r"\s*(import vfxdenoise_houdini|vfxdenoise_houdini\.\w+\(.*\))\s*")
# The frames the current render wrote, as the node's cached user data: kept for this session
# only, never saved with the .hip (https://www.sidefx.com/docs/houdini/hom/nodeuserdata.html).
RENDER_RECORD = "vfxdenoise_rendered_frames"
# When the render began by this host's monotonic clock, likewise: post_render reads the start on the
# output folder's clock (`started_by_folder_clock`), which stamps the frames it compares with.
RENDER_STARTED = "vfxdenoise_render_started"
# Hook keywords holding paths, written as in a parm ($HIP/den/$OS.$F4.exr) and expanded as Houdini
# expands one (`_expanded_paths`); model also takes a shipped model's name.
PATH_SETTINGS = ("output_pattern", "farm_dir", "model")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def post_render(rop, after_post_frame: bool = False, **settings) -> str | None:
    """Denoise the frames this render of `rop` wrote (its output image); return the denoised
    pattern, or the farm job written with farm='openjd'/'opencue'. Keyword arguments are
    `HookSettings.from_keywords`' (output_pattern, farm, farm_dir, chunk, context, and the `seq`
    options: device, model, temporal_radius, layers, aovs, radiance_aovs, compression,
    motion_vectors, motion_scale...).
    The frames are those `render_started` and `frame_rendered` recorded (without a record, the
    ROP's range). By default (context='rendered') only the frames this render wrote are denoised
    and read; with context='range' the frames of the ROP's range an earlier render left on disk
    are their neighbours, and earlier denoised frames whose windows read frames this render
    changed are denoised again, so a re-render of part of the range comes out as a whole render
    would (`render_hook.plan_post_render`). With after_post_frame=True the frames `post_frame` did
    are not denoised again. A recorded frame not on disk (a failed frame) is raised as an error
    once the others are denoised; without a record, frames not on disk mean nothing is denoised,
    with a warning."""
    with _reported(rop):
        hook = HookSettings.from_keywords(**_expanded_paths(settings))
        hook = _per_frame(hook) if after_post_frame else hook
        in_range = rop_frames(rop)
        written, running_for = _frames_written(rop, in_range)
        pattern = output_pattern(rop, written.frames[0], written.frames[-1])
        started = None if running_for is None else started_by_folder_clock(pattern, running_for)
        plan = plan_post_render(pattern, written, in_range, hook, started, after_post_frame)
        for note in plan.notes:
            _log(rop, note)
        for warning in plan.warnings:
            _warn(rop, warning)
        done = (_denoise(rop, pattern, plan.frames, plan.context, hook, plan.existing)
                if plan.frames else None)
        if plan.failed:
            raise failed_frames_error(pattern, plan.failed, done)
        return done


def post_frame(rop, frame: float | None = None, **settings) -> str | None:
    """Per-frame hook: when `frame` is rendered, denoise the frames whose temporal windows it
    completes; pair it with post_render(rop, after_post_frame=True) for the last K frames.
    It plans over the ROP's range: a render of other frames (a farm chunk that does not start the
    range) is left whole to the post-render call (`render_hook.plan_frame`)."""
    with _reported(rop):
        hook = _per_frame(HookSettings.from_keywords(**_expanded_paths(settings)))
        frame = int(round(hou.frame() if frame is None else frame))
        _record_frame(rop, frame)
        in_range = rop_frames(rop)
        pattern = output_pattern(rop, in_range[0], frame)
        plan = plan_frame(pattern, in_range, rop.cachedUserData(RENDER_RECORD), frame,
                          hook.options.temporal_radius)
        return _denoise(rop, pattern, plan.ready, plan.so_far, hook) if plan.ready else None


def _expanded_paths(settings: dict) -> dict:
    """`settings` with each path keyword (`PATH_SETTINGS`) given as text expanded as Houdini
    expands a parm's text (hou.text.expandString: $HIP, $JOB, $OS, environment variables, a
    leading ~), output_pattern's frame variable ($F4, ${F4}, `padzero(4,$F)`) kept as its frame
    token (`frame_pattern`). The denoiser reads no Houdini variable: passed on as typed, they made
    folders named '$HIP' in the process's folder. Refused, naming the keyword: a variable Houdini
    does not know (left in the text), and a relative path (`_refuse_relative`)."""
    expanded = dict(settings)
    for keyword in PATH_SETTINGS:
        raw = settings.get(keyword)
        raw = os.fspath(raw) if isinstance(raw, os.PathLike) else raw
        if not isinstance(raw, str):
            continue  # None, or a value of the wrong type HookSettings refuses by name
        if keyword == "output_pattern" and holds_frame_variable(raw):
            value = frame_pattern(raw, hou.text.expandString, where=keyword)
        else:
            value = hou.text.expandString(raw)
        unknown = _VARIABLE.search(value)
        if unknown:
            raise PluginError(f"{keyword} '{raw}' holds ${unknown.group(1)}, which this Houdini "
                              f"session does not set (it expands to '{value}'): set it (Edit > "
                              "Aliases and Variables, or hou.putenv) or write the path without it")
        if keyword != "model" or model_ref(value).is_path:
            _refuse_relative(keyword, raw, value)
        expanded[keyword] = value
    return expanded


def _refuse_relative(keyword: str, raw: str, value: str) -> None:
    """Refuse a relative path keyword: Houdini reads one from the folder it runs in, not $HIP, and
    that is another folder on a farm task than in the artist's session (frames written where no
    one looks); the fix is written out with $HIP before it."""
    if os.path.isabs(value):
        return
    raise PluginError(f"{keyword} '{raw}' is a relative path, which would be read from the folder "
                      f"Houdini runs in ({os.getcwd()}), not the hip file's: write it from $HIP, "
                      f"e.g. {keyword}='$HIP/{raw}', or as an absolute path")


def _per_frame(hook: HookSettings) -> HookSettings:
    """`per_frame_settings`, the radius unset taken from the model the denoise runs: the hook's,
    else the site's ($VFXDENOISE_MODEL, the runner's default)."""
    return per_frame_settings(hook, RunnerConfig.from_environment().model)


def render_started(rop) -> None:
    """Pre-render script: start the record of the frames this render of `rop` writes, replacing
    any an earlier (perhaps interrupted) render left, and note when it started (frames of the
    range written after that are another render's, running meanwhile). Then warn, before the
    render, of what will stop its denoise (`_denoise_problem`); the render runs all the same
    (the frames are the product, the denoise an add-on), and `post_render` refuses as it would."""
    with _reported(rop):
        rop.setCachedUserData(RENDER_RECORD, ())
        rop.setCachedUserData(RENDER_STARTED, time.monotonic())
    problem = _denoise_problem(rop)
    if problem:
        _warn(rop, f"{problem.rstrip('.')}. The render goes on, and its frames will not be denoised after it")


def _denoise_problem(rop) -> str | None:
    """What will stop `post_render` before it reads a frame, said before the render: a frame range
    the denoiser cannot read (sub-frames: `rop_frames`), an output image it could not read or
    Houdini could not evaluate (`output_pattern`: one folder per frame, no frame variable, no EXR),
    or a runner that cannot run (`check_runner`: $VFXDENOISE_COMMAND naming no vfxdenoise, looked
    at once a session)."""
    try:
        in_range = rop_frames(rop)
        output_pattern(rop, in_range[0], in_range[-1])
        check_runner(RunnerConfig.from_environment())
    except VfxDenoiseError as exc:
        return str(exc)
    return None


def frame_rendered(rop, frame: float | None = None) -> None:
    """Post-frame script: add `frame` (default: the current frame, the one just rendered) to the
    record `render_started` began; without one (no pre-render call) nothing is recorded."""
    with _reported(rop):
        _record_frame(rop, int(round(hou.frame() if frame is None else frame)))


def _record_frame(rop, frame: int) -> None:
    """`frame` added to this render's record, if a pre-render call started one."""
    record = rop.cachedUserData(RENDER_RECORD)
    if record is not None:
        rop.setCachedUserData(RENDER_RECORD, tuple(sorted({*record, frame})))


def _frames_written(rop, in_range: list[int]) -> tuple[WrittenFrames, float | None]:
    """This render's record (`render_hook.frames_written`) and how long ago it started (None: not
    noted), both taken, so the next render starts afresh; a render without a record says why in
    the log."""
    record, started = rop.cachedUserData(RENDER_RECORD), rop.cachedUserData(RENDER_STARTED)
    for key, value in ((RENDER_RECORD, record), (RENDER_STARTED, started)):
        if value is not None:
            rop.destroyCachedUserData(key)
    written = frames_written(record, in_range)
    if record is None and not _has_our_call(rop, "prerender"):
        _log(rop, f"denoising the ROP's whole range {frame_spec(in_range)}: the frames this render "
                  "wrote are not recorded (no vfxdenoise call in its Pre-Render Script); click "
                  "Denoise After Render again to add it")
    if written.warning:
        _warn(rop, written.warning)
    return written, None if started is None else time.monotonic() - started


def rop_frames(rop) -> list[int]:
    """The frames the ROP's parms say it renders: its start/end/step, or the current frame when
    set to render that."""
    with _reading(f"{rop.path()} trange/f"):
        trange = rop.parm("trange")
        current_only = trange is not None and int(trange.eval()) == CURRENT_FRAME_ONLY
        start, end, step = (hou.frame(), hou.frame(), 1) if current_only else rop.parmTuple("f").eval()
    if step < 1:
        raise PluginError(f"frame step {step:g} is below 1: sub-frames are not an image sequence "
                          "the denoiser can read")
    return frame_list(*(int(round(value)) for value in (start, end, step)))


def output_pattern(rop, at_frame: int, last_frame: int | None = None) -> str:
    """The ROP's output image as a frame pattern: `$HIP/render/a.$F4.exr` -> `/job/render/a.####.exr`.

    A parm that references another (a pipeline HDA's `chs("../out_path")`) is read through the
    reference; the pattern is checked against what the parm evaluates to at `at_frame` and
    `last_frame` (the files the render wrote), and taken from those values where the text holds no
    frame variable (a backtick or keyframed expression). hou.Parm (sidefx.com/docs/houdini/hom/
    hou/Parm.html): getReferencedParm() returns the parm itself when it references none;
    unexpandedString() raises hou.OperationFailed for a parm holding an expression (keyframes)."""
    parm = _output_parm(rop)
    where = f"{rop.path()} {parm.name()}"
    other = at_frame + 1 if last_frame in (None, at_frame) else last_frame
    with _reading(where):
        source = _referenced_parm(parm)
        where += f" (referencing {source.path()})" if source is not parm else ""
        text = _unexpanded(source)
        values = {frame: parm.evalAsStringAtFrame(frame) for frame in (at_frame, other)}
        pattern = _pattern_of(parm, source, text, values, where)
    refuse_unreadable_output(pattern, where)
    return pattern


def _pattern_of(parm, source, text: str | None, values: dict[int, str], where: str) -> str:
    """The pattern of the parm's text (`text`, None for an expression) where it gives the files
    the parm evaluates to (`values`), else one found from those values; or a PluginError. Where
    neither gives one, a digit beside the text's frame variable (`DigitBesideFrameError`, which
    the values cannot show: their frame numbers run into it) is what is said, with what to write."""
    first = min(values)
    digit_beside = None
    if text is not None:
        try:
            pattern = frame_pattern(text, lambda raw: hou.text.expandStringAtFrame(raw, first),
                                    where=where)
        except PluginError as refused:
            if "`" not in text and source is parm:  # a plain path: its own message says what is wrong
                raise
            # Expanded here, not where a referenced parm evaluates ($OS): the values may still give one.
            digit_beside = refused if isinstance(refused, DigitBesideFrameError) else None
        else:
            if all(frame_path(pattern, frame) == value for frame, value in values.items()):
                return pattern
    derived = pattern_from_paths(values)
    if derived is not None:
        return derived
    if digit_beside is not None:
        raise digit_beside
    (a, first_value), (b, other_value) = sorted(values.items())
    held = f"'{text}'" if text is not None else f"the expression {_expression(source)!r}"
    raise PluginError(f"{where} holds {held}, which gives '{first_value}' at frame {a} and "
                      f"'{other_value}' at frame {b}: no frame number to find the render's frames "
                      f"by. Put $F4 in {source.path()}, e.g. $HIP/render/$HIPNAME.$OS.$F4.exr")


def _output_parm(rop):
    """The ROP's output image parm, or a PluginError naming the parms looked for."""
    parm = next((rop.parm(name) for name in OUTPUT_PARMS if rop.parm(name) is not None), None)
    if parm is None:
        raise PluginError(f"{rop.path()} ({rop.type().name()}) has no output image parameter "
                          f"({', '.join(OUTPUT_PARMS)}); use a Karma, Mantra, Arnold, Redshift or "
                          "USD Render ROP")
    return parm


def _referenced_parm(parm):
    """The parm `parm` takes its value from, following channel references as far as they go."""
    seen = {parm.path()}
    while (referenced := parm.getReferencedParm()).path() not in seen:
        seen.add(referenced.path())
        parm = referenced
    return parm


def _unexpanded(parm) -> str | None:
    """The parm's text before expansion, or None when it holds an expression (keyframes), which
    has no such text."""
    try:
        return parm.unexpandedString()
    except hou.OperationFailed:
        return None


def _expression(parm) -> str:
    """The parm's expression, for messages ('' when it has none)."""
    try:
        return parm.expression()
    except hou.OperationFailed:
        return ""


def install_hook(rops) -> list[str]:
    """Make each ROP denoise the frames it rendered when its render ends: our Python calls added
    to its Pre-Render, Post-Frame and Post-Render scripts (`HOOK_CALLS`) beside what is there, a
    vfxdenoise call already there kept as it is; return the paths of the ROPs set up. Nothing is
    changed when any ROP is refused: no output image parameter, a script in HScript, or a script
    of the artist's turned off (ours would turn it on)."""
    refused = [rop.path() for rop in rops
               if all(rop.parm(name) is None for name in OUTPUT_PARMS)]
    if refused:
        raise PluginError(f"not a render ROP with an output image: {', '.join(refused)}; select "
                          "Karma, Mantra, Arnold, Redshift or USD Render ROPs")
    scripts = [(rop, slot, _with_our_call(rop, slot)) for rop in rops for slot in HOOK_CALLS
               if rop.parm(slot) is not None or slot == "postrender"]
    for rop, slot, script in scripts:
        rop.parm(slot).set(script)
        rop.parm(f"l{slot}").set("python")
        if rop.parm(f"t{slot}") is not None:
            rop.parm(f"t{slot}").set(True)
    return [rop.path() for rop in rops]


def _with_our_call(rop, slot: str) -> str:
    """The ROP's `slot` script with our call added after the artist's (as it is when a vfxdenoise
    call is there already), or a PluginError naming the ROP and parm when it cannot be added."""
    label, call, present = HOOK_CALLS[slot]
    where = f"{rop.path()} {slot} ({label})"
    if rop.parm(slot) is None:
        raise PluginError(f"{rop.path()} ({rop.type().name()}) has no {label} parameter ({slot}) to "
                          "run the denoise from")
    with _reading(where):
        script = rop.parm(slot).unexpandedString()
        language = rop.parm(f"l{slot}").evalAsString()
        toggle = rop.parm(f"t{slot}")
        enabled = toggle is None or bool(toggle.eval())
    if not script.strip():
        return f"import vfxdenoise_houdini\n{call}\n"
    if language.lower() != "python":
        raise PluginError(f"{where} holds an HScript script; the denoise call is Python and a script "
                          "runs in one language: rewrite it in Python (hou.hscript() runs HScript "
                          "commands) and click Denoise After Render again. Nothing was changed")
    theirs = [line for line in script.splitlines() if line.strip() and not _OUR_LINE.fullmatch(line)]
    if theirs and not enabled:
        raise PluginError(f"{where} is turned off; turning it on for the denoise call would run the "
                          "script in it too: turn it on or clear it, then click Denoise After Render "
                          "again. Nothing was changed")
    if re.search(present, script):
        return script
    return f"{script.rstrip()}\nimport vfxdenoise_houdini\n{call}\n"


def install_on_selected() -> list[str]:
    """Shelf tool: install the post-render hook on the selected ROPs and say what was done."""
    rops = list(hou.selectedNodes())
    try:
        if not rops:
            raise PluginError("select the render ROPs whose frames should be denoised")
        installed = install_hook(rops)
    except VfxDenoiseError as exc:
        hou.ui.displayMessage(f"vfxdenoise: {exc}", severity=hou.severityType.Error)
        return []
    hou.ui.displayMessage("denoise after render installed on " + ", ".join(installed))
    return installed


def _denoise(rop, pattern: str, frames: list[int], context: list[int], hook: HookSettings,
             existing: str = "overwrite") -> str:
    """Run (or submit) the denoise of `frames` of `pattern` with Houdini's interruptible progress
    bar, `context` (frames of the ROP's range) its only temporal context, outputs already there
    replaced or resumed (`existing`)."""
    label = f"vfxdenoise {rop.path()}"
    request = request_for(pattern, frames, hook, context, existing)
    with hou.InterruptableOperation(label, long_operation_name=label,
                                    open_interrupt_dialog=True) as operation:
        shown = [0.0, "starting"]
        pressed: list[bool] = []  # Esc, once seen: the runner is asked to stop, and stops cleanly

        def interrupted() -> bool:  # polled while a frame runs: Esc stops it, not only the next one
            try:
                operation.updateLongProgress(*shown)
            except hou.OperationInterrupted:
                pressed.append(True)
            return bool(pressed)

        def report(progress: Progress) -> None:
            shown[:] = progress.fraction, f"frame {progress.frame} ({progress.index} of {progress.total})"
            interrupted()

        try:
            return denoise_render(request, hook, RunnerConfig.from_environment(), report, interrupted,
                                  warned=lambda message: _log(rop, f"warning: {message}"),
                                  announce=lambda argv: _log(rop, f"running {shlex.join(argv)}"))
        except DenoiseCancelled as cancelled:
            if not pressed:
                raise
            raise hou.OperationInterrupted(_interrupted(rop, pattern, frames, cancelled.kept)) from None


def _interrupted(rop, pattern: str, frames: list[int], kept: tuple[int, ...]) -> str:
    """What Esc during the denoise of `frames` of `pattern` left, for the artist: the frames
    denoised before it (kept on disk), those not, and the call that denoises the rest without
    rendering again (context='range' resumes: it keeps the outputs still made from the frames on
    disk, `render_hook.plan_post_render`)."""
    rest = [frame for frame in frames if frame not in kept]
    done = f"frames {frame_spec(list(kept))} are denoised and kept" if kept else "no frame was denoised"
    if not rest:
        return f"vfxdenoise {rop.path()}: denoise interrupted (Esc) after its last frame: {done}"
    return (f"vfxdenoise {rop.path()}: denoise of {pattern} interrupted (Esc): {done}; frames "
            f"{frame_spec(rest)} are not. To denoise them without rendering again, run "
            f"vfxdenoise_houdini.post_render(hou.node('{rop.path()}'), context='range') in the "
            "Python Shell, with the Post-Render call's other keywords: it keeps the frames "
            "denoised already and denoises the rest")


@contextlib.contextmanager
def _reading(where: str):
    """hou.OperationFailed from reading a parm (an expression that fails to evaluate), as our
    error naming the ROP and parm."""
    try:
        yield
    except hou.OperationFailed as exc:
        raise PluginError(f"{where}: Houdini could not evaluate it ({exc}); check it in the "
                          "Parameter editor, where an expression's error shows") from exc


@contextlib.contextmanager
def _reported(rop):
    """Our errors as Houdini's, naming the ROP, and each seq flag the denoiser names as the
    keyword that sets it (`setting_flags`: '--alpha must be ...' reads 'alpha must be ...'); a
    failed run's exit status and command line follow as they are, for a TD."""
    try:
        yield
    except VfxDenoiseError as exc:
        reason = in_host_terms(exc.reason if isinstance(exc, RunnerError) else str(exc), setting_flags())
        note = f" ({exc.exit_note})" if isinstance(exc, RunnerError) and exc.exit_note else ""
        raise hou.OperationFailed(f"vfxdenoise {rop.path()}: {reason}{note}") from exc


def _has_our_call(rop, slot: str) -> bool:
    """Whether the ROP's `slot` script holds our call (the shelf tool put it there)."""
    parm = rop.parm(slot)
    with _reading(f"{rop.path()} {slot}"):
        return parm is not None and re.search(HOOK_CALLS[slot][2], parm.unexpandedString()) is not None


def _log(rop, message: str) -> None:
    """A note in the render's log only."""
    print(f"vfxdenoise {rop.path()}: {message}", file=sys.stderr)


def _warn(rop, message: str) -> None:
    """A warning in the render's log, and in a message box when Houdini has a UI."""
    _log(rop, message)
    if hou.isUIAvailable():
        hou.ui.displayMessage(f"vfxdenoise {rop.path()}: {message}", severity=hou.severityType.Warning)
