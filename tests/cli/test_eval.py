"""`vfxdenoise eval` through the real executable on a tiny dataset, its refusals in this process
(`run_in_process`: what they say is tested, not the process)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
import torch
from cli_in_process import run_in_process
from cli_process import run_vfxdenoise
from exr_sequences import rename_layer, write_render_dataset, write_sequence

from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.preview import BACKGROUND, BAND, GAP
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.model_files import DEFAULT_MODEL, SHIPPED_DIR, WEIGHTS_SUFFIX
from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import save_weights


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_render_dataset(tmp_path_factory.mktemp("data"), sequences=2, size=32)


@pytest.fixture
def model(tiny_weights) -> Path:
    """Eval scores any render model: the untrained test weights are a consistency-weighted
    temporal mean of the window (tests/core/training/test_render_data.py)."""
    return tiny_weights


def _column(header: list[str], metric: str) -> int:
    return header.index(f" {metric} ")


def _assert_sheet(path: Path, columns: int) -> None:
    """A contact sheet of 32x32 frames (10x, nearest: 320 px) in `columns` labelled columns under a
    title row, over a zoom row with its caption. It was 5 unlabelled 32 px columns, no zoom."""
    sheet = oiio.ImageBuf(str(path)).get_pixels(oiio.UINT8)
    surround = round(BACKGROUND * 255)
    frames_y = GAP + 2 * BAND
    zoom_y = frames_y + 320 + GAP + BAND
    assert sheet.shape == (zoom_y + 320 + GAP, GAP + columns * (320 + GAP), 3)
    assert (sheet[GAP: GAP + BAND] != surround).any()  # the title: sequence, level, frame
    assert (sheet[zoom_y - BAND: zoom_y] != surround).any()  # the zoom row's caption
    for index in range(columns):
        x0 = GAP + index * (320 + GAP)
        assert (sheet[GAP + BAND: frames_y, x0: x0 + 320] != surround).any()  # its label
        assert (sheet[frames_y: frames_y + 320, x0: x0 + 320] != surround).any()  # its frame
        assert (sheet[zoom_y: zoom_y + 320, x0: x0 + 320] != surround).any()  # its zoom


def test_eval_scores_ours_noisy_and_oidn_and_writes_contact_sheets(dataset, model, tmp_path):
    out = tmp_path / "eval"
    result = run_vfxdenoise("eval", "--data", str(dataset), "--model", str(model),
                            "--no-flip", "--out", str(out), "--device", "auto", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = (out / "results.md").read_text()
    for method in ("noisy", "ours", "oidn (prefiltered albedo+normal)", "oidn (albedo+normal)",
                   "oidn (colour only)"):
        assert f"| seq0 | spp4 | {method} |" in table
    assert "| **mean** | spp4 | ours |" in table
    header = next(line for line in table.splitlines() if line.startswith("| sequence")).split("|")
    assert header[-2].strip() == "temporal_warped"
    prefiltered, plain = (_rows(table, method)["seq0"] for method in ("oidn (prefiltered albedo+normal)",
                                                                     "oidn (albedo+normal)"))
    assert prefiltered != plain  # OIDN's two uses of the guides: two results
    assert "albedo and normal filtered by OIDN first, then the beauty with cleanAux on" in table
    ours = next(line for line in table.splitlines() if line.startswith("| seq0 | spp4 | ours |")).split("|")
    assert 0.5 < float(ours[_column(header, "energy")]) < 1.5  # mean radiance over the reference's
    assert float(ours[_column(header, "sparkles")]) >= 0.0  # per million pixels
    coarse, temporal = (float(ours[_column(header, m)]) for m in ("temporal_coarse", "temporal"))
    assert 0.0 < coarse < temporal  # the boiling part of the frame-to-frame error
    assert 0.0 < float(ours[_column(header, "temporal_kept")]) < 1.5  # the reference's change, made too
    assert "0 for a frozen picture" in table
    mean_ours = next(line for line in table.splitlines() if line.startswith("| **mean** | spp4 | ours |"))
    assert 0.0 < float(mean_ours.split("|")[-2]) < 1.0  # flicker along the motion vectors: scored
    assert (out / "seq0_spp4.png").stat().st_size > 0
    _assert_sheet(out / "seq0_spp4.png", 6)  # noisy, OIDN, ours, reference, OIDN's and our error
    assert ("noisy | OIDN | ours | reference | |OIDN - ref| x4 | |ours - ref| x4 (the frames labelled "
            "with their PSNR)") in table


def test_without_oidn_the_contact_sheets_leave_its_columns_out(dataset, model, tmp_path):
    out = tmp_path / "eval"
    result = run_vfxdenoise("eval", "--data", dataset, "--model", model, "--no-oidn", "--no-flip",
                            "--out", out, "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("seq0", "seq1"):
        _assert_sheet(out / f"{name}_spp4.png", 4)  # noisy, ours, reference, our error
    said = (out / "results.md").read_text()
    assert "the middle frame: noisy | ours | reference | |ours - ref| x4 (" in said


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where PyTorch sees no GPU")
def test_a_gpu_asked_for_where_there_is_none_is_a_clear_error(dataset, tmp_path):
    result = run_in_process("eval", "--data", str(dataset), "--no-oidn", "--out", str(tmp_path / "e"),
                            "--device", "cuda", cwd=tmp_path)
    assert result.returncode == 1
    assert "--device cuda was requested but PyTorch sees no CUDA GPU here" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_classic_model_for_render_sequences_is_refused_naming_the_file(dataset, tmp_path):
    classic = tmp_path / "dncnn.safetensors"
    save_weights(build_model("dncnn", channels=1, depth=3, features=4), classic, "dncnn",
                 {"channels": 1, "depth": 3, "features": 4})
    result = run_in_process("eval", "--data", dataset, "--model", classic, "--no-oidn",
                            "--out", tmp_path / "e", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr  # a usage error: never retried
    assert f"error: {classic} holds a 'dncnn' classic-track model" in result.stderr
    assert "denoise-image" in result.stderr


def test_eval_refuses_a_sequence_without_reference_before_denoising_any(tmp_path, model):
    data = write_render_dataset(tmp_path / "data", sequences=2, size=32)
    shutil.rmtree(data / "seq1" / "reference")
    out = tmp_path / "eval"
    result = run_in_process("eval", "--data", data, "--model", model, "--no-oidn",
                            "--no-flip", "--out", out, "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: --data: sequence seq1 has no reference/ frames to compare with" in result.stderr
    assert not list(out.glob("*.png"))  # no sequence was denoised


def test_a_single_frame_sequence_has_no_temporal_scores(model, tmp_path):
    """eval showed 'nan' in its cells (its temporal error is NaN); the mean is the others'."""
    data = write_render_dataset(tmp_path / "data", sequences=1, size=32)
    write_sequence(data / "single" / "spp4", range(1001, 1002), 32, 32, seed=7)
    write_sequence(data / "single" / "reference", range(1001, 1002), 32, 32, noise=0.0)
    out = tmp_path / "eval"
    result = run_vfxdenoise("eval", "--data", data, "--model", model, "--no-oidn",
                            "--no-flip", "--out", out, "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (out / "results.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| sequence")).split("|")
    temporal = [_column(header, m) for m in ("temporal", "temporal_coarse", "temporal_warped")]
    single = next(line for line in lines if line.startswith("| single | spp4 | ours |")).split("|")
    assert [single[i].strip() for i in temporal] == ["n/a"] * 3
    assert single[_column(header, "psnr")].strip() != "n/a"
    other = next(line for line in lines if line.startswith("| seq0 | spp4 | ours |")).split("|")
    mean = next(line for line in lines if line.startswith("| **mean** | spp4 | ours |")).split("|")
    assert [mean[i] for i in temporal] == [other[i] for i in temporal]  # the mean of the others
    assert "nan" not in "\n".join(lines)


def test_frames_too_small_to_score_are_refused_before_denoising(model, tmp_path):
    """Frames under SSIM's 11-pixel window: eval failed after denoising."""
    small = write_render_dataset(tmp_path / "small", sequences=1, size=8)
    result = run_in_process("eval", "--data", small, "--model", model, "--no-oidn",
                            "--out", tmp_path / "e", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 1 and "error: --data: sequence seq0" in result.stderr
    assert "8x8 pixels" in result.stderr and "Traceback" not in result.stderr
    assert not list((tmp_path / "e").glob("*.png"))


def test_a_sequence_whose_reference_has_no_light_is_refused_naming_its_folder(model, tmp_path):
    """A black sequence (reference 0 everywhere) scored an infinite PSNR for ours and the noisy
    input, and 82.8 dB for OIDN, which lifted its mean to 47 dB: the means were infinite or not
    comparable. It is refused before any sequence is denoised, as a sequence that cannot be
    scored is, so that a mean always covers the whole set."""
    data = write_render_dataset(tmp_path / "data", sequences=1, size=32)
    for level in ("spp4", "reference"):
        pattern = parse_pattern(write_sequence(data / "black" / level, range(1001, 1004), 32, 32, noise=0.0))
        for frame in range(1001, 1004):
            image = read_exr(pattern.path(frame))
            image.set(list("RGB"), np.zeros_like(image.get(list("RGB"))))
            write_exr(pattern.path(frame), image)
    out = tmp_path / "eval"
    result = run_in_process("eval", "--data", data, "--model", model, "--no-oidn",
                            "--no-flip", "--out", out, "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (f"error: --data: sequence black ({(data / 'black').resolve()}) has a reference without light "
            "(its 3 reference/ frames are black)") in result.stderr
    assert not list(out.glob("*.png"))  # no sequence was denoised


def test_eval_takes_seqs_layer_options_and_refuses_data_without_guides_naming_them(model, tmp_path):
    """eval read a studio's DiffuseColor albedo and Nworld normal as missing and scored the model
    without them; it took no --albedo or --normal."""
    data = write_render_dataset(tmp_path / "data", sequences=1, size=32)
    rename_layer(rename_layer(str(data / "seq0" / "spp4" / "render.####.exr"), "albedo", "DiffuseColor"),
                 "N", "Nworld")
    args = ["eval", "--data", data, "--model", model, "--no-oidn", "--no-flip", "--out", tmp_path / "eval"]
    refused = run_in_process(*args, cwd=tmp_path)
    said = " ".join(refused.stderr.split())
    assert refused.returncode == 1 and "--data: none of the 1 sequence(s)" in said, said
    assert "with --albedo and --normal" in said and not (tmp_path / "eval").exists()
    result = run_vfxdenoise(*args, "--albedo", "DiffuseColor", "--normal", "Nworld", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| seq0 | spp4 | ours |" in (tmp_path / "eval" / "results.md").read_text()


def _rows(text: str, method: str, level: str = "spp4") -> dict[str, list[str]]:
    """Each sequence's (and the mean's) cells of `method` at `level` in a results table."""
    prefix = f"| {level} | {method} |"
    return {line.split("|")[1].strip(): line.split("|")[4:-1] for line in text.splitlines()
            if line.startswith("| ") and line.split("|", 2)[2].startswith(prefix[1:])}


def _second_model(path: Path) -> Path:
    """Another small untrained render model, of another temporal radius than `tiny_weights`'."""
    torch.manual_seed(1)
    config = {"temporal_radius": 1, "widths": [8, 8, 8, 8]}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_weights(build_model("temporal-unet", **config), path, "temporal-unet", config, {"note": "test"})
    return path


def test_several_models_are_scored_on_the_same_frames_side_by_side(model, tmp_path):
    """eval took one --model (a second one given replaced the first): comparing a fine-tune with
    `default` took two runs and two results.md. Each model's rows are named by its --model value,
    beside one set of noisy and OIDN rows, in one table per level; each has its own sheets."""
    data = write_render_dataset(tmp_path / "data", sequences=2, size=32)
    for i in range(2):
        write_sequence(data / f"seq{i}" / "spp16", range(1001, 1005), 32, 32, seed=20 + i)
    shutil.copy(model, tmp_path / "base.safetensors")
    _second_model(tmp_path / "models" / "ft.safetensors")
    out = tmp_path / "eval"
    args = ["eval", "--data", data, "--no-flip", "--device", "cpu"]
    both = run_vfxdenoise(*args, "--model", "base.safetensors", "--model", "models/ft.safetensors",
                          "--out", out, cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    text = (out / "results.md").read_text()
    assert text.startswith(f"Models:\n- base.safetensors: {(tmp_path / 'base.safetensors').resolve()} "
                           "(contact sheets in base.safetensors/)\n- models/ft.safetensors: ")
    assert "### spp16\n\n| sequence | spp | method |" in text and "### spp4\n\n| sequence |" in text
    # fewest samples first (sorted by name, spp16 came before spp4)
    assert text.index("### spp4") < text.index("| seq0 | spp4 |") < text.index("### spp16")
    assert "| ours |" not in text and both.stdout.strip() == text[text.index("### spp4"):].strip()
    for level in ("spp4", "spp16"):
        for method in ("noisy", "base.safetensors", "models/ft.safetensors",
                       "oidn (prefiltered albedo+normal)", "oidn (albedo+normal)", "oidn (colour only)"):
            assert set(_rows(text, method, level)) == {"seq0", "seq1", "**mean**"}, (level, method)
        assert text.count(f"| seq0 | {level} | noisy |") == 1  # the input and OIDN scored once
        assert text.count(f"| seq0 | {level} | oidn (albedo+normal) |") == 1
        assert text.count(f"| seq0 | {level} | oidn (prefiltered albedo+normal) |") == 1
    assert _rows(text, "base.safetensors") != _rows(text, "models/ft.safetensors")

    alone = run_vfxdenoise(*args, "--model", "base.safetensors", "--out", tmp_path / "alone", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    alone_text = (tmp_path / "alone" / "results.md").read_text()
    for level in ("spp4", "spp16"):  # the same frames, scored alike
        assert _rows(text, "base.safetensors", level) == _rows(alone_text, "ours", level)
        assert _rows(text, "noisy", level) == _rows(alone_text, "noisy", level)

    assert sorted(p.name for p in out.iterdir()) == ["base.safetensors", "models_ft.safetensors",
                                                     "results.json", "results.md"]
    for folder in ("base.safetensors", "models_ft.safetensors"):
        for name in ("seq0_spp4.png", "seq0_spp16.png", "seq1_spp4.png", "seq1_spp16.png"):
            _assert_sheet(out / folder / name, 6)  # noisy, OIDN, the model, reference, 2 errors
    assert "one per model (<folder>/<sequence>_<level>.png" in text
    assert "noisy | OIDN | <model> | reference | |OIDN - ref| x4 | |<model> - ref| x4" in text

    results = json.loads((out / "results.json").read_text())
    assert [(m["method"], m["model"], m["sheets"]) for m in results["models"]] == [
        ("base.safetensors", "base.safetensors", "base.safetensors"),
        ("models/ft.safetensors", "models/ft.safetensors", "models_ft.safetensors")]
    assert results["models"][1]["weights"] == str((tmp_path / "models" / "ft.safetensors").resolve())
    assert len(results["rows"]) == 2 * 2 * 6  # sequences x levels x (2 models, noisy, 3 OIDN)
    assert {(r["level"], r["method"]) for r in results["means"]} == {
        (level, method) for level in ("spp4", "spp16") for method in
        ("noisy", "base.safetensors", "models/ft.safetensors", "oidn (prefiltered albedo+normal)",
         "oidn (albedo+normal)", "oidn (colour only)")}
    seq0 = next(r for r in results["rows"] if (r["sequence"], r["level"], r["method"])
                == ("seq0", "spp4", "models/ft.safetensors"))
    assert f"{seq0['psnr']:.2f}" == _rows(text, "models/ft.safetensors")["seq0"][0].strip()


def test_one_model_also_writes_its_rows_as_results_json(dataset, model, tmp_path):
    out = tmp_path / "eval"
    result = run_vfxdenoise("eval", "--data", dataset, "--model", model, "--no-oidn", "--no-flip",
                            "--out", out, "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["models"] == [{"method": "ours", "model": str(model), "weights": str(model.resolve()),
                                  "sheets": "."}]
    assert {(r["sequence"], r["method"]) for r in results["rows"]} == {
        (s, m) for s in ("seq0", "seq1") for m in ("noisy", "ours")}
    assert all(set(r) >= {"level", "method", "psnr", "temporal_warped"} for r in results["means"])


def test_a_model_given_twice_is_refused_before_anything_is_read(dataset, model, tmp_path):
    result = run_in_process("eval", "--data", dataset, "--model", model, "--model", "fast", "--model", model,
                            "--no-oidn", "--out", tmp_path / "e", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: --model {model} is given twice" in result.stderr
    assert not (tmp_path / "e").exists()


def test_the_same_weights_under_two_names_are_refused_before_anything_is_scored(dataset, model, tmp_path):
    """`default` and the shipped file's path, or a copy of a file, were scored twice, alike."""
    shipped = SHIPPED_DIR / f"{DEFAULT_MODEL}{WEIGHTS_SUFFIX}"
    shutil.copy(model, tmp_path / "copy.safetensors")
    for first, second in ((DEFAULT_MODEL, str(shipped)), (str(model), "copy.safetensors")):
        result = run_in_process("eval", "--data", dataset, "--model", first, "--model", "fast",
                                "--model", second, "--no-oidn", "--out", tmp_path / "e", "--device", "cpu",
                                cwd=tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"error: --model {first} and --model {second} are the same weights" in result.stderr
        assert not (tmp_path / "e").exists()


def test_weights_refused_among_several_name_the_model_they_were_given_as(dataset, model, tmp_path):
    classic = tmp_path / "dncnn.safetensors"
    save_weights(build_model("dncnn", channels=1, depth=3, features=4), classic, "dncnn",
                 {"channels": 1, "depth": 3, "features": 4})
    result = run_in_process("eval", "--data", dataset, "--model", model, "--model", "dncnn.safetensors",
                            "--no-oidn", "--out", tmp_path / "e", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: --model dncnn.safetensors: dncnn.safetensors holds a 'dncnn' classic-track model" \
        in result.stderr
    missing = run_in_process("eval", "--data", dataset, "--model", "gone/model.safetensors", "--model", model,
                             "--no-oidn", "--out", tmp_path / "e", "--device", "cpu", cwd=tmp_path)
    assert missing.returncode == 1 and "error: --model gone/model.safetensors: " in missing.stderr
    assert not (tmp_path / "e").exists()
