"""`vfxdenoise eval`: score our model (or several), the noisy input and OIDN side by side on
held-out sequences."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import torch

from vfxdenoise.cli.cancels import CancelSayingCommand
from vfxdenoise.cli.options import device_option, layer_options, layer_overrides
from vfxdenoise.core.dataset_sequences import Layers, RenderSequence, check_guides, load_dataset
from vfxdenoise.core.engine_config import PRECISIONS, EngineConfig
from vfxdenoise.core.errors import SequenceError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.evaluation.baselines import oidn_denoiser
from vfxdenoise.core.evaluation.compared_models import (
    distinct_weights,
    json_rows,
    model_names,
    named_model,
    sheet_folders,
)
from vfxdenoise.core.evaluation.scoring import (
    SCORES,
    OutputsHook,
    check_scorable,
    evaluate_sequences,
    format_score,
    mean_scores,
    model_denoiser,
    noisy_denoiser,
)
from vfxdenoise.core.io.dataset_layout import REFERENCE, by_samples, level_pattern
from vfxdenoise.core.io.preview import (
    ERROR_GAIN,
    Column,
    display,
    display_error,
    error_label,
    error_map,
    write_contact_sheet,
)
from vfxdenoise.core.io.sequence import find_sequence
from vfxdenoise.core.model_files import DEFAULT_MODEL
from vfxdenoise.core.runtime.device import model_dtypes, pick_device
from vfxdenoise.core.runtime.host_cpus import cpu_threads_for
from vfxdenoise.core.runtime.torch_settings import torch_settings
from vfxdenoise.core.training.render_data import RenderDataConfig, check_targets
from vfxdenoise.core.weights import RENDER, LoadedModel, load_weights

DECIMALS = {"psnr": 2, "sparkles": 1}
# OIDN as its documentation recommends for noisy guides, the stronger baseline and the one a
# contact sheet shows: albedo and normal prefiltered by OIDN, then cleanAux (`baselines.AuxPrefilter`)
OIDN = "oidn (prefiltered albedo+normal)"
OIDN_NOISY_AUX = "oidn (albedo+normal)"  # the guides as rendered, cleanAux off: the row of earlier tables
OIDN_COLOUR = "oidn (colour only)"
OURS = "ours"  # the rows of the one model of a run that scores one
BASELINES = ("noisy", OIDN, OIDN_NOISY_AUX, OIDN_COLOUR)
OIDN_SAID = (f"OIDN rows (HDR, quality high, every frame on its own): `{OIDN}`: albedo and normal "
             "filtered by OIDN first, then the beauty with cleanAux on, as OIDN's documentation recommends "
             f"for noisy guides (the OIDN of the contact sheets); `{OIDN_NOISY_AUX}`: the guides as "
             f"rendered, cleanAux off; `{OIDN_COLOUR}`: the beauty alone.")
TEMPORAL_SAID = ("temporal, temporal_coarse, temporal_warped: frame-to-frame change the reference does not "
                 "have (lower is better), which a result that changes less (blurred, frozen) also lowers: "
                 "read them beside psnr and temporal_kept, the share of the reference's frame-to-frame "
                 "change the result makes too (1 ideal; 0 for a frozen picture, low for a blur).")


@dataclass(frozen=True)
class ScoredModel:
    """One --model of a run: its rows' method ("ours" alone, else its --model value as given),
    its weights, and the folder under --out its contact sheets go to ("." alone: --out itself)."""

    method: str
    given: str
    loaded: LoadedModel
    sheets: str


def _table(rows: list[dict], with_flip: bool) -> str:
    metrics = [m for m in SCORES if with_flip or m != "flip"]
    head = "| sequence | spp | method | " + " | ".join(metrics) + " |"
    lines = [head, "|" + "---|" * (3 + len(metrics))]
    for row in rows:
        cells = [format_score(row[m], DECIMALS.get(m, 4)) for m in metrics]
        method = row["method"].replace("|", "\\|")  # a --model path may hold one
        lines.append(f"| {row['sequence']} | {row['level']} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _means(rows: list[dict]) -> list[dict]:
    """One "**mean**" row per noisy level and method: the mean of each metric its rows hold, over
    the rows that have it (`mean_scores`: a single-frame sequence has no temporal score)."""
    out = []
    for level in by_samples({r["level"] for r in rows}):
        for method in dict.fromkeys(r["method"] for r in rows):
            subset = [r for r in rows if r["level"] == level and r["method"] == method]
            mean = mean_scores(subset, [m for m in SCORES if m in subset[0]])
            out.append({"sequence": "**mean**", "level": level, "method": method, **mean})
    return out


def _contact_sheets(out_dir: Path, oidn: bool, models: list[ScoredModel]) -> OutputsHook:
    """Write each (sequence, level)'s middle frame as a contact sheet per model, in its folder under
    `out_dir` (`ScoredModel.sheets`; `_sheet_columns`), zoomed where that model errs most, and say
    it is done. The noisy input and OIDN are the same frames on every model's sheet."""

    def write(seq: RenderSequence, level: str, outputs: dict[str, list[np.ndarray]]) -> None:
        middle = seq.length // 2
        reference = seq.targets[REFERENCE][middle]
        title = (f"{seq.name}  ·  {level}  ·  {_frame_named(seq, level, middle)}  ·  "
                 "PSNR of this frame against the reference")
        for scored in models:
            shown = {"noisy": outputs["noisy"][middle]}
            if oidn:
                shown["OIDN"] = outputs[OIDN][middle]
            shown[scored.method] = outputs[scored.method][middle]
            write_contact_sheet(out_dir / scored.sheets / f"{seq.name}_{level}.png",
                                _sheet_columns(shown, reference), title=title,
                                zoom_on=display_error(shown[scored.method], reference), zoom_of=scored.method)
        click.echo(f"{seq.name} {level}: done", err=True)

    return write


