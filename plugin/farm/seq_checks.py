"""The checks `vfxdenoise seq` runs before its first frame, run on a farm job when it is written.

Every task of a job runs seq with the job's options, so what seq refuses before it denoises a frame
(the model and its temporal radius, an output pattern over the inputs or not ending in .exr, an
output folder it cannot write to, layers and views the frames do not hold) would fail every task,
on the farm, after submission. These are seq's own checks, called here, not copies of them. What
this machine cannot see (the input folder, a model path only the workers have) is left to the
tasks, with a warning. The checks import the engine (torch, numpy, OpenImageIO) when they run, not
when this module is imported: the plugin layer stays standard library only at import
(ARCHITECTURE.md).
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
    `options` (`SeqOptions.engine_config`) and the job's --resume or --overwrite: what is not
    given (the model) is seq's default. An output folder that cannot be written is refused as
    seq refuses it: unless under --resume every frame's output is on disk already (a job
    submitted again over a folder published read-only since), where seq writes nothing."""
    from vfxdenoise.core.io import outputs
    from vfxdenoise.core.shot_settings import check_layers

    config = options.engine_config(resume=job.existing == "resume", overwrite=job.existing == "overwrite")
    config.check()
    _check_model(config)
    if not job.input.directory.is_dir():
        return  # `build_job` has warned: nothing on disk to check against
    on_disk = job.input.frames_on_disk()
    outputs.check_writable(job.input, job.output, on_disk, list(job.frames),
                           folder_needed=not _may_write_nothing(job, on_disk, config))
    rendered = set(on_disk)  # layers the options name, on the job's first frame that reads
    check_layers(job.input, (f for f in job.frames if f in rendered), config)


def _may_write_nothing(job: FarmJob, on_disk: list[int], config: EngineConfig) -> bool:
    """Whether the job's tasks may all find they have nothing to write, as seq decides it for
    its frames (`engine.may_write_nothing`), over the job's frames. A task reads the frames of
    the render's range (--context-frames) when given, those not rendered yet too (they are by
    the time it runs), else those on disk. Seq finds an output it does again (damaged, or made
    from other frames or settings) only once it plans, with the workers' code and model: such a
    task refuses the unwritable folder then, on the farm."""
    from vfxdenoise.core.engine import may_write_nothing as seq_may_write_nothing
    from vfxdenoise.core.io.sequence import option_frames

    context = option_frames(config.context_frames, "--context-frames")
    return seq_may_write_nothing(list(job.frames), on_disk if context is None else context, job.output,
                                 config)


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
