"""What a denoised frame records of what it was made from, and how --resume reads it back."""

import os

from exr_sequences import write_sequence

from vfxdenoise.core.denoised_frame import INPUTS_ATTRIBUTE, inputs_fingerprint, made_from
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern


def test_the_fingerprint_follows_the_frames_names_sizes_times_and_settings(tmp_path):
    frames = [tmp_path / "a.exr", tmp_path / "b.exr"]
    for path in frames:
        path.write_bytes(b"0123")
    first = inputs_fingerprint(frames, "settings")
    assert inputs_fingerprint(frames, "settings") == first
    assert inputs_fingerprint(frames, "other settings") != first
    assert inputs_fingerprint(frames[:1], "settings") != first
    stat = frames[1].stat()
    os.utime(frames[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # rendered again, same size
    assert inputs_fingerprint(frames, "settings") != first
    frames[1].unlink()
    assert inputs_fingerprint(frames, "settings") != first  # absent: no error, another print


def test_an_output_is_made_from_what_it_records_and_nothing_else(tmp_path):
    shot = write_sequence(tmp_path / "shot", frames=range(1, 4), height=16, width=16)
    summary = denoise_sequence(shot, str(tmp_path / "out" / "o.####.exr"),
                               config=EngineConfig(model="fast", device="cpu"))
    output, rendered = summary.output_pattern.path(2), parse_pattern(shot).path(2)
    recorded = read_exr(output).parts[0].spec.getattribute(INPUTS_ATTRIBUTE)
    assert len(recorded) == 16 and made_from(output, recorded)
    assert not made_from(output, "0" * 16)
    assert not made_from(rendered, recorded)  # a render records nothing
    assert not made_from(tmp_path / "none.exr", recorded)  # nor does a file not there
