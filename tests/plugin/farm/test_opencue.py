"""OpenCue outlines built with the real opencue-pyoutline and serialized without a Cuebot."""

from __future__ import annotations

import shlex
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("outline", reason="needs the farm extra (opencue-pyoutline)")

from vfxdenoise.core.errors import FarmError  # noqa: E402
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
                             gpu_memory="8g", tags=("gpu", "cuda"), memory="16g")

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
    assert layer.findtext("gpus") == "1" and layer.findtext("gpu_memory") == "8g"
    assert layer.findtext("memory") == "16g"
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


def test_negative_frames_reach_seq_as_one_argument(tmp_path):
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "-5--1", chunk=2)
    layer = _layers(serialize(job))["denoise"]
    assert parse_frame_spec(layer.findtext("range")) == [-5, -4, -3, -2, -1]
    argv = _substitute(layer.findtext("cmd"), -5, -4)
    assert "--frames=-5--4" in argv and parse_frame_spec(_frames_arg(argv)) == [-5, -4]


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
