"""Lamps past the clip on a real render: which pixels `seq` keeps at their rendered radiance.

    python benchmarks/lamp_renders.py [--out DIR] [--radiance 1e5] [--spp 4] [--reference-spp 64]
                                      [--half] [--compare DIR]

Renders (Mitsuba, 1 thread) the demo scene (`generate_scene(0, "demo")`, moving camera) with two
emitters added facing the camera: a neon tube (a rectangle 0.045 x 1.2 tilted 25 degrees, 1-2 px
wide) and a small square lamp (0.1, about 3x3 px), both at --radiance; 192x128, frames 1001-1006,
the beauty written as float without the clip (as a renderer writes it), and a --reference-spp
reference likewise. Then denoises the frames with this checkout's `vfxdenoise seq --device cpu`
and prints, per frame, the pixels past the clip (65504), those kept at their rendered value and
those taken down, of those kept how many the reference shows 4x darker (frozen noise), the
mean |output - reference| over them as a share of the reference's; beside the lamps (within
BESIDE px of a lamp's pixels, `exposure.lamp_pixels` of the render or past the clip in the
reference, not in them) how many pixels come out over 10x the reference (+1) and the brightest,
and the PSNR there; AWAY px or more from them, the output's energy as a share of the
reference's (the lamp-lit surface); and, of that surface, the lamps' reflections (within BESIDE px
of the reference's pixels over REFLECTION there: lines 1 px wide where the floor mirrors a lamp,
which 4 spp draws as lone samples of a quarter of it), the output's energy there as a share of
the reference's and their share of the frame's relMSE. A second run into the same
--out renders nothing again (remove the folder to change what it renders, or use another for
another --radiance). --half: the noisy beauty as a comp deliverable stores it, in half floats (past
65504 it is Inf), copied from OUT/noisy into OUT/noisy-half and denoised into OUT/denoised-half; the
reference stays float. Below the clip, a lamp's pixels for BESIDE and AWAY are those at its
--radiance in the render or the reference and those joined to them over 1/LAMP_EDGE of it in
either (its partly covered edge). --compare: a folder of the same frames denoised by another
revision (`vfxdenoise seq OUT/noisy/render.####.exr -o OLD/den.####.exr --device cpu` under its
install; OUT/noisy-half with --half): its kept / down and frozen, and how many pixels not past the
clip differ from this run's, and its pixels over 10x the reference beside the lamps and energy
away from them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.ndimage import binary_dilation, binary_propagation

from vfxdenoise.core.data import transforms as tf
from vfxdenoise.core.data.scenes import AreaLight, SceneDescription, generate_scene, up_for
from vfxdenoise.core.evaluation.metrics import RELMSE_EPSILON, psnr, relmse, tonemap
from vfxdenoise.core.exposure import LAMP_EDGE, lamp_pixels
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.sanitize import MAX_RADIANCE

FRAMES = range(1001, 1007)
WIDTH, HEIGHT = 192, 128
FROZEN = 0.25  # kept, where the reference is darker than this share of the render: frozen noise
KEPT = 1e-3  # relative difference from the render within which a pixel counts as kept
BESIDE = 3  # px from a lamp's pixels: the band its light leaked into
AWAY = 8  # px from a lamp's pixels: the surface it lights, past any leak
REFLECTION = 500.0  # the reference's brightest channel on that surface where lamps of 1e5 are mirrored


@dataclass(frozen=True)
class Tube(AreaLight):
    """An area light stretched to `length` along its local Y and turned `tilt` degrees: a neon tube."""

    length: float = 1.0
    tilt: float = 0.0

    def to_world(self, t: float = 0.0) -> np.ndarray:
        return (tf.look_at(self.position, self.target, up_for(self.position, self.target))
                @ tf.rotate((0, 0, 1), self.tilt) @ tf.scale((self.size / 2, self.length / 2, 1)))


def lamp_scene(radiance: float) -> SceneDescription:
    """The demo shot with a tube and a small lamp of `radiance` facing its camera."""
    desc = generate_scene(0, "demo", static_camera=False, frames=len(FRAMES))
    eye = desc.camera.origin
    tube = Tube((-1.0, 1.5, -1.0), eye, 0.045, (radiance, radiance * 0.6, radiance * 0.9), length=1.2,
                tilt=25.0)
    lamp = AreaLight((1.0, 1.9, -1.5), eye, 0.1, (radiance, radiance * 0.95, radiance * 0.8))
    return replace(desc, area_lights=desc.area_lights + (tube, lamp))


def _write(path: Path, channels: dict[str, np.ndarray], rgb: str = "float") -> None:
    """One frame: R, G and B as `rgb`, the float channels of `FLOAT_CHANNELS` as float, the rest half."""
    from vfxdenoise.core.data.render import FLOAT_CHANNELS

    types = {name: rgb if name in ("R", "G", "B") else "float" if name in FLOAT_CHANNELS else "half"
             for name in channels}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_exr(path, ExrImage.from_channels(channels, types, "zip", {}))


def render(out: Path, radiance: float, spp: int, reference_spp: int) -> None:
    """The noisy frames (out/noisy) and their references (out/reference), each frame's seed its own."""
    from vfxdenoise.core.data.render import FrameRenderer, init_mitsuba

    init_mitsuba(threads=1)
    with FrameRenderer(lamp_scene(radiance), WIDTH, HEIGHT) as renderer:
        for index, frame in enumerate(FRAMES):
            t, seed = float(index), 1000 + index
            channels = renderer.noisy(t, spp, seed)
            rendered = renderer.rendered_beauty(t, spp, seed)  # the same samples, not clipped
            channels.update({c: np.nan_to_num(rendered[c], posinf=0.0) for c in "RGB"})
            _write(out / "noisy" / f"render.{frame}.exr", channels)
            reference = renderer.rendered_beauty(t, reference_spp, seed + 77)
            _write(out / "reference" / f"render.{frame}.exr", {c: reference[c] for c in "RGBA"})
            print(f"rendered frame {frame}", file=sys.stderr, flush=True)


