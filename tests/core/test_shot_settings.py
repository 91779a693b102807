"""What a run finds out about the whole shot before its first frame (the rest runs through the
engine: tests/core/test_engine.py, tests/core/test_motion_vectors.py, tests/core/test_exposure.py)."""

import logging

import numpy as np
import OpenImageIO as oiio
import pytest
import torch
from exr_sequences import (
    rename_layer,
    with_named_light_groups,
    without_layer,
    write_stereo_sequence,
    write_textured_sequence,
)

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import ChannelError, ExrError, MissingFramesError, UsageError
from vfxdenoise.core.frame_source import FrameSource, ProbedImages
from vfxdenoise.core.input_noise import CLEAN_BELOW
from vfxdenoise.core.io.exr import ExrImage, ExrPart, read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.motion_vectors import IGNORED
from vfxdenoise.core.shot_settings import (
    check_layers,
    clean_input,
    exposure_frames,
    exposure_window,
    find_exposure,
    find_motion_vectors,
    motion_pairs,
    shot_frames,
)


def test_the_exposure_is_found_from_the_shots_first_window_whatever_the_run_reads():
    on_disk = list(range(1001, 1011))
    assert exposure_frames(on_disk, EngineConfig(), 2) == [1001, 1002, 1003, 1004, 1005]
    assert exposure_frames(on_disk[3:], EngineConfig(), 1) == [1004, 1005, 1006]
    # the render's own range decides, not the frames it has written yet
    assert exposure_frames([1003, 1004], EngineConfig(context_frames="1001-1100"), 1) == [1001, 1002, 1003]
    assert exposure_frames(on_disk, EngineConfig(exposure=4.0), 2) == []  # given: found from none


def test_a_shot_given_is_what_its_settings_are_found_from_and_its_range_is_parsed_naming_the_option():
    """A run parses --context-frames once and passes the shot on (`shot`): what `config` says
    is then not parsed again. Where none is given it is parsed as the run parses it."""
    context = EngineConfig(context_frames="1-100")
    assert exposure_frames([1, 2], context, 1, shot=[5, 6, 7, 8]) == [5, 6, 7]
    assert exposure_window(["a", "b", "c", "d"], 1) == ["a", "b", "c"]  # eval's frames too
    assert motion_pairs([1, 2], context, shot=[5, 6]) == [(5, 6)]
    assert shot_frames([3, 4], EngineConfig()) == [3, 4]
    assert shot_frames([3, 4], EngineConfig(context_frames="1-3,7")) == [1, 2, 3, 7]
    with pytest.raises(UsageError, match="^--context-frames: cannot parse frame range 'x'"):
        shot_frames([3, 4], EngineConfig(context_frames="x"))



def _still_then_panning(sequence_factory) -> str:
    """Frames 1-6 still, 7-12 panning 2 px a frame, motion written to the next frame: found from the
    pairs of 1-8 alone (4-5, 2-3, 6-7) it reads as the default, from those of 1-12 as `next`."""
    sequence_factory(frames=range(1, 7), height=40, width=40, motion=0.0, convention="next", seed=1)
    return sequence_factory(frames=range(7, 13), height=40, width=40, motion=2.0, convention="next",
                            seed=2)


def test_motion_is_found_from_the_pairs_of_the_renders_range(sequence_factory):
    """docs/farm.md: with --context-frames, every chunk finds the motion as one run over the
    whole render does; without it, from the frames on disk, as before."""
    pattern = parse_pattern(_still_then_panning(sequence_factory))
    on_disk = list(range(1, 13))
    context = EngineConfig(context_frames="1-12")
    whole_run = [(6, 7), (3, 4), (9, 10)]
    assert motion_pairs(on_disk[:8], context) == motion_pairs(on_disk, EngineConfig()) == whole_run
    assert motion_pairs(on_disk[:8], EngineConfig()) == [(4, 5), (2, 3), (6, 7)]  # no context: on disk
    whole = find_motion_vectors(pattern, on_disk, EngineConfig())
    assert whole.convention == "next" and whole.evidence.startswith("X found from frames 6-7, 3-4, 9-10;")
    assert find_motion_vectors(pattern, on_disk, context) == whole  # any chunk, once all are rendered
    early = find_motion_vectors(pattern, on_disk[:8], EngineConfig())  # no context: as before
    assert (early.convention, early.evidence) == ("previous", "default: too little motion to tell in "
                                                               "frames 4-5, 2-3, 6-7")


