"""`vfxdenoise denoise-image`: one still image through a classic model or BM3D, bit depth kept."""

import os

import numpy as np
import pytest
import torch
from classic_data import (
    one_torch_thread,  # noqa: F401 (autouse fixture)
    pattern,
    quantise,
)
from click.testing import CliRunner
from exr_sequences import write_sequence
from safetensors.torch import save_file
from still_images import read_raw, write_raw

from vfxdenoise.cli.main import cli
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.io.images import read_image, write_image
from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import save_weights

# How far two BM3D runs of one image (values 0.1-0.9) may differ: its threads' aggregation order
# varies (bm3d's profiles say so). 20 runs of the 48x48 test image with 2 and 3 threads differed
# from the single-threaded result by up to 9.5e-7 and 1.25e-6 (load 3-6); 1e-4 leaves room for
# machines with more threads and is 300 times below the firefly's spread it guards against.
BM3D_RUN_TO_RUN = 1e-4


def run(*args):
    return CliRunner().invoke(cli, ["denoise-image", *[str(a) for a in args]])


def identity_model(path, arch="dncnn", channels=1):
    """A DnCNN whose noise estimate is zero: its output is its input, so the I/O path is checkable."""
    config = {"channels": channels, "depth": 3, "features": 4}
    torch.manual_seed(0)
    save_weights(build_model(arch, **config), path / "model.safetensors", arch, config)
    return path


@pytest.mark.parametrize("pixel_type", ["uint8", "uint16"])
def test_gray_model_on_a_colour_image_keeps_pixels_and_bit_depth(tmp_path, pixel_type):
    image = quantise(pattern(1, 3, 40, 52))
    write_image(tmp_path / "in.png", image, pixel_type)
    result = run(tmp_path / "in.png", tmp_path / "out.png", "--model", identity_model(tmp_path),
                 "--device", "cpu")
    assert result.exit_code == 0, result.output
    out = read_image(tmp_path / "out.png")
    assert out.pixel_type == pixel_type and out.pixels.shape == (3, 40, 52)
    np.testing.assert_allclose(out.pixels, read_image(tmp_path / "in.png").pixels, atol=1e-6)


def test_tiles_give_the_same_result_as_one_pass(tmp_path):
    config = {"channels": 1, "depth": 4, "features": 4}
    torch.manual_seed(3)
    model = build_model("dncnn", **config)
    torch.nn.init.normal_(model.body[-1].weight, std=0.05)  # not the identity
    save_weights(model, tmp_path / "m.safetensors", "dncnn", config)
    write_image(tmp_path / "in.png", quantise(pattern(2, 1, 150, 200)), "uint16")
    for tile, name in (("512", "whole.png"), ("128", "tiled.png")):
        result = run(tmp_path / "in.png", tmp_path / name, "--model", tmp_path / "m.safetensors",
                     "--tile", tile, "--device", "cpu")
        assert result.exit_code == 0, result.output
    whole, tiled = read_image(tmp_path / "whole.png").pixels, read_image(tmp_path / "tiled.png").pixels
    assert np.abs(whole - read_image(tmp_path / "in.png").pixels).max() > 1e-3
    np.testing.assert_allclose(tiled, whole, atol=2 / 65535)


@pytest.mark.parametrize("channels", [1, 3])
def test_bm3d_removes_noise(tmp_path, channels):
    """Gray, and gray saved as RGB (a scan), which CBM3D's colour transform turned black."""
    clean = np.repeat(quantise(pattern(3, 1, 48, 48)), channels, axis=0)
    noisy = clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape[1:])
    write_image(tmp_path / "noisy.png", noisy, "uint16")
    result = run(tmp_path / "noisy.png", tmp_path / "out.png", "--arch", "bm3d", "--sigma", "25")
    assert result.exit_code == 0, result.output
    out = read_image(tmp_path / "out.png").pixels
    assert metrics.psnr(out, clean) > metrics.psnr(read_image(tmp_path / "noisy.png").pixels, clean) + 5


