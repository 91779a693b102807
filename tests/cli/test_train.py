"""`vfxdenoise train` through the real executable on a tiny dataset, its refusals in this process
(`run_in_process`: what they say is tested, not the process); `eval`: test_eval.py."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import subprocess
import time
from pathlib import Path

import pytest
import torch
from cli_in_process import run_in_process
from cli_process import VFXDENOISE, run_vfxdenoise
from exr_sequences import rename_layer, write_render_dataset, write_sequence

from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import load_weights, save_weights

TINY = ["--steps", "4", "--validate-every", "2", "--crop", "16", "--batch", "2", "--widths", "8,8,8,8",
        "--device", "cpu"]



@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_render_dataset(tmp_path_factory.mktemp("data"), sequences=2, size=32, second_noisy=True)


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model")
    result = run_vfxdenoise("train", "--data", str(dataset), "--val", str(dataset), "--out", str(out), *TINY,
                            cwd=out)
    assert result.returncode == 0, result.stderr
    return out


def test_train_writes_weights_card_log_and_validation(trained):
    loaded = load_weights(trained / "model.safetensors")
    assert loaded.architecture == "temporal-unet" and loaded.config["widths"] == [8, 8, 8, 8]
    card = json.loads((trained / "model.json").read_text())
    assert card["training"]["command"].startswith("vfxdenoise train --data ")
    assert Path(card["training"]["cwd"]).resolve() == trained.resolve()  # its relative paths are of it
    assert card["training"]["sequences"] == 2 and card["training"]["steps"] == 4
    assert card["training"]["temporal_weight"] == 0.5
    assert card["training"]["data"]["path"] == card["training"]["validation_data"]["path"]
    assert {"psnr", "relmse", "energy", "sparkles", "temporal", "temporal_coarse",
            "temporal_warped"} <= set(card["validation"])
    assert {"noisy_psnr", "noisy_relmse"} <= set(card["validation"])  # what the scores compare with
    rows = list(csv.DictReader((trained / "log.csv").open()))
    assert rows and int(rows[-1]["step"]) == 4 and rows[-1]["noisy_psnr"]


def test_self_supervised_and_fine_tuning_train_from_noisy_pairs(dataset, trained, tmp_path):
    """The network switches given reach the fine-tuned network (tests/core/training/
    test_render_network.py: how it is switched); what the run says is printed, its notes warned."""
    init = trained / "model.safetensors"
    result = run_vfxdenoise("train", "--data", dataset, "--out", tmp_path / "n2n", "--self-supervised",
                            "--init", init, *TINY, "--temporal-weight", "1", "--slot-distances",
                            "--temporal-radius", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "training on 2 sequences" in result.stdout and f"--init {init}: --lr 0.002" in result.stdout
    assert "note: --self-supervised trains with a relative L2 loss" in result.stderr
    assert "--temporal-weight is not used" in result.stderr
    card = json.loads((tmp_path / "n2n" / "model.json").read_text())
    assert card["training"]["self_supervised"] is True
    assert card["training"]["init"]["given"] == str(init)
    assert card["training"]["init"]["sha256"] == hashlib.sha256(init.read_bytes()).hexdigest()
    config = load_weights(tmp_path / "n2n" / "model.safetensors").config
    assert config["slot_distances"] is True and config["temporal_radius"] == 3


def test_kernel_predicting_variant_trains_and_denoises_through_seq(dataset, tmp_path):
    result = run_vfxdenoise("train", "--data", dataset, "--out", tmp_path / "kpn", "--arch", "temporal-kpn",
                            "--temporal-weight", "2", "--energy-weight", "1", "--relmse-weight", "0.5",
                            *TINY, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    weights = tmp_path / "kpn" / "model.safetensors"
    assert load_weights(weights).architecture == "temporal-kpn"
    training = json.loads((tmp_path / "kpn" / "model.json").read_text())["training"]
    assert (training["temporal_weight"], training["energy_weight"], training["relmse_weight"]) == (2, 1, 0.5)
    noisy = next(dataset.glob("*/spp4/render.*.exr")).parent / "render.####.exr"
    result = run_vfxdenoise("seq", noisy, "-o", tmp_path / "out" / "d.####.exr", "--model", weights,
                            "--device", "cpu", "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").glob("d.*.exr"))) == len(list(Path(str(noisy)).parent.glob("*.exr")))


def test_demodulate_is_refused_where_it_would_change_nothing(dataset, trained, tmp_path):
    """--demodulate reaches the network; a refusal of it is a usage error (exit 2)."""
    result = run_in_process("train", "--data", dataset, "--out", tmp_path / "m", "--demodulate",
                            "--init", trained / "model.safetensors", *TINY, cwd=tmp_path)
    assert result.returncode == 2
    assert "temporal-unet" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m").exists()


def test_self_supervised_without_second_renders_is_a_clear_error(tmp_path):
    data = write_render_dataset(tmp_path / "data", sequences=1, size=32)
    result = run_in_process("train", "--data", str(data), "--out", str(tmp_path / "m"), "--self-supervised",
                            *TINY, cwd=tmp_path)
    assert result.returncode == 1
    assert "error:" in result.stderr and "spp4b" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where PyTorch sees no GPU")
def test_a_gpu_asked_for_where_there_is_none_is_a_clear_error(dataset, tmp_path):
    result = run_in_process("train", "--data", str(dataset), "--out", str(tmp_path / "m"), "--steps", "1",
                            "--device", "cuda", cwd=tmp_path)
    assert result.returncode == 1
    assert "--device cuda was requested but PyTorch sees no CUDA GPU here" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("option", [("--arch", "temporal-kpn"), ("--widths", "16,16")])
def test_init_with_another_network_asked_for_is_refused(dataset, trained, tmp_path, option):
    """--arch and --widths given, not their defaults, reach the check of the --init network."""
    result = run_in_process("train", "--data", dataset, "--out", tmp_path / "m", "--init",
                            trained / "model.safetensors", *option, "--steps", "1", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"{option[0]} {option[1]} differs" in result.stderr and "temporal-unet network" in result.stderr
    assert not (tmp_path / "m").exists()


def test_a_classic_model_for_render_sequences_is_refused_naming_the_file(dataset, tmp_path):
    classic = tmp_path / "dncnn.safetensors"
    save_weights(build_model("dncnn", channels=1, depth=3, features=4), classic, "dncnn",
                 {"channels": 1, "depth": 3, "features": 4})
    result = run_in_process("train", "--data", dataset, "--init", classic, "--out", tmp_path / "m",
                            "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr  # a usage error: never retried
    assert result.stderr.startswith(f"error: {classic} holds a 'dncnn' classic-track model")  # as seq says it
    assert "denoise-image" in result.stderr and "Usage:" not in result.stderr


def test_an_init_model_not_found_is_one_error_line(dataset, tmp_path):
    """Refusals of --init printed click's 'Usage: ... Error:' block; seq --model's are one line."""
    result = run_in_process("train", "--data", dataset, "--init", "nonexist", "--out", tmp_path / "m",
                            "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: model weights not found: 'nonexist'")
    assert "Usage:" not in result.stderr and "Traceback" not in result.stderr


def test_a_folder_with_a_runs_files_but_no_checkpoint_json_is_left_as_it_is(dataset, tmp_path):
    """`--out` holding a model, a log and a checkpoint but no checkpoint.json was trained over with
    exit 0: the model and log replaced, the checkpoint deleted."""
    out = tmp_path / "keep"
    out.mkdir()
    files = {"model.safetensors": "weights", "log.csv": "step,loss\n", "checkpoint-40.safetensors": "40"}
    for name, text in files.items():
        (out / name).write_text(text)
    result = run_in_process("train", "--data", dataset, "--out", out, *TINY, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (f"error: {out} holds a training run's files (checkpoint-40.safetensors, log.csv, "
            "model.safetensors) but no checkpoint to resume") in result.stderr
    assert {path.name: path.read_text() for path in out.iterdir()} == files


def test_sigterm_says_which_checkpoint_is_kept_as_ctrl_c_does(dataset, tmp_path):
    """A farm's pre-emption (SIGTERM, exit 143) said nothing of the checkpoint or --resume."""
    out = tmp_path / "m"
    process = subprocess.Popen([str(VFXDENOISE), "train", "--data", str(dataset), "--out", str(out),
                                *TINY[4:], "--steps", "100000", "--validate-every", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.json").is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    process.terminate()
    stderr = process.communicate(timeout=300)[1]
    assert process.returncode == 143, stderr
    assert stderr.count("error: cancelled by signal (exit status 143): the step-") == 1, stderr
    assert f"checkpoint in {out} is kept; run the same command with --resume" in stderr


def test_a_checkpoint_loads_as_the_model_of_its_step(trained):
    checkpoint = load_weights(trained / "checkpoint-4.safetensors")
    final = load_weights(trained / "model.safetensors")
    assert (checkpoint.architecture, checkpoint.config) == (final.architecture, final.config)
    for key, value in final.model.state_dict().items():
        assert torch.equal(checkpoint.model.state_dict()[key], value)


def test_the_card_counts_the_seconds_of_every_process_of_a_resumed_run(dataset, trained, tmp_path):
    """Resumed at its last step, the run trains no more: its card keeps the first run's time."""
    before = json.loads((trained / "model.json").read_text())["training"]["seconds"]
    logged = float(list(csv.DictReader((trained / "log.csv").open()))[-1]["seconds"])
    result = run_vfxdenoise("train", "--data", dataset, "--val", dataset, "--out", trained, *TINY,
                            "--resume", cwd=trained)
    assert result.returncode == 0, result.stderr
    after = json.loads((trained / "model.json").read_text())["training"]["seconds"]
    assert after == round(logged, 1) and after >= before - 0.1 and after > 0


def test_resume_and_overwrite_together_are_refused(dataset, trained, tmp_path):
    """A command line no run can take: exit 2, as seq's same pair (a farm engine retries exit 1)."""
    result = run_in_process("train", "--data", dataset, "--val", dataset, "--out", trained, *TINY, "--resume",
                            "--overwrite", cwd=tmp_path)
    assert result.returncode == 2 and "pass one of them" in result.stderr


def test_train_loop_option_defaults_are_the_loops():
    """--validate-every and --seed default to LoopConfig's, where the loop's defaults live."""
    from vfxdenoise.cli.train import train
    from vfxdenoise.core.training.loop import LoopConfig

    defaults = {param.name: param.default for param in train.params}
    loop = LoopConfig(steps=1, out_dir=Path("out"))
    assert (defaults["validate_every"], defaults["seed"]) == (loop.validate_every, loop.seed)


@pytest.mark.parametrize("args, words", [
    (["--lr", "-1"], "Invalid value for '--lr': -1.0 is not in the range x>=0."),
    (["--lr", "inf"], "Invalid value for '--lr': 'inf' is not a finite number."),
    (["--lr", "nan"], "Invalid value for '--lr': 'nan' is not a finite number."),
    (["--temporal-weight", "nan"], "Invalid value for '--temporal-weight': 'nan' is not a finite number."),
    (["--energy-weight", "inf"], "Invalid value for '--energy-weight': 'inf' is not a finite number."),
    (["--relmse-weight", "nan"], "Invalid value for '--relmse-weight': 'nan' is not a finite number."),
    (["--widths", "8,0,3"], "Invalid value for '--widths': '8,0,3' is not a comma-separated list of "
                            "channel counts of 1 or more"),
    (["--widths", "8,,8"], "Invalid value for '--widths': '8,,8' is not"),
    (["--temporal-radius", "0"], "Invalid value for '--temporal-radius': 0 would train a network without "
                                 "neighbour frames"),
    (["--temporal-radius", "9"], "Invalid value for '--temporal-radius': 9 is not in the range 1<=x<=8."),
    (["--temporal-radius", "two"], "Invalid value for '--temporal-radius': 'two' is not a valid integer."),
    (["--validate-every", "0"], "Invalid value for '--validate-every': 0 is not in the range x>=1."),
    (["--resume", "--overwrite"], "--resume continues the training run in --out and --overwrite starts "
                                  "again over it; pass one of them"),
])
def test_option_values_no_run_can_take_are_usage_errors(tmp_path, args, words):
    """Refused as the command line is read (exit 2), not as a traceback once training starts."""
    from click.testing import CliRunner

    from vfxdenoise.cli.main import cli

    result = CliRunner().invoke(cli, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"),
                                      "--device", "cpu", *args])
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()



def test_the_temporal_radius_help_shows_the_range_it_takes():
    """The help said "1 to 8" beside click's [0<=x<=8] (0 refused by a callback)."""
    from click.testing import CliRunner

    from vfxdenoise.cli.main import cli

    shown = " ".join(CliRunner().invoke(cli, ["train", "--help"]).output.split())
    assert "1<=x<=8" in shown and "0<=x<=8" not in shown


def test_a_data_folder_given_twice_is_a_usage_error(dataset, tmp_path):
    """`--data ds --data ds/` trained on every sequence twice."""
    from click.testing import CliRunner

    from vfxdenoise.cli.main import cli

    (tmp_path / "link").symlink_to(dataset)
    for again, named in ((f"{dataset}/", f"{dataset} is given twice"),
                         (tmp_path / "link", f"{dataset} and {tmp_path / 'link'} are one folder")):
        result = CliRunner().invoke(cli, ["train", "--data", str(dataset), "--data", str(again),
                                          "--out", str(tmp_path / "m"), "--device", "cpu"])
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '--data': {named} ({dataset})" in " ".join(result.output.split())
    assert not (tmp_path / "m").exists()


def test_validation_on_training_sequences_and_a_crop_beyond_the_frames_are_warned_of(dataset, tmp_path):
    """--val on the --data folder scored the training data without a word; --crop 64 on 32-pixel
    frames trained on 32-pixel crops and the card said 64."""
    result = run_vfxdenoise("train", "--data", dataset, "--val", f"{dataset}/", "--out", tmp_path / "m",
                            "--steps", "1", "--batch", "2", "--crop", "64", "--widths", "8,8",
                            "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: --val shares 2 of its 2 sequences with --data (seq0, seq1)" in result.stderr
    assert ("warning: crop 64 is larger than the 32x32 frames of sequence seq0: training on 32x32 crops"
            in result.stderr)
    assert json.loads((tmp_path / "m" / "model.json").read_text())["training"]["crop"] == 32


def _add_single_frame_sequence(root: Path, name: str = "single", size: int = 32) -> Path:
    """A sequence of one frame beside a dataset's others: it has no temporal score."""
    write_sequence(root / name / "spp4", range(1001, 1002), size, size, seed=7)
    write_sequence(root / name / "reference", range(1001, 1002), size, size, noise=0.0)
    return root


def test_a_single_frame_sequence_has_no_temporal_scores_in_validation(tmp_path):
    """Its temporal error, NaN, made train's validation means NaN (a 0.0 before lowered them); at
    --temporal-weight 0 the run warned that it is left out of a temporal term the run does not have
    (eval: test_eval.py)."""
    data = _add_single_frame_sequence(write_render_dataset(tmp_path / "data", sequences=1, size=32))
    result = run_vfxdenoise("train", "--data", data, "--val", data, "--out", tmp_path / "m", *TINY,
                            "--temporal-weight", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "flicker" not in result.stderr
    validation = json.loads((tmp_path / "m" / "model.json").read_text())["validation"]
    assert all(math.isfinite(validation[key]) for key in ("temporal", "temporal_coarse", "temporal_warped"))


def test_frames_too_small_to_score_are_refused_before_training(dataset, tmp_path):
    """--val frames under SSIM's 11-pixel window failed at the first validation, after the
    steps before it (eval: test_eval.py)."""
    small = write_render_dataset(tmp_path / "small", sequences=1, size=8)
    result = run_in_process("train", "--data", dataset, "--val", small, "--out", tmp_path / "m", *TINY,
                            cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: --val: sequence seq0" in result.stderr and "8x8 pixels" in result.stderr
    assert not (tmp_path / "m" / "checkpoint.json").exists()


def test_coarse_levels_the_unet_has_no_level_for_are_usage_errors(tmp_path):
    """`--coarse-levels 3 --widths 8,8,8` printed the network's ValueError as a traceback."""
    from click.testing import CliRunner

    from vfxdenoise.cli.main import cli

    kpn = tmp_path / "kpn.safetensors"
    config = {"temporal_radius": 2, "widths": [8, 8]}
    save_weights(build_model("temporal-kpn", **config), kpn, "temporal-kpn", config)
    for args, words in ((["--arch", "temporal-kpn", "--coarse-levels", "3", "--widths", "8,8,8"],
                         "--coarse-levels 3 needs a U-Net of 4 levels or more, and --widths 8,8,8 gives 3: "
                         "give --coarse-levels 2 or less, or give more --widths"),
                        (["--init", str(kpn), "--coarse-levels", "2"],
                         f"--coarse-levels 2 needs a U-Net of 3 levels or more, and the --init {kpn} "
                         "network has 2: give --coarse-levels 1 or less")):
        result = CliRunner().invoke(cli, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"),
                                          "--device", "cpu", *args])
        assert result.exit_code == 2, result.output
        assert words in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_a_diverged_run_resumed_stops_again_and_writes_no_model(dataset, tmp_path):
    """At --lr 1e8 the run stopped at its 20th step skipped in a row; resumed (a farm's retry), it
    counted from 0 again, skipped its 10 remaining steps and wrote, with exit 0, a model that
    denoised to black frames, its card's loss nan."""
    out = tmp_path / "div"
    args = ["--data", dataset, "--out", out, "--steps", "30", "--validate-every", "5", "--crop", "16",
            "--batch", "1", "--widths", "8,8", "--device", "cpu", "--lr", "1e8"]
    first = run_vfxdenoise("train", *args, cwd=tmp_path)
    stopped = " ".join(first.stderr.split())
    assert first.returncode == 1 and "NaN/Inf for 20 steps in a row (last at step " in stopped, stopped
    last = stopped.split("in a row (last at step ")[1].split(")")[0]
    resumed = run_vfxdenoise("train", *args, "--resume", cwd=tmp_path)
    said = " ".join(resumed.stderr.split())
    assert resumed.returncode == 1 and f"NaN/Inf for 20 steps in a row (last at step {last})" in said, said
    assert not (out / "model.safetensors").exists() and "Traceback" not in said


def test_resuming_a_finished_run_for_more_steps_says_how_to_train_it_further(dataset, trained, tmp_path):
    """It was told of 'the onecycle schedule', which `train` has no option for."""
    result = run_vfxdenoise("train", "--data", dataset, "--val", dataset, "--out", trained, *TINY[2:],
                            "--steps", "8", "--resume", cwd=tmp_path)
    said = " ".join(result.stderr.split())
    assert result.returncode == 1 and "schedule, not" not in said, said
    assert (f"is of a run of 4 steps (at step 4), not 8: the learning rate's schedule is laid out over "
            f"--steps when the run starts, so --resume takes the run's own --steps (4); to train it "
            f"further, fine-tune from its weights in another folder (--init {trained / 'model.safetensors'}"
            ) in said


def _studio_named(root: Path) -> Path:
    """`root`'s noisy frames with their albedo as DiffuseColor and their normal as Nworld (a studio's
    names, which `seq` takes with --albedo and --normal); returns `root`."""
    for folder in root.glob("*/spp4"):
        rename_layer(rename_layer(str(folder / "render.####.exr"), "albedo", "DiffuseColor"), "N", "Nworld")
    return root


def test_train_takes_seqs_layer_options_and_refuses_data_without_guides_naming_them(tmp_path):
    """`train --albedo DiffuseColor` was 'No such option', and such data trained without its guides
    with only a note."""
    data = _studio_named(write_render_dataset(tmp_path / "data", sequences=2, size=24))
    refused = run_in_process("train", "--data", data, "--out", tmp_path / "m", *TINY, cwd=tmp_path)
    said = " ".join(refused.stderr.split())
    assert refused.returncode == 1 and "has albedo or normal in any frame" in said, said
    assert "with --albedo and --normal, as `seq` takes them" in said and not (tmp_path / "m").exists()
    result = run_vfxdenoise("train", "--data", data, "--out", tmp_path / "m", *TINY, "--albedo",
                            "DiffuseColor", "--normal", "Nworld", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    assert card["training"]["layers"] == {"albedo": "DiffuseColor", "normal": "Nworld"}
