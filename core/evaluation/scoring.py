"""Score denoisers on (noisy, reference) sequences: ours, the noisy input, and optional baselines.

Used by `vfxdenoise train` (validation), `vfxdenoise eval` and `vfxdenoise demo`. All image metrics
are computed on tonemapped frames (`metrics.tonemap`) except relMSE, which is HDR by definition.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from vfxdenoise.core import coverage
from vfxdenoise.core.dataset_sequences import RenderSequence
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.exposure import frame_light, hold_out_lamps, shot_exposure
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.io.dataset_layout import REFERENCE, by_samples
from vfxdenoise.core.neighbour_coverage import covered_otherwise, held
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.run_warnings import warn
from vfxdenoise.core.sanitize import MAX_RADIANCE
from vfxdenoise.core.shot_settings import exposure_window
from vfxdenoise.core.slot_plan import plan_slots, with_stand_ins
from vfxdenoise.core.temporal_window import window_around

log = logging.getLogger(__name__)

# A denoiser of in-memory sequences: a sequence's frames (one noisy level) to denoised beauties,
# frame by frame (not the engine's `core.denoiser.Denoiser`, the model on its device).
SequenceDenoiser = Callable[[RenderSequence, str], list[np.ndarray]]
# Told each (sequence, noisy level)'s outputs by method as they are scored (`evaluate_sequences`):
# eval's contact sheets.
OutputsHook = Callable[[RenderSequence, str, dict[str, list[np.ndarray]]], None]

# Every score `score` gives, in the order tables show them: FLIP only when asked for, the
# temporal error along motion vectors only given the input frames.
SCORES = ("psnr", "ssim", "relmse", "energy", "sparkles", "flip", "temporal", "temporal_coarse",
          "temporal_kept", "temporal_warped")


def model_denoiser(model: nn.Module, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                   empty_margin: int | None = coverage.MARGIN) -> SequenceDenoiser:
    """Wrap a temporal model so it denoises an in-memory sequence as the engine denoises one clean
    shot: the same windows (`window_around`), stand-ins, exposure lift and lamps (`exposure`), neighbours
    covered otherwise left out of the beauty's pass (`neighbour_coverage`), from inputs
    in `dtype` (the model's); `empty_margin` None leaves the pixels a render left empty to the
    network (`coverage`). What the engine adds for renders off a farm is left out, as generated
    shots never need it: no window stops at flashes or cuts (`neighbours.usable_window`), no
    sanitising of NaN, Inf or out-of-range values in the frames and no clamp of the output
    (`denoiser`). NaN or Inf the network gives (weights from a diverged run, an overflow of its
    precision), which its output no longer turns black, is cleaned as the engine writes it and
    warned of with its count (`_cleaned`): a few such pixels would make a score NaN."""

    def run(seq: RenderSequence, level: str) -> list[np.ndarray]:
        was_training = model.training
        model.eval()
        rendered = seq.noisy[level]
        first_window = exposure_window(rendered, model.temporal_radius)
        exposure = shot_exposure([frame_light(frame.beauty) for frame in first_window])
        # Copies: the lamps held out of the network's input come back from `rendered` (`Exposure.undo`)
        frames = [_partly_covering(hold_out_lamps(exposure.apply(f.map(np.array)))) for f in rendered]
        outputs, failed = [], 0
        with torch.inference_mode():
            for t in range(len(frames)):
                window = with_stand_ins(window_around(frames, t, model.temporal_radius), model.layout)
                plan = plan_slots(window, model.layout, device)
                covered = covered_otherwise(window, plan, device, dtype) if held(window) else None
                x = build_input(window, model.layout, device, plan, dtype=dtype, covered=covered)
                network, bad = _cleaned(model(x)[0].float())
                failed += bad
                out = exposure.undo(network.cpu().numpy(), rendered[t].beauty)
                if empty_margin is not None:
                    uncovered = coverage.empty_pixels(rendered[t].alpha, empty_margin)
                    coverage.keep_empty(out, rendered[t].beauty, uncovered)
                outputs.append(out)
        model.train(was_training)
        if failed:
            warn(log, "sequence '%s' (%s): the network gave NaN/Inf on %d pixel(s) of its %d frame(s), "
                 "scored as `seq` writes them (NaN and -Inf black, +Inf %g): should it recur, its "
                 "weights may be from a diverged training run", seq.name, level, failed, len(frames),
                 MAX_RADIANCE)
        return outputs

    return run


def _partly_covering(frame: FrameFeatures) -> FrameFeatures:
    """`frame` with its alpha kept only where it covers some pixel less than fully, as the engine
    holds it (`frame_source`) for the neighbours covered otherwise (`neighbour_coverage`)."""
    if frame.alpha is None or float(np.min(frame.alpha)) < 1.0 - coverage.ALPHA_TOLERANCE:
        return frame
    return replace(frame, alpha=None)


def _cleaned(out: torch.Tensor) -> tuple[torch.Tensor, int]:
    """A network's result `out` (C, H, W) with its NaN and -Inf black and +Inf the half-float
    maximum, as the engine writes them (`denoiser.Denoiser`), and how many pixels held any. Finite
    values are kept as they are (the output is not clamped)."""
    finite = torch.isfinite(out)
    if bool(finite.all()):
        return out, 0
    failed = int((~finite).any(dim=0).sum())
    return torch.nan_to_num(out, nan=0.0, posinf=MAX_RADIANCE, neginf=0.0), failed


def noisy_denoiser(seq: RenderSequence, level: str) -> list[np.ndarray]:
    """The identity 'denoiser': scores the input itself."""
    return [f.beauty for f in seq.noisy[level]]


def score(denoised: list[np.ndarray], references: list[np.ndarray], with_flip: bool = False,
          frames: list[FrameFeatures] | None = None) -> dict:
    """PSNR / SSIM (tonemapped), relMSE, energy ratio and sparkles per million pixels (HDR),
    temporal error and its coarse part (boiling patches, `metrics.temporal_error_bands`), the
    share of the reference's frame-to-frame change the result makes too (`temporal_kept`:
    `metrics.temporal_change_kept`; a frozen or blurred result, which the temporal errors reward,
    scores low), optionally HDR-FLIP; sequence means, by their names in `SCORES`. The temporal scores are NaN
    (none) for a single frame (`metrics.NO_SCORE`): average rows with `mean_scores`. The PSNR
    leaves out the frames whose reference is black (`_black_frames`: a fade from black), on which
    it is infinite or against nothing; NaN (none) where every frame's is.

    With the input `frames` (for their motion vectors, albedo and normal) also the temporal error
    along motion (`metrics.warped_temporal_error`); NaN without motion vectors.
    """
    mapped = [metrics.tonemap(d) for d in denoised]
    mapped_ref = [metrics.tonemap(r) for r in references]
    black = set(_black_frames(references))
    psnrs = [metrics.psnr(d, r) for t, (d, r) in enumerate(zip(mapped, mapped_ref)) if t not in black]
    row = {
        "psnr": float(np.mean(psnrs)) if psnrs else metrics.NO_SCORE,
        "ssim": float(np.mean([metrics.ssim(d, r) for d, r in zip(mapped, mapped_ref)])),
        "relmse": float(np.mean([metrics.relmse(d, r) for d, r in zip(denoised, references)])),
        "energy": metrics.energy_ratio(denoised, references),
        "sparkles": metrics.sparkle_rate(denoised, references),
        "temporal": float(metrics.temporal_error(denoised, references)),
        "temporal_coarse": metrics.temporal_error_bands(denoised, references)[0],
        "temporal_kept": metrics.temporal_change_kept(denoised, references),
    }
    if frames is not None:
        row["temporal_warped"] = _warped_temporal_error(denoised, references, frames)
    if with_flip:
        row["flip"] = float(np.mean([metrics.flip(d, r) for d, r in zip(denoised, references)]))
    return row


def _warped_temporal_error(denoised: list[np.ndarray], references: list[np.ndarray],
                           frames: list[FrameFeatures]) -> float:
    if any(f.motion is None for f in frames):
        return float("nan")
    guides = None
    names = [n for n in ("albedo", "normal") if all(getattr(f, n) is not None for f in frames)]
    if names:
        guides = [np.concatenate([getattr(f, n) for n in names]) for f in frames]
    return metrics.warped_temporal_error(denoised, references, [f.motion for f in frames], guides)


class ScorableSequences(tuple):
    """Sequences `check_scorable` let through, in their order: `evaluate_sequences` scores them
    without scanning them again. A run checks its set once (eval before it makes --out, train its
    --val set before its first step) and scores it once or at every validation."""


def check_scorable(sequences: list[RenderSequence], what: str | None = None) -> ScorableSequences:
    """Refuse, before any is denoised, sequences that cannot be scored, naming the set (`what`:
    "--val", say), the sequence and its folder: frames smaller than SSIM's window on a side
    (`metrics.ssim_size_problem`), with their size (scoring them fails, and `train`
    validating them lost its steps), and a reference without light (`_refuse_black`); note
    those whose reference is black in some frames only, which their PSNR leaves out (`score`).
    The sequences, for `evaluate_sequences` to score unscanned."""
    for seq in sequences:
        width, height = seq.noisy_size
        problem = metrics.ssim_size_problem(height, width)
        if problem:
            raise DatasetError(f"{_named(seq, what)} has frames of {problem}: it cannot be scored; "
                               "render its frames larger or leave it out")
        _refuse_black(seq, what)
    return ScorableSequences(sequences)


def _black_frames(references: list[np.ndarray]) -> list[int]:
    """The indices of the reference frames without light (no value above 0): where a denoiser
    that leaves them black, as the noisy input is, scores an infinite PSNR, and one that does not
    a PSNR against nothing."""
    return [t for t, frame in enumerate(references) if not np.any(frame > 0)]


def _refuse_black(seq: RenderSequence, what: str | None) -> None:
    """Refuse a sequence whose reference holds no light (`_black_frames`: every frame; a scene
    rendered empty, or a generator's failure). A denoiser that leaves it black, as the noisy input
    is, scores an infinite PSNR on it, and one that does not a PSNR against nothing (OIDN scored
    82.8 dB on one, lifting its mean to 47 dB): the means over the set, the table's point, are
    infinite or not comparable. Refused rather than left out, so that a mean always covers the
    whole set as given (and `train` --val the same sequences each time). One black in some frames
    only (a fade from black) is scored, its PSNR over the others (`score`), as a note says."""
    references = seq.targets.get(REFERENCE)
    if not references:
        return
    black = _black_frames(references)
    if len(black) == len(references):
        raise DatasetError(
            f"{_named(seq, what)} has a reference without light (its {len(references)} "
            f"{REFERENCE}/ frames are black): a denoiser's PSNR on it is infinite or meaningless, "
            "and so would the means over the set be; render its reference again or leave it out")
    if black:
        log.info("note: %s: %d of its %d %s/ frames are black (frame %s, counting from 1): its PSNR "
                 "leaves them out, as it is infinite or against nothing there; its other scores take "
                 "every frame", _named(seq, what), len(black), len(references), REFERENCE,
                 ", ".join(str(t + 1) for t in black))


def _named(seq: RenderSequence, what: str | None) -> str:
    """'--val: sequence NAME (FOLDER)': how a refusal names a sequence of the set `what`."""
    where = f" ({seq.folder})" if seq.folder else ""
    return f"{what + ': ' if what else ''}sequence {seq.name}{where}"


def mean_scores(rows: Iterable[dict], keys: Iterable[str]) -> dict[str, float]:
    """Each key's mean over the rows that have a score (not NaN: a temporal score of a single
    frame, the warped one without motion vectors); NaN where none has. A NaN averaged in made
    the whole mean NaN, a 0.0 lowered it."""
    rows = list(rows)
    means = {}
    for key in keys:
        values = [row[key] for row in rows if not math.isnan(row[key])]
        means[key] = sum(values) / len(values) if values else metrics.NO_SCORE
    return means


# How a table shows a score that does not exist (NaN: `mean_scores`).
NO_SCORE_CELL = "n/a"


def format_score(value: float, decimals: int = 4) -> str:
    """A score as a table cell: `decimals` places, or `NO_SCORE_CELL` where there is none."""
    return NO_SCORE_CELL if math.isnan(value) else f"{value:.{decimals}f}"


def evaluate_sequences(methods: Mapping[str, SequenceDenoiser],
                       sequences: ScorableSequences | list[RenderSequence], with_flip: bool = False,
                       what: str | None = None, on_outputs: OutputsHook | None = None) -> list[dict]:
    """One row per (sequence, noisy level, method): the scores (`score`) of each denoiser of
    `methods` (name -> denoiser, `model_denoiser` for a network), under "sequence", "level" and
    "method"; sequences not yet checked (no `ScorableSequences`) that cannot be scored refused
    first (`check_scorable`, naming them as `what`). `on_outputs` is told each (sequence, level)'s
    outputs by method once they are scored."""
    if not isinstance(sequences, ScorableSequences):
        sequences = check_scorable(sequences, what)
    rows = []
    for seq in sequences:
        for level in by_samples(seq.noisy):
            outputs = {name: denoise(seq, level) for name, denoise in methods.items()}
            for name, frames in outputs.items():
                rows.append({"sequence": seq.name, "level": level, "method": name,
                             **score(frames, seq.targets[REFERENCE], with_flip, seq.noisy[level])})
            if on_outputs is not None:
                on_outputs(seq, level, outputs)
    return rows
