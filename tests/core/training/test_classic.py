"""Classic training: patch batches (aligned, augmented, fresh noise) and each architecture learning."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from classic_data import (
    one_torch_thread,  # noqa: F401 (autouse fixture)
    pattern,
    quantise,
    write_idx_dataset,
    write_renoir_dataset,
    write_sidd_dataset,
)

from vfxdenoise.core.classic.datasets import ImagePair, ReadOptions, load_dataset
from vfxdenoise.core.classic.noise import parse_noise
from vfxdenoise.core.errors import DatasetError, TrainingError
from vfxdenoise.core.io.images import write_image
from vfxdenoise.core.model_files import read_header
from vfxdenoise.core.training.classic import (
    ClassicDataConfig,
    ClassicRun,
    batches,
    data_digest,
    noisy_scorer,
    steps_per_epoch,
    train_classic,
    train_model,
    validator,
)
from vfxdenoise.core.training.loop import LoopConfig

SMALL = {"dae": {"widths": (8, 16)}, "dncnn": {"depth": 5, "features": 16},
         "resnet-sd": {"features": 16, "blocks": 2}}


def test_real_noise_patches_stay_aligned_through_crops_flips_and_turns():
    clean = np.random.default_rng(0).integers(0, 8, (3, 20, 24)).astype(np.float32)  # exact sums
    offset = np.arange(3 * 20 * 24, dtype=np.float32).reshape(3, 20, 24)  # position-unique "noise"
    pair = ImagePair("x", clean, clean + offset)
    stream = batches([pair], None, ClassicDataConfig(patch=8, batch=32), seed=1)
    batch = next(stream)
    assert batch["input"].shape == batch["target"].shape == (32, 3, 8, 8)
    difference = (batch["input"] - batch["target"]).numpy()
    windows = {np.sort(offset[(..., slice(y, y + 8), slice(x, x + 8))].ravel()).tobytes()
               for y in range(13) for x in range(17)}
    for patch in difference:  # each noisy patch minus its clean patch is one window of the offset
        assert np.sort(patch.ravel()).tobytes() in windows
    orientations = {tuple(patch[0, 0, :2].astype(int)) for patch in difference}
    assert len(orientations) > 4  # augmentation turned/flipped some patches


def test_synthetic_noise_is_drawn_fresh_for_every_patch():
    pair = ImagePair("flat", np.full((1, 16, 16), 0.5, np.float32))
    batch = next(batches([pair], parse_noise("gaussian:0-50"), ClassicDataConfig(patch=16, batch=64)))
    sigmas = (batch["input"] - batch["target"]).flatten(1).std(dim=1) * 255
    assert sigmas.min() < 10 and sigmas.max() > 40


def test_patch_size_and_epoch_length_follow_the_smallest_image():
    pairs = [ImagePair("a", np.zeros((1, 28, 28), np.float32)) for _ in range(40)]
    assert steps_per_epoch(pairs, ClassicDataConfig(patch=40, batch=16)) == 3  # one patch per image
    assert steps_per_epoch([ImagePair("b", np.zeros((1, 100, 90), np.float32))],
                           ClassicDataConfig(patch=40, batch=1)) == 9


def test_missing_noise_for_clean_only_data_and_mixed_channels_are_refused():
    gray = ImagePair("g", np.zeros((1, 8, 8), np.float32))
    colour = ImagePair("c", np.zeros((3, 8, 8), np.float32))
    with pytest.raises(DatasetError, match="g has no real noisy capture"):
        next(batches([gray], None, ClassicDataConfig()))
    with pytest.raises(DatasetError, match="mix gray and colour"):
        next(batches([gray, colour], parse_noise("gaussian:25"), ClassicDataConfig()))


def _train(arch, pairs, noise, tmp_path, steps=40):
    loop = LoopConfig(steps=steps, out_dir=tmp_path / arch, lr=3e-3, log_every=5, validate_every=steps,
                      checkpoint_every=steps)
    data = ClassicDataConfig(patch=16, batch=8)
    return train_model(arch, pairs, noise, data, loop, val_pairs=pairs[:2], **SMALL[arch])


def _assert_loss_falls(history, factor=0.7):
    losses = [row["loss"] for row in history]
    assert np.mean(losses[-2:]) < factor * np.mean(losses[:2]), losses


@pytest.mark.parametrize("arch", ["dae", "dncnn", "resnet-sd"])
def test_each_architecture_learns_gray_idx_images_with_synthetic_noise(tmp_path, arch):
    write_idx_dataset(tmp_path / "data", train=16, test=2)
    pairs = load_dataset("fashion-mnist", tmp_path / "data")
    model, config, history = _train(arch, pairs, parse_noise("gaussian:50"), tmp_path)
    assert config["channels"] == 1 and model.channels == 1 and not model.training  # ready to denoise
    _assert_loss_falls(history)
    assert (tmp_path / arch / "log.csv").is_file() and "psnr" in history[-1]


@pytest.mark.parametrize("arch", ["dae", "dncnn", "resnet-sd"])
def test_each_architecture_learns_colour_sidd_pairs(tmp_path, arch):
    write_sidd_dataset(tmp_path / "data", scenes=4, pairs_per_scene=1, sigma=0.15)
    pairs = load_dataset("sidd", tmp_path / "data", ReadOptions(split="all"))
    model, config, history = _train(arch, pairs, None, tmp_path)
    assert config["channels"] == 3
    _assert_loss_falls(history)


def test_dncnn_learns_renoir_pairs(tmp_path):
    write_renoir_dataset(tmp_path / "data", scenes=3, noisy_per_scene=1, sigma=0.15)
    pairs = load_dataset("renoir", tmp_path / "data", ReadOptions(split="all"))
    _, _, history = _train("dncnn", pairs, None, tmp_path)
    _assert_loss_falls(history)


def test_a_resumed_run_refuses_other_images_and_checkpoints_say_how_they_were_made(tmp_path):
    """Checkpoints recorded the dataset folder's path only: images changed in it, or read with
    other options, trained the rest of a resumed run on other data without a word."""
    rng = np.random.default_rng(0)
    pairs = [ImagePair(f"i{n}", rng.random((1, 16, 16), dtype=np.float32)) for n in range(3)]
    loop = LoopConfig(steps=1, out_dir=tmp_path, seed=5)
    train_model("dncnn", pairs, parse_noise("gaussian:25"), ClassicDataConfig(patch=16, batch=2), loop,
                **SMALL["dncnn"])
    metadata = read_header(tmp_path / "checkpoint-1.safetensors")[0]["__metadata__"]
    recorded = json.loads(metadata["training"])
    assert recorded["seed"] == 5 and recorded["data_digest"] == data_digest(pairs)
    assert data_digest(pairs[:2]) != data_digest(pairs) == data_digest([ImagePair(p.name, p.clean.copy())
                                                                        for p in pairs])
    with pytest.raises(TrainingError, match=r"the training data changed since .* \(data_digest: \w+ -> \w+\)"
                                            ".*--overwrite$"):
        train_model("dncnn", pairs[:2], parse_noise("gaussian:25"), ClassicDataConfig(patch=16, batch=2),
                    loop, existing="resume", **SMALL["dncnn"])


def test_a_classic_run_trains_an_epochs_steps_on_the_images_it_reads_and_saves_their_card(
        tmp_path, caplog, monkeypatch):
    """What `classic train` assembled itself: the images read, the patch cut to the smallest (a
    plain note where the run leaves it at its default), the steps of an epoch, no validation where
    the test split holds no image (said), and the weights saved with their card."""
    caplog.set_level("INFO")
    monkeypatch.chdir(tmp_path)  # the folder the command's relative paths are of, in its card
    (tmp_path / "d").mkdir()
    for i in range(4):  # every fifth image is the test split: it holds none
        write_image(tmp_path / "d" / f"img{i}.png", quantise(pattern(i, 1, 16, 16)))
    said: list[str] = []
    run = ClassicRun(arch="dncnn", dataset="folder", data=tmp_path / "d", out_dir=tmp_path / "m",
                     noise=parse_noise("gaussian:25"), model=SMALL["dncnn"], epochs=1, batch=2, device="cpu")
    weights = train_classic(run, said.append)
    assert weights == tmp_path / "m" / "model.safetensors" and weights.is_file()
    assert said[0].startswith("note: training without validation: no images in the 'test' split")
    assert said[1] == "training dncnn on 4 folder images for 2 steps (gaussian:25) on cpu"  # 1 patch each
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    training = card["training"]
    assert (training["steps"], training["patch"], training["noise"]) == (2, 16, "gaussian:25")
    assert training["data"] == str((tmp_path / "d").resolve())
    assert training["command"].startswith("vfxdenoise ")
    assert Path(training["cwd"]).resolve() == tmp_path.resolve()
    assert card["config"] == {"channels": 1, **SMALL["dncnn"]} and card["validation"] == {}
    patch_notes = [r.levelname for r in caplog.records if r.getMessage().startswith("--patch 40 is larger")]
    assert patch_notes == ["INFO"]


def test_a_channel_count_other_than_the_images_is_refused_before_training(tmp_path):
    """channels=3 for gray images overrode theirs, and failed at the first step, leaving the run's
    folder behind empty."""
    pairs = [ImagePair(f"g{i}", pattern(i, 1, 16, 16)) for i in range(2)]
    noise, data, loop = parse_noise("gaussian:25"), ClassicDataConfig(patch=8, batch=2), LoopConfig(
        steps=2, out_dir=tmp_path / "run")
    with pytest.raises(DatasetError, match="the model is asked for 3 channels, the images hold 1"):
        train_model("dncnn", pairs, noise, data, loop, channels=3, **SMALL["dncnn"])
    assert not (tmp_path / "run").exists()
    _, config, _ = train_model("dncnn", pairs, noise, data, loop, channels=1, **SMALL["dncnn"])  # theirs
    assert config["channels"] == 1


class _Dimmer(torch.nn.Module):
    """Outputs 0.9 times its input: a black image comes back exactly, any other does not."""

    channels = 1

    def forward(self, x):
        return 0.9 * x


def test_validation_counts_images_given_back_exactly_apart_from_the_mean_psnr():
    """One exact image's +inf made the validation PSNR +inf, whatever the others scored
    (`classic eval` counts them apart: `image_evaluation.mean_psnr`)."""
    black = ImagePair("black", np.zeros((1, 16, 16), dtype=np.float32))
    lit = [ImagePair(f"lit{i}", pattern(i, 1, 16, 16)) for i in range(2)]
    none = parse_noise("none")
    scores = validator([black, *lit], none)(_Dimmer().eval())
    others = validator(lit, none)(_Dimmer().eval())
    assert scores["exact"] == 1 and np.isfinite(scores["psnr"])
    assert scores["psnr"] == pytest.approx(others["psnr"]) and "exact" not in others
    assert validator([black], none)(_Dimmer().eval()) == {"psnr": float("inf"), "ssim": 1.0, "exact": 1}


class _GivenBack(_Dimmer):
    def forward(self, x):
        return x


def test_the_noisy_inputs_scores_are_those_of_a_model_giving_back_its_input():
    """What validation's scores compare with: the same fixed noisy images, clipped and scored alike."""
    lit = [ImagePair(f"lit{i}", pattern(i, 1, 16, 16)) for i in range(2)]
    noise = parse_noise("gaussian:25")
    noisy = noisy_scorer(lit, noise)()
    assert noisy == pytest.approx(validator(lit, noise)(_GivenBack().eval()))
    assert set(noisy) == {"psnr", "ssim"} and 10 < noisy["psnr"] < 40