def test_refusals_are_one_clear_line(tmp_path):
    write_image(tmp_path / "in.png", quantise(pattern(4, 1, 16, 16)))
    (tmp_path / "exists.png").write_bytes(b"x")
    model = identity_model(tmp_path)
    cases = [
        ([tmp_path / "in.png", tmp_path / "in.png", "--model", model], "is the input image"),
        ([tmp_path / "in.png", tmp_path / "exists.png", "--model", model], "pass --overwrite"),
        ([tmp_path / "in.png", tmp_path / "o.png", "--arch", "bm3d"], "needs --sigma"),
        ([tmp_path / "in.png", tmp_path / "o.png", "--arch", "resnet-sd", "--model", model],
         "pass --arch dncnn"),
        ([tmp_path / "in.png", tmp_path / "o.png", "--arch", "dae"], "vfxdenoise classic train --arch dae"),
    ]
    for args, words in cases:
        result = run(*args)
        assert result.exit_code in (1, 2) and words in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize(("option", "value"), [
    ("--sigma", "nan"), ("--sigma", "inf"), ("--sigma", "0"), ("--sigma", "-5"), ("--sigma", "300"),
    ("--tile", "0"), ("--tile", "-3"), ("--tile", "127"),
])
def test_a_noise_level_or_tile_that_denoises_nothing_is_a_usage_error(tmp_path, option, value):
    """--sigma nan wrote a black image, 0 or -5 the input unchanged, --tile 0 or -3 ran 1-pixel
    tiles: all with exit status 0."""
    write_image(tmp_path / "in.png", quantise(pattern(4, 1, 16, 16)))
    values = {"--sigma": "25", "--tile": "512", option: value}
    result = run(tmp_path / "in.png", tmp_path / "o.png", "--arch", "bm3d",
                 "--sigma", values["--sigma"], "--tile", values["--tile"])
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output, result.output
    assert not (tmp_path / "o.png").exists()


def test_a_render_model_or_a_missing_model_points_at_classic_weights(tmp_path):
    """--model default is a render model: the hint named --arch temporal-kpn, which --arch refuses;
    a missing --model offered the render models (default, fast), which denoise-image refuses.
    Render weights are a usage error (exit 2, not retried by a farm), as `classic eval` has them:
    they exited 1."""
    write_image(tmp_path / "in.png", quantise(pattern(4, 1, 16, 16)))
    render = run(tmp_path / "in.png", tmp_path / "o.png", "--model", "default", "--device", "cpu")
    assert render.exit_code == 2 and "Traceback" not in render.output
    assert "--arch temporal-kpn" not in render.output
    assert "render model" in render.output and "vfxdenoise classic train --arch dncnn" in render.output
    assert render.output.startswith("error: ")
    assert "holds a 'temporal-kpn' render model, as its header records" in render.output
    missing = run(tmp_path / "in.png", tmp_path / "o.png", "--model", tmp_path / "nothing", "--device", "cpu")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert str(tmp_path / "nothing") in missing.output and "default, fast" not in missing.output
    assert "vfxdenoise classic train --arch dncnn" in missing.output
    typo = run(tmp_path / "in.png", tmp_path / "o.png", "--model", "dncn", "--device", "cpu")
    assert typo.exit_code == 2 and "'dncn': no such" in typo.output  # a name, as seq: not retried
    assert not (tmp_path / "o.png").exists()


def test_a_file_of_no_weights_says_what_it_is_and_what_to_pass_with_classic_train(tmp_path):
    """A run's optimiser file was called a checkpoint of an older vfxdenoise to continue with
    `vfxdenoise train`; a model card or a damaged file, to retrain with `vfxdenoise train`: render
    weights, which denoise-image refuses."""
    write_image(tmp_path / "in.png", quantise(pattern(4, 1, 16, 16)))
    (tmp_path / "run").mkdir()
    run_folder = identity_model(tmp_path / "run")
    optimizer = run_folder / "optimizer-150.safetensors"
    save_file({"state.0.exp_avg": torch.zeros(2), "rng.cpu": torch.get_rng_state()}, str(optimizer),
              metadata={"step": "150"})
    told = run(tmp_path / "in.png", tmp_path / "o.png", "--model", optimizer, "--device", "cpu")
    assert told.exit_code == 1 and "Traceback" not in told.output
    assert (f"error: {optimizer} holds the optimiser state of a training run's checkpoint (step 150)"
            in told.output) and f"pass the run's folder {run_folder} (its model.safetensors)" in told.output
    assert "older vfxdenoise" not in told.output
    save_weights(build_model("dncnn", channels=1, depth=3, features=4), run_folder / "model.safetensors",
                 "dncnn", {"channels": 1, "depth": 3, "features": 4}, {"note": "card"})
    card = run(tmp_path / "in.png", tmp_path / "o.png", "--model", run_folder / "model.json")
    assert card.exit_code == 1
    assert f"model.json is the model card of {run_folder / 'model.safetensors'}" in card.output
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"no weights")
    damaged = run(tmp_path / "in.png", tmp_path / "o.png", "--model", garbage, "--device", "cpu")
    assert damaged.exit_code == 1 and "retrain with `vfxdenoise classic train`" in damaged.output
    assert "`vfxdenoise train`" not in damaged.output
    assert not (tmp_path / "o.png").exists()


