"""Pixel windows (inclusive corners, display space) and images placed from one onto another."""

import numpy as np
import torch

from vfxdenoise.core.io.pixel_box import Box, placed_on_window


def test_a_box_is_the_inclusive_4_tuple_it_replaces():
    box = Box(2, -1, 5, 3)
    assert box == (2, -1, 5, 3) and hash(box) == hash((2, -1, 5, 3))
    assert (box.width, box.height, box.shape) == (4, 5, (5, 4))
    assert Box(*(2, -1, 5, 3)) == box and tuple(box) == (2, -1, 5, 3)
    assert Box.of_shape(3, 7) == (0, 0, 6, 2)


def test_boxes_intersect_where_they_share_pixels():
    assert Box(0, 0, 9, 9).intersect(Box(5, -3, 20, 4)) == (5, 0, 9, 4)
    assert Box(0, 0, 4, 4).intersect(Box(4, 4, 8, 8)) == (4, 4, 4, 4)  # one shared corner pixel
    assert Box(0, 0, 4, 4).intersect(Box(5, 0, 8, 4)) is None  # side by side
    assert Box(0, 0, 4, 4).intersect(Box(0, 5, 4, 8)) is None


def test_a_boxs_rows_and_columns_within_another():
    rows, columns = Box(3, 12, 4, 14).within(Box(1, 10, 9, 19))
    image = np.arange(10 * 9).reshape(10, 9)
    assert (image[rows, columns] == image[2:5, 2:4]).all()


def test_values_are_placed_where_the_windows_overlap_and_out_keeps_the_rest():
    values = np.arange(1, 13, dtype=np.float32).reshape(1, 3, 4)  # over (2, 1)-(5, 3)
    out = np.full((1, 3, 3), -1.0, np.float32)  # over (4, 2)-(6, 4)
    placed = placed_on_window(values, (2, 1, 5, 3), out, Box(4, 2, 6, 4))
    assert placed is out
    np.testing.assert_array_equal(out[0], [[7, 8, -1], [11, 12, -1], [-1, -1, -1]])


def test_tensors_are_placed_alike_and_disjoint_windows_copy_nothing():
    values = torch.ones((2, 2, 2))
    out = placed_on_window(values, Box(0, 0, 1, 1), torch.zeros((2, 3, 3)), Box(1, 1, 3, 3))
    assert out.sum() == 2 and out[:, 0, 0].tolist() == [1.0, 1.0]
    assert placed_on_window(values, Box(0, 0, 1, 1), torch.zeros((2, 2, 2)), Box(2, 0, 3, 1)).sum() == 0
