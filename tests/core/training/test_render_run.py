"""A render training run (`train_render`) on a tiny dataset: what a fine-tune takes from the init
model's card, the checks on the run's --out folder, the data it trains on and its model card."""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import replace

import pytest
from exr_sequences import rename_layer, write_render_dataset

from vfxdenoise import __version__
from vfxdenoise.core import provenance
from vfxdenoise.core.errors import DatasetError, TrainingError, UsageError
from vfxdenoise.core.existing_outputs import REFUSE, RESUME
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.model_files import read_header
from vfxdenoise.core.training.render_data import RenderDataConfig
from vfxdenoise.core.training.render_network import RenderNetwork
from vfxdenoise.core.training.render_run import RenderRun, _mixed_precision, _training_data, train_render

NEW = RenderNetwork(widths=(8, 8))  # the smallest network trained anew here


def _no_record(device: str, history: list[dict], started: float) -> dict:
    """The CLI's record of the command and machine, which these runs have none of."""
    return {}


def _run(data, out, **settings) -> RenderRun:
    """One step of `NEW` on `data` on the CPU, unless `settings` say otherwise."""
    return RenderRun(data=data if isinstance(data, tuple) else (data,), out_dir=out,
                     **{"steps": 1, "crop": 16, "batch": 2, "network": NEW, "device": "cpu", **settings})


def _card(out) -> dict:
    return json.loads((out / "model.json").read_text())


def test_init_takes_the_rate_and_loss_weights_from_the_init_models_card_unless_given(render_data, tmp_path):
    """The shipped default was fine-tuned at lr 3e-4 with temporal, energy and relMSE terms
    (its card); the training defaults (lr 2e-3, no energy or relMSE term) undid much of it."""
    said = []
    run = _run(render_data, tmp_path / "ft", network=RenderNetwork(init="default"), energy_weight=0.0)
    train_render(run, _no_record, said.append)
    assert any(line.startswith("--init default: --lr 0.0003, --temporal-weight 2, --relmse-weight 0.1 "
                               "from its model card") for line in said), said
    training = _card(tmp_path / "ft")["training"]
    assert training["lr"] == 3e-4 and training["temporal_weight"] == 2.0
    assert training["relmse_weight"] == 0.1 and training["energy_weight"] == 0.0  # given: kept


def test_init_from_weights_without_a_card_says_the_defaults_apply(render_data, saved_network, tmp_path,
                                                                  caplog):
    """A checkpoint (it loads as a model) has no card: its run's rate and loss weights are
    unknown, and the defaults for training anew applied without a word."""
    caplog.set_level(logging.INFO)
    init = saved_network()
    train_render(_run(render_data, tmp_path / "ft", network=RenderNetwork(init=str(init))), _no_record)
    assert f"note: --init {init} has no model card beside it" in caplog.text
    assert _card(tmp_path / "ft")["training"]["lr"] == 2e-3


def test_a_run_into_a_trained_folder_needs_resume_or_overwrite_before_anything_is_loaded(render_data,
                                                                                        tmp_path):
    out = tmp_path / "m"
    run = _run(render_data, out, steps=2, validate_every=1)
    train_render(run, _no_record)
    unloadable = replace(run, network=RenderNetwork(init=str(tmp_path / "nowhere.safetensors")))
    with pytest.raises(TrainingError, match=r"holds a training run \(checkpoint.json\): pass --resume to "
                                            "continue it, or --overwrite"):
        train_render(unloadable, _no_record)
    with pytest.raises(TrainingError, match="crop: 16 -> 24"):
        train_render(replace(run, crop=24, existing="resume"), _no_record)


def test_a_network_refused_leaves_no_out_folder(render_data, saved_network, tmp_path):
    init = RenderNetwork(init=str(saved_network()), arch="temporal-kpn")
    with pytest.raises(UsageError, match="--arch temporal-kpn differs"):
        train_render(_run(render_data, tmp_path / "m", network=init), _no_record)
    assert not (tmp_path / "m").exists()


def test_a_resumed_run_keeps_the_precision_it_started_with_on_another_device(render_data, tmp_path, caplog):
    """A CPU run resumed on a GPU switched to mixed precision without a word (on a GPU without
    bfloat16 it failed: the full-precision checkpoint has no loss scaler state). Here the run's
    checkpoint says it was trained in mixed precision on CUDA, and it resumes on the CPU."""
    out = tmp_path / "m"
    run = _run(render_data, out)
    train_render(run, _no_record)
    assert _card(out)["training"]["amp"] is False
    state = json.loads((out / "checkpoint.json").read_text())
    state["config"]["amp"], state["config"]["device"] = True, "cuda"
    (out / "checkpoint.json").write_text(json.dumps(state))
    caplog.set_level(logging.INFO)
    train_render(replace(run, existing="resume"), _no_record)
    assert (f"note: the run in {out} was trained in mixed precision on cuda: it resumes in mixed "
            "precision on cpu, as it started") in caplog.text
    assert _card(out)["training"]["amp"] is True


