"""RENOIR scenes: every *Noisy capture paired with its folder's *Reference, scene-wise splits."""

import numpy as np
import pytest
from classic_data import write_renoir_dataset

from vfxdenoise.core.classic.datasets import ReadOptions, load_dataset
from vfxdenoise.core.errors import DatasetError


def test_noisy_captures_pair_with_the_reference_not_the_full_image(tmp_path):
    write_renoir_dataset(tmp_path, scenes=5, noisy_per_scene=2)
    train = load_dataset("renoir", tmp_path, ReadOptions(split="train"))
    test = load_dataset("renoir", tmp_path, ReadOptions(split="test"))
    assert len(train) == 8 and len(test) == 2
    assert all("Batch_005" in p.name for p in test) and not any("Batch_005" in p.name for p in train)
    for pair in train + test:
        assert pair.name.endswith("Noisy.bmp") and pair.clean.shape == pair.noisy.shape == (3, 32, 32)
        residual = pair.noisy - pair.clean
        assert 0.06 < residual.std() < 0.1 and abs(residual.mean()) < 0.02  # the *full.bmp is half as bright
    names = [p.name for p in train[:2]]
    assert names == sorted(names) and names[0] != names[1]


def test_limit_and_gray_conversion(tmp_path):
    write_renoir_dataset(tmp_path, scenes=2, noisy_per_scene=3)
    pairs = load_dataset("renoir", tmp_path, ReadOptions(split="all", limit=1, channels=1))
    assert len(pairs) == 3  # the limit counts scenes; all captures of a scene are read
    luma = np.tensordot([0.2125, 0.7154, 0.0721], load_dataset("renoir", tmp_path, ReadOptions(
        split="all"))[0].clean, axes=1)
    np.testing.assert_allclose(pairs[0].clean[0], luma, atol=1e-6)


def test_scene_with_two_references_is_refused_naming_the_folder(tmp_path):
    write_renoir_dataset(tmp_path, scenes=1)
    folder = tmp_path / "Mi3_Aligned" / "Batch_001"
    (folder / "IMG_999Reference.bmp").write_bytes((folder / "IMG_000Reference.bmp").read_bytes())
    with pytest.raises(DatasetError, match="Batch_001 has 2 \\*Reference images"):
        load_dataset("renoir", tmp_path, ReadOptions(split="all"))


def test_folder_named_noisy_is_not_a_scene(tmp_path):
    write_renoir_dataset(tmp_path, scenes=1)
    (tmp_path / "notes_noisy").mkdir()
    assert len(load_dataset("renoir", tmp_path, ReadOptions(split="all"))) == 2
    with pytest.raises(DatasetError, match="no RENOIR scenes"):
        load_dataset("renoir", tmp_path / "notes_noisy")
