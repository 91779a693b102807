"""OpenCue outlines built with the real opencue-pyoutline and serialized without a Cuebot."""

from __future__ import annotations

import shlex
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("outline", reason="needs the farm extra (opencue-pyoutline)")

from vfxdenoise.core.errors import FarmError, UsageError  # noqa: E402
from vfxdenoise.core.io.sequence import parse_frame_spec  # noqa: E402
from vfxdenoise.plugin.farm import SeqOptions, build_job  # noqa: E402
from vfxdenoise.plugin.farm.opencue import OpenCueOptions, launch, serialize  # noqa: E402


def _layers(xml: str) -> dict[str, ET.Element]:
    return {layer.get("name"): layer for layer in ET.fromstring(xml).iter("layer")}


def _cuebot_chunks(frames: list[int], chunk: int) -> list[tuple[int, int]]:
    """What Cuebot substitutes: each chunk's first and last frame of the layer's range."""
    groups = [frames[i:i + chunk] for i in range(0, len(frames), chunk)]
    return [(group[0], group[-1]) for group in groups]


def _substitute(command: str, start: int, end: int) -> list[str]:
    return shlex.split(command.replace("#FRAME_START#", str(start)).replace("#FRAME_END#", str(end)))


def _frames_arg(argv: list[str]) -> str:
    return next(a for a in argv if a.startswith("--frames=")).split("=", 1)[1]


@pytest.fixture
def shot(sequence_factory) -> str:
    return sequence_factory(frames=range(1001, 1008), height=32, width=32)


def test_outline_layer_has_the_seq_command_range_chunk_and_booking(shot, tmp_path, tiny_weights):
    job = build_job(shot, str(tmp_path / "out" / "den.####.exr"), chunk=3,
                    options=SeqOptions(model=str(tiny_weights), temporal_radius=2))
    options = OpenCueOptions(show="demo", shot="sq010_sh020", user="artist", cores=4, gpus=1,
                             gpu_memory=8, tags=("gpu", "cuda"), memory=16)

    spec = ET.fromstring(serialize(job, options))

    assert spec.findtext("show") == "demo" and spec.findtext("user") == "artist"
    layers = _layers(serialize(job, options))
    assert list(layers) == ["denoise"]
    layer = layers["denoise"]
    assert layer.findtext("range") == "1001-1007"
    assert layer.findtext("chunk") == "3"
    assert shlex.split(layer.findtext("cmd")) == job.seq_command("#FRAME_START#-#FRAME_END#")
    assert shlex.split(layer.findtext("cmd"))[:4] == [
        *job.command, "seq", str(tmp_path / "shot" / "render.####.exr"),
        "--frames=#FRAME_START#-#FRAME_END#"]
    assert "--resume" in layer.findtext("cmd")
    assert layer.findtext("cores") == "4.0"
    assert layer.findtext("gpus") == "1" and layer.findtext("gpu_memory") == "8192m"
    assert layer.findtext("memory") == "16384m"
    assert layer.findtext("tags") == "gpu | cuda"


def test_each_cuebot_chunk_denoises_exactly_its_frames(tmp_path):
    frames = "1001-1013x3,1020-1023"  # a stepped run and a contiguous run: one layer each
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, frames, chunk=2)
    layers = _layers(serialize(job))
    assert len(layers) == 2

    covered = []
    for layer in layers.values():
        layer_frames = parse_frame_spec(layer.findtext("range"))
        for start, end in _cuebot_chunks(layer_frames, int(layer.findtext("chunk"))):
            chunk_frames = parse_frame_spec(_frames_arg(_substitute(layer.findtext("cmd"), start, end)))
            assert len(chunk_frames) <= 2
            covered += chunk_frames
    assert covered == parse_frame_spec(frames)


def test_memory_is_booked_in_whole_megabytes_cuebot_reads(tmp_path):
    """Cuebot reads '1.5g' with Long.valueOf: it failed, and the layer booked Cuebot's default."""
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", chunk=2)
    layer = _layers(serialize(job, OpenCueOptions(memory=1.5, gpus=1, gpu_memory=7.5)))["denoise"]
    assert layer.findtext("memory") == "1536m" and layer.findtext("gpu_memory") == "7680m"


@pytest.mark.parametrize("frames", ["-5-4", "-5--1", "-1"])
def test_frames_below_zero_are_refused_as_cuebot_cannot_dispatch_them(tmp_path, frames):
    """Cuebot names a frame '%04d-LAYER' and reads its number back up to the first '-': a job of
    frame -5 was taken and never ran. OpenJD runs them (test_openjd)."""
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, frames, chunk=2)
    with pytest.raises(FarmError, match="OpenCue cannot run negative frame numbers.*farm openjd"):
        serialize(job)
    with pytest.raises(FarmError, match="OpenCue cannot run negative"):
        launch(job, cuebot="127.0.0.1:1")  # refused before any Cuebot is asked


def test_frame_zero_reaches_seq(tmp_path):
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "0-3", chunk=2)
    layer = _layers(serialize(job))["denoise"]
    assert parse_frame_spec(layer.findtext("range")) == [0, 1, 2, 3]
    argv = _substitute(layer.findtext("cmd"), 0, 1)
    assert "--frames=0-1" in argv and parse_frame_spec(_frames_arg(argv)) == [0, 1]