def test_a_render_lacking_the_frames_motion_is_found_from_is_refused_until_it_has_them(
        sequence_factory):
    """A task started with the render (frames 1-8 of 1-12 written) is refused under --missing
    error, naming the frames of the pairs not on disk; under hold or skip it decides from the
    pairs on disk (and may differ from one run); a reading given or a known writer needs none."""
    pattern = parse_pattern(_still_then_panning(sequence_factory))
    for frame in range(9, 13):
        pattern.path(frame).unlink()
    on_disk = list(range(1, 9))
    with pytest.raises(MissingFramesError, match=r"frames 9-10 of .* are not on disk: which way the shot's "
                                                 r"motion vectors point .* is found from its frames 6-7, "
                                                 r"3-4, 9-10, .* run again once they are rendered") as info:
        find_motion_vectors(pattern, on_disk, EngineConfig(context_frames="1-12"))
    assert info.value.missing == [9, 10]
    held = find_motion_vectors(pattern, on_disk, EngineConfig(context_frames="1-12", missing="hold"))
    assert held.evidence == "default: too little motion to tell in frames 4-5, 2-3, 6-7"
    given = EngineConfig(context_frames="1-12", motion_vectors="next")
    assert find_motion_vectors(pattern, on_disk, given).convention == "next"


def _key(value: float = 0.25) -> dict:
    return {f"key.{c}": np.full((32, 48), value, np.float32) for c in "RGB"}


