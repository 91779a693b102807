"""A plain folder of images: recursive, hidden files skipped, channel conversion, crops, splits."""

import numpy as np
import pytest
from classic_data import pattern, quantise

from vfxdenoise.core.classic.datasets import ReadOptions, load_dataset
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.io.images import write_image


def write_folder(root, count=10):
    for i in range(count):
        sub = root / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        write_image(sub / f"img{i:02d}.png", quantise(pattern(i, 3 if i % 3 else 1, 24, 30)))
    (root / "a" / ".img99.tmp.png").write_bytes(b"half written")
    (root / "a" / "notes.txt").write_text("not an image")


def test_reads_images_recursively_in_sorted_order_and_splits_every_fifth(tmp_path):
    write_folder(tmp_path)
    every = load_dataset("folder", tmp_path, ReadOptions(split="all"))
    names = [p.name for p in every]
    assert names == sorted(names) and len(names) == 10 and not any(".img99" in n for n in names)
    test = load_dataset("folder", tmp_path, ReadOptions(split="test"))
    assert [p.name for p in test] == [names[4], names[9]]
    assert len(load_dataset("folder", tmp_path, ReadOptions(split="train"))) == 8
    first = every[names.index("b/img00.png")]
    np.testing.assert_allclose(first.clean, quantise(pattern(0, 1, 24, 30)), atol=1e-6)


def test_channel_conversion_and_centre_crop(tmp_path):
    write_folder(tmp_path)
    gray = load_dataset("folder", tmp_path, ReadOptions(split="all", channels=1, max_side=16))
    colour = load_dataset("folder", tmp_path, ReadOptions(split="all", channels=3))
    assert {p.clean.shape for p in gray} == {(1, 16, 16)} and {p.clean.shape for p in colour} == {(3, 24, 30)}
    full = quantise(pattern(1, 3, 24, 30))
    luma = np.tensordot(np.array([0.2125, 0.7154, 0.0721]), full, axes=1)
    np.testing.assert_allclose(gray[[p.name for p in gray].index("a/img01.png")].clean[0],
                               luma[4:20, 7:23], atol=1e-5)


def test_bad_options_and_empty_folders_are_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="no images in the 'all' split"):
        load_dataset("folder", tmp_path, ReadOptions(split="all"))
    with pytest.raises(DatasetError, match="unknown split"):
        ReadOptions(split="validation")
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        load_dataset("cifar", tmp_path)


def test_an_empty_split_ends_with_the_callers_hint(tmp_path):
    """The remedy belongs to the caller: `classic train` has no --split, which the message offered."""
    write_folder(tmp_path, count=4)
    with pytest.raises(DatasetError, match=r"no images in the 'test' split .*\(4 in total; the test split "
                                           r"is every 5th\); pass --val-images 0$"):
        load_dataset("folder", tmp_path, ReadOptions(split="test", empty_hint="pass --val-images 0"))
    with pytest.raises(DatasetError, match=r"every 5th\); add data$"):
        load_dataset("folder", tmp_path, ReadOptions(split="test"))


@pytest.mark.parametrize(("option", "value"), [("limit", -1), ("limit", 0), ("max_side", 0)])
def test_a_limit_or_crop_below_1_is_refused_not_read_as_a_slice(tmp_path, option, value):
    """limit -1 read all the images but the last (a slice's end), max_side 0 empty images."""
    write_folder(tmp_path)
    with pytest.raises(DatasetError, match=f"{option} must be at least 1 .*got {value}"):
        load_dataset("folder", tmp_path, ReadOptions(split="all", **{option: value}))
    assert len(load_dataset("folder", tmp_path, ReadOptions(split="all", limit=1))) == 1


def test_float_images_are_read_clipped_to_the_0_1_range_scores_and_outputs_are_in(tmp_path):
    """A float TIFF's 1.5 and -0.2 were kept: `classic eval` scored outputs clipped to [0, 1]
    against them, every method capped alike (14.7 dB where the same noise scored 20.6)."""
    values = np.stack([np.linspace(-0.2, 1.5, 30, dtype=np.float32)[None].repeat(24, axis=0)] * 3)
    write_image(tmp_path / "scan.tif", values, "float")
    [pair] = load_dataset("folder", tmp_path, ReadOptions(split="all"))
    assert pair.clean.min() == 0.0 and pair.clean.max() == 1.0
    np.testing.assert_allclose(pair.clean, np.clip(values, 0.0, 1.0), atol=1e-6)


def test_a_folder_of_exr_files_alone_is_refused_naming_the_kinds_read(tmp_path):
    """EXR is not read (HDR values, outside the 0-1 these models work in): a folder holding only
    EXR files said 'no images ... add data', as if it were empty."""
    write_image(tmp_path / "img00.exr", pattern(0, 3, 24, 30).astype(np.float32))
    with pytest.raises(DatasetError, match=r"no PNG, JPEG, TIFF, BMP or WebP images, only EXR"):
        load_dataset("folder", tmp_path, ReadOptions(split="all"))
