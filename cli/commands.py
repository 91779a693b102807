"""Where each subcommand lives: module in vfxdenoise.cli -> attribute holding its click command.

The command name is the module name with '_' as '-' (`make_dataset` -> `vfxdenoise make-dataset`).
Modules are imported only when their command runs, so one command's optional dependencies never
break another, and `vfxdenoise --help` lists the commands without importing any (torch alone takes
seconds) from their summaries here.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "seq": "seq",
    "info": "info",
    "demo": "demo",
    "train": "train",
    "eval": "evaluate",
    "farm": "farm",
    "make_dataset": "make_dataset",
    "classic": "classic",
    "denoise_image": "denoise_image",
}

# Module -> the line `vfxdenoise --help` gives its command: its help's first sentence, as click
# would take it from the imported command (tests/cli/test_commands.py keeps the two equal).
SUMMARIES: dict[str, str] = {
    "seq": "Denoise the frames of PATTERN (render.####.exr, %04d, $F4, @) into new EXRs.",
    "info": "Frames, gaps, resolution, windows, channels and the feature mapping of PATTERN.",
    "demo": ("Denoise the sample, print PSNR before/after against its reference, write a "
             "before/after PNG."),
    "train": "Train the temporal denoiser; writes safetensors weights and a model card.",
    "eval": ("Write a markdown table and a labelled contact sheet per sequence and level (noisy | "
             "OIDN | ours | reference | OIDN's and our error on one scale, a zoom where ours errs "
             "most); several --model, each named by its value, in one table per level and a "
             "contact sheet per model in a folder of its own."),
    "farm": ("Write chunked denoise jobs for render farms (Open Job Description / Deadline Cloud, "
             "OpenCue)."),
    "make_dataset": ("Render animated Mitsuba scenes into "
                     "OUT_DIR/<seq>/{sppN,sppNb,reference}/render.####.exr."),
    "classic": "Photograph/scan denoisers of the literature: DAE, DnCNN, ResNet with stochastic depth.",
    "denoise_image": ("Denoise INPUT (PNG/JPEG/TIFF/BMP/EXR) into OUTPUT, keeping the input's bit "
                      "depth where possible."),
}


def command_names() -> list[str]:
    return sorted(module.replace("_", "-") for module in COMMANDS)


def load_command(name: str) -> click.Command | None:
    """Import the module of command `name` and return its click command (None if unknown)."""
    module = name.replace("-", "_")
    if module not in COMMANDS:
        return None
    return getattr(importlib.import_module(f"vfxdenoise.cli.{module}"), COMMANDS[module])


def command_summary(name: str) -> str:
    """The line `vfxdenoise --help` gives command `name`, its module left unimported."""
    return SUMMARIES[name.replace("-", "_")]
