"""Several models scored in one `vfxdenoise eval` run: their names in the tables, the folders of
their contact sheets under --out, and the rows as strict JSON (results.json).

A model is named by its --model value as given (`default`, `models/ft`), so that a table says
which run of a comparison each row is; its contact sheets go to a folder of its own, named after
it, so that two models' sheets of one sequence never overwrite each other. Two values naming the
same weights (`default` and the shipped file's path, a copy of a file) are refused
(`distinct_weights`): they would be scored twice, alike, under two names.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from vfxdenoise.core.errors import ModelError, UsageError
from vfxdenoise.core.model_files import resolve_weights, weights_sha256

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


@contextlib.contextmanager
def named_model(name: str) -> Iterator[None]:
    """A ModelError raised within said of the --model `name` (`--model models/ft: ...`), of its
    class: among several models, the weights' path alone may not say which value named them."""
    try:
        yield
    except ModelError as exc:
        raise type(exc)(f"--model {name}: {exc}") from exc


def distinct_weights(names: Sequence[str], track: str | None = None) -> dict[str, Path]:
    """The weights file each model of `names` (`model_names`, in order) names (`resolve_weights`
    on `track`; a ModelError naming the --model where there is none), refusing (`UsageError`,
    before any is loaded) two whose files have the same contents: `default` and the shipped file's
    path, two paths to one file, a copy. Told by SHA-256 (`weights_sha256`, the weights' identity
    outputs record and farm jobs pin), not by resolved path, which a copy escapes; reading each
    file costs what loading it does."""
    weights: dict[str, Path] = {}
    seen: dict[str, str] = {}  # SHA-256 -> the first --model with it
    for name in names:
        with named_model(name):
            weights[name] = resolve_weights(name, track)
            digest = weights_sha256(weights[name])
        if digest in seen:
            first = seen[digest]
            raise UsageError(f"--model {first} and --model {name} are the same weights ({weights[first]} "
                             f"and {weights[name]}: SHA-256 {digest}), which would be scored twice, "
                             "alike; give each model once")
        seen[digest] = name
    return weights


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