def store_half(out: Path) -> None:
    """out/noisy-half: out/noisy's frames with R, G and B in half floats (past 65504 they are Inf)."""
    for frame in FRAMES:
        image = read_exr(out / "noisy" / f"render.{frame}.exr")
        names = image.channel_names
        _write(out / "noisy-half" / f"render.{frame}.exr", dict(zip(names, image.get(names))), rgb="half")


def denoise(noisy: Path, denoised: Path) -> None:
    """denoised/den.####.exr from noisy/render.####.exr by this checkout's `vfxdenoise seq` (default
    model, CPU)."""
    run = subprocess.run([sys.executable, "-c", "from vfxdenoise.cli.main import main; main()", "seq",
                          str(noisy / "render.####.exr"), "-o", str(denoised / "den.####.exr"),
                          "--device", "cpu", "--overwrite"],
                         capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"vfxdenoise seq failed ({run.returncode}):\n{run.stderr}")


def _rgb(path: Path) -> np.ndarray:
    return read_exr(path).get(["R", "G", "B"]).astype(np.float64)


def _lamp_pixels(noisy: np.ndarray, denoised: np.ndarray, reference: np.ndarray) -> tuple[int, int, int]:
    """(kept, taken down, frozen) of the pixels past the clip (+Inf in a half frame: kept at 65504,
    as `Exposure.undo` puts it back)."""
    past = (noisy > MAX_RADIANCE).any(0)
    noisy = np.nan_to_num(noisy, posinf=MAX_RADIANCE)
    kept = past & (np.abs(denoised - noisy) <= KEPT * noisy).all(0)
    frozen = kept & (reference.max(0) < FROZEN * noisy.max(0))
    return int(kept.sum()), int((past & ~kept).sum()), int(frozen.sum())


@dataclass(frozen=True)
class Around:
    """Where a frame's lamps are (their pixels as `seq` holds them out, and past the clip in the
    reference), the band BESIDE them, the surface AWAY from them and the lamps' reflections there."""

    beside: np.ndarray
    away: np.ndarray
    reflections: np.ndarray

    @classmethod
    def of(cls, noisy: np.ndarray, reference: np.ndarray, radiance: float) -> Around:
        """Below the clip, the lamps are their pixels at `radiance` in the render or the reference,
        grown through the pixels over 1/LAMP_EDGE of it in either (their partly covered edge): the same
        pixels whichever rule `seq` holds them out by."""
        if radiance < MAX_RADIANCE:
            brightest = np.maximum(noisy.max(0), reference.max(0))
            lamps = binary_propagation(brightest >= radiance, np.ones((3, 3), bool),
                                       brightest >= radiance / LAMP_EDGE)
        else:
            lamps = (reference > MAX_RADIANCE).any(0)
            lamps[lamp_pixels(np.minimum(noisy, MAX_RADIANCE).max(0), MAX_RADIANCE)] = True
        beside = binary_dilation(lamps, iterations=BESIDE) & ~lamps
        away = ~binary_dilation(lamps, iterations=AWAY)
        mirrored = away & (reference.max(0) > REFLECTION * radiance / 1e5)
        return cls(beside, away, binary_dilation(mirrored, iterations=BESIDE) & away)

    def row(self, denoised: np.ndarray, reference: np.ndarray) -> str:
        """Pixels over 10x the reference beside the lamps, their brightest, and the PSNR there; the
        energy away from them; the energy on their reflections and those's share of the relMSE."""
        over = self.beside & (denoised.max(0) > 10 * reference.max(0) + 1)
        brightest = denoised.max(0)[over].max(initial=0.0)
        band = psnr(tonemap(denoised[:, self.beside]), tonemap(reference[:, self.beside]))
        energy = denoised[:, self.away].sum() / reference[:, self.away].sum()
        mirrored = denoised[:, self.reflections].sum() / reference[:, self.reflections].sum()
        errors = ((denoised - reference) ** 2 / (reference ** 2 + RELMSE_EPSILON)).sum(0)  # `relmse`'s terms
        share = errors[self.reflections].sum() / errors.sum()
        return (f" {int(over.sum())} | {brightest:.0f} | {band:.2f} | {energy:.3f} | {mirrored:.3f} |"
                f" {share:.3f} |")