def test_layer_options_the_first_frame_lacks_are_refused_from_its_header(sequence_factory):
    """Once, naming the frame, before the model loads: the probes of the exposure each warned of
    it first (`--view left`: five warnings, then the error)."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4)))
    with pytest.raises(ChannelError, match=r"--view left: no such view in .*render\.0002\.exr"):
        check_layers(pattern, [2, 3], EngineConfig(views=("left",)))
    with pytest.raises(ChannelError, match=r"--aov key: no layer 'key' in .*render\.0001\.exr"):
        check_layers(pattern, [1, 2, 3], EngineConfig(aovs=("key",), keep_going=True))
    check_layers(pattern, [1, 2], EngineConfig(layers={"albedo": "albedo"}))


def test_a_frame_that_lacks_a_layer_is_left_to_fail_alone_with_keep_going(sequence_factory):
    """docs/faults.md: with --keep-going, a frame without a named layer fails alone; the others map."""
    sequence_factory(frames=[1])
    pattern = parse_pattern(sequence_factory(frames=[2, 3], extra=_key()))
    check_layers(pattern, [1, 2, 3], EngineConfig(aovs=("key",), keep_going=True))
    with pytest.raises(ChannelError, match=r"render\.0001\.exr"):
        check_layers(pattern, [1, 2, 3], EngineConfig(aovs=("key",)))
    pattern.path(1).write_bytes(b"not an exr")  # unreadable: passed over, the run reports it
    check_layers(pattern, [1, 2, 3], EngineConfig(aovs=("key",)))


def _multi_part(path, parts: dict[str, list[str]]) -> None:
    """A real multi-part EXR frame, one part per `parts` item (name -> its channels)."""
    written = []
    for name, channels in parts.items():
        spec = oiio.ImageSpec(8, 4, len(channels), oiio.HALF)
        spec.channelnames = tuple(channels)
        spec.attribute("oiio:subimagename", name)
        written.append(ExrPart(spec, np.full((4, 8, len(channels)), 0.5, np.float32)))
    write_exr(path, ExrImage(written))


def test_guides_not_found_and_a_beauty_taken_by_the_parts_order_are_warned_of_once(tmp_path, caplog):
    """A run says what it could not tell from the frames' names, once, naming the frame: a guide
    it goes without, a beauty chosen among parts by their order. Named (or `none`), no warning. No
    motion layer and none that could hold it (a still, lookdev): left to the summary's line, not
    warned of on every run and farm chunk."""
    for frame in (1, 2):
        _multi_part(tmp_path / f"r.{frame:04d}.exr", {"main": ["R", "G", "B"], "key": ["R", "G", "B"],
                                                      "N": ["X", "Y", "Z"]})
    pattern = parse_pattern(str(tmp_path / "r.####.exr"))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, [1, 2], EngineConfig())
    albedo, order = caplog.messages
    assert albedo.startswith("r.0001.exr: no albedo layer found") and "other RGB layers: key" in albedo
    assert order.startswith("r.0001.exr: parts main, key hold bare R,G,B") and "--beauty key" in order
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, [1, 2], EngineConfig(layers={"albedo": "none", "beauty": "main",
                                                           "motion": "none"}))
    assert caplog.messages == []


def test_a_guide_layer_passed_over_for_its_components_is_not_warned_of_again_as_not_found(tmp_path, caplog):
    """An albedo of R,G is passed over with a note of its own (`LayerMap.notes`: the layer, its
    components, what to do), which a run says; 'no albedo layer found' said the same again, and
    wrongly (the layer is there). A normal missing outright is still warned of."""
    for frame in (1, 2):
        _multi_part(tmp_path / f"r.{frame:04d}.exr", {"rgba": ["R", "G", "B"], "albedo": ["R", "G"]})
    pattern = parse_pattern(str(tmp_path / "r.####.exr"))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, [1, 2], EngineConfig(layers={"motion": "none"}))
    (warning,) = caplog.messages
    assert warning.startswith("r.0001.exr: no normal layer found, so the network denoises without it")


def test_a_normal_layer_of_x_y_z_not_found_by_its_name_is_named_with_the_models_own(tmp_path, caplog):
    """A normal in X,Y,Z under a name not known as one (Nworld) was warned of with 'its other RGB
    layers: none', though the frame holds it; and a model trained with --normal Nworld, its card
    says so, was not named. The candidates of three non-colour components are listed, and the
    model's own layer, where the frame holds it, is said as the option to pass (seq takes no
    layer from the card unasked)."""
    for frame in (1, 2):
        channels = ["R", "G", "B", "albedo.R", "albedo.G", "albedo.B", "Nworld.X", "Nworld.Y", "Nworld.Z"]
        _multi_part(tmp_path / f"r.{frame:04d}.exr", {"rgba": channels})
    pattern = parse_pattern(str(tmp_path / "r.####.exr"))
    model = tmp_path / "run"
    model.mkdir()
    (model / "model.json").write_text('{"training": {"layers": {"normal": "Nworld"}}}')
    for config in (EngineConfig(layers={"motion": "none"}), EngineConfig(layers={"motion": "none"},
                                                                         model=str(model))):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
            check_layers(pattern, [1, 2], config)
        (warning,) = caplog.messages
        assert warning.startswith("r.0001.exr: no normal layer found")
        assert "layers that could hold the normal: Nworld (X,Y,Z)" in warning
    assert warning.endswith("; the model was trained with --normal Nworld, which this frame holds: "
                            "pass --normal Nworld")


def test_a_layer_denoised_with_aov_is_not_offered_as_a_normal(tmp_path, caplog):
    """A layer of X,Y,Z named with --aov is denoised as light: offering it for --normal as well
    would have the run read one layer as two things. Not named, it is offered."""
    for frame in (1, 2):
        channels = ["R", "G", "B", "albedo.R", "albedo.G", "albedo.B", "extra.X", "extra.Y", "extra.Z"]
        _multi_part(tmp_path / f"r.{frame:04d}.exr", {"rgba": channels})
    pattern = parse_pattern(str(tmp_path / "r.####.exr"))
    for aovs, offered in (((), "extra (X,Y,Z)"), (("extra",), "none")):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
            check_layers(pattern, [1, 2], EngineConfig(layers={"motion": "none"}, aovs=aovs))
        (warning,) = caplog.messages
        assert warning.startswith("r.0001.exr: no normal layer found")
        assert f"layers that could hold the normal: {offered}" in warning


def _deep_frame(path) -> None:
    """A real deep EXR (one RGBA sample per pixel), as OpenImageIO writes one."""
    spec = oiio.ImageSpec(16, 8, 4, oiio.FLOAT)
    spec.channelnames = ("R", "G", "B", "A")
    spec.deep = True
    deep = oiio.DeepData()
    deep.init(spec)
    for pixel in range(16 * 8):
        deep.set_samples(pixel, 1)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_deep_image(deep) and out.close()


def test_a_shot_none_of_whose_first_frames_can_be_read_is_refused_once(tmp_path, tiny_weights, caplog):
    """A deep render: every frame fails alike. The exposure probe raises the first frame's error
    rather than warning that the exposure is found without each frame before the run fails at
    the first anyway; with --keep-going one warning says so and each frame then fails alone."""
    for frame in (1, 2, 3):
        _deep_frame(tmp_path / f"deep.{frame:04d}.exr")
    pattern = parse_pattern(str(tmp_path / "deep.####.exr"))
    refused = r"deep\.0001\.exr: part 0 holds deep data"
    with caplog.at_level(logging.WARNING), pytest.raises(ExrError, match=refused):
        find_exposure(pattern, [1, 2, 3], EngineConfig(), radius=1)
    assert caplog.messages == []
    with caplog.at_level(logging.WARNING), pytest.raises(ExrError, match=refused):
        denoise_sequence(pattern.text, str(tmp_path / "out" / "d.####.exr"),
                         config=EngineConfig(model=str(tiny_weights), device="cpu"))
    assert caplog.messages == []  # the error, once: nothing said before it
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        assert find_exposure(pattern, [1, 2, 3], EngineConfig(keep_going=True), radius=1).scale == 1.0
    [warning] = caplog.messages
    assert warning.startswith("the shot's exposure is found from none of its first frames 1-3")
    assert "holds deep data" in warning


def test_the_exposure_is_found_without_a_frame_that_cannot_be_read(sequence_factory, caplog):
    """One frame of the window damaged: warned of, the exposure found from the others."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4)))
    pattern.path(2).write_bytes(b"not an exr")
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        assert find_exposure(pattern, [1, 2, 3], EngineConfig(), radius=1).level is not None
    [warning] = caplog.messages
    assert warning.startswith("the shot's exposure is found without frame 2: ")


