"""`eval` scores what `seq` writes: the in-memory denoiser against the engine on real EXRs."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from exr_sequences import element_over_transparency, store_as_float, write_sequence

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.evaluation.scoring import (
    SCORES,
    check_scorable,
    evaluate_sequences,
    format_score,
    mean_scores,
    model_denoiser,
    noisy_denoiser,
    score,
)
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.sequence import FramePattern, parse_pattern
from vfxdenoise.core.weights import load_weights


@pytest.mark.parametrize("gain", [1.0, 2.0**-14])
def test_eval_denoises_an_element_as_seq_does_keeping_its_empty_pixels_black(tmp_path, gain):
    """As rendered, and 14 stops down (where both lift the shot for the network alike)."""
    frames = range(1001, 1006)
    for level, noise in (("spp4", 0.3), ("reference", 0.0)):
        pattern = write_sequence(tmp_path / "data" / "shot" / level, frames, noise=noise)
        element_over_transparency(pattern, frames)
        if gain != 1.0:
            _darken(parse_pattern(pattern), frames, gain)
    noisy_pattern = str(tmp_path / "data" / "shot" / "spp4" / "render.####.exr")
    summary = denoise_sequence(noisy_pattern, str(tmp_path / "out" / "o.####.exr"),
                               config=EngineConfig(model="default", device="cpu", precision="float32"))
    sequence = load_dataset(tmp_path / "data")[0]
    model = load_weights("default").model
    scored = model_denoiser(model)(sequence, "spp4")
    unruled = model_denoiser(model, empty_margin=None)(sequence, "spp4")
    for index, frame in enumerate(frames):
        written = read_exr(summary.output_pattern.path(frame)).get(["R", "G", "B"])
        np.testing.assert_allclose(scored[index], written, rtol=2e-3, atol=1e-4 * gain)  # half
        assert (scored[index][:, :, :15] == 0).all() and (written[:, :, :15] == 0).all()
    # Left to the network, those pixels take light from the element beside them.
    assert max(out[:, :, :15].max() for out in unruled) > 1e-3 * gain


def test_eval_reads_motion_vectors_to_the_next_frame_as_seq_does(tmp_path, tiny_weights):
    """A studio shot whose vectors point to the next frame: `seq --motion-vectors auto` finds
    that from its frames, and eval scores what seq writes, not the neighbours warped away."""
    frames = range(1001, 1006)
    for level, noise in (("spp4", 0.3), ("reference", 0.0)):
        write_sequence(tmp_path / "data" / "shot" / level, frames, noise=noise, motion=2.0,
                       convention="next")
    summary = denoise_sequence(str(tmp_path / "data" / "shot" / "spp4" / "render.####.exr"),
                               str(tmp_path / "out" / "o.####.exr"),
                               config=EngineConfig(model=str(tiny_weights), device="cpu",
                                                   precision="float32"))
    assert summary.motion_vectors.startswith("next")
    scored = model_denoiser(load_weights(tiny_weights).model)(load_dataset(tmp_path / "data")[0], "spp4")
    for index, frame in enumerate(frames):
        written = read_exr(summary.output_pattern.path(frame)).get(["R", "G", "B"])
        np.testing.assert_allclose(scored[index], written, rtol=2e-3, atol=1e-4)  # half


def test_eval_scores_a_one_frame_sequence_as_seq_denoises_it(tmp_path, tiny_weights):
    """A frame alone has itself, shifted, in its neighbour slots (`with_stand_ins`) in seq; eval
    scored it with the slots repeating it, 7.6 dB under what seq wrote in a review's case."""
    for level, noise in (("spp4", 0.3), ("reference", 0.0)):
        write_sequence(tmp_path / "data" / "shot" / level, [1001], noise=noise)
    summary = denoise_sequence(str(tmp_path / "data" / "shot" / "spp4" / "render.####.exr"),
                               str(tmp_path / "out" / "o.####.exr"),
                               config=EngineConfig(model=str(tiny_weights), device="cpu",
                                                   precision="float32"))
    scored = model_denoiser(load_weights(tiny_weights).model)(load_dataset(tmp_path / "data")[0], "spp4")
    written = read_exr(summary.output_pattern.path(1001)).get(["R", "G", "B"])
    np.testing.assert_allclose(scored[0], written, rtol=2e-3, atol=1e-4)  # half


def _darken(pattern: FramePattern, frames: range, gain: float) -> None:
    """The frames' beauty times `gain`, stored as float (half would round a dark render)."""
    for frame in frames:
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        image.set(["R", "G", "B"], image.get(["R", "G", "B"]) * np.float32(gain))
        write_exr(pattern.path(frame), image)