def test_any_cuda_device_trains_in_mixed_precision(tmp_path):
    """Only "cuda" did: a GPU given by index ("cuda:0", which the Python API takes) trained at full
    precision without a word."""
    assert all(_mixed_precision(device, tmp_path, REFUSE) for device in ("cuda", "cuda:0", "cuda:1"))
    assert not _mixed_precision("cpu", tmp_path, REFUSE)


def test_a_damaged_checkpoint_is_refused_naming_it_as_the_run_reads_its_precision(tmp_path):
    """The run read checkpoint.json by hand, taking a damaged one for none; it reads it as the loop
    does (`checkpoint.read_checkpoint`)."""
    (tmp_path / "checkpoint.json").write_text('{"step": ')
    with pytest.raises(TrainingError, match=re.escape(f"{tmp_path / 'checkpoint.json'} is damaged")):
        _mixed_precision("cpu", tmp_path, RESUME)
    assert not _mixed_precision("cpu", tmp_path, REFUSE)  # a run that does not resume never reads it


def test_a_crop_larger_than_the_frames_trains_on_their_side_once_warned_of(render_data, tmp_path, caplog):
    """The card records the side trained on; the crop is fitted once, on a copy of the data settings
    (the ones given were changed in place)."""
    run = _run(render_data, tmp_path / "m", crop=48)
    train_render(run, _no_record)
    assert _card(tmp_path / "m")["training"]["crop"] == 32
    warned = [r.getMessage() for r in caplog.records if r.getMessage().startswith("crop 48 is larger")]
    assert warned == ["crop 48 is larger than the 32x32 frames of sequence seq0: training on 32x32 crops"]
    given = RenderDataConfig(crop=48, layout=InputLayout(1))
    assert _training_data(run, given, [].append)[2] == replace(given, crop=32) and given.crop == 48


def test_several_data_folders_train_together_and_are_recorded(render_data, tmp_path):
    more = write_render_dataset(tmp_path / "more", sequences=1, size=32)
    said = []
    train_render(_run((render_data, more), tmp_path / "both"), _no_record, said.append)
    assert "training on 3 sequences (12 frames per level)" in said
    training = _card(tmp_path / "both")["training"]
    assert training["sequences"] == 3
    assert [record["path"] for record in training["data"]] == [str(render_data), str(more)]


def test_each_mode_drops_only_sequences_broken_in_folders_it_reads(tmp_path, caplog):
    """A frame missing from reference/ left a sequence out of a self-supervised run (which never
    reads it), and one missing from spp4b/ left it out of a supervised run."""
    data = write_render_dataset(tmp_path / "data", sequences=2, size=24, second_noisy=True)
    (data / "seq0" / "spp4b" / "render.1003.exr").unlink()
    (data / "seq1" / "reference" / "render.1002.exr").unlink()
    for self_supervised, kept, dropped in ((False, "seq0", "seq1"), (True, "seq1", "seq0")):
        caplog.clear()
        said = []
        run = _run(data, tmp_path / f"m{self_supervised}", batch=1, self_supervised=self_supervised)
        train_render(run, _no_record, said.append)
        assert said[0].startswith("training on 1 sequence (")  # not "1 sequences"
        assert f"sequence {dropped} is left out" in caplog.text
        assert f"sequence {kept} is left out" not in caplog.text


def test_a_val_folder_of_no_usable_sequence_is_refused_as_the_val_folder(render_data, tmp_path):
    """The refusal said 'no usable sequences in v' alone, not that v came from --val."""
    val = write_render_dataset(tmp_path / "v", sequences=1, size=24)
    (val / "seq0" / "reference" / "render.1002.exr").unlink()
    with pytest.raises(DatasetError, match=re.escape(f"--val: no usable sequences in {val}")):
        train_render(_run(render_data, tmp_path / "m", val=val), _no_record)


def test_the_card_says_a_model_reads_each_slots_distance(render_data, tmp_path):
    for distances in (False, True):
        out = tmp_path / f"m{distances}"
        train_render(_run(render_data, out, network=replace(NEW, slot_distances=distances)), _no_record)
        assert ("distance" in _card(out)["inputs"]) is distances


