"""SIDD sRGB pairs: both naming schemes, scene-wise splits, matched pairs, incomplete copies."""

import pytest
from classic_data import write_sidd_dataset

from vfxdenoise.core.classic.datasets import ReadOptions, load_dataset
from vfxdenoise.core.errors import DatasetError


@pytest.mark.parametrize("medium_names", [True, False])
def test_pairs_match_and_the_fifth_scene_is_the_test_split(tmp_path, medium_names):
    write_sidd_dataset(tmp_path, scenes=5, pairs_per_scene=2, medium_names=medium_names)
    train = load_dataset("sidd", tmp_path, ReadOptions(split="train"))
    test = load_dataset("sidd", tmp_path, ReadOptions(split="test"))
    assert len(train) == 8 and len(test) == 2
    assert all(p.name.startswith("Data/0005_") for p in test)
    assert not any(p.name.startswith("Data/0005_") for p in train)
    for pair in train + test:
        assert "NOISY_SRGB" in pair.name and pair.clean.shape == pair.noisy.shape == (3, 32, 32)
        residual = pair.noisy - pair.clean  # the writer's sigma 0.08 noise, not another image
        assert 0.06 < residual.std() < 0.1 and abs(residual.mean()) < 0.02


def test_gray_and_crop_options_apply_to_both_images_of_a_pair(tmp_path):
    write_sidd_dataset(tmp_path, scenes=2, pairs_per_scene=1)
    pairs = load_dataset("sidd", tmp_path, ReadOptions(split="all", channels=1, max_side=20))
    assert all(p.clean.shape == p.noisy.shape == (1, 20, 20) for p in pairs)


def test_missing_ground_truth_names_the_noisy_file(tmp_path):
    write_sidd_dataset(tmp_path, scenes=1, pairs_per_scene=1)
    next(tmp_path.rglob("*GT_SRGB_010.PNG")).unlink()
    with pytest.raises(DatasetError, match="NOISY_SRGB_010.PNG has no ground truth"):
        load_dataset("sidd", tmp_path, ReadOptions(split="all"))


def test_too_few_scenes_for_a_test_split_is_explained(tmp_path):
    write_sidd_dataset(tmp_path, scenes=3)
    with pytest.raises(DatasetError, match="no SIDD scenes in the 'test' split"):
        load_dataset("sidd", tmp_path, ReadOptions(split="test"))


def test_folder_without_pairs_is_a_dataset_error(tmp_path):
    (tmp_path / "scene").mkdir()
    (tmp_path / "scene" / "0001_NOISY_RAW_010.MAT").write_bytes(b"raw")
    with pytest.raises(DatasetError, match="no SIDD pairs"):
        load_dataset("sidd", tmp_path)