def _damage_middle(path) -> None:
    """Zero 200 bytes in the middle of the frame at `path`, as a faulty copy or disk does."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 200] = bytes(200)
    path.write_bytes(bytes(data))


def test_a_damaged_frame_the_run_stops_at_is_said_once(sequence_factory, tiny_weights, caplog):
    """A frame the exposure is found without, which an asked frame's window reads: without
    --keep-going the run stops there with its own error, so the warning that the exposure is
    found without it said the same frame a second time, just before."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4)))
    _damage_middle(pattern.path(2))
    config = EngineConfig(model=str(tiny_weights), device="cpu")
    with caplog.at_level(logging.WARNING), pytest.raises(ExrError, match=r"r\.0002\.exr: damaged"):
        denoise_sequence(pattern.text, str(pattern.directory / "out" / "d.####.exr"), config=config)
    assert not [m for m in caplog.messages if "exposure is found without" in m]


@pytest.mark.parametrize("keep_going", [True, False])
def test_a_damaged_frame_the_run_goes_on_past_is_warned_of(sequence_factory, tiny_weights, caplog,
                                                           keep_going):
    """With --keep-going, or where no asked frame's window reads it, the run goes on past a
    frame the exposure is found without: the warning is all that says how the exposure was found."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 9)))
    _damage_middle(pattern.path(2))
    config = EngineConfig(model=str(tiny_weights), device="cpu", keep_going=keep_going)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        denoise_sequence(pattern.text, str(pattern.directory / "out" / "d.####.exr"),
                         frames="7-8" if not keep_going else None, config=config)
    assert [m for m in caplog.messages if m.startswith("the shot's exposure is found without frame 2: ")]


def test_a_chunk_of_later_frames_goes_on_past_damaged_first_frames(sequence_factory, tiny_weights, caplog):
    """Every frame the exposure is found from cut short (a copy in progress, a crashed render):
    a farm chunk of later frames, whose own frames are whole, warns of each and denoises its
    own, as before, where raising the first's error failed every task of the job."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 9)))
    for frame in (1, 2, 3):
        data = pattern.path(frame).read_bytes()
        pattern.path(frame).write_bytes(data[:len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        assert find_exposure(pattern, list(range(1, 9)), EngineConfig(), radius=1).scale == 1.0
    assert [m.split(":")[0] for m in caplog.messages] == [
        f"the shot's exposure is found without frame {frame}" for frame in (1, 2, 3)]
    out = pattern.directory / "out" / "d.####.exr"
    denoise_sequence(pattern.text, str(out), frames="7-8",
                     config=EngineConfig(model=str(tiny_weights), device="cpu"))
    assert sorted(p.name for p in out.parent.glob("*.exr")) == ["d.0007.exr", "d.0008.exr"]


def test_the_frames_the_probes_decode_that_the_run_reads_first_are_handed_to_it(sequence_factory):
    """The probes of the shot's motion (its first pair is always read) and of its exposure (its
    first window) keep their decodes of the frames the run reads first (`ProbedImages`), which
    the run's reader takes rather than decode them again (a one-frame 4K task decoded 13 frames
    for the 5 it reads). A frame rendered again since reaches the run as the probes decoded it,
    with the stamp it had then (writing it finds the change); the others are decoded anew."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 13)))
    on_disk, config = list(range(1, 13)), EngineConfig()
    earlier, later = motion_pairs(on_disk, config)[0]
    source = FrameSource(pattern, {}, (), 1, set(), torch.device("cpu"))
    rendered = {frame: source.get(frame) for frame in (1, 2, 3, earlier, later)}
    source.close()
    probed = ProbedImages([1, 2, later])
    find_motion_vectors(pattern, on_disk, config, probed)
    find_exposure(pattern, on_disk, config, radius=1, probed=probed)  # frames 1-3
    for frame in rendered:  # rendered again, twice as bright
        image = read_exr(pattern.path(frame))
        image.set(["R", "G", "B"], image.get(["R", "G", "B"]) * 2)
        write_exr(pattern.path(frame), image)
    run = FrameSource(pattern, {}, (), 1, set(), torch.device("cpu"), decode=probed.take)
    try:
        for frame, first in rendered.items():
            loaded = run.get(frame)
            handed = np.array_equal(loaded.features[""].beauty, first.features[""].beauty)
            assert handed == (frame in (1, 2, later)), frame
            assert (loaded.stamp == first.stamp) == handed, frame
    finally:
        run.close()


def _swapped(sequence_factory, **kwargs) -> str:
    """A shot panning 2.5 px a frame sideways whose motion layer says it moves down: X and Y
    swapped, as a wrong guess at a layer's channels writes them."""
    swapped = {"motion.X": np.zeros((40, 40), np.float32), "motion.Y": np.full((40, 40), -2.5, np.float32)}
    return sequence_factory(frames=range(1, 7), height=40, width=40, motion=2.5, extra=swapped, **kwargs)


def test_vectors_that_align_nothing_are_ignored_once_warned_of_and_read_as_without_motion(
        sequence_factory, tmp_path, tiny_weights, caplog):
    """Read every way tried they line the frames up no better than no motion: one warning naming
    the layer, what was measured and what to check; the summary and each output's header say
    they were ignored; the frames are denoised exactly as with `--motion none` (the network's
    motion flag off, no warp), not warped by them."""
    pattern = parse_pattern(_swapped(sequence_factory))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        found = find_motion_vectors(pattern, list(range(1, 7)), EngineConfig())
    [warning] = caplog.messages
    assert found.ignored and found.evidence.startswith("read every way tried on frames 3-4, 1-2, 4-5")
    assert warning.startswith("the motion vectors (motion.X,motion.Y) are ignored, the shot denoised as "
                              "without them: they line the frames up no better than no motion (read every")
    assert "not NDC" in warning and "--motion-vectors and --motion-scale" in warning
    runs = {}
    for name, layers in (("ignored", {}), ("none", {"motion": "none"})):
        out = str(tmp_path / name / "d.####.exr")
        config = EngineConfig(model=str(tiny_weights), device="cpu", layers=layers)
        runs[name] = denoise_sequence(pattern.text, out, config=config), read_exr(parse_pattern(out).path(3))
    summary, output = runs["ignored"]
    assert summary.motion_vectors.startswith(f"{IGNORED} (read every way tried")
    assert output.parts[0].spec.getattribute("vfxdenoise/motion_vectors") == IGNORED
    assert np.array_equal(output.get(["R", "G", "B"]), runs["none"][1].get(["R", "G", "B"]))


def test_a_reading_given_is_applied_and_warned_of_where_it_aligns_nothing(sequence_factory, caplog):
    """`--motion-vectors previous` on vectors to the next frame: checked on the pairs auto reads,
    warned of, applied all the same (the user may know better than the guides tell); the right
    reading given, nothing said. Pairs not yet rendered are no refusal for a check."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 7), height=40, width=40, motion=2.0,
                                             convention="next"))
    on_disk = list(range(1, 7))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        given = find_motion_vectors(pattern, on_disk, EngineConfig(motion_vectors="previous"))
    [warning] = caplog.messages
    assert (given.convention, given.ignored) == ("previous", False)
    assert warning.startswith("--motion-vectors previous: read as previous, the motion vectors (motion.X,"
                              "motion.Y) line the frames up no better than no motion (at frames 3-4")
    assert "applied so all the same" in warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        assert find_motion_vectors(pattern, on_disk, EngineConfig(motion_vectors="next")).convention == "next"
        find_motion_vectors(pattern, on_disk, EngineConfig(motion_vectors="next", context_frames="1-20"))
    assert caplog.messages == []


def test_a_missing_motion_layer_is_warned_of_naming_layers_that_could_hold_it(sequence_factory, caplog):
    """Like a missing guide's: once, naming the frame and the layers --motion could name; nothing
    where `--motion none` says the render has none, or --motion names the layer (nor where no
    layer could hold it: `test_guides_not_found_and_a_beauty_taken_by_the_parts_order_...`)."""
    pattern = parse_pattern(rename_layer(sequence_factory(frames=range(1, 3)), "motion", "mvec"))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, [1, 2], EngineConfig())
    [warning] = caplog.messages
    assert warning.startswith("render.0001.exr: no motion layer found, so the neighbours are not warped")
    assert warning.endswith("name yours with --motion, or 'none' where the render has none; layers that "
                            "could hold motion: mvec (X,Y)")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, [1, 2], EngineConfig(layers={"motion": "none"}))
        check_layers(pattern, [1, 2], EngineConfig(layers={"motion": "mvec"}))
    assert caplog.messages == []


def test_a_reading_given_is_checked_on_the_first_pair_alone(sequence_factory, caplog):
    """Every run and farm chunk checks `--motion-vectors NAME`: on the first pair auto reads (3-4
    of frames 1-6) alone, not on up to three. Here that pair's vectors are to the next frame, the
    others' to the previous (frames 2 and 5 rendered again): `previous` is warned of, from 3-4."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 7), height=40, width=40, motion=2.0,
                                             convention="next"))
    for frame in (2, 5):
        image = read_exr(pattern.path(frame))
        image.set(["motion.X"], -image.get(["motion.X"]))
        write_exr(pattern.path(frame), image)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        find_motion_vectors(pattern, list(range(1, 7)), EngineConfig(motion_vectors="previous"))
    [warning] = caplog.messages
    assert "no better than no motion (at frames 3-4" in warning