def test_a_folder_without_weights_and_a_name_not_there_say_which_they_are(tmp_path, monkeypatch):
    """Both said "no such .safetensors file or folder", one exiting 1 and one 2: a folder holding
    no model.safetensors (a training run may write it yet) exits 1, as a path not here; a bare
    name nothing here answers exits 2 as in seq (docs/faults.md)."""
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "in.png", quantise(pattern(4, 1, 16, 16)))
    (tmp_path / "emptydir").mkdir()
    empty = run("in.png", "o.png", "--model", "emptydir", "--device", "cpu")
    assert empty.exit_code == 1
    assert ("error: model weights not found: 'emptydir': folder emptydir holds no model.safetensors"
            in empty.output)
    name = run("in.png", "o.png", "--model", "nonexist", "--device", "cpu")
    assert name.exit_code == 2
    assert "error: model weights not found: 'nonexist': no such file or folder" in name.output
    for result in (empty, name):
        assert "vfxdenoise classic train --arch dncnn" in result.output
        assert "default, fast" not in result.output


@pytest.mark.parametrize(("arch", "words"), [
    (["--arch", "dncnn"], "--arch dncnn needs --model: no dncnn weights ship"),
    ([], "denoise-image needs --model (or --arch bm3d): no classic (dae, dncnn, resnet-sd) weights ship"),
])
def test_a_classic_arch_without_a_model_is_refused_with_how_to_get_one(tmp_path, arch, words):
    """No classic weights ship: a run without --model says so and how to train them, as a usage
    error (exit 2, as `--arch bm3d` without `--sigma`; it exited 1, which farm engines retry)."""
    write_image(tmp_path / "in.png", quantise(pattern(4, 1, 16, 16)))
    result = run(tmp_path / "in.png", tmp_path / "o.png", *arch, "--device", "cpu")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert words in result.output
    assert "vfxdenoise classic train --arch dncnn" in result.output and "--arch bm3d" in result.output
    assert not (tmp_path / "o.png").exists()


