"""`vfxdenoise classic train|eval`: tiny real runs end to end, and one-line errors."""

import json
import re
import shutil

import pytest
from classic_data import (
    one_torch_thread,  # noqa: F401 (autouse fixture)
    pattern,
    quantise,
    write_idx_dataset,
    write_sidd_dataset,
)
from click.testing import CliRunner

from vfxdenoise.cli.classic import train
from vfxdenoise.cli.main import cli
from vfxdenoise.core.io.images import read_image, write_image
from vfxdenoise.core.training.classic import CLASSIC_STEPS, ClassicDataConfig, ClassicRun

TINY = ["--model-option", "depth=4", "--model-option", "features=8"]


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def trained(tmp_path):
    """A tiny DnCNN trained for a few steps on a written Fashion-MNIST-style folder."""
    data = tmp_path / "fmnist"
    write_idx_dataset(data, train=16, test=4)
    result = run("classic", "train", "--arch", "dncnn", "--dataset", "fashion-mnist", "--data", data,
                 "--noise", "gaussian:25", "--steps", "12", "--batch", "4", "--val-images", "2",
                 "--out", tmp_path / "model", "--device", "cpu", *TINY)
    assert result.exit_code == 0, result.output
    return data, tmp_path / "model"


def test_train_writes_safetensors_card_and_log(trained):
    _, model = trained
    card = json.loads((model / "model.json").read_text())
    assert card["architecture"] == "dncnn" and card["config"] == {"channels": 1, "depth": 4, "features": 8}
    assert card["training"]["noise"] == "gaussian:25" and card["training"]["steps"] == 12
    assert card["training"]["patch"] == 28  # the default 40, on 28-pixel images
    # How to make it again: the seed at its default, the images' digest, the code
    assert card["training"]["seed"] == 0 and len(card["training"]["data_digest"]) >= 10
    assert card["training"]["vfxdenoise"] and card["training"]["code"]
    assert set(card["validation"]) == {"psnr", "ssim", "noisy_psnr", "noisy_ssim"}
    assert card["validation"]["noisy_psnr"] < card["validation"]["psnr"]  # what it compares with
    assert (model / "model.safetensors").is_file() and (model / "log.csv").is_file()
    assert not list(model.glob("*.pt*"))


def test_eval_writes_a_table_per_noise_and_method_and_an_example_grid(trained, tmp_path):
    data, model = trained
    out = tmp_path / "eval"
    result = run("classic", "eval", "--arch", "dncnn", "--model", model, "--dataset", "fashion-mnist",
                 "--data", data, "--noise", "gaussian:25", "--noise", "saltpepper:0.1", "--out", out,
                 "--device", "cpu", "--limit", "2")
    assert result.exit_code == 0, result.output
    table = (out / "results.md").read_text()
    assert "gaussian:25 PSNR / SSIM" in table and "saltpepper:0.1 PSNR / SSIM" in table
    for method in ("noisy input", "BM3D", "dncnn"):
        assert f"| {method} |" in table
    rows = json.loads((out / "results.json").read_text())
    assert len(rows) == 2 * 3 * 2  # conditions x methods x test images (--limit 2)
    score = {(r["noise"], r["method"]): r["psnr"] for r in rows if r["image"].endswith("[0]")}
    assert score[("gaussian:25", "BM3D")] > score[("gaussian:25", "noisy input")] + 3
    grid = read_image(out / "examples.png").pixels
    assert grid.shape[0] == 3 and grid.shape[1] > grid.shape[2] / 3  # two rows of four tiles


def test_epochs_option_and_real_noise_default_for_sidd(tmp_path):
    write_sidd_dataset(tmp_path / "sidd", scenes=5, pairs_per_scene=1)
    result = run("classic", "train", "--arch", "resnet-sd", "--dataset", "sidd", "--data",
                 tmp_path / "sidd", "--epochs", "2", "--batch", "2", "--patch", "16", "--val-images", "1",
                 "--out", tmp_path / "m", "--device", "cpu", "--model-option", "features=8",
                 "--model-option", "blocks=2")
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    assert card["training"]["noise"] == "real"
    assert card["training"]["steps"] == 16  # 2 epochs x 4 train images x 4 patches of 16 px / batch 2
    assert card["config"]["channels"] == 3


