"""`vfxdenoise demo`: denoise the bundled sample sequence and show what changed.

It writes into --out only files it wrote there itself (recorded in a hidden file beside them), so
`make demo` runs again over its own output but never replaces anyone else's frames.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import click
import numpy as np

from vfxdenoise.cli.cancels import CancelSayingCommand
from vfxdenoise.cli.options import device_option
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.errors import DatasetError, OutputError, UsageError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.frame_reading import read_beauty
from vfxdenoise.core.frame_source import file_stamp
from vfxdenoise.core.frame_status import FrameStatus
from vfxdenoise.core.io.atomic import write_atomically
from vfxdenoise.core.io.dataset_layout import read_manifest
from vfxdenoise.core.io.frame_pattern import FramePattern
from vfxdenoise.core.io.preview import Column, display, display_error, write_contact_sheet
from vfxdenoise.core.io.sequence import SequenceOnDisk, find_sequence, parse_pattern

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "demo"  # the checkout's, from any folder
SAMPLE_SHOWN = "the checkout's samples/demo"  # --help's default: SAMPLE, installed, is in site-packages
SHEET = "before_after.png"
WRITTEN = ".vfxdenoise_demo.json"  # in --out: each file the demo wrote there, as it left it


def _stamp(path: Path) -> list[int] | None:
    """`file_stamp` of the file at `path` as JSON holds it; None if absent (or out of reach:
    creating the folder then says why)."""
    stamp = file_stamp(path)
    return list(stamp) if stamp is not None else None


def _written_before(out_dir: Path) -> dict[str, list[int]]:
    """What earlier demo runs left in `out_dir`: file name -> its `_stamp` then ({} if nothing)."""
    try:
        written = json.loads((out_dir / WRITTEN).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return written if isinstance(written, dict) else {}


def _refuse_others_files(out_dir: Path, paths: list[Path]) -> None:
    """Refuse an --out folder holding a file under a name the demo writes that an earlier demo
    run did not leave there as it is now (someone's frames, a render): it would be replaced."""
    ours = _written_before(out_dir)
    others = [path for path in paths if _stamp(path) not in (None, ours.get(path.name))]
    if others:
        more = f" and {len(others) - 1} more of the files the demo writes" if len(others) > 1 else ""
        raise OutputError(f"--out {out_dir} already holds {others[0].name}{more}, which the demo did "
                          "not write there: pick another --out folder, or delete them")


def _record_written(out_dir: Path, paths: list[Path]) -> None:
    """Note the files the demo left in `out_dir`, so that the next run may replace them. Not
    written (a full disk), the next run refuses them, naming one: no error hides the run's own."""
    stamps = {path.name: stamp for path in paths if (stamp := _stamp(path)) is not None}
    with contextlib.suppress(OSError):
        write_atomically(out_dir / WRITTEN, lambda temp: temp.write_text(json.dumps(stamps), "utf-8"))


def _make_out_folder(out_dir: Path) -> None:
    """Create --out, or say which folder could not be made (the engine's errors name seq's -o)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create --out folder {out_dir} ({exc.strerror}): pick another "
                          "--out folder") from exc


def _bundled_sample() -> Path:
    """The checkout's sample folder, when --sample names none. An editable install (`make demo`)
    has it; a wheel's install has not (samples/ is 5 MB and ships with the source only)."""
    if not SAMPLE.is_dir():
        raise UsageError(f"no bundled sample here ({SAMPLE} does not exist): the sample sequence ships "
                         "with the source checkout (samples/demo, 5 MB), not an installed package; "
                         "pass --sample DIR naming one (a folder with spp4/ and reference/ sequences)")
    return SAMPLE


def _sample_folders(sample: Path) -> Path:
    """--sample's folder, refused (UsageError) where it lacks spp4/ or reference/, naming --sample:
    the sequence finder's 'folder '/tmp/spp4' does not exist' did not say which option was wrong."""
    lacking = [name for name in ("spp4", "reference") if not (sample / name).is_dir()]
    if lacking:
        raise UsageError(f"--sample {sample} holds no {' or '.join(f'{name}/' for name in lacking)} folder: "
                         "a sample folder holds the noisy frames in spp4/ and their reference in "
                         "reference/ (render.####.exr each, as the checkout's samples/demo)")
    return sample


@click.command("demo", cls=CancelSayingCommand)
@click.option("--sample", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              show_default=SAMPLE_SHOWN, help="Sample folder with spp4/ and reference/ sequences.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=Path("out/demo"), show_default=True,
              help="Folder for the denoised frames and the PNG; it may hold other files, but none under "
                   "a name the demo writes unless an earlier demo wrote it.")
@device_option
def demo(sample: Path | None, out_dir: Path, device: str) -> None:
    """Denoise the sample, print PSNR before/after against its reference, write a before/after PNG."""
    sample = _sample_folders(sample) if sample else _bundled_sample()
    noisy = find_sequence(sample / "spp4" / "render.####.exr")
    reference = find_sequence(sample / "reference" / "render.####.exr")
    output = out_dir / "render.####.exr"
    ours = [parse_pattern(str(output)).path(frame) for frame in noisy.frames] + [out_dir / SHEET]
    _refuse_others_files(out_dir, ours)
    _make_out_folder(out_dir)
    try:  # existing="overwrite" replaces only what an earlier demo wrote (`_refuse_others_files`)
        _denoise(noisy, output, reference, out_dir, device)
    finally:  # an interrupted run's files too: they are the demo's
        _record_written(out_dir, ours)


def _denoise(noisy: SequenceOnDisk, output: Path, reference: SequenceOnDisk, out_dir: Path,
            device: str) -> None:
    """Denoise the sample into `output`, print PSNR per frame before and after, write the PNG."""
    summary = denoise_sequence(noisy.pattern, str(output),
                               config=EngineConfig(device=device, existing="overwrite"))
    written = summary.frames(FrameStatus.WRITTEN)
    click.echo(f"denoised {len(written)} frames in {summary.seconds:.1f} s -> {output}")
    click.echo(f"{'frame':>6}  {'PSNR noisy':>10}  {'PSNR denoised':>13}")
    before, after = [], []
    for frame in noisy.frames:
        ref = metrics.tonemap(read_beauty(reference.pattern.path(frame)))
        before.append(metrics.psnr(metrics.tonemap(read_beauty(noisy.pattern.path(frame))), ref))
        after.append(metrics.psnr(metrics.tonemap(read_beauty(summary.output_pattern.path(frame))), ref))
        click.echo(f"{frame:>6}  {before[-1]:>10.2f}  {after[-1]:>13.2f}")
    click.echo(f"{'mean':>6}  {np.mean(before):>10.2f}  {np.mean(after):>13.2f}  "
               f"(+{np.mean(after) - np.mean(before):.2f} dB)")
    middle = len(noisy.frames) // 2
    sheet = out_dir / SHEET
    _write_sheet(sheet, noisy, summary.output_pattern, reference, middle, (before[middle], after[middle]))
    click.echo(f"before/after (noisy | denoised | reference, frame {noisy.frames[middle]}): {sheet}")


def _write_sheet(sheet: Path, noisy: SequenceOnDisk, output: FramePattern, reference: SequenceOnDisk,
                 index: int, psnrs: tuple[float, float]) -> None:
    """The before/after PNG of frame `index`: noisy | denoised | reference, each labelled (sample
    counts, this frame's PSNR before and after), zoomed where the denoised frame errs most."""
    frame = noisy.frames[index]
    noisy_spp, reference_spp = _sample_counts(noisy, reference)
    images = [read_beauty(noisy.pattern.path(frame)), read_beauty(output.path(frame)),
              read_beauty(reference.pattern.path(frame))]
    labels = [f"noisy{noisy_spp} — {psnrs[0]:.2f} dB", f"vfxdenoise — {psnrs[1]:.2f} dB",
              f"reference{reference_spp}"]
    write_contact_sheet(sheet, [Column(label, display(image)) for label, image in zip(labels, images)],
                        title=f"frame {frame} of {noisy.frames[0]}-{noisy.frames[-1]}  ·  "
                              "PSNR of this frame against the reference",
                        zoom_on=display_error(images[1], images[2]), zoom_of="vfxdenoise")


def _sample_counts(noisy: SequenceOnDisk, reference: SequenceOnDisk) -> tuple[str, str]:
    """' 4 spp' and ' 512 spp' for the labels: the noisy folder's name (make-dataset's sppN) and
    the reference's count in the sample's manifest; '' for a count neither says."""
    folder = noisy.pattern.directory
    level = re.fullmatch(r"spp(\d+)", folder.name)
    try:
        manifest = read_manifest(reference.pattern.directory.parent) or {}
    except DatasetError:  # a damaged manifest: the labels go without the count
        manifest = {}
    config = manifest.get("config") if isinstance(manifest, dict) else None
    counted = config.get("reference_spp") if isinstance(config, dict) else None
    return (f" {level[1]} spp" if level else "",
            f" {counted} spp" if isinstance(counted, int) else "")