def _without_motion(sequence_factory, motion: float) -> str:
    """Frames 1-6 panning `motion` px a frame, rendered without a motion layer."""
    pattern = sequence_factory(frames=range(1, 7), height=40, width=40, motion=motion)
    for frame in range(1, 7):
        without_layer(pattern, frame, "motion")
    return pattern


def test_frames_that_move_without_a_motion_layer_are_warned_of_once(sequence_factory, caplog):
    """docs/denoising.md: the guides of the first pair `detect` would read differ in place as a
    still shot's do not; the warning names the pair, what was measured and what to do."""
    pattern = parse_pattern(_without_motion(sequence_factory, 3.0))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        assert find_motion_vectors(pattern, list(range(1, 7)), EngineConfig()) is None
    [warning] = caplog.messages
    assert warning.startswith("no motion layer, yet frames 3-4 move: their albedo and normal differ by ")
    assert "in place (still frames', by their noise, under 0.01)" in warning
    assert "render motion vectors and name their layer with --motion" in warning
    assert "--temporal-radius 0" in warning and "--motion none" in warning
    # frame by frame was advised, which the sample scores below its window unwarped (BENCHMARKS.md)
    assert ("the sample shot scored 32.6 dB so, against 34.4 with its vectors, and barely lower frame by "
            "frame (--temporal-radius 0: 32.5)") in warning
    assert "pass --temporal-radius 0" not in warning


