"""The checks `vfxdenoise seq` runs before its first frame, run on a farm job when it is written.

Every task of a job runs seq with the job's options, so what seq refuses before it denoises a frame
(the model and its temporal radius, an output pattern over the inputs or not ending in .exr, layers
and views the frames do not hold) would fail every task, on the farm, after submission. These are
seq's own checks, called here, not copies of them. What this machine cannot see (the input folder,
a model path only the workers have) is left to the tasks, with a warning. The checks import the
engine (torch, numpy, OpenImageIO) when they run, not when this module is imported: the plugin
layer stays standard library only at import (ARCHITECTURE.md).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from vfxdenoise.core.errors import ModelError
from vfxdenoise.plugin.farm.job import FarmJob
from vfxdenoise.plugin.seq_options import SeqOptions

if TYPE_CHECKING:
    from vfxdenoise.core.engine_config import EngineConfig

log = logging.getLogger(__name__)


def check_as_seq(job: FarmJob, options: SeqOptions) -> None:
    """Refuse `job` where seq, run by each of its tasks with `options`, would refuse before its
    first frame; raises the VfxDenoiseError seq would. The config is the one seq builds from
    `options` (`SeqOptions.engine_config`): what is not given (the model) is seq's default."""
    from vfxdenoise.core.io import outputs
    from vfxdenoise.core.shot_settings import check_layers

    config = options.engine_config()
    config.check()
    _check_model(config)
    if not job.input.directory.is_dir():
        return  # `build_job` has warned: nothing on disk to check against
    on_disk = job.input.frames_on_disk()
    outputs.check_writable(job.input, job.output, on_disk, list(job.frames))
    rendered = set(on_disk)  # layers the options name, on the job's first frame that reads
    check_layers(job.input, (f for f in job.frames if f in rendered), config)


def _check_model(config: EngineConfig) -> None:
    """The model loads as a render model, and the temporal radius is within its range. A model
    path that is not on this machine is left to the workers ('the path the workers see')."""
    from vfxdenoise.core.engine import temporal_radius
    from vfxdenoise.core.weights import RENDER, load_weights

    try:
        loaded = load_weights(config.model, track=RENDER)
    except ModelError:
        path = Path(config.model).expanduser()
        if not path.exists() and (path.suffix == ".safetensors" or len(path.parts) > 1):
            log.warning("model %s is not on this machine; it is not checked before submission",
                        config.model)
            return
        raise
    temporal_radius(loaded, config)