def test_a_classic_run_ending_in_many_skipped_steps_writes_no_model(tmp_path, caplog):
    """Its steps after the second skipped (NaN/Inf gradients at --lr 1e8), too few for the 20 in a
    row that stop a run but too many for bad batches: no model, also once resumed."""
    (tmp_path / "d").mkdir()
    for i in range(4):
        write_image(tmp_path / "d" / f"img{i}.png", quantise(pattern(i, 1, 16, 16)))
    run = ClassicRun(arch="dncnn", dataset="folder", data=tmp_path / "d", out_dir=tmp_path / "m",
                     noise=parse_noise("gaussian:25"), model=SMALL["dncnn"], steps=10, batch=2, lr=1e8,
                     validate_every=5, device="cpu")
    for attempt in (run, replace(run, existing="resume")):
        with caplog.at_level("WARNING"), pytest.raises(TrainingError, match=r"its last 8 steps were all "
                                                                            r"skipped.*weights of step 2"):
            train_classic(attempt)
    assert not (tmp_path / "m" / "model.safetensors").exists()


class _Broken(_Dimmer):
    def forward(self, x):
        return torch.where(x > 0.5, torch.nan, x)


def test_validation_scores_a_network_giving_nan_as_classic_eval_does():
    """NaN outputs score as 0 (as `classic eval` scores them), where the metrics refuse NaN."""
    lit = [ImagePair(f"lit{i}", pattern(i, 1, 16, 16)) for i in range(2)]
    scores = validator(lit, parse_noise("none"))(_Broken().eval())
    assert np.isfinite(scores["psnr"]) and np.isfinite(scores["ssim"])