def test_moving_frames_with_a_layer_that_could_be_the_motion_are_warned_of_once_naming_it(
        sequence_factory, caplog):
    """Frames whose vectors go by a name not read as motion (`mvec`) are warned of once, as the
    missing motion layer naming that layer (`check_layers`), not again as frames that move without
    one: naming the layer is what to do."""
    moving = sequence_factory(frames=range(1, 7), height=40, width=40, motion=3.0)
    pattern = parse_pattern(rename_layer(moving, "motion", "mvec"))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, [1, 2], EngineConfig())
        assert find_motion_vectors(pattern, list(range(1, 7)), EngineConfig()) is None
    [warning] = caplog.messages
    assert warning.endswith("layers that could hold motion: mvec (X,Y)")


def test_still_frames_and_motion_none_are_not_warned_of(sequence_factory, caplog):
    """A still shot without a motion layer (lookdev, a matte) says nothing, nor a moving one where
    `--motion none` says the render has none."""
    still = parse_pattern(_without_motion(sequence_factory, 0.0))
    moving = parse_pattern(_without_motion(lambda **kwargs: sequence_factory("moving", **kwargs), 3.0))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        assert find_motion_vectors(still, list(range(1, 7)), EngineConfig()) is None
        assert find_motion_vectors(moving, list(range(1, 7)), EngineConfig(layers={"motion": "none"})) is None
    assert caplog.messages == []


