"""Scenes a render training run reads twice: --data scenes rendered again, --val scenes --data trains on."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from exr_sequences import write_render_dataset

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.io.dataset_layout import MANIFEST
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.training.scene_repeats import warn_of_repeated_scenes


def _stamp_scene(folder: Path, seed: int, style: str) -> None:
    """Give a sequence's first noisy frame the scene header make-dataset writes."""
    path = folder / "spp4" / "render.1001.exr"
    image = read_exr(path)
    image.set_attribute("vfxdenoise:sceneSeed", seed)
    image.set_attribute("vfxdenoise:style", style)
    write_exr(path, image)


def _warnings(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_validation_rendering_the_training_scenes_in_other_folders_is_warned_of(tmp_path, caplog):
    """A copy of the training set, or one rendered again with its --seed but without --validation,
    validated without a word: only the same folders were spotted."""
    data = write_render_dataset(tmp_path / "train", sequences=2, size=24)
    val = write_render_dataset(tmp_path / "val", sequences=2, size=24)
    for folder, seed, style in ((data / "seq0", 11, "random"), (data / "seq1", 12, "random"),
                                (val / "seq0", 12, "random"), (val / "seq1", 11, "hard")):
        _stamp_scene(folder, seed, style)
    warn_of_repeated_scenes(load_dataset(data), load_dataset(val))
    assert _warnings(caplog) == [
        "--val renders 1 of its 2 sequences from scenes --data trains on (val/seq0 as train/seq1: scene "
        "seed 12, style random): validation scores on them measure the fit to the training data, not "
        "denoising unseen shots; render --val with make-dataset --validation (scene seeds of its own) or "
        "another --seed"]  # val/seq1: another style, another scene; no folder in common


def test_scenes_the_training_data_repeats_are_warned_of_once_naming_both_renders(tmp_path, caplog):
    """A dataset given twice under two folders (a copy, make-dataset run twice with one --seed),
    or a sequence copied within one, trained on its scenes twice without a word. Renders of the
    same scenes under another light group (make-dataset --lights) are other pictures: no repeat."""
    data = write_render_dataset(tmp_path / "train", sequences=2, frames=range(1001, 1003), size=24)
    _stamp_scene(data / "seq0", 11, "random")
    _stamp_scene(data / "seq1", 12, "random")
    lights = shutil.copytree(data, tmp_path / "local")
    (lights / MANIFEST).write_text(json.dumps({"config": {"lights": "local"}, "sequences": {}}))
    shutil.copytree(data / "seq0", data / "seq2")  # within one folder
    copy = shutil.copytree(data, tmp_path / "copy" / "train")  # another folder of the same name
    warn_of_repeated_scenes([seq for root in (data, lights, copy) for seq in load_dataset(root)], [])
    first, again = data.resolve(), copy.resolve()
    assert _warnings(caplog) == [
        "--data renders 4 of its 8 sequences from scenes it already trains on (train/seq2 as train/seq0: "
        f"scene seed 11, style random; {again}/seq0 as {first}/seq0: scene seed 11, style random; "
        f"{again}/seq1 as {first}/seq1: scene seed 12, style random; {again}/seq2 as {first}/seq0: "
        "scene seed 11, style random): the run trains on each such scene more than once, weighting it "
        "above the others; give each dataset once (a copy, or make-dataset run again with the same "
        "--seed, renders the same scenes), or render the others with another --seed"]


def test_training_data_without_scene_headers_is_not_compared(tmp_path, caplog):
    """Renders from elsewhere do not say their scene: identical frames are not taken for repeats."""
    data = write_render_dataset(tmp_path / "train", sequences=1, frames=range(1001, 1003), size=24)
    copy = shutil.copytree(data, tmp_path / "copy")
    warn_of_repeated_scenes([*load_dataset(data), *load_dataset(copy)], [])
    assert _warnings(caplog) == []


def test_reading_scenes_imports_no_dataset_generator():
    """Reading a scene from a header imported the Mitsuba dataset generator (data.generate)."""
    code = ("import sys, vfxdenoise.core.training.scene_repeats; "
            "print('vfxdenoise.core.data.generate' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
