"""Render training data: what a run checks of the sequences it reads before any step (their
reading: tests/core/test_dataset_sequences.py; their batches: test_render_batches.py)."""

import re
import shutil

import pytest
from exr_sequences import write_render_dataset

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.training.render_data import RenderDataConfig, check_targets, dark_sequences


def _dataset(root, sequences=2):
    return load_dataset(write_render_dataset(root, sequences))


def test_what_training_compares_with_is_checked_before_any_step(tmp_path):
    seqs = _dataset(tmp_path)
    layout = InputLayout(temporal_radius=1)
    check_targets(seqs, RenderDataConfig(layout=layout))
    with pytest.raises(DatasetError, match="sequence seq0 has no spp4b/ frames .* --second-noisy"):
        check_targets(seqs, RenderDataConfig(layout=layout, self_supervised=True))
    del seqs[1].targets["reference"]
    with pytest.raises(DatasetError, match="--val: sequence seq1 has no reference/ frames"):
        check_targets(seqs, RenderDataConfig(layout=layout), what="--val")


def test_a_sequence_without_targets_is_named_with_the_folder_they_were_looked_for_in(tmp_path):
    seqs = _dataset(tmp_path)
    del seqs[1].targets["reference"]
    with pytest.raises(DatasetError, match=re.escape(f"frames to compare with (none in {tmp_path.resolve()}"
                                                     "/seq1); render its reference with make-dataset")):
        check_targets(seqs, RenderDataConfig())


def test_sequences_dark_in_every_frame_are_named(tmp_path):
    seqs = _dataset(tmp_path, sequences=3)
    for frame in seqs[1].noisy["spp4"]:
        frame.beauty[:] = 0
    seqs[2].noisy["spp4"][0].beauty[:] = 0  # one black frame is no dark sequence
    assert dark_sequences(seqs) == ["seq1"]


def test_noisy_renders_with_second_renders_but_no_reference_are_told_of_self_supervised_training(tmp_path):
    """A dataset of spp4/ and spp4b/ alone was told only to render its reference; train's --data may
    train on it as it is, with --self-supervised. Validation and eval, which score against the
    reference, are not told of it, nor is a sequence without the second renders."""
    root = write_render_dataset(tmp_path, sequences=2, second_noisy=True)
    for name in ("seq0", "seq1"):
        shutil.rmtree(root / name / "reference")
    shutil.rmtree(root / "seq1" / "spp4b")
    seqs = load_dataset(root)
    with pytest.raises(DatasetError, match=re.escape(
            "render its reference with make-dataset, or train with --self-supervised against its spp4b/ "
            "frames (Noise2Noise: a second noisy render of each frame stands in for the reference)")):
        check_targets(seqs, RenderDataConfig(), offer_self_supervised=True)
    for offered, sequences in ((False, seqs), (True, seqs[1:])):
        with pytest.raises(DatasetError) as refused:
            check_targets(sequences, RenderDataConfig(), offer_self_supervised=offered)
        assert "--self-supervised" not in str(refused.value).split("(a dataset is laid out")[0]
