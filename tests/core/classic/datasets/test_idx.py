"""MNIST / Fashion-MNIST IDX files: gzipped or not, splits, limits, damaged files."""

import gzip

import numpy as np
import pytest
from classic_data import idx_bytes, write_idx_dataset

from vfxdenoise.core.classic.datasets import ReadOptions, load_dataset
from vfxdenoise.core.classic.datasets.idx import read_idx
from vfxdenoise.core.errors import DatasetError


def test_read_idx_round_trips_gzipped_and_plain_files(tmp_path):
    array = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    (tmp_path / "plain").write_bytes(idx_bytes(array))
    (tmp_path / "zipped.gz").write_bytes(gzip.compress(idx_bytes(array)))
    (tmp_path / "zipped-without-suffix").write_bytes(gzip.compress(idx_bytes(array)))
    for name in ("plain", "zipped.gz", "zipped-without-suffix"):
        np.testing.assert_array_equal(read_idx(tmp_path / name), array)


def test_read_idx_reads_big_endian_floats(tmp_path):
    array = np.array([[1.5, -2.25], [3.0, 1e6]], dtype=np.float32)
    (tmp_path / "f").write_bytes(idx_bytes(array, type_code=0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), array)


@pytest.mark.parametrize("kind", ["mnist", "fashion-mnist"])
def test_splits_are_the_train_and_t10k_files_scaled_to_unit_range(tmp_path, kind):
    train, test = write_idx_dataset(tmp_path, train=6, test=3)
    pairs = load_dataset(kind, tmp_path, ReadOptions(split="train"))
    assert len(pairs) == 6 and pairs[0].clean.shape == (1, 28, 28) and pairs[0].noisy is None
    np.testing.assert_allclose(pairs[5].clean[0], train[5] / 255.0, atol=1e-7)
    test_pairs = load_dataset(kind, tmp_path, ReadOptions(split="test"))
    np.testing.assert_allclose(test_pairs[2].clean[0], test[2] / 255.0, atol=1e-7)
    assert len(load_dataset(kind, tmp_path, ReadOptions(split="all"))) == 9
    assert len(load_dataset(kind, tmp_path, ReadOptions(split="all", limit=7))) == 7
    assert load_dataset(kind, tmp_path, ReadOptions(channels=3))[0].clean.shape == (3, 28, 28)


def test_truncated_file_names_the_file(tmp_path):
    write_idx_dataset(tmp_path, train=4, test=2, gzip_train=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.*truncated"):
        load_dataset("fashion-mnist", tmp_path)


def test_not_an_idx_file_and_missing_files_are_dataset_errors(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(DatasetError, match="not an IDX file"):
        load_dataset("mnist", tmp_path)
    with pytest.raises(DatasetError, match="no t10k-images-idx3-ubyte"):
        load_dataset("mnist", tmp_path, ReadOptions(split="test"))
    with pytest.raises(DatasetError, match="not found"):
        load_dataset("mnist", tmp_path / "nowhere")