def table(out: Path, compare: Path | None, radiance: float, half: bool = False) -> str:
    """The markdown table of every frame, then the shot's PSNR (tonemapped) and relMSE; `half`: of
    the frames stored as half (`store_half`)."""
    beside = (" over 10x the reference beside the lamps | brightest of them | PSNR beside (dB) |"
              " energy away from them | energy on their reflections | reflections' share of relMSE |")
    head = "| frame | past the clip | kept / down | frozen | mean abs. error past the clip |" + beside
    rule = "|---|---|---|---|---|---|---|---|---|---|---|"
    if compare:
        head += " --compare kept / down | frozen | pixels not past the clip that differ |" + beside
        rule += "---|---|---|---|---|---|---|---|---|"
    lines, scores, compared = [head, rule], [], []
    for frame in FRAMES:
        noisy = _rgb(out / ("noisy-half" if half else "noisy") / f"render.{frame}.exr")
        reference = _rgb(out / "reference" / f"render.{frame}.exr")
        denoised = _rgb(out / ("denoised-half" if half else "denoised") / f"den.{frame}.exr")
        past = (noisy > MAX_RADIANCE).any(0)
        kept, down, frozen = _lamp_pixels(noisy, denoised, reference)
        error = (np.abs(denoised - reference)[:, past].mean() / reference[:, past].mean() if past.any()
                 else float("nan"))
        around = Around.of(noisy, reference, radiance)
        row = f"| {frame} | {int(past.sum())} | {kept} / {down} | {frozen} | {error:.2f} |"
        row += around.row(denoised, reference)
        if compare:
            other = _rgb(compare / f"den.{frame}.exr")
            kept, down, frozen = _lamp_pixels(noisy, other, reference)
            differ = int((np.abs(denoised - other).max(0)[~past] > 0).sum())
            row += f" {kept} / {down} | {frozen} | {differ} |" + around.row(other, reference)
            compared.append(_scores(other, reference))
        lines.append(row)
        scores.append(_scores(denoised, reference))
    psnrs, relmses = zip(*scores)
    lines.append(f"\nPSNR (tonemapped) {np.mean(psnrs):.2f} dB, relMSE {np.mean(relmses):.4g} "
                 "(means over the frames)")
    if compared:
        psnrs, relmses = zip(*compared)
        lines.append(f"--compare: PSNR {np.mean(psnrs):.2f} dB, relMSE {np.mean(relmses):.4g}")
    return "\n".join(lines)


def _scores(denoised: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    return psnr(tonemap(denoised), tonemap(reference)), relmse(denoised, reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="folder for the renders and outputs [a temp folder]")
    parser.add_argument("--radiance", type=float, default=1e5, help="the tube's and the lamp's")
    parser.add_argument("--spp", type=int, default=4)
    parser.add_argument("--reference-spp", type=int, default=64)
    parser.add_argument("--half", action="store_true", help="denoise the noisy beauty stored as half")
    parser.add_argument("--compare", type=Path, help="den.####.exr of the same frames by another revision")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vfxdenoise-lamp-renders-") as temp:
        out = args.out or Path(temp)
        if not all((out / "reference" / f"render.{frame}.exr").exists() for frame in FRAMES):
            render(out, args.radiance, args.spp, args.reference_spp)
        if args.half:
            store_half(out)
        suffix = "-half" if args.half else ""
        denoise(out / f"noisy{suffix}", out / f"denoised{suffix}")
        print(table(out, args.compare, args.radiance, args.half))


if __name__ == "__main__":
    main()