def test_resume_refuses_training_data_changed_since_the_checkpoint(tmp_path):
    """The checkpoint recorded only the data folders' paths: killed with 2 sequences, one removed,
    --resume went on silently, and the card said 1 sequence though the first steps trained on 2."""
    data = write_render_dataset(tmp_path / "data", sequences=3, size=24)
    run = _run(data, tmp_path / "m", batch=1)
    train_render(run, _no_record)
    resumed = replace(run, existing="resume")
    train_render(resumed, _no_record)  # the same data: resumes
    shutil.rmtree(data / "seq2")
    with pytest.raises(TrainingError, match=r"the training data changed since the checkpoint in .*m was "
                                            r"written \(3 sequences then, 2 now; gone: seq2\).*"
                                            r"start again with --overwrite$"):
        train_render(resumed, _no_record)
    train_render(replace(run, existing="overwrite"), _no_record)
    frame = data / "seq1" / "reference" / "render.1002.exr"
    image = read_exr(frame)
    image.set_compression("none")
    write_exr(frame, image)  # rendered again: the same pixels, another size
    with pytest.raises(TrainingError, match=r"\(2 sequences then, 2 now; seq1/reference: frame\(s\) 1002 "
                                            r"changed size \(rendered again, or copied with other sizes\)\)"):
        train_render(resumed, _no_record)  # the sequence and frame named: they were not
    train_render(replace(run, existing="overwrite"), _no_record)
    for level in ("spp4", "reference"):
        (data / "seq0" / level / "render.1004.exr").unlink()
    with pytest.raises(TrainingError, match=r"now; seq0/spp4: frame\(s\) 1004 removed; seq0/reference: "
                                            r"frame\(s\) 1004 removed\)"):
        train_render(resumed, _no_record)


def test_resume_takes_a_copy_of_the_training_data_and_files_it_does_not_read(tmp_path, caplog):
    """The checkpoint recorded the modification times of every .exr below each sequence's folder:
    the data copied back in place (`cp -r`: new times) or a comp's .exr beside the renders made
    --resume refuse, saying frames were rendered again. Only the frames read count, by name and size."""
    data = write_render_dataset(tmp_path / "data", sequences=2, size=24)
    run = _run(data, tmp_path / "m", batch=1)
    train_render(run, _no_record)
    shutil.copytree(data, tmp_path / "copy", copy_function=shutil.copyfile)  # new modification times
    shutil.rmtree(data)
    (tmp_path / "copy").rename(data)
    (data / "seq0" / "comp").mkdir()
    (data / "seq0" / "comp" / "slap.1001.exr").write_bytes(b"not read")
    (data / "seq1" / "spp4" / "thumbnail.exr").write_bytes(b"not read")
    logged = (tmp_path / "m" / "log.csv").read_text()
    caplog.set_level(logging.INFO)
    train_render(replace(run, existing="resume"), _no_record)
    assert f"resuming {tmp_path / 'm'} at step 1" in caplog.text  # not started again from step 0
    assert (tmp_path / "m" / "log.csv").read_text() == logged


def _command(device: str, history: list[dict], started: float) -> dict:
    return {"command": "vfxdenoise train --data d --out m"}


def test_the_card_and_the_weights_say_how_the_model_was_made(render_data, tmp_path):
    """The card lacked the seed when it was not typed, the version, the code and the data; a model
    file shipped alone said nothing of how it was made."""
    out = tmp_path / "m"
    train_render(_run(render_data, out), _command)
    training = _card(out)["training"]
    assert training["seed"] == 0 and training["vfxdenoise"] == __version__
    assert training["code"] == provenance.code_digest() and len(training["data_digest"]) == 10
    for name, command in (("model.safetensors", "vfxdenoise train --data d --out m"),
                          ("checkpoint-1.safetensors", None)):
        metadata = read_header(out / name)[0]["__metadata__"]
        assert metadata["vfxdenoise"] == __version__
        recorded = json.loads(metadata["training"])
        assert recorded == {"seed": 0, "data_digest": training["data_digest"], "code": training["code"],
                            **({"command": command} if command else {})}


def test_a_run_ending_in_many_skipped_steps_writes_no_model(render_data, tmp_path, caplog):
    """At --lr 1e8 the steps after the first are skipped (NaN/Inf), too few for the 20 in a row
    that stop a run but too many for bad batches: the weights of step 1 broke (such a model wrote
    black frames), so no model is made, also once resumed; the checkpoint stays."""
    run = _run(render_data, tmp_path / "m", steps=10, batch=1, lr=1e8, validate_every=5)
    for attempt in (run, replace(run, existing="resume")):
        with caplog.at_level("WARNING"), pytest.raises(TrainingError, match=r"its last 9 steps were all "
                                                                            r"skipped.*weights of step 1"):
            train_render(attempt, _no_record)
    assert not (tmp_path / "m" / "model.safetensors").exists()
    assert (tmp_path / "m" / "checkpoint.json").is_file()


def _refuse_nan(constant: str):
    raise ValueError(f"{constant} is no number strict JSON holds")