def test_a_single_frame_sequence_has_no_temporal_score_and_leaves_the_means_alone(tmp_path):
    """Its temporal error was 0.0, averaged into the mean (lower flicker), and the warped one NaN,
    which wiped the whole mean."""
    for name, frames in (("long", range(1001, 1005)), ("one", [1001])):
        for level, noise in (("spp4", 0.3), ("reference", 0.0)):
            write_sequence(tmp_path / name / level, frames, noise=noise)
    rows = evaluate_sequences({"noisy": noisy_denoiser}, load_dataset(tmp_path))
    long, one = rows
    keys = ("psnr", "temporal", "temporal_coarse", "temporal_warped")
    assert all(math.isnan(one[key]) for key in keys[1:]) and long["temporal"] > 0
    means = mean_scores(rows, keys)
    assert means["psnr"] == pytest.approx((long["psnr"] + one["psnr"]) / 2)
    assert {key: means[key] for key in keys[1:]} == {key: long[key] for key in keys[1:]}
    assert math.isnan(mean_scores([one], ["temporal"])["temporal"])
    assert format_score(one["temporal"]) == "n/a" and format_score(0.12345, 2) == "0.12"


def test_frames_under_the_ssim_window_are_refused_naming_the_set_and_size(tmp_path):
    for level, noise in (("spp4", 0.3), ("reference", 0.0)):
        write_sequence(tmp_path / "val" / "small" / level, range(1001, 1003), height=8, width=10, noise=noise)
    sequences = load_dataset(tmp_path / "val")
    with pytest.raises(DatasetError, match=r"--val: sequence small \(.*val/small\) has frames of 10x8 "
                                           r"pixels, smaller than SSIM's 11-pixel window \(it scores "
                                           r"images of at least 11x11 pixels\): it cannot be scored; "
                                           r"render its frames larger or leave it out$"):
        evaluate_sequences({"noisy": noisy_denoiser}, sequences, what="--val")


def test_a_reference_without_light_is_refused_naming_the_set_and_folder(tmp_path):
    """A black reference scores an infinite PSNR wherever a denoiser leaves it black (the noisy
    input does): `train --val` is refused it as eval is, before a step is taken."""
    for level in ("spp4", "reference"):
        pattern = parse_pattern(write_sequence(tmp_path / "val" / "black" / level, range(1001, 1003),
                                               height=16, width=16, noise=0.0))
        for frame in range(1001, 1003):
            image = read_exr(pattern.path(frame))
            image.set(["R", "G", "B"], np.zeros_like(image.get(["R", "G", "B"])))
            write_exr(pattern.path(frame), image)
    sequences = load_dataset(tmp_path / "val")
    with pytest.raises(DatasetError, match=r"--val: sequence black \(.*val/black\) has a reference without "
                                           r"light \(its 2 reference/ frames are black\)"):
        evaluate_sequences({"noisy": noisy_denoiser}, sequences, what="--val")


def _black_out(pattern: FramePattern, frames) -> None:
    """The beauty of `frames` black: a shot fading in from black."""
    for frame in frames:
        image = read_exr(pattern.path(frame))
        image.set(["R", "G", "B"], np.zeros_like(image.get(["R", "G", "B"])))
        write_exr(pattern.path(frame), image)


def test_reference_frames_without_light_are_left_out_of_the_psnr_alone_with_a_note(tmp_path, caplog):
    """A fade from black: the noisy input, black there as its reference is, scored an infinite
    PSNR on those frames, and its PSNR over the sequence was infinite; refusing the sequence, as
    one black in every frame is, would refuse a shot any show has. The other scores take every frame."""
    frames = range(1001, 1005)
    for level, noise in (("spp4", 0.3), ("reference", 0.0)):
        _black_out(parse_pattern(write_sequence(tmp_path / "val" / "fade" / level, frames, height=16,
                                                width=16, noise=noise)), frames[:2])
    sequences = load_dataset(tmp_path / "val")
    with caplog.at_level("INFO"):
        rows = evaluate_sequences({"noisy": noisy_denoiser}, sequences, what="--val")
    seq = sequences[0]
    noisy, references = noisy_denoiser(seq, "spp4"), seq.targets["reference"]
    lit = [metrics.psnr(metrics.tonemap(d), metrics.tonemap(r)) for d, r in zip(noisy[2:], references[2:])]
    assert math.isinf(metrics.psnr(metrics.tonemap(noisy[0]), metrics.tonemap(references[0])))
    assert rows[0]["psnr"] == pytest.approx(np.mean(lit)) and math.isfinite(rows[0]["psnr"])
    assert rows[0]["ssim"] == score(noisy, references)["ssim"]  # every frame
    notes = [r.getMessage() for r in caplog.records if "fade" in r.getMessage()]
    assert len(notes) == 1 and notes[0].startswith("note: --val: sequence fade (")
    assert ("2 of its 4 reference/ frames are black (frame 1, 2, counting from 1): its PSNR leaves them "
            "out") in notes[0]
    assert math.isnan(score(noisy[:2], references[:2])["psnr"])  # none to score: n/a, left out of means


