"""`vfxdenoise classic train|eval`: tiny real runs end to end, and one-line errors."""

import json

import pytest
from classic_data import (
    one_torch_thread,  # noqa: F401 (autouse fixture)
    write_idx_dataset,
    write_sidd_dataset,
)
from click.testing import CliRunner

from vfxdenoise.cli.main import cli
from vfxdenoise.core.io.images import read_image

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
    assert set(card["validation"]) == {"psnr", "ssim"}
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
])
def test_step_counts_and_rates_no_run_can_take_are_usage_errors(tmp_path, args, words):
    """Refused before the data is read: `--steps 0` trained the default 2000 steps, `--epochs 0`
    one step, and `--steps -5` was refused only once the data had loaded."""
    write_idx_dataset(tmp_path / "d", train=4, test=1)
    result = run("classic", "train", "--arch", "dncnn", "--dataset", "mnist", "--data", tmp_path / "d",
                 "--noise", "gaussian:25", "--out", tmp_path / "m", "--device", "cpu", "--batch", "1",
                 "--patch", "8", "--val-images", "0", *TINY, *args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()
