"""Render training batches: windows built like the engine's, aligned augmentation, one crop side
for every sample, batches of frame pairs."""

import logging
import random
import re
from dataclasses import replace

import pytest
import torch
from exr_sequences import write_render_dataset

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.models import build_model
from vfxdenoise.core.training.render_batches import batches, crop_side, sample, uses_pairs
from vfxdenoise.core.training.render_data import RenderDataConfig
from vfxdenoise.core.training.render_losses import supervised_loss


def _dataset(root, sequences=2):
    return load_dataset(write_render_dataset(root, sequences))


def test_pairs_share_crop_and_augmentation(tmp_path):
    seqs = _dataset(tmp_path, 1)
    config = RenderDataConfig(crop=24, layout=InputLayout(1))
    x, y = sample(seqs, config, random.Random(3))
    assert x.shape == (2, config.layout.in_channels, 24, 24) and y.shape == (2, 3, 24, 24)
    # the clean reference moves 1 px per frame: consecutive targets differ, but only slightly
    assert 0 < (y[1] - y[0]).abs().mean() < y.abs().mean()


def test_untrained_model_starts_as_a_consistency_weighted_temporal_mean(tmp_path):
    seqs = _dataset(tmp_path, 1)
    x, _ = sample(seqs, RenderDataConfig(crop=24, layout=InputLayout(1), aux_dropout=0.0),
                  random.Random(0))
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 8))
    with torch.no_grad():
        out = model(x)
    layout = InputLayout(1)
    frames = x[:, :layout.beauty_channels].unflatten(1, (3, 3))
    weights = torch.cat([torch.ones_like(x[:, :1]), x[:, 9:11]], 1).clamp(min=1e-3)
    expected = (frames * (weights / weights.sum(1, keepdim=True)).unsqueeze(2)).sum(1)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)


def test_a_crop_larger_than_the_frames_is_one_side_for_all_said_in_a_warning(tmp_path, caplog):
    """It was clamped per sequence without a word: 40 px frames beside 24 px ones gave crops of
    two sizes, which a batch cannot stack."""
    seqs = load_dataset(write_render_dataset(tmp_path / "a", 1, size=40))
    seqs += load_dataset(write_render_dataset(tmp_path / "b", 1, size=24))
    assert crop_side(seqs, 16) == 16 and not caplog.records
    assert crop_side(seqs, 32) == 24
    assert "crop 32 is larger than the 24x24 frames of sequence seq0: training on 24x24 crops" in caplog.text
    config = RenderDataConfig(crop=crop_side(seqs, 32), batch=16, layout=InputLayout(1))
    batch = next(batches(seqs, config, seed=0))
    assert batch["input"].shape[-2:] == (24, 24) and batch["target"].shape[-2:] == (24, 24)
    with pytest.raises(DatasetError, match=r"crop 32 is larger than the 24x24 frames .* \(`crop_side`\)"):
        next(batches(seqs, replace(config, crop=32), seed=0))  # a crop not fitted is refused, never mixed


def test_a_sequence_without_its_target_is_a_dataset_error_naming_it_and_its_folder(tmp_path):
    """A sequence whose target `check_targets` never saw (a run's own check comes first) was a
    bare VfxDenoiseError naming neither its folder nor how to render what it lacks."""
    seqs = _dataset(tmp_path, 1)
    del seqs[0].targets["reference"]
    with pytest.raises(DatasetError, match=re.escape(f"sequence seq0 has no reference/ frames to compare "
                                                     f"with (none in {seqs[0].folder}); render its "
                                                     "reference with make-dataset")):
        sample(seqs, RenderDataConfig(crop=24, layout=InputLayout(1)), random.Random(0))
    with pytest.raises(DatasetError, match=r"has no spp4b/ frames .* --second-noisy"):
        sample(_dataset(tmp_path / "n2n", 1), RenderDataConfig(crop=24, layout=InputLayout(1),
                                                                self_supervised=True), random.Random(0))


def _one_frame(seq):
    """The sequence cut to its first frame: no frame pair to draw from it."""
    seq.noisy = {level: frames[:1] for level, frames in seq.noisy.items()}
    seq.targets = {name: frames[:1] for name, frames in seq.targets.items()}
    return seq


def test_a_single_frame_sequence_leaves_the_temporal_term_to_the_others(tmp_path, caplog):
    """One sequence of one frame turned the temporal term off for the whole run, and batches of
    single frames plus pairs held up to twice --batch frames."""
    seqs = _dataset(tmp_path, sequences=3)
    _one_frame(seqs[2])
    config = RenderDataConfig(crop=24, batch=6, layout=InputLayout(1))
    with caplog.at_level(logging.WARNING):
        assert uses_pairs(seqs, config)
    assert "1 training sequence(s) hold a single frame" in caplog.text and "seq2" in caplog.text
    stream = batches(seqs, config, seed=5)
    drawn = [next(stream) for _ in range(8)]
    assert all(b["input"].shape[0] == b["target"].shape[0] == 6 for b in drawn)
    assert 0 < sum(b["pairs"] for b in drawn) < 3 * len(drawn)  # pairs and single frames both drawn
    # pairs first, as the temporal term reads them (`render_losses.supervised_loss`)
    batch = next(b for b in drawn if 0 < b["pairs"] < 3)
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 8))
    with torch.no_grad():
        loss = {w: supervised_loss(model, batch, pairs=True, temporal_weight=w).item() for w in (0, 5)}
        pred, target = model.forward_log(batch["input"]), torch.log1p(batch["target"])
    paired = 2 * batch["pairs"]
    change = (pred[1:paired:2] - pred[:paired:2]) - (target[1:paired:2] - target[:paired:2])
    assert loss[5] - loss[0] == pytest.approx(5 * change.abs().mean().item(), rel=1e-4)


def test_no_sequence_of_two_frames_means_no_temporal_term_said(tmp_path, caplog):
    seqs = [_one_frame(seq) for seq in _dataset(tmp_path)]
    config = RenderDataConfig(crop=24, batch=3, layout=InputLayout(1))
    with caplog.at_level(logging.WARNING):
        assert not uses_pairs(seqs, config)
    assert "no training sequence holds two frames" in caplog.text
    batch = next(batches(seqs, config, seed=1))
    assert batch["input"].shape[0] == 3 and batch["pairs"] == 0


@pytest.mark.parametrize(("batch", "frames"), [(1, 2), (4, 4), (5, 5)])
def test_batches_of_multi_frame_sequences_are_pairs_of_the_frames_asked(tmp_path, caplog, batch, frames):
    """--batch frames (a pair at 1): pairs, and a single frame where only one more fits."""
    seqs = _dataset(tmp_path)
    config = RenderDataConfig(crop=24, batch=batch, layout=InputLayout(1))
    with caplog.at_level(logging.WARNING):
        assert uses_pairs(seqs, config)
    assert not caplog.text
    drawn = next(batches(seqs, config, seed=2))
    assert drawn["input"].shape[0] == frames and drawn["pairs"] == frames // 2
