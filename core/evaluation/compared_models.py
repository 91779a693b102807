"""Several models scored in one `vfxdenoise eval` run: their names in the tables, the folders of
their contact sheets under --out, and the rows as strict JSON (results.json).

A model is named by its --model value as given (`default`, `models/ft`), so that a table says
which run of a comparison each row is; its contact sheets go to a folder of its own, named after
it, so that two models' sheets of one sequence never overwrite each other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from vfxdenoise.core.errors import UsageError

# What --out holds beside the models' folders: a folder may not take their names.
RESERVED_NAMES = ("results.md", "results.json")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def model_names(given: Sequence[str], taken: Iterable[str] = ()) -> list[str]:
    """The table names of the models `given` (--model values, in order): each as given. Refuse
    (`UsageError`, before any weights are read) a value given twice, whose rows no one could tell
    apart, and one that is the name of another method of the table (`taken`: "noisy", OIDN's)."""
    taken = set(taken)
    seen: set[str] = set()
    for name in given:
        if name in seen:
            raise UsageError(f"--model {name} is given twice: each model's rows are named by its --model "
                             "value, so two alike cannot be told apart; give each model once")
        if name in taken:
            raise UsageError(f"--model {name} has the name of a row eval scores beside the models "
                             f"({', '.join(sorted(taken))}): give it by another path (./{name})")
        seen.add(name)
    return list(given)


def sheet_folders(names: Sequence[str]) -> dict[str, str]:
    """Each model name's folder for its contact sheets, under --out: the name with what a folder
    name cannot hold (`/`, spaces, ...) as `_` and no leading or trailing dots (`models/ft` ->
    `models_ft`, `../ft.safetensors` -> `ft.safetensors`), unique without regard to case (a
    macOS or Windows disk's) and apart from --out's files (`RESERVED_NAMES`): a later name that
    would share one gets `_2`, `_3`, ... ."""
    used = {name.casefold() for name in RESERVED_NAMES}
    folders = {}
    for name in names:
        base = _UNSAFE.sub("_", name).strip("._-") or "model"
        folder, count = base, 1
        while folder.casefold() in used:
            count += 1
            folder = f"{base}_{count}"
        used.add(folder.casefold())
        folders[name] = folder
    return folders


def json_rows(rows: Iterable[dict]) -> list[dict]:
    """Score rows as strict JSON holds them: a score that is no finite number (NaN: no temporal
    score for a single frame) as None (null); `json.dumps` writes `NaN`, which strict parsers
    (JavaScript's, jq's) refuse."""
    return [{key: None if isinstance(value, float) and not math.isfinite(value) else value
             for key, value in row.items()} for row in rows]