def test_options_the_method_would_not_use_are_usage_errors(tmp_path):
    """--sigma beside --model was ignored without a word (its help says BM3D only), as was
    --model beside --arch bm3d."""
    write_image(tmp_path / "in.png", quantise(pattern(4, 1, 16, 16)))
    model = identity_model(tmp_path)
    sigma = run(tmp_path / "in.png", tmp_path / "o.png", "--model", model, "--sigma", "10", "--device", "cpu")
    assert sigma.exit_code == 2, sigma.output
    assert sigma.output.startswith("error: --sigma 10 is BM3D's noise level (--arch bm3d)")
    bm3d = run(tmp_path / "in.png", tmp_path / "o.png", "--arch", "bm3d", "--sigma", "10", "--model", model)
    assert bm3d.exit_code == 2 and f"error: --model {model} is not used by --arch bm3d" in bm3d.output
    # without --sigma too: "needs --sigma" asked for what BM3D would need, not that --model is unused
    no_sigma = run(tmp_path / "in.png", tmp_path / "o.png", "--arch", "bm3d", "--model", model)
    assert no_sigma.exit_code == 2 and f"error: --model {model} is not used by --arch bm3d" in no_sigma.output
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("arch", ["dae", "resnet-sd"])
def test_the_architecture_is_the_one_the_weights_file_names_unless_given(tmp_path, arch):
    """--arch defaulted to dncnn: a DAE model without --arch dae was refused, though its file names
    its architecture. Given, --arch is still checked against it."""
    write_image(tmp_path / "in.png", quantise(pattern(4, 1, 16, 16)))
    config = {"channels": 1, **({"widths": [4, 8]} if arch == "dae" else {"features": 4, "blocks": 1})}
    save_weights(build_model(arch, **config), tmp_path / "model.safetensors", arch, config)
    result = run(tmp_path / "in.png", tmp_path / "o.png", "--model", tmp_path, "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "o.png").pixels.shape == (1, 16, 16)
    wrong = run(tmp_path / "in.png", tmp_path / "p.png", "--model", tmp_path, "--arch", "dncnn")
    assert wrong.exit_code == 1 and f"holds a '{arch}' model, not 'dncnn'; pass --arch {arch}" in wrong.output
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("colour_channels", [3, 1])
def test_alpha_is_kept_and_semi_transparent_colour_is_not_darkened(tmp_path, colour_channels):
    colour = quantise(pattern(5, colour_channels, 16, 20))
    alpha = np.full((16, 20), 128 / 255, np.float32)
    alpha[:, :10] = 1.0
    write_raw(tmp_path / "in.png", np.dstack([*colour, alpha]), "uint8", alpha_channel=colour_channels)
    result = run(tmp_path / "in.png", tmp_path / "out.png", "--model",
                 identity_model(tmp_path, channels=colour_channels), "--device", "cpu")
    assert result.exit_code == 0, result.output
    out, spec = read_raw(tmp_path / "out.png")
    assert spec.nchannels == colour_channels + 1 and spec.alpha_channel == colour_channels
    np.testing.assert_allclose(out[..., :-1], colour.transpose(1, 2, 0), atol=1e-6)  # not darkened
    np.testing.assert_allclose(out[..., -1], alpha, atol=1e-6)
    assert "note:" not in result.output
    dropped = run(tmp_path / "in.png", tmp_path / "out.jpg", "--model",
                  identity_model(tmp_path, channels=colour_channels), "--device", "cpu")
    assert dropped.exit_code == 0 and "note: .jpg files hold no alpha" in dropped.output


def test_orientation_and_icc_profile_are_kept(tmp_path):
    icc = np.frombuffer(b"\0\0\0\x84" + bytes(32) + b"acsp" + bytes(92), np.uint8)  # stored as is by JPEG
    attributes = [("Orientation", "int", 6), ("ICCProfile", f"uint8[{icc.size}]", icc)]
    write_raw(tmp_path / "in.jpg", np.dstack(quantise(pattern(6, 3, 24, 32))), "uint8", attributes=attributes)
    result = run(tmp_path / "in.jpg", tmp_path / "out.jpg", "--model", identity_model(tmp_path, channels=3),
                 "--device", "cpu")
    assert result.exit_code == 0, result.output
    spec = read_raw(tmp_path / "out.jpg")[1]
    assert spec.getattribute("Orientation") == 6
    assert bytes(spec.getattribute("ICCProfile")) == icc.tobytes()


@pytest.mark.parametrize("height, width", [(7, 60), (60, 7), (8, 8)])
def test_bm3d_refuses_an_image_too_small_for_it_naming_the_file(tmp_path, height, width):
    write_image(tmp_path / "small.png", quantise(pattern(7, 3, height, width)))
    result = run(tmp_path / "small.png", tmp_path / "out.png", "--arch", "bm3d", "--sigma", "10")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and not (tmp_path / "out.png").exists()
    for words in ("small.png", f"{width}x{height} pixels", "at least 8 pixels on each side", "8x9"):
        assert words in result.output, result.output


def test_bm3d_takes_the_smallest_image_it_can(tmp_path):
    write_image(tmp_path / "small.png", quantise(pattern(8, 1, 8, 9)))
    result = run(tmp_path / "small.png", tmp_path / "out.png", "--arch", "bm3d", "--sigma", "10")
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "out.png").pixels.shape == (1, 8, 9)


