"""Farm jobs: chunked `vfxdenoise seq` runs on the engines studios already run.

`job` describes one chunked denoise; `openjd` writes it as an Open Job Description bundle (Deadline
Cloud, `openjd run`), `opencue` as an OpenCue outline. The engines themselves are optional
dependencies (`pip install vfxdenoise[farm]`), imported only by the writer that needs them.
"""

from vfxdenoise.plugin.farm.job import FarmJob, booked_job, build_job, default_command, within_booking
from vfxdenoise.plugin.seq_options import SeqOptions

__all__ = ["FarmJob", "SeqOptions", "booked_job", "build_job", "default_command", "within_booking"]