@pytest.mark.parametrize("args, words", [
    (["--dataset", "mnist"], "--noise is required for mnist"),
    (["--dataset", "mnist", "--noise", "gaussian:900"], "sigma must lie in"),
    (["--dataset", "mnist", "--noise", "gaussian:25+clip+poisson:30"], "clip must come last in its chain"),
    (["--dataset", "mnist", "--noise", "gaussian:25", "--steps", "3", "--epochs", "1"], "not both"),
    (["--dataset", "mnist", "--noise", "gaussian:25", "--model-option", "width=3"], "does not fit dncnn"),
    (["--dataset", "mnist", "--noise", "gaussian:25", "--model-option", "depth"], "not KEY=VALUE"),
])
def test_train_errors_are_one_clear_line(tmp_path, args, words):
    write_idx_dataset(tmp_path / "d", train=2, test=1)
    result = run("classic", "train", "--arch", "dncnn", "--data", tmp_path / "d", "--out", tmp_path / "m",
                 *args)
    assert result.exit_code in (1, 2) and words in result.output and "Traceback" not in result.output


def test_eval_refuses_a_model_of_another_architecture(trained, tmp_path):
    data, model = trained
    result = run("classic", "eval", "--arch", "dae", "--model", model, "--dataset", "fashion-mnist",
                 "--data", data, "--noise", "gaussian:25", "--out", tmp_path / "e", "--no-bm3d")
    assert result.exit_code == 1 and "holds a 'dncnn' model, not 'dae'" in result.output


