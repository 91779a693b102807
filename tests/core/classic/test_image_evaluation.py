"""Scoring still-image denoisers: one row per condition, method and image, scored clipped; the
noise level handed to the methods; the table's best cell."""

import numpy as np
from classic_data import pattern

from vfxdenoise.core.classic.datasets import ImagePair
from vfxdenoise.core.classic.image_evaluation import Condition, Method, evaluate, markdown_table
from vfxdenoise.core.classic.noise import parse_noise
from vfxdenoise.core.evaluation import metrics


def test_every_method_scores_each_image_under_each_condition_clipped():
    pairs = [ImagePair(f"img{i}", pattern(i, 1, 16, 16)) for i in range(2)]
    conditions = [Condition("gaussian:25", parse_noise("gaussian:25")),
                  Condition("gaussian:50", parse_noise("gaussian:50"))]
    sigmas = []
    mean = Method("mean", "-", lambda noisy, sigma: sigmas.append(sigma) or np.full_like(noisy, noisy.mean()))
    rows, examples = evaluate(pairs, conditions, [mean], seed=3, examples=1)
    assert [(r["noise"], r["method"], r["image"]) for r in rows[:4]] == [
        ("gaussian:25", "noisy input", "img0"), ("gaussian:25", "mean", "img0"),
        ("gaussian:25", "noisy input", "img1"), ("gaussian:25", "mean", "img1")]
    assert len(rows) == 8 and sigmas == [25 / 255] * 2 + [50 / 255] * 2  # the true sigma, 0-1 scale
    noisy = examples[0].outputs["noisy input"]
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0  # scored as a saved image would be
    assert rows[0]["psnr"] == metrics.psnr(noisy, pairs[0].clean)
    assert [e.condition for e in examples] == ["gaussian:25", "gaussian:50"]
    table = markdown_table(rows, [mean])
    assert "| mean | - |" in table and "gaussian:50 PSNR / SSIM" in table
    assert table.count("**") == 2 * 2  # one best cell per condition
