"""What a denoised frame records of what made it, and how --resume reads it back."""

import os

from exr_sequences import write_sequence

from vfxdenoise.core import provenance
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern


def test_the_frames_digest_follows_names_sizes_and_times(tmp_path):
    frames = [tmp_path / "a.exr", tmp_path / "b.exr"]
    for path in frames:
        path.write_bytes(b"0123")
    first = provenance.frames_digest(frames)
    assert provenance.frames_digest(frames) == first
    assert provenance.frames_digest(frames[:1]) != first
    stat = frames[1].stat()
    os.utime(frames[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # rendered again, same size
    assert provenance.frames_digest(frames) != first
    frames[1].unlink()
    assert provenance.frames_digest(frames) != first  # absent: no error, another digest


def test_weights_are_known_by_their_contents_not_their_path(tmp_path):
    (tmp_path / "a.safetensors").write_bytes(b"weights")
    (tmp_path / "b.safetensors").write_bytes(b"weights")
    (tmp_path / "c.safetensors").write_bytes(b"retrained")
    digests = [provenance.file_digest(tmp_path / f"{name}.safetensors") for name in "abc"]
    assert digests[0] == digests[1] != digests[2]


def test_an_output_says_which_of_what_made_it_changed(tmp_path):
    shot = write_sequence(tmp_path / "shot", frames=range(1, 4), height=16, width=16)
    summary = denoise_sequence(shot, str(tmp_path / "out" / "o.####.exr"),
                               config=EngineConfig(model="fast", device="cpu"))
    output, rendered = summary.output_pattern.path(2), parse_pattern(shot).path(2)
    recorded = read_exr(output).parts[0].spec.getattribute(provenance.ATTRIBUTE)
    assert provenance.why_not_made_from(output, recorded) == ""
    parts = dict(part.split("=") for part in recorded.split())
    assert provenance.why_not_made_from(output, provenance.record("0", parts["settings"], parts["code"])) \
        == "its input frames changed (rendered again since?)"
    assert provenance.why_not_made_from(output, provenance.record(parts["frames"], "0", "0")) == (
        "it was made with other settings or another model; another version of vfxdenoise made it")
    assert "records nothing" in provenance.why_not_made_from(rendered, recorded)  # a render
    assert provenance.why_not_made_from(tmp_path / "none.exr", recorded) == "it cannot be read"