def _sheet_columns(shown: dict[str, np.ndarray], reference: np.ndarray) -> list[Column]:
    """Each of `shown` (noisy first) labelled with its PSNR, the reference, then the error maps of
    all but the noisy input on one scale (`error_map`), so that OIDN's and ours compare."""
    mapped_reference = metrics.tonemap(reference)
    columns = [Column(f"{name} — {metrics.psnr(metrics.tonemap(image), mapped_reference):.2f} dB",
                      display(image)) for name, image in shown.items()]
    columns.append(Column("reference", display(reference)))
    return columns + [Column(error_label(name), error_map(image, reference))
                      for name, image in shown.items() if name != "noisy"]


def _sheets_said(oidn: bool, models: list[ScoredModel]) -> str:
    """What results.md says the contact sheets show: one model's in --out, several models' in
    their folders, each sheet showing one model."""
    shown = "ours" if len(models) == 1 else "<model>"
    denoised = ["OIDN", shown] if oidn else [shown]
    columns = ["noisy", *denoised, "reference", *(f"|{name} - ref| x{ERROR_GAIN}" for name in denoised)]
    if len(models) == 1:
        return (f"Contact sheets (<sequence>_<level>.png), the middle frame: {' | '.join(columns)} (the "
                "frames labelled with their PSNR); below them, the window where ours errs most, zoomed")
    return (f"Contact sheets, one per model (<folder>/<sequence>_<level>.png, its folder as listed above), "
            f"the middle frame: {' | '.join(columns)} (the frames labelled with their PSNR); below them, "
            "the window where that model errs most, zoomed")


def _models_said(models: list[ScoredModel]) -> str:
    """results.md's first lines: the model's weights, or each model's name in the tables, its
    weights and the folder of its contact sheets."""
    if len(models) == 1:
        return f"Model: {models[0].loaded.path}"
    return "Models:\n" + "\n".join(f"- {m.method}: {m.loaded.path.resolve()} (contact sheets in {m.sheets}/)"
                                     for m in models)


def _tables(rows: list[dict], with_flip: bool, by_level: bool) -> str:
    """The rows and their means (`_means`) as one table, or with `by_level` (several models) as one
    table per noisy level under a `### <level>` heading: each sequence's rows of every model, the
    noisy input and OIDN together, the level's means below them."""
    if not by_level:
        return _table(rows + _means(rows), with_flip)
    tables = []
    for level in by_samples({r["level"] for r in rows}):
        at_level = [r for r in rows if r["level"] == level]
        tables.append(f"### {level}\n\n{_table(at_level + _means(at_level), with_flip)}")
    return "\n\n".join(tables)


def _results_json(data_dir: Path, models: list[ScoredModel], rows: list[dict]) -> str:
    """results.json: the data, each model (its rows' method, --model as given, weights, sheets'
    folder), every row and the means per level and method, scores that do not exist as null."""
    means = [{k: v for k, v in row.items() if k != "sequence"} for row in _means(rows)]
    return json.dumps({
        "data": str(data_dir),
        "models": [{"method": m.method, "model": m.given, "weights": str(m.loaded.path.resolve()),
                    "sheets": m.sheets}
                   for m in models],
        "rows": json_rows(rows), "means": json_rows(means)}, indent=1, allow_nan=False) + "\n"


def _frame_named(seq: RenderSequence, level: str, index: int) -> str:
    """Frame `index` of `seq` by its number on disk ('frame 1004'), else by its place ('frame 4
    of 8': a sequence not read from a folder)."""
    if seq.folder is not None:
        with contextlib.suppress(SequenceError, IndexError):
            return f"frame {find_sequence(level_pattern(seq.folder / level)).frames[index]}"
    return f"frame {index + 1} of {seq.length}"