def test_sequences_checked_once_are_scored_without_scanning_them_again(tmp_path):
    """eval checked its set before it made --out, and evaluate_sequences scanned every reference
    again; what check_scorable let through is scored as it is (a reference blackened since is not
    refused), a plain list checked."""
    for level, noise in (("spp4", 0.3), ("reference", 0.0)):
        write_sequence(tmp_path / "data" / "shot" / level, range(1001, 1003), height=16, width=16,
                       noise=noise)
    sequences = load_dataset(tmp_path / "data")
    scorable = check_scorable(sequences, what="--data")
    assert list(scorable) == sequences
    for reference in sequences[0].targets["reference"]:
        reference[:] = 0
    assert len(evaluate_sequences({"noisy": noisy_denoiser}, scorable)) == 1
    with pytest.raises(DatasetError, match="has a reference without light"):
        evaluate_sequences({"noisy": noisy_denoiser}, sequences, what="--data")


def test_each_method_is_scored_per_sequence_and_level_and_its_outputs_handed_on(tmp_path):
    """eval scored its methods in a loop of its own beside this one; one loop now serves eval and
    train's validation, the hook seeing each (sequence, level)'s outputs once they are scored."""
    for name in ("a", "b"):
        for level, noise in (("spp4", 0.3), ("reference", 0.0)):
            write_sequence(tmp_path / name / level, range(1001, 1004), noise=noise)
    sequences = load_dataset(tmp_path)
    halved = {"noisy": noisy_denoiser,
              "halved": lambda seq, level: [f.beauty / 2 for f in seq.noisy[level]]}
    seen = []
    rows = evaluate_sequences(halved, sequences, what="--data",
                              on_outputs=lambda seq, level, outputs: seen.append((seq.name, level, outputs)))
    assert [(r["sequence"], r["level"], r["method"]) for r in rows] == [
        ("a", "spp4", "noisy"), ("a", "spp4", "halved"), ("b", "spp4", "noisy"), ("b", "spp4", "halved")]
    assert [(name, level, list(outputs)) for name, level, outputs in seen] == [
        ("a", "spp4", ["noisy", "halved"]), ("b", "spp4", ["noisy", "halved"])]
    np.testing.assert_array_equal(seen[0][2]["halved"][0], sequences[0].noisy["spp4"][0].beauty / 2)
    assert rows[1]["energy"] == pytest.approx(rows[0]["energy"] / 2, rel=1e-3)


def test_scores_are_named_in_one_place():
    """The names eval's table and train's validation list are the keys `score` gives."""
    rng = np.random.default_rng(0)
    frames = [rng.random((3, 16, 16), dtype=np.float32) for _ in range(3)]
    assert set(score(frames, [f + 0.1 for f in frames])) | {"flip", "temporal_warped"} == set(SCORES)


def test_scoring_imports_nothing_of_training():
    """Training validates with eval's scores; scoring imported training's data module for its
    sequences, so each imported the other. They are `dataset_sequences`' now."""
    code = ("import sys, vfxdenoise.core.evaluation.scoring; "
            "print(sorted(m for m in sys.modules if m.startswith('vfxdenoise.core.training')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_network_giving_nan_or_inf_on_a_few_pixels_is_scored_as_seq_writes_it(tiny_weights, caplog):
    """The network's output no longer turns NaN black (`lit_or_black`), for the engine to report
    it: a few overflowing pixels made a validation PSNR NaN. They are cleaned as `seq` writes
    them (NaN and -Inf black, +Inf 65504) and warned of with their count; the scores stay finite."""
    import logging

    import torch

    from vfxdenoise.core.dataset_sequences import RenderSequence
    from vfxdenoise.core.features import FrameFeatures
    from vfxdenoise.core.models.temporal_unet import TemporalUNet
    from vfxdenoise.core.sanitize import MAX_RADIANCE

    class Overflows(TemporalUNet):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = super().forward(x)
            y[0, 0, 0, :3] = torch.tensor([float("nan"), float("inf"), float("-inf")])
            return y

    loaded = load_weights(tiny_weights)
    model = Overflows(**loaded.config)
    model.load_state_dict(loaded.model.state_dict())
    rng = np.random.default_rng(0)
    clean = np.full((3, 16, 16), 0.5, np.float32)
    frames = [FrameFeatures(beauty=clean * rng.gamma(4.0, 0.25, clean.shape).astype(np.float32))
              for _ in range(3)]
    references = [clean * (1 + 0.1 * t) for t in range(3)]  # changing: every score exists (temporal_kept)
    sequence = RenderSequence("shot", noisy={"spp4": frames}, targets={"reference": references})
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.evaluation.scoring"):
        outputs = model_denoiser(model.eval())(sequence, "spp4")
    assert all(np.isfinite(out).all() for out in outputs)
    assert outputs[0][0, 0, :3].tolist() == [0.0, MAX_RADIANCE, 0.0]
    assert caplog.messages == ["sequence 'shot' (spp4): the network gave NaN/Inf on 9 pixel(s) of its "
                               "3 frame(s), scored as `seq` writes them (NaN and -Inf black, +Inf "
                               "65504): should it recur, its weights may be from a diverged training run"]
    assert all(math.isfinite(value) for value in score(outputs, references).values() if value is not None)