def test_float_tiff_stays_float_and_unclipped(tmp_path):
    image = pattern(9, 3, 24, 32) * 5 - 1.5  # about -1.4 to 2.4
    write_raw(tmp_path / "in.tif", np.dstack(image), "float")
    result = run(tmp_path / "in.tif", tmp_path / "out.tif", "--model", identity_model(tmp_path, channels=3),
                 "--device", "cpu")
    assert result.exit_code == 0, result.output
    out, spec = read_raw(tmp_path / "out.tif")
    assert str(spec.format) == "float"
    np.testing.assert_allclose(out, image.transpose(1, 2, 0), atol=1e-5)


def test_what_reading_changed_or_took_on_trust_is_noted(tmp_path):
    """NaN/Inf read as finite values, and float values taken as display-referred, each said in a
    note (they passed without a word: a +Inf highlight came out black)."""
    image = np.full((3, 24, 32), 0.5, np.float32)
    image[:, 3, 4], image[:, 5, 6] = np.nan, np.inf
    write_raw(tmp_path / "in.tif", np.dstack(image), "float")
    result = run(tmp_path / "in.tif", tmp_path / "out.tif", "--model", identity_model(tmp_path, channels=3),
                 "--device", "cpu")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("note: ")]
    assert any("NaN" in note for note in notes) and any("Inf" in note for note in notes), notes
    assert any("transfer function" in note for note in notes), notes
    out, _ = read_raw(tmp_path / "out.tif")
    assert np.isfinite(out).all() and out[5, 6, 0] == pytest.approx(0.5, abs=1e-5)  # +Inf: the largest finite


def test_a_value_far_beyond_0_1_stays_in_its_pixel(tmp_path):
    """A firefly of 1e5 in a float image: BM3D sees it as a white pixel, as it would a pixel of 1.0,
    and the excess comes back in that pixel alone (it spread over the image: up to 307 at 1e9,
    0.031 at 1e5). Elsewhere the two runs differ by BM3D's run-to-run variation alone
    (`BM3D_RUN_TO_RUN`): a bound of 1e-6 failed at 1.01e-6 under load."""
    image = pattern(4, 1, 48, 48) * 0.8 + 0.1
    for value, name in ((1.0, "white"), (1e5, "firefly")):
        image[0, 20, 20] = value
        write_raw(tmp_path / f"{name}.tif", np.dstack(image), "float")
        result = run(tmp_path / f"{name}.tif", tmp_path / f"{name}-out.tif", "--arch", "bm3d",
                     "--sigma", "20")
        assert result.exit_code == 0, result.output
    assert "1 values of" in result.output and "outside 0-1" in result.output
    white, firefly = (read_raw(tmp_path / f"{name}-out.tif")[0][..., 0] for name in ("white", "firefly"))
    difference = firefly - white
    assert difference[20, 20] == pytest.approx(1e5 - 1.0, rel=1e-6)
    difference[20, 20] = 0
    assert np.abs(difference).max() < BM3D_RUN_TO_RUN


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into folders without write permission")
    write_image(tmp_path / "in.png", pattern(1, 1, 16, 16), "uint8")
    (tmp_path / "ro").mkdir(mode=0o555)
    result = run(tmp_path / "in.png", tmp_path / "ro" / "out.png", "--arch", "bm3d", "--sigma", "20")
    assert result.exit_code == 1 and "its folder is not writable" in result.output


def test_an_output_folder_that_does_not_exist_is_refused_saying_so(tmp_path):
    """Not blamed on permissions: the folder is simply not there."""
    write_image(tmp_path / "in.png", pattern(1, 1, 16, 16), "uint8")
    result = run(tmp_path / "in.png", tmp_path / "absent" / "out.png", "--arch", "bm3d", "--sigma", "20")
    assert result.exit_code == 1
    assert f"its folder {(tmp_path / 'absent').resolve()} does not exist" in result.output
    assert "not writable" not in result.output and not (tmp_path / "absent").exists()


