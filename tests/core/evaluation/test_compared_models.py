"""Several models in one eval run: their names (each --model as given, none twice), the folders of
their contact sheets (never shared, whatever the names) and their rows as strict JSON."""

import json
import math

import pytest

from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.evaluation.compared_models import json_rows, model_names, sheet_folders


def test_models_are_named_as_given_and_one_given_twice_is_refused():
    assert model_names(["default", "models/ft"], taken=["noisy"]) == ["default", "models/ft"]
    with pytest.raises(UsageError, match="--model models/ft is given twice"):
        model_names(["models/ft", "default", "models/ft"])


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
