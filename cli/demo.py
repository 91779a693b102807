"""`vfxdenoise demo`: denoise the bundled sample sequence and show what changed."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from vfxdenoise.cli.options import DEVICES
from vfxdenoise.core import metrics
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.preview import write_contact_sheet
from vfxdenoise.core.io.sequence import find_sequence

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "demo"  # the checkout's, from any folder


def _beauty(path: Path) -> np.ndarray:
    return read_exr(path).get(["R", "G", "B"])


@click.command("demo")
@click.option("--sample", type=click.Path(exists=True, file_okay=False, path_type=Path), default=SAMPLE,
              show_default=True, help="Sample folder with spp4/ and reference/ sequences.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/demo"), show_default=True)
@click.option("--device", type=DEVICES, default="auto", show_default=True)
def demo(sample: Path, out_dir: Path, device: str) -> None:
    """Denoise the sample, print PSNR before/after against its reference, write a before/after PNG."""
    noisy = find_sequence(sample / "spp4" / "render.####.exr")
    reference = find_sequence(sample / "reference" / "render.####.exr")
    output = out_dir / "render.####.exr"
    summary = denoise_sequence(noisy.pattern, str(output),
                               config=EngineConfig(device=device, overwrite=True))
    click.echo(f"denoised {len(summary.frames('written'))} frames in {summary.seconds:.1f} s -> {output}")
    click.echo(f"{'frame':>6}  {'PSNR noisy':>10}  {'PSNR denoised':>13}")
    before, after = [], []
    for frame in noisy.frames:
        ref = metrics.tonemap(_beauty(reference.pattern.path(frame)))
        before.append(metrics.psnr(metrics.tonemap(_beauty(noisy.pattern.path(frame))), ref))
        after.append(metrics.psnr(metrics.tonemap(_beauty(summary.output_pattern.path(frame))), ref))
        click.echo(f"{frame:>6}  {before[-1]:>10.2f}  {after[-1]:>13.2f}")
    click.echo(f"{'mean':>6}  {np.mean(before):>10.2f}  {np.mean(after):>13.2f}  "
               f"(+{np.mean(after) - np.mean(before):.2f} dB)")
    middle = noisy.frames[len(noisy.frames) // 2]
    sheet = out_dir / "before_after.png"
    write_contact_sheet(sheet, [_beauty(noisy.pattern.path(middle)),
                                _beauty(summary.output_pattern.path(middle)),
                                _beauty(reference.pattern.path(middle))])
    click.echo(f"before/after (noisy | denoised | reference, frame {middle}): {sheet}")