def test_a_render_frame_or_a_sequence_pattern_points_at_seq(tmp_path):
    """A multi-layer render frame was denoised as a photograph, its layers dropped with a note that
    never named `seq`; a frame pattern was 'File ... does not exist'."""
    shot = write_sequence(tmp_path / "shot", frames=[1001], height=16, width=16)
    model = identity_model(tmp_path)
    frame = run(shot.replace("####", "1001"), tmp_path / "o.exr", "--model", model, "--device", "cpu")
    assert frame.exit_code == 0, frame.output
    dropped = [line for line in frame.output.splitlines() if " dropped; " in line]
    assert len(dropped) == 1 and dropped[0].endswith("render frames are denoised by `vfxdenoise seq`, "
                                                     "which reads their layers"), frame.output
    pattern_given = run(shot, tmp_path / "o.exr", "--model", model, "--device", "cpu")
    assert pattern_given.exit_code == 2 and "does not exist" in pattern_given.output
    assert f"denoise a frame sequence with `vfxdenoise seq '{shot}'`" in pattern_given.output


@pytest.mark.parametrize("name", ["out.xyz", "out"])
def test_an_output_format_no_writer_takes_is_refused_before_any_work(tmp_path, name):
    """It was refused only at the write, once the image was read and denoised (minutes of BM3D
    on a large scan), and said nothing of what to write instead."""
    (tmp_path / "in.png").write_bytes(b"not decoded: the output is checked first")
    result = run(tmp_path / "in.png", tmp_path / name, "--arch", "bm3d", "--sigma", "20")
    assert result.exit_code == 1 and f"cannot write {tmp_path / name}" in result.output
    assert "e.g. .png, .tif, .exr" in result.output and "cannot read" not in result.output


@pytest.mark.parametrize("alpha, out, words", [
    (False, "out.hdr", "hdr does not support 1-channel images: a gray image cannot go into a .hdr file"),
    (True, "out.bmp", "bmp does not support 2-channel images: a gray and alpha image cannot go into a .bmp"),
])
def test_an_output_format_that_cannot_hold_the_image_is_refused_before_the_denoise(tmp_path, alpha, out,
                                                                                    words):
    """A gray PNG to .hdr (RGB only) was refused at the write, after the denoise: the model named
    here is not there, and was looked for first."""
    write_image(tmp_path / "in.png", quantise(pattern(0, 1, 16, 16)), "uint8",
                np.full((16, 16), 0.5, np.float32) if alpha else None)
    result = run(tmp_path / "in.png", tmp_path / out, "--model", tmp_path / "nowhere", "--device", "cpu")
    assert result.exit_code == 1 and f"error: cannot write {tmp_path / out}: {words}" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]  # the probe removed, nothing written
    write_image(tmp_path / "rgb.png", quantise(pattern(0, 3, 16, 16)), "uint8")
    written = run(tmp_path / "rgb.png", tmp_path / "rgb.hdr", "--arch", "bm3d", "--sigma", "20")
    assert written.exit_code == 0 and read_image(tmp_path / "rgb.hdr").channels == 3


def test_an_srgb_image_written_to_exr_is_decoded_to_linear_light_and_tagged_so(tmp_path):
    """A PNG's sRGB-encoded values went into the EXR as they were, which a compositing app reads as
    linear light: 0.5 (0.214 linear) shown as 0.5, with no note. Other formats keep them encoded."""
    colour = quantise(pattern(2, 3, 16, 20))
    write_image(tmp_path / "in.png", colour, "uint8")
    model = identity_model(tmp_path)
    result = run(tmp_path / "in.png", tmp_path / "out.exr", "--model", model, "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "holds sRGB-encoded uint8 values: written to .exr (linear light by convention" in result.output
    out = read_image(tmp_path / "out.exr")
    decoded = np.where(colour <= 0.04045, colour / 12.92, ((colour + 0.055) / 1.055) ** 2.4)
    np.testing.assert_allclose(out.pixels, decoded, atol=2e-3)  # half floats
    assert out.attributes["oiio:ColorSpace"][1] == "lin_rec709_scene"
    assert run(tmp_path / "in.png", tmp_path / "out.tif", "--model", model, "--device", "cpu").exit_code == 0
    np.testing.assert_allclose(read_image(tmp_path / "out.tif").pixels, colour, atol=1e-6)
    again = run(tmp_path / "out.exr", tmp_path / "again.exr", "--model", model, "--device", "cpu")
    assert "sRGB-encoded" not in again.output  # float values are taken as they are, as before
    np.testing.assert_allclose(read_image(tmp_path / "again.exr").pixels, out.pixels, atol=1e-6)
