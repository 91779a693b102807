"""Houdini ROP hooks: denoise what a Karma, Mantra, Arnold, Redshift or USD Render ROP just rendered.

Only Houdini translation lives here (which parm holds the output image, the ROP's frame range,
progress and errors in Houdini's UI); turning `$F4` into `####`, building the request, running
the denoiser or writing a farm job are `vfxdenoise.plugin`'s. The shelf tool calls
`install_on_selected()`, which makes every selected ROP run `post_render(hou.pwd())` when it ends.
"""

from __future__ import annotations

import contextlib
import os
import site
import sys

import hou

if os.environ.get("VFXDENOISE_SITE"):  # the install holding vfxdenoise, appended: Houdini's packages win
    site.addsitedir(os.environ["VFXDENOISE_SITE"])

from vfxdenoise.core.errors import VfxDenoiseError  # noqa: E402
from vfxdenoise.plugin.errors import PluginError  # noqa: E402
from vfxdenoise.plugin.host_paths import frame_pattern  # noqa: E402
from vfxdenoise.plugin.render_hook import (  # noqa: E402
    HookSettings,
    denoise_render,
    frame_list,
    incomplete_render,
    left_after_render,
    per_frame_settings,
    ready_after_frame,
    request_for,
)
from vfxdenoise.plugin.runner import Progress, RunnerConfig  # noqa: E402

# Output image parm of each renderer's ROP: Karma, Mantra, Arnold, Redshift, USD Render.
OUTPUT_PARMS = ("picture", "vm_picture", "ar_picture", "RS_outputFileNamePrefix", "outputimage")
POST_RENDER_SCRIPT = "import vfxdenoise_houdini\nvfxdenoise_houdini.post_render(hou.pwd())\n"
CURRENT_FRAME_ONLY = 0  # trange menu: 0 current frame, 1 frame range, 2 frame range (strict)


def post_render(rop, after_post_frame: bool = False, **settings) -> str | None:
    """Denoise the frames `rop` rendered (its output image, its frame range); return the denoised
    pattern, or the farm job written with farm='openjd'/'opencue'. Keyword arguments are
    `HookSettings.from_keywords`' (output_pattern, farm, farm_dir, chunk, and the `seq` options:
    device, model, temporal_radius, layers, aovs, radiance_aovs, compression, motion_vectors,
    motion_scale...).
    With after_post_frame=True only the last frames that `post_frame` could not do are denoised.
    When frames of the range are not on disk (a farm rendering the ROP in chunks runs this after
    each chunk) nothing is denoised, with a warning: a frame whose neighbours are yet to be
    rendered would be denoised without them, and again by the next chunk."""
    with _reported(rop):
        hook = HookSettings.from_keywords(**settings)
        hook = per_frame_settings(hook) if after_post_frame else hook
        rendered = rop_frames(rop)
        pattern = output_pattern(rop, rendered[0])
        incomplete = incomplete_render(pattern, rendered)
        if incomplete:
            _warn(rop, incomplete)
            return None
        frames = left_after_render(rendered, hook.options.temporal_radius) if after_post_frame else rendered
        return _denoise(rop, pattern, frames, rendered, hook) if frames else None


def post_frame(rop, frame: float | None = None, **settings) -> str | None:
    """Per-frame hook: when `frame` is rendered, denoise the frames whose temporal windows it
    completes; pair it with post_render(rop, after_post_frame=True) for the last K frames."""
    with _reported(rop):
        hook = per_frame_settings(HookSettings.from_keywords(**settings))
        rendered = rop_frames(rop)
        frame = int(round(hou.frame() if frame is None else frame))
        ready = ready_after_frame(rendered, frame, hook.options.temporal_radius)
        if not ready:
            return None
        # The frames rendered so far: the windows of `ready` end here, and the frames after it on
        # disk may be an older render's, which motion-vector detection must not read either.
        so_far = rendered[:rendered.index(frame) + 1]
        return _denoise(rop, output_pattern(rop, frame), ready, so_far, hook)


