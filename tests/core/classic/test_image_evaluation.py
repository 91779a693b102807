"""Scoring still-image denoisers: one row per condition, method and image, scored clipped; the
noise level handed to the methods; the table's best cell."""

import json
import re

import numpy as np
import pytest
from classic_data import pattern

from vfxdenoise.core.classic.datasets import ImagePair
from vfxdenoise.core.classic.image_evaluation import (
    Condition,
    Method,
    evaluate,
    json_rows,
    markdown_table,
    mean_psnr,
    summarize,
)
from vfxdenoise.core.classic.noise import parse_noise
from vfxdenoise.core.errors import ImageError
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


def _cells(line: str) -> list[str]:
    """A Markdown table row's cells, as GFM splits them: at '|' not escaped as '\\|'."""
    return re.split(r"(?<!\\)\|", line.strip().strip("|"))


def test_a_choice_of_noises_in_a_label_or_trained_on_keeps_the_table_whole():
    """The README's blind spec holds '|': unescaped, the header had 6 cells and the delimiter 5,
    and GFM drew no table at all."""
    blind = "gaussian:0-55|saltpepper:0-0.2"
    pairs = [ImagePair("img0", pattern(0, 1, 16, 16))]
    model = Method("dncnn", f"folder (8 images), {blind}, 60 steps", lambda noisy, sigma: noisy)
    rows, _ = evaluate(pairs, [Condition(blind, parse_noise(blind)), Condition("none", parse_noise("none"))],
                       [model])
    lines = markdown_table(rows, [model]).splitlines()
    assert {len(_cells(line)) for line in lines} == {5}  # method, trained on, two conditions, seconds
    assert _cells(lines[0])[2].strip() == "gaussian:0-55\\|saltpepper:0-0.2 PSNR / SSIM"
    assert "folder (8 images), gaussian:0-55\\|saltpepper:0-0.2, 60 steps" in lines[-1]


def test_images_given_back_exactly_are_counted_apart_from_the_mean_psnr():
    """One exact image's +inf made the whole mean +inf, hiding what the other images scored."""
    pairs = [ImagePair(f"img{i}", pattern(i, 1, 16, 16)) for i in range(3)]
    calls = iter(range(3))
    first = Method("first exact", "-", lambda noisy, sigma: pairs[0].clean if next(calls) == 0 else noisy)
    rows, _ = evaluate(pairs, [Condition("gaussian:25", parse_noise("gaussian:25"))], [first])
    noisy = [r["psnr"] for r in rows if r["method"] == "noisy input"]
    summary = summarize(rows)[("gaussian:25", "first exact")]
    assert summary["exact"] == 1 and summary["images"] == 3
    assert summary["psnr"] == pytest.approx(np.mean(noisy[1:]))
    assert (f"{summary['psnr']:.2f} / {summary['ssim']:.3f} (1 of 3 exact, PSNR of the others)"
            in markdown_table(rows, [first]))
    clean = evaluate(pairs, [Condition("none", parse_noise("none"))], [])[0]
    assert summarize(clean)[("none", "noisy input")]["psnr"] == float("inf")  # all exact: +inf, as it is


def test_rows_as_json_hold_null_for_an_exact_images_psnr():
    """json.dumps wrote +inf as `Infinity`, which strict JSON parsers refuse."""
    pairs = [ImagePair("img0", pattern(0, 1, 16, 16))]
    rows, _ = evaluate(pairs, [Condition("none", parse_noise("none"))], [])
    assert rows[0]["psnr"] == float("inf")
    assert json.loads(json.dumps(json_rows(rows), allow_nan=False))[0] == {**rows[0], "psnr": None}
    assert mean_psnr([20.0, float("inf"), 30.0]) == (25.0, 1)


def test_images_ssim_cannot_score_are_refused_before_any_method_runs():
    """A 9x10 image failed in SSIM once BM3D and every model had denoised every image."""
    pairs = [ImagePair("big", pattern(0, 1, 16, 16)), ImagePair("tiny.png", pattern(1, 1, 9, 10))]
    ran = []
    method = Method("m", "-", lambda noisy, sigma: ran.append(1) or noisy)
    with pytest.raises(ImageError, match="image tiny.png is 10x9 pixels, smaller than SSIM's 11-pixel") \
            as refused:
        evaluate(pairs, [Condition("gaussian:25", parse_noise("gaussian:25"))], [method])
    assert not ran
    assert str(refused.value) == (f"image tiny.png is {metrics.ssim_size_problem(9, 10)}; "
                                  "leave the smaller ones out of the data")  # the one rule, worded once