@pytest.mark.parametrize("noise, warned", [(0.02, True), (0.3, False)])
def test_a_shot_cleaner_than_the_training_renders_is_said_naming_its_level(tmp_path, noise, warned):
    """Frames of a fine texture with 2% noise (cleaner than the 256 spp renders measured: 0.057-0.09)
    are said to be cleaner than the shipped model's 4-16 spp training renders, naming the frame
    judged, its level and what to do; at 30% (a 4-16 spp render's) nothing is said."""
    pattern = parse_pattern(write_textured_sequence(tmp_path / "shot", noise))
    said = clean_input(pattern, [1001, 1002, 1003], EngineConfig())
    if not warned:
        assert said == ""
        return
    start = ("the frames are cleaner than the 4-16 spp renders the model was trained on: frame 1001's "
             "noise measures ")
    assert said.startswith(start)
    assert float(said[len(start):].split()[0]) == pytest.approx(noise, rel=0.1)
    assert f"(4-16 spp renders measure 0.15 and more; said under {CLEAN_BELOW:g})" in said
    assert "compare the output with the frames as rendered before using it" in said


def test_a_clean_shot_is_judged_from_the_shots_first_frame_that_can_be_and_not_for_a_users_model(
        tmp_path, tiny_weights):
    """The shot's first frame decides (every farm chunk says alike), the next where it cannot be
    read; a model of the user's own was trained on renders this cannot know, so nothing is said."""
    pattern = parse_pattern(write_textured_sequence(tmp_path / "shot", 0.02))
    pattern.path(1001).write_bytes(b"")
    assert "frame 1002's noise" in clean_input(pattern, [1001, 1002, 1003], EngineConfig(),
                                               shot=[1001, 1002, 1003])
    assert clean_input(pattern, [1001, 1002, 1003], EngineConfig(model=str(tiny_weights))) == ""


@pytest.mark.parametrize("layout", ["single-part", "multi-part"])
def test_a_stereo_frame_lacking_a_guide_in_one_eye_names_that_view_and_its_own_layers(
        sequence_factory, tmp_path, caplog, layout):
    """The right eye lacks its normal and the left alone has RGBA_fill: the warning named no view
    and listed the left eye's layers ('its other RGB layers: RGBA_fill, RGBA_key'). It names the
    view and lists that view's layers; both eyes lacking it are said in one warning."""
    frames = range(1, 3)
    left, right = (sequence_factory(eye, frames=frames, height=8, width=8) for eye in ("left", "right"))
    for eye in (left, right):
        with_named_light_groups(eye, frames, "RGBA_key", "RGBA_fill")
    for frame in frames:
        without_layer(right, frame, "RGBA_fill")
    for frame in frames:
        without_layer(right, frame, "N")
    pattern = parse_pattern(write_stereo_sequence(left, right, tmp_path / layout, frames, layout))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, list(frames), EngineConfig(layers={"motion": "none"}))
    (warning,) = caplog.messages
    assert warning.startswith("stereo.0001.exr, view right: no normal layer found")
    assert "its other RGB layers: RGBA_key;" in warning
    for frame in frames:
        without_layer(left, frame, "N")
    pattern = parse_pattern(write_stereo_sequence(left, right, tmp_path / f"both{layout}", frames, layout))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.shot_settings"):
        check_layers(pattern, list(frames), EngineConfig(layers={"motion": "none"}))
    said = {message.split(":")[0]: message.split("its other RGB layers: ")[1].split(";")[0]
            for message in caplog.messages}
    assert said == {"stereo.0001.exr, view left": "RGBA_fill, RGBA_key",
                    "stereo.0001.exr, view right": "RGBA_key"}