def test_a_card_whose_last_rows_steps_were_all_skipped_holds_no_nan(render_data, tmp_path):
    """At --lr 1e8 step 3 is skipped, the last row's only step (step 2's row a checkpoint's): one bad
    batch, the weights of step 2 written. That row's loss and rate, NaN (no step ran), are left out
    of the card's validation, which strict JSON readers must read."""
    train_render(_run(render_data, tmp_path / "m", steps=3, batch=1, lr=1e8, validate_every=2), _no_record)
    card = json.loads((tmp_path / "m" / "model.json").read_text(), parse_constant=_refuse_nan)
    assert card["validation"]["step"] == 3 and not {"loss", "lr"} & set(card["validation"])


def test_the_card_lists_the_sequences_trained_on_and_those_left_out_with_why(tmp_path):
    """The card said only how many sequences trained: which, and which the run left out (a
    warning the log may have lost), were not said."""
    data = write_render_dataset(tmp_path / "data", sequences=4, size=24)
    (data / "seq1" / "reference" / "render.1002.exr").unlink()
    (data / "manifest.json").write_text(json.dumps({"sequences": {"seq3": {"complete": False}}}))
    train_render(_run(data, tmp_path / "m", batch=1), _no_record)
    training = _card(tmp_path / "m")["training"]
    assert training["sequences"] == 2
    assert training["sequences_trained"] == [str(data / "seq0"), str(data / "seq2")]
    incomplete, broken = training["sequences_left_out"]  # in the order warned of
    assert incomplete == {"sequence": str(data / "seq3"), "reason": f"{data / 'manifest.json'} marks it "
                          "incomplete (re-run make-dataset to finish it)"}
    assert broken["sequence"] == str(data / "seq1")
    assert broken["reason"].startswith("sequence seq1: reference/ lacks frame(s) 1002")  # the warning's


def test_the_unused_loss_weights_of_a_self_supervised_run_are_said_in_agreement(render_data, tmp_path,
                                                                                caplog):
    caplog.set_level(logging.INFO)
    for given, said in (({"energy_weight": 1.0}, "--energy-weight is not used"),
                        ({"temporal_weight": 1.0, "energy_weight": 1.0},
                         "--temporal-weight, --energy-weight are not used")):
        caplog.clear()
        run = _run(render_data, tmp_path / str(len(given)), batch=1, self_supervised=True, **given)
        train_render(run, _no_record)
        assert said in caplog.text


def test_a_self_supervised_run_with_a_val_of_noisy_renders_alone_is_told_to_give_references(render_data,
                                                                                          tmp_path):
    """Validation scores against the reference, in a self-supervised run too (a second noisy render's
    noise would count as the network's error): a --val of spp4/ and spp4b/ alone was told only to
    render its reference, as if the run could use its second renders as it trains on them."""
    val = tmp_path / "val"
    shutil.copytree(render_data / "seq0", val / "seq0")
    shutil.rmtree(val / "seq0" / "reference")
    run = _run(render_data, tmp_path / "m", val=val, self_supervised=True)
    with pytest.raises(DatasetError, match=re.escape(
            f"--val: sequence seq0 has no reference/ frames to compare with (none in {val / 'seq0'}); "
            "validation scores against the reference, in a --self-supervised run too (a second noisy "
            "render's noise would count as the network's error): render its reference with "
            "make-dataset, or leave --val out to train without validation (a dataset is laid out")):
        train_render(run, _no_record)
    assert not (tmp_path / "m").exists()
    train_render(replace(run, val=None), _no_record)  # as it says


def test_the_layer_options_train_renamed_guides_are_recorded_and_a_resume_with_others_is_refused(tmp_path):
    """train read a studio's DiffuseColor albedo and Nworld normal as missing, with only a note, and
    took no --albedo or --normal. Named, they train, the card says so, and a resume naming other
    layers (other data) is refused; named nowhere, the run is refused, naming the options."""
    data = write_render_dataset(tmp_path / "data", sequences=2, size=24)
    for folder in ("seq0/spp4", "seq1/spp4"):
        pattern = str(data / folder / "render.####.exr")
        rename_layer(rename_layer(pattern, "albedo", "DiffuseColor"), "N", "Nworld")
    with pytest.raises(DatasetError, match=r"--data: none of the 2 sequence\(s\) of .* has albedo or normal "
                                           r"in any frame .* with --albedo and --normal"):
        train_render(_run(data, tmp_path / "m", batch=1), _no_record)
    layers = {"albedo": "DiffuseColor", "normal": "Nworld"}
    run = _run(data, tmp_path / "m", batch=1, layers=layers)
    train_render(run, _no_record)
    assert _card(tmp_path / "m")["training"]["layers"] == layers
    with pytest.raises(TrainingError, match="made with other settings \\(layers: "):
        train_render(replace(run, existing=RESUME, layers={**layers, "albedo": "none"}), _no_record)