def rop_frames(rop) -> list[int]:
    """The frames `rop` renders: its start/end/step, or the current frame when set to render that."""
    trange = rop.parm("trange")
    if trange is not None and int(trange.eval()) == CURRENT_FRAME_ONLY:
        return [int(round(hou.frame()))]
    start, end, step = rop.parmTuple("f").eval()
    if step < 1:
        raise PluginError(f"frame step {step:g} is below 1: sub-frames are not an image sequence "
                          "the denoiser can read")
    return frame_list(*(int(round(value)) for value in (start, end, step)))


def output_pattern(rop, at_frame: int) -> str:
    """The ROP's output image as a frame pattern: `$HIP/render/a.$F4.exr` -> `/job/render/a.####.exr`."""
    parm = next((rop.parm(name) for name in OUTPUT_PARMS if rop.parm(name) is not None), None)
    if parm is None:
        raise PluginError(f"{rop.path()} ({rop.type().name()}) has no output image parameter "
                          f"({', '.join(OUTPUT_PARMS)}); use a Karma, Mantra, Arnold, Redshift or "
                          "USD Render ROP")
    return frame_pattern(parm.unexpandedString(),
                         lambda text: hou.text.expandStringAtFrame(text, at_frame),
                         where=f"{rop.path()} {parm.name()}")


def install_hook(rops) -> list[str]:
    """Make each ROP denoise its frames after rendering (a Python post-render script); return the
    paths of the ROPs set up. ROPs without an output image parameter are refused by name."""
    refused = [rop.path() for rop in rops
               if all(rop.parm(name) is None for name in OUTPUT_PARMS)]
    if refused:
        raise PluginError(f"not a render ROP with an output image: {', '.join(refused)}; select "
                          "Karma, Mantra, Arnold, Redshift or USD Render ROPs")
    for rop in rops:
        rop.parm("postrender").set(POST_RENDER_SCRIPT)
        rop.parm("lpostrender").set("python")
        if rop.parm("tpostrender") is not None:
            rop.parm("tpostrender").set(True)
    return [rop.path() for rop in rops]


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


def _denoise(rop, pattern: str, frames: list[int], rendered: list[int], hook: HookSettings) -> str:
    """Run (or submit) the denoise of `frames` of `pattern` with Houdini's interruptible progress
    bar, the frames the ROP renders (`rendered`) its only temporal context."""
    label = f"vfxdenoise {rop.path()}"
    request = request_for(pattern, frames, hook, rendered)
    with hou.InterruptableOperation(label, long_operation_name=label,
                                    open_interrupt_dialog=True) as operation:
        shown = [0.0, "starting"]

        def report(progress: Progress) -> None:  # raises hou.OperationInterrupted on cancel
            shown[:] = progress.fraction, f"frame {progress.frame} ({progress.index} of {progress.total})"
            operation.updateLongProgress(*shown)

        def interrupted() -> bool:  # polled while a frame runs: Esc stops it, not only the next one
            operation.updateLongProgress(*shown)  # raises hou.OperationInterrupted on cancel
            return False

        return denoise_render(request, hook, RunnerConfig.from_environment(), report, interrupted)


@contextlib.contextmanager
def _reported(rop):
    """Our errors as Houdini's, naming the ROP."""
    try:
        yield
    except VfxDenoiseError as exc:
        raise hou.OperationFailed(f"vfxdenoise {rop.path()}: {exc}") from exc


def _warn(rop, message: str) -> None:
    """A warning in the render's log, and in a message box when Houdini has a UI."""
    print(f"vfxdenoise {rop.path()}: {message}", file=sys.stderr)
    if hou.isUIAvailable():
        hou.ui.displayMessage(f"vfxdenoise {rop.path()}: {message}", severity=hou.severityType.Warning)