@pytest.mark.parametrize(("name", "shot", "tags", "refusal"), [
    ("sh020 denoise", None, (), "--name 'sh020 denoise' is refused by OpenCue"),  # not an NMTOKEN
    ("ab", None, (), "--name 'ab' is refused by OpenCue: give at least 3 characters"),
    ("sh020/denoise", None, (), "--name 'sh020/denoise'"),
    (None, "sh 020", (), "--shot 'sh 020' is refused by OpenCue"),
    (None, "ab", (), "--shot 'ab' is refused by OpenCue: give at least 3 characters"),
    (None, None, ("gpu", "4k"), "--tags: tag '4k' is refused by OpenCue"),
    (None, None, ("gpu", "cu-da"), "--tags: tag 'cu-da' is refused by OpenCue"),
])
def test_names_cuebot_refuses_are_refused_when_the_spec_is_written(tmp_path, name, shot, tags, refusal):
    """The spec printed was one Cuebot refuses (the cjsl DTD, conformShotName, determineTags)."""
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", chunk=2, name=name)
    with pytest.raises(FarmError) as info:
        serialize(job, OpenCueOptions(shot=shot, tags=tags))
    assert str(info.value).startswith(refusal), info.value


def test_a_shot_from_the_environment_is_checked_and_named_as_such(tmp_path, monkeypatch):
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", chunk=2)
    monkeypatch.setenv("SHOT", "s1")
    with pytest.raises(FarmError, match=r"^\$SHOT 's1' is refused by OpenCue"):
        serialize(job)
    monkeypatch.setenv("SHOT", "sq010-sh020.v2")
    spec = ET.fromstring(serialize(job, OpenCueOptions(tags=("gpu_a100", "cuda.12"))))
    assert spec.findtext("shot") == "sq010-sh020.v2"
    assert spec.findtext("job/layers/layer/tags") == "gpu_a100 | cuda.12"


def test_gpu_memory_without_a_gpu_is_refused(tmp_path):
    """pyoutline books a GPU whenever GPU memory is given: a CPU task held a GPU."""
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", chunk=2)
    with pytest.raises(UsageError, match="--gpu-memory 4 books GPU memory for a task that books no GPU "
                                        r"\(--gpus 0"):
        serialize(job, OpenCueOptions(gpus=0, gpu_memory=4))


def test_a_cuda_job_that_books_no_gpu_is_refused_from_python_as_from_the_cli(tmp_path):
    """`vfxdenoise farm opencue --device cuda --gpus 0` was refused, but `serialize` (and `launch`)
    called from Python took it: every task ran seq --device cuda on a worker with no GPU booked,
    and failed there on every retry. The job's own --device is checked against its booking."""
    pattern = str(tmp_path / "farmonly" / "render.####.exr")
    job = build_job(pattern, None, "1-4", chunk=2, options=SeqOptions(device="cuda"))
    with pytest.raises(UsageError, match=r"^--device cuda runs each task on a GPU, but --gpus 0 books none"):
        serialize(job, OpenCueOptions(gpus=0))
    assert _layers(serialize(job, OpenCueOptions(gpus=1)))["denoise"].findtext("gpus") == "1"
    for device in ("cpu", "auto"):
        serialize(build_job(pattern, None, "1-4", options=SeqOptions(device=device)), OpenCueOptions(gpus=0))


def test_a_cpu_job_serialized_from_python_keeps_seq_within_its_booking(tmp_path):
    """`vfxdenoise farm opencue --device cpu --memory 16 --cores 4` ran seq --max-mem 16
    --cpu-threads 4, but `serialize(job, OpenCueOptions(memory=16, cores=4))` from Python booked
    them and ran seq without either. The limits come from the booking as the outline is built; a
    task booking a GPU is not held to them, and a --max-mem or --cpu-threads the job gives wins."""
    pattern = str(tmp_path / "farmonly" / "render.####.exr")

    def seq_args(options: SeqOptions, booking: OpenCueOptions) -> list[str]:
        job = build_job(pattern, None, "1-4", chunk=2, options=options)
        argv = shlex.split(_layers(serialize(job, booking))["denoise"].findtext("cmd"))
        return argv[argv.index("none") + 2:]  # after --progress none --model-sha256=...

    cpu = SeqOptions(device="cpu")
    booked = OpenCueOptions(memory=16, cores=4)
    assert seq_args(cpu, booked) == ["--device", "cpu", "--max-mem", "16", "--cpu-threads", "4"]
    assert seq_args(cpu, OpenCueOptions()) == ["--device", "cpu"]
    assert seq_args(SeqOptions(), OpenCueOptions(memory=16, cores=4, gpus=1)) == []
    given = SeqOptions(device="cpu", max_mem=8, cpu_threads=2)
    assert seq_args(given, booked) == ["--device", "cpu", "--max-mem", "8", "--cpu-threads", "2"]


@pytest.mark.parametrize(("gpus", "gpu_memory", "booked"), [
    (1, None, ("1", "0m")), (2, 4, ("2", "4096m")), (0, None, (None, None))])
def test_gpu_memory_is_booked_only_as_asked(tmp_path, gpus, gpu_memory, booked):
    """A layer booking a GPU without --gpu-memory booked 1g of it (pyoutline's default)."""
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", chunk=2)
    layer = _layers(serialize(job, OpenCueOptions(gpus=gpus, gpu_memory=gpu_memory)))["denoise"]
    assert (layer.findtext("gpus"), layer.findtext("gpu_memory")) == booked


def test_serializing_leaves_no_session_folder_in_home(tmp_path, monkeypatch):
    import outline

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    before = outline.config.get("outline", "session_dir", raw=True)
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", chunk=2)
    serialize(job)
    assert not (tmp_path / "home").exists()
    assert outline.config.get("outline", "session_dir", raw=True) == before


def test_launch_without_a_reachable_cuebot_says_what_to_do(tmp_path):
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", chunk=2)
    with pytest.raises(FarmError, match="127.0.0.1:1.*--cuebot"):
        launch(job, cuebot="127.0.0.1:1")
