"""Several models in one eval run: their names (each --model as given, none twice, nor the same
weights under two names), the folders of their contact sheets (never shared, whatever the names)
and their rows as strict JSON."""

import json
import math
import re
from pathlib import Path

import pytest

from vfxdenoise.core.errors import ModelError, UsageError
from vfxdenoise.core.evaluation.compared_models import distinct_weights, json_rows, model_names, sheet_folders
from vfxdenoise.core.model_files import DEFAULT_MODEL, SHIPPED_DIR, WEIGHTS_SUFFIX


def test_models_are_named_as_given_and_one_given_twice_is_refused():
    assert model_names(["default", "models/ft"], taken=["noisy"]) == ["default", "models/ft"]
    with pytest.raises(UsageError, match="--model models/ft is given twice"):
        model_names(["models/ft", "default", "models/ft"])


def test_the_same_weights_under_two_names_are_refused_naming_both(tmp_path):
    """Names alone let the same weights be scored twice, alike: a shipped name and its file's path,
    two paths to one file, a copy of it. Told by contents (SHA-256), which a copy keeps."""
    shipped = str(SHIPPED_DIR / f"{DEFAULT_MODEL}{WEIGHTS_SUFFIX}")
    refused = rf"--model default and --model {re.escape(shipped)} are the same weights"
    with pytest.raises(UsageError, match=refused):
        distinct_weights([DEFAULT_MODEL, "fast", shipped])
    first, other = tmp_path / "ft.safetensors", tmp_path / "other.safetensors"
    first.write_bytes(b"weights of a fine-tune")
    other.write_bytes(b"weights of another fine-tune")
    (tmp_path / "copy.safetensors").write_bytes(first.read_bytes())
    (tmp_path / "link.safetensors").symlink_to(first)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.safetensors").write_bytes(first.read_bytes())  # a training run's folder
    for twin in ("copy.safetensors", "link.safetensors", "run"):
        named = f"--model {first} and --model {tmp_path / twin}"
        with pytest.raises(UsageError, match=re.escape(named) + " are the same weights .*SHA-256 "
                                             "[0-9a-f]{64}.*give each model once"):
            distinct_weights([str(first), str(other), str(tmp_path / twin)])
    assert distinct_weights([str(first), str(other), DEFAULT_MODEL]) == {
        str(first): first, str(other): other, DEFAULT_MODEL: Path(shipped)}


def test_weights_not_found_among_several_name_the_model_they_were_given_as(tmp_path):
    gone = str(tmp_path / "gone.safetensors")
    with pytest.raises(ModelError, match=rf"^--model {re.escape(gone)}: model weights not found"):
        distinct_weights([DEFAULT_MODEL, gone])


def test_a_model_named_as_a_baseline_row_is_refused():
    with pytest.raises(UsageError, match=r"--model noisy has the name of a row .* \(\./noisy\)"):
        model_names(["default", "noisy"], taken=["noisy", "oidn (colour only)"])


def test_each_model_gets_a_folder_of_its_own_whatever_its_name():
    """A path's slashes, a case-only difference (one folder on macOS) and --out's own files."""
    folders = sheet_folders(["default", "models/ft", "models_ft", "Default", "../ft v2.safetensors",
                             "results.md", "..", "/"])
    assert folders == {"default": "default", "models/ft": "models_ft", "models_ft": "models_ft_2",
                       "Default": "Default_2", "../ft v2.safetensors": "ft_v2.safetensors",
                       "results.md": "results.md_2", "..": "model", "/": "model_2"}
    assert len({f.casefold() for f in folders.values()}) == len(folders)


def test_rows_as_strict_json_hold_null_for_a_score_that_does_not_exist():
    rows = [{"sequence": "single", "method": "ours", "psnr": 30.5, "temporal": math.nan}]
    text = json.dumps(json_rows(rows), allow_nan=False)
    assert json.loads(text) == [{"sequence": "single", "method": "ours", "psnr": 30.5, "temporal": None}]