@click.command("eval", cls=CancelSayingCommand)
@click.option("--data", "data_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Dataset folder: <seq>/sppN/render.####.exr and <seq>/reference/render.####.exr "
                   "per sequence (make-dataset's layout; a folder's one sequence of frames under another "
                   "name is read too).")
@layer_options  # seq's: the layers of renders that name them otherwise
@click.option("--model", "models", multiple=True, default=(DEFAULT_MODEL,), show_default=True,
              help="Model to score: a shipped one (default, fast), or a model `vfxdenoise train` wrote: "
                   "its --out folder or a .safetensors file. Repeat it to compare models on the same "
                   "frames in one run, each named in the tables by its value as given.")
@click.option("--oidn/--no-oidn", default=True, show_default=True,
              help="Include Intel OIDN baselines (needs pyoidn: the bench extra).")
@click.option("--flip/--no-flip", "with_flip", default=True, show_default=True,
              help="Compute HDR-FLIP (slow; needs flip-evaluator: the metrics or bench extra).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out/eval"),
              show_default=True, help="Folder for results.md and the contact sheets.")
@device_option
@click.option("--precision", type=click.Choice(PRECISIONS), default=EngineConfig.precision, show_default=True,
              help="seq --precision: score the model as seq runs it on this device.")
def evaluate(data_dir: Path, models: tuple[str, ...], oidn: bool, with_flip: bool, out_dir: Path, device: str,
             precision: str, **layers: str | None) -> None:
    """Write a markdown table and a labelled contact sheet per sequence and level (noisy | OIDN | ours |
    reference | OIDN's and our error on one scale, a zoom where ours errs most); several --model, each
    named by its value, in one table per level and a contact sheet per model in a folder of its own.

    Every sequence is read and checked before any is denoised (frames, sizes, references); their
    layers are mapped as `seq` maps a shot's, with the layer options given (the references' beauty
    with --beauty alone), and their motion vectors read as `seq --motion-vectors auto` reads them."""
    where = pick_device(device)
    with torch_settings(cpu_threads_for(where)):  # the CPUs this process may use (a container's quota)
        _evaluate(data_dir, models, oidn, with_flip, out_dir, where, precision, layer_overrides(layers))


def _evaluate(data_dir: Path, given: tuple[str, ...], oidn: bool, with_flip: bool, out_dir: Path,
              where: torch.device, precision: str, layers: Layers) -> None:
    models = _load_models(given, where)
    sequences = load_dataset(data_dir, layers=layers, note_guides=False)
    check_guides(sequences, str(data_dir), layers)
    check_targets(sequences, RenderDataConfig(), what="--data")
    scorable = check_scorable(sequences, what="--data")  # before --out is made, once
    dtype, convolutions = model_dtypes(where, precision)
    methods = {"noisy": noisy_denoiser}
    for scored in models:  # every model denoises each sequence as it is read, once
        scored.loaded.model.to(dtype=dtype).run_convolutions_in(convolutions)
        methods[scored.method] = model_denoiser(scored.loaded.model, where, dtype)
    if oidn:  # once, whatever the number of models
        methods[OIDN] = oidn_denoiser(with_aux=True, prefilter_aux=True)
        methods[OIDN_NOISY_AUX] = oidn_denoiser(with_aux=True)
        methods[OIDN_COLOUR] = oidn_denoiser(with_aux=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    for scored in models:
        (out_dir / scored.sheets).mkdir(exist_ok=True)
    rows = evaluate_sequences(methods, scorable, with_flip, on_outputs=_contact_sheets(out_dir, oidn, models))
    table = _tables(rows, with_flip, by_level=len(models) > 1)
    said = "\n\n".join([_models_said(models), _sheets_said(oidn, models), *([OIDN_SAID] if oidn else []),
                         TEMPORAL_SAID])
    (out_dir / "results.md").write_text(f"{said}\n\n{table}\n")
    (out_dir / "results.json").write_text(_results_json(data_dir, models, rows))
    click.echo(table)
    click.echo(f"\nwritten: {out_dir / 'results.md'}, {out_dir / 'results.json'}", err=True)


def _load_models(given: tuple[str, ...], where: torch.device) -> list[ScoredModel]:
    """Each --model's weights, read before any frame is: one is "ours" with its sheets in --out, as
    a run of one model always wrote; several are named by their values (`model_names`: none given
    twice, nor the same weights under two: `distinct_weights`, before any is loaded) with a folder
    each (`sheet_folders`), and weights refused name the --model they were (`named_model`)."""
    if len(given) == 1:
        return [ScoredModel(OURS, given[0], load_weights(given[0], where, track=RENDER), ".")]
    names = model_names(given, taken=BASELINES)
    weights = distinct_weights(names, track=RENDER)
    folders = sheet_folders(names)
    models = []
    for name in names:
        with named_model(name):
            loaded = load_weights(weights[name], where, track=RENDER)
        models.append(ScoredModel(name, name, loaded, folders[name]))
    return models