@pytest.mark.parametrize("args, words", [
    (["--steps", "0"], "Invalid value for '--steps': 0 is not in the range x>=1."),
    (["--steps", "-5"], "Invalid value for '--steps': -5 is not in the range x>=1."),
    (["--epochs", "0"], "Invalid value for '--epochs': 0.0 is not in the range x>0."),
    (["--epochs", "-1"], "Invalid value for '--epochs'"),
    (["--epochs", "nan"], "Invalid value for '--epochs': 'nan' is not a finite number."),
    (["--lr", "-1"], "Invalid value for '--lr': -1.0 is not in the range x>=0."),
    (["--lr", "inf"], "Invalid value for '--lr': 'inf' is not a finite number."),
    (["--batch", "0"], "Invalid value for '--batch': 0 is not in the range x>=1."),
    (["--batch", "-3"], "Invalid value for '--batch': -3 is not in the range x>=1."),
    (["--patch", "0"], "Invalid value for '--patch': 0 is not in the range x>=8."),
    (["--patch", "7"], "Invalid value for '--patch': 7 is not in the range x>=8."),
    (["--max-side", "0"], "Invalid value for '--max-side': 0 is not in the range x>=1."),
    (["--limit", "-1"], "Invalid value for '--limit': -1 is not in the range x>=1."),
    (["--limit", "0"], "Invalid value for '--limit': 0 is not in the range x>=1."),
    (["--val-images", "-1"], "Invalid value for '--val-images': -1 is not in the range x>=0."),
    (["--validate-every", "0"], "Invalid value for '--validate-every': 0 is not in the range x>=1."),
    (["--resume", "--overwrite"], "--resume continues the training run in --out and --overwrite starts "
                                  "again over it; pass one of them"),
])
def test_step_counts_and_rates_no_run_can_take_are_usage_errors(tmp_path, args, words):
    """Refused before the data is read: `--steps 0` trained the default 2000 steps, `--epochs 0`
    one step, and `--steps -5` was refused only once the data had loaded; `--batch 0`, `--patch 0`
    and `--max-side 0` were tracebacks, `--limit -1` left out the last image, `--validate-every 0`
    failed once the data had loaded, all with exit status 1."""
    write_idx_dataset(tmp_path / "d", train=4, test=1)
    result = run("classic", "train", "--arch", "dncnn", "--dataset", "mnist", "--data", tmp_path / "d",
                 "--noise", "gaussian:25", "--out", tmp_path / "m", "--device", "cpu", "--batch", "1",
                 "--patch", "8", "--val-images", "0", *TINY, *args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_the_card_records_the_data_folder_resolved_and_the_patch_side_used(tmp_path, monkeypatch, caplog):
    """--data given relative was recorded as given (the render card holds absolute paths), and
    --patch 40 on 28-pixel images was recorded as 40 while training drew 28-pixel patches."""
    caplog.set_level("INFO")
    write_idx_dataset(tmp_path / "d", train=4, test=1)
    monkeypatch.chdir(tmp_path)
    result = run("classic", "train", "--arch", "dncnn", "--dataset", "mnist", "--data", "d",
                 "--noise", "gaussian:25", "--steps", "1", "--batch", "2", "--patch", "40",
                 "--val-images", "0", "--out", "m", "--device", "cpu", *TINY)
    assert result.exit_code == 0, result.output
    training = json.loads((tmp_path / "m" / "model.json").read_text())["training"]
    assert training["data"] == str((tmp_path / "d").resolve())
    assert training["patch"] == 28
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert ("--patch 40 is larger than the smallest training image (train-images-idx3-ubyte.gz[0], "
            "28x28 pixels): training on 28x28 patches") in warned


def test_an_empty_split_names_only_options_the_command_has(tmp_path):
    """`classic train` has no --split: its refusal and its "training without validation" note
    offered one; `classic eval` has it."""
    for folder in ("empty", "four"):
        (tmp_path / folder).mkdir()
    for i in range(4):  # four images: every fifth is the test split, so it holds none
        write_image(tmp_path / "four" / f"img{i}.png", quantise(pattern(i, 1, 16, 16)))
    common = ["--dataset", "folder", "--noise", "gaussian:25", "--device", "cpu"]
    empty = run("classic", "train", "--arch", "dncnn", "--data", tmp_path / "empty", *common,
                "--out", tmp_path / "m", *TINY)
    assert empty.exit_code == 1 and "no images in the 'train' split" in empty.output
    assert "--split" not in empty.output
    four = run("classic", "train", "--arch", "dncnn", "--data", tmp_path / "four", *common, "--steps", "1",
               "--batch", "2", "--patch", "8", "--out", tmp_path / "m4", *TINY)
    assert four.exit_code == 0, four.output
    assert "note: training without validation: no images in the 'test' split" in four.output
    assert "--split" not in four.output and "pass --val-images 0 to train without it" in four.output
    evaluated = run("classic", "eval", "--model", tmp_path / "m4", "--data", tmp_path / "four", *common,
                    "--out", tmp_path / "e")
    assert evaluated.exit_code == 1 and "add data or use --split all" in evaluated.output


def test_synthetic_noise_a_dataset_needs_and_eval_crops_are_usage_errors(tmp_path):
    """A folder or MNIST has no noisy captures: --noise left out (or `real`) no run can take, so
    it exits 2 as other usage errors do; `eval --max-side 0` failed as a RuntimeError."""
    (tmp_path / "f").mkdir()
    for i in range(5):
        write_image(tmp_path / "f" / f"img{i}.png", quantise(pattern(i, 1, 16, 16)))
    write_idx_dataset(tmp_path / "d", train=2, test=1)
    common = ["--out", tmp_path / "m", "--device", "cpu", *TINY]
    folder = run("classic", "train", "--arch", "dncnn", "--dataset", "folder", "--data", tmp_path / "f",
                 *common)
    assert folder.exit_code == 2 and "error: --noise is required for folder" in folder.output
    real = run("classic", "eval", "--model", tmp_path / "m", "--dataset", "mnist", "--data", tmp_path / "d",
               "--noise", "real", "--out", tmp_path / "e")
    assert real.exit_code == 2 and "--noise is required for mnist" in real.output
    crop = run("classic", "eval", "--model", tmp_path / "m", "--dataset", "mnist", "--data", tmp_path / "d",
               "--noise", "gaussian:25", "--max-side", "0", "--out", tmp_path / "e")
    assert crop.exit_code == 2 and "Invalid value for '--max-side'" in crop.output


@pytest.mark.parametrize("command", ["train", "eval"])
@pytest.mark.parametrize("spec, words", [("gaussian:999", "noise 'gaussian:999': sigma must lie in [0, 255]"),
                                         ("blur:3", "unknown noise 'blur' in 'blur:3'")])
def test_a_noise_spec_no_run_can_take_exits_2_naming_the_option(tmp_path, command, spec, words):
    """It exited 1, which a farm engine retries, where every other bad option value exits 2."""
    write_idx_dataset(tmp_path / "d", train=2, test=1)
    model = ["--arch", "dncnn"] if command == "train" else ["--model", tmp_path / "m"]
    result = run("classic", command, *model, "--dataset", "mnist", "--data", tmp_path / "d",
                 "--noise", spec, "--out", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert f"error: --noise: {words}" in result.output
    assert not (tmp_path / "o").exists()
    assert not (tmp_path / "m").exists() and not (tmp_path / "e").exists()


def test_resume_refuses_other_data_or_precision_than_the_interrupted_runs(trained):
    """--limit, --max-side, --val-images and --amp changed on --resume were taken without a word:
    the resumed run trained on other images, or at another precision, than the run it continued."""
    data, model = trained
    common = ["classic", "train", "--arch", "dncnn", "--dataset", "fashion-mnist", "--data", data,
              "--noise", "gaussian:25", "--steps", "12", "--batch", "4", "--val-images", "2",
              "--out", model, "--device", "cpu", *TINY, "--resume"]
    assert run(*common).exit_code == 0  # the same settings: resumed (at its last step)
    for option, change in ((["--limit", "8"], "limit: None -> 8"),
                           (["--max-side", "16"], "max_side: None -> 16"),
                           (["--val-images", "1"], "val_images: 2 -> 1"),
                           (["--amp"], "amp: False -> True")):
        result = run(*common, *option)
        assert result.exit_code == 1, (option, result.output)
        assert f"was made with other settings ({change})" in result.output, result.output


def test_train_options_default_to_the_settings_of_the_run_they_fill():
    """The defaults `classic train` kept itself (2000 steps, 16 validation images) are the run's."""
    options = {param.name: param for param in train.params}
    for name in ("batch", "lr", "val_images", "validate_every", "seed"):
        assert options[name].default == getattr(ClassicRun, name), name
    assert options["patch"].default == ClassicDataConfig.patch and ClassicRun.patch is None  # None: that
    assert f"(default {CLASSIC_STEPS})" in options["steps"].help and ClassicRun.steps is None


@pytest.mark.parametrize("arch, option, words", [
    ("dncnn", "features=0", "does not fit dncnn: DnCNN needs at least 1 feature per layer"),
    ("dae", "widths=[0]", "does not fit dae: the DAE needs one width or more"),
    ("dae", "widths=[]", "does not fit dae: the DAE needs one width or more"),
    ("resnet-sd", "blocks=0", "does not fit resnet-sd: ResNet-SD needs at least 1 residual block"),
    ("dncnn", "channels=3", "channels is not a network option: the network takes the images' channel"),
])
def test_model_options_no_network_runs_with_are_refused_before_anything_is_read(tmp_path, arch, option,
                                                                                 words):
    """They built, then failed at the first step with a traceback (exit 1) and left --out empty;
    blocks=0 trained a head and tail alone without a word, channels=3 on gray images failed after
    the data had loaded."""
    write_idx_dataset(tmp_path / "d", train=4, test=1)
    result = run("classic", "train", "--arch", arch, "--dataset", "mnist", "--data", tmp_path / "d",
                 "--noise", "gaussian:25", "--steps", "2", "--val-images", "0", "--out", tmp_path / "m",
                 "--device", "cpu", "--model-option", option)
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split()) and "Traceback" not in result.output
    assert "training" not in result.output and not (tmp_path / "m").exists()


def _tiny_folder(root, sides):
    root.mkdir()
    for i, (height, width) in enumerate(sides):
        write_image(root / f"img{i}.png", quantise(pattern(i, 1, height, width)))


def test_images_ssim_cannot_score_are_refused_before_training_or_denoising(tmp_path):
    """A 9x10 validation image failed at the first validation, after --validate-every steps of
    training; in eval, after BM3D and every model had run."""
    _tiny_folder(tmp_path / "f", [(16, 16)] * 4 + [(9, 10)])  # the fifth image is the test split's
    common = ["--dataset", "folder", "--data", tmp_path / "f", "--noise", "gaussian:25", "--device", "cpu"]
    trained = run("classic", "train", "--arch", "dncnn", *common, "--steps", "1", "--batch", "2",
                  "--out", tmp_path / "m", *TINY)
    assert trained.exit_code == 1, trained.output
    assert ("validation image img4.png is 10x9 pixels, smaller than SSIM's 11-pixel window"
            in trained.output) and "pass --val-images 0 to train without validation" in trained.output
    assert "training dncnn" not in trained.output and not (tmp_path / "m").exists()
    assert run("classic", "train", "--arch", "dncnn", *common, "--steps", "1", "--batch", "2",
               "--val-images", "0", "--out", tmp_path / "m", *TINY).exit_code == 0
    evaluated = run("classic", "eval", "--model", tmp_path / "m", *common, "--split", "all",
                    "--out", tmp_path / "e")
    assert evaluated.exit_code == 1 and "image img4.png is 10x9 pixels" in evaluated.output
    assert not (tmp_path / "e").exists()


def test_eval_results_hold_a_whole_table_for_a_choice_of_noises_and_say_bm3d_only_when_scored(
        trained, tmp_path):
    """The README's blind spec holds '|', which broke the table's rows (GFM drew none); and
    results.md described BM3D's noise level under --no-bm3d."""
    data, model = trained
    blind = "gaussian:0-55|saltpepper:0-0.2"
    common = ["--model", model, "--dataset", "fashion-mnist", "--data", data, "--limit", "1",
              "--device", "cpu", "--noise", blind, "--noise", "none"]
    assert run("classic", "eval", *common, "--no-bm3d", "--out", tmp_path / "e").exit_code == 0
    results = (tmp_path / "e" / "results.md").read_text()
    assert "BM3D" not in results
    table = [line for line in results.splitlines() if line.startswith("|")]
    assert {len(re.split(r"(?<!\\)\|", line.strip().strip("|"))) for line in table} == {5}
    assert "| gaussian:0-55\\|saltpepper:0-0.2 PSNR / SSIM |" in table[0]
    assert run("classic", "eval", *common, "--out", tmp_path / "b").exit_code == 0
    assert "BM3D is given the noise level" in (tmp_path / "b" / "results.md").read_text()


def test_clipped_noise_trains_and_is_scored_under_its_own_name(trained, tmp_path):
    """`+clip` (noise as an 8-bit file holds it) is a spec like the others: the card records it
    and the eval table gives it a column beside the unclipped condition."""
    data, model = trained
    result = run("classic", "train", "--arch", "dncnn", "--dataset", "fashion-mnist", "--data", data,
                 "--noise", "gaussian:0-55+clip", "--steps", "2", "--batch", "2", "--val-images", "1",
                 "--out", tmp_path / "m", "--device", "cpu", *TINY)
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    assert card["training"]["noise"] == "gaussian:0-55+clip"
    result = run("classic", "eval", "--model", model, "--dataset", "fashion-mnist", "--data", data,
                 "--noise", "gaussian:50+clip", "--noise", "gaussian:50", "--limit", "1", "--no-bm3d",
                 "--device", "cpu", "--out", tmp_path / "e")
    assert result.exit_code == 0, result.output
    header = (tmp_path / "e" / "results.md").read_text()
    assert "| gaussian:50+clip PSNR / SSIM | gaussian:50 PSNR / SSIM |" in header


def test_eval_results_json_is_strict_json_with_null_for_an_exact_image(trained, tmp_path):
    """An image given back exactly (its PSNR +inf) was written `Infinity`, which strict JSON
    parsers refuse; the table keeps saying what it says."""
    data, model = trained
    result = run("classic", "eval", "--model", model, "--dataset", "fashion-mnist", "--data", data,
                 "--noise", "none", "--limit", "1", "--no-bm3d", "--device", "cpu", "--out", tmp_path / "e")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "e" / "results.json").read_text()

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    rows = json.loads(text, parse_constant=refuse)
    exact = [row for row in rows if row["method"] == "noisy input"]
    assert exact and all(row["psnr"] is None and row["ssim"] == 1.0 for row in exact)
    assert "| noisy input | - | **inf / 1.000** |" in (tmp_path / "e" / "results.md").read_text()


def test_eval_model_files_that_are_no_weights_name_classic_train(trained, tmp_path):
    """classic eval offered the shipped render models for a --model not found, called a run's
    optimiser file an older version's checkpoint, and said to retrain with `vfxdenoise train`."""
    data, model = trained
    common = ["--dataset", "fashion-mnist", "--data", data, "--noise", "gaussian:25", "--no-bm3d",
              "--device", "cpu", "--out", tmp_path / "e"]
    optimizer = next(model.glob("optimizer-*.safetensors"))
    told = run("classic", "eval", "--model", optimizer, *common)
    assert told.exit_code == 1 and "holds the optimiser state of a training run's checkpoint" in told.output
    assert f"pass the run's folder {model} (its model.safetensors)" in told.output
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"no weights")
    damaged = run("classic", "eval", "--model", garbage, *common)
    assert damaged.exit_code == 1 and "retrain with `vfxdenoise classic train`" in damaged.output
    missing = run("classic", "eval", "--model", tmp_path / "nothing", *common)
    assert missing.exit_code == 1 and "as `vfxdenoise classic train` writes them" in missing.output
    assert "default, fast" not in missing.output


def test_eval_names_models_of_one_architecture_apart_and_refuses_one_given_twice(trained, tmp_path):
    """Two dncnn models were both named 'dncnn': the table gave one row, the mean of both, beside
    the second's training; results.json could not tell their rows apart; the grid showed one."""
    data, model = trained
    other = tmp_path / "other"
    shutil.copytree(model, other)
    common = ["--dataset", "fashion-mnist", "--data", data, "--noise", "gaussian:25", "--limit", "2",
              "--no-bm3d", "--device", "cpu"]
    result = run("classic", "eval", "--model", model, "--model", other, *common, "--out", tmp_path / "e")
    assert result.exit_code == 0, result.output
    names = [f"dncnn ({model})", f"dncnn ({other})"]
    table = (tmp_path / "e" / "results.md").read_text()
    assert all(f"| {name} |" in table for name in names)
    rows = json.loads((tmp_path / "e" / "results.json").read_text())
    assert [sum(r["method"] == name for r in rows) for name in names] == [2, 2]
    twice = run("classic", "eval", "--model", model, "--model", model, *common, "--out", tmp_path / "t")
    assert twice.exit_code == 2 and f"--model {model} is given twice" in twice.output


def test_eval_refuses_a_noise_condition_given_twice(trained, tmp_path):
    """Its rows were scored twice and merged under one label: results.json held each twice and the
    table counted twice the images ('2 of 2 exact' of one image)."""
    data, model = trained
    result = run("classic", "eval", "--model", model, "--dataset", "fashion-mnist", "--data", data,
                 "--noise", "none", "--noise", " none", "--limit", "1", "--no-bm3d", "--device", "cpu",
                 "--out", tmp_path / "e")
    assert result.exit_code == 2 and "--noise none is given twice" in result.output
    assert not (tmp_path / "e").exists()
