"""DenoiseRequest -> `vfxdenoise seq` arguments and engine settings."""

from __future__ import annotations

import os

import pytest
from stdlib_only import heavy_modules_after

from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.request import DenoiseRequest, frame_spec
from vfxdenoise.plugin.seq_options import SeqOptions


def test_seq_args_carry_every_setting_and_keep_negative_frames_one_value():
    options = SeqOptions(layers={"albedo": "diffuse_direct", "motion": "none"}, temporal_radius=1,
                         device="cpu", model="/m/tiny.safetensors", tile=256,
                         aovs=("RGBA_key", "spec.R,spec.G,spec.B"), compression="zstd",
                         max_mem=12.5, missing="error", precision="float32", cpu_threads=3,
                         motion_vectors="next-y-up", motion_scale=2.0, context_frames="-9-0")
    request = DenoiseRequest("/r/a.####.exr", frames="-5--1", output_pattern="/o/a.####.exr",
                             options=options)

    args = request.seq_args()

    assert args[:2] == ["/r/a.####.exr", "--frames=-5--1"]
    assert " ".join(args[2:]) == ("-o /o/a.####.exr --overwrite --device cpu --temporal-radius 1 "
                                  "--model /m/tiny.safetensors --tile 256 --max-mem 12.5 "
                                  "--missing error --compression zstd --precision float32 "
                                  "--cpu-threads 3 --motion-vectors next-y-up --motion-scale 2.0 "
                                  "--context-frames -9-0 --albedo diffuse_direct --motion none "
                                  "--aov RGBA_key --aov spec.R,spec.G,spec.B")
    assert "--overwrite" not in request.seq_args(existing=False)


def test_engine_config_matches_the_request():
    options = SeqOptions(temporal_radius=0, device="cpu", layers={"normal": "N"}, aovs=("key",),
                         views=("left",), compression="piz", max_mem=6, precision="float32",
                         cpu_threads=2, motion_vectors="next", motion_scale=0.5, context_frames="1-9")
    config = DenoiseRequest("/r/a.####.exr", existing="resume", options=options).engine_config()

    assert (config.temporal_radius, config.device, config.existing) == (0, "cpu", "resume")
    assert config.layers == {"normal": "N"} and config.aovs == ("key",) and config.views == ("left",)
    assert config.compression == "piz" and config.max_mem_gb == 6 and config.precision == "float32"
    assert config.cpu_threads == 2 and (config.motion_vectors, config.motion_scale) == ("next", 0.5)
    assert config.context_frames == "1-9"
    default = DenoiseRequest("/r/a.####.exr").engine_config()
    assert default.precision == "auto" and (default.motion_vectors, default.motion_scale) == ("auto", 1)


@pytest.mark.parametrize("bad", [{"options": {"device": "gpu"}}, {"existing": "skip"},
                                 {"options": {"temporal_radius": -1}}],
                         ids=["device", "existing", "temporal_radius"])
def test_bad_settings_are_refused_by_name(bad):
    value = bad.get("existing") or bad["options"].get("device") or bad["options"]["temporal_radius"]
    with pytest.raises(PluginError, match=str(value)):
        DenoiseRequest("/r/a.####.exr", **{name: SeqOptions(**setting) if name == "options" else setting
                                           for name, setting in bad.items()})


def test_a_sites_model_is_used_only_where_a_request_names_none():
    named = DenoiseRequest("/r/a.####.exr", options=SeqOptions(model="mine"))
    assert named.with_default_model("site") is named
    assert DenoiseRequest("/r/a.####.exr").with_default_model("site").options.model == "site"
    assert DenoiseRequest("/r/a.####.exr").with_default_model(None).options.model is None


def test_hosts_can_build_a_request_without_torch_numpy_or_fileseq():
    assert heavy_modules_after(
        "from vfxdenoise.plugin.request import DenoiseRequest\n"
        "from vfxdenoise.plugin.seq_options import SeqOptions\n"
        "DenoiseRequest('/r/a.####.exr', options=SeqOptions(model='m.safetensors')).seq_args()") == []


def test_frames_given_as_numbers_are_a_frame_spec_and_other_types_are_refused():
    """A list was written '--frames=[1001, 1002]', which seq refused once the command ran."""
    assert DenoiseRequest("/r/a.####.exr", frames=[1001, 1002, 1003, 1005]).frames == "1001-1003,1005"
    stepped = DenoiseRequest("/r/a.####.exr", frames=range(1001, 1010, 2))
    assert stepped.seq_args()[1] == "--frames=1001-1009x2"
    for bad in ([], [1001, "1002"], 1001, [True]):
        with pytest.raises(PluginError, match=r"frames takes a frame spec such as '1001-1100'"):
            DenoiseRequest("/r/a.####.exr", frames=bad)


def test_frames_across_zero_are_split_there_as_format_frames_splits_them():
    """'-3-2' reads as -3 to 2 or -3 to -2; seq's own summaries and farm specs say '-3--1,0-2'."""
    from vfxdenoise.core.io.sequence import format_frames

    for frames in (range(-3, 3), range(-6, 5, 2), [-5, -4, 0, 1, 7],
                   range(-3, 1), range(-6, 1, 2), [-1, 0], [-5, -4, -3, 0, 1, 2]):  # ending at 0 too
        assert DenoiseRequest("/r/a.####.exr", frames=frames).frames == format_frames(frames), frames
        assert frame_spec(frames) == format_frames(frames), frames
    assert DenoiseRequest("/r/a.####.exr", frames=range(-3, 3)).frames == "-3--1,0-2"
    assert frame_spec(range(-3, 1)) == "-3--1,0"


def test_refuse_keep_going_and_io_threads_reach_seq_and_the_engine():
    """'refuse' is seq's own default (no flag); keep_going and io_threads are the run's own
    settings: a farm job leaves io_threads to its workers."""
    request = DenoiseRequest("/r/a.####.exr", existing="refuse", keep_going=True, io_threads=4)
    assert request.seq_args() == ["/r/a.####.exr", "--keep-going", "--io-threads", "4"]
    assert request.seq_args(existing=False) == ["/r/a.####.exr"]
    config = request.engine_config()
    assert (config.existing, config.keep_going, config.io_threads) == ("refuse", True, 4)
    assert DenoiseRequest("/r/a.####.exr").existing == "overwrite"
    for bad in ({"io_threads": 0}, {"io_threads": "4"}, {"keep_going": "yes"}, {"existing": "keep"}):
        with pytest.raises(PluginError):
            DenoiseRequest("/r/a.####.exr", **bad)


def test_model_sha256_pins_the_weights_of_seq_and_the_engine_but_not_a_farm_job():
    """A host pins the weights as seq --model-sha256 does, in either runner mode: the digest
    (`sha256sum`'s, either case) reaches seq's command line and the engine's config, not the
    arguments a farm job's tasks share: the job is pinned by `farm --model-sha256`
    (`farm_submit`), as it picks its own --resume. One of another type, or no SHA-256, is
    refused as the request is built."""
    from vfxdenoise.plugin.errors import RequestUsageError

    sha = "ab" * 32
    request = DenoiseRequest("/r/a.####.exr", model_sha256=f" {sha.upper()} ")
    assert request.model_sha256 == sha
    assert request.seq_args() == ["/r/a.####.exr", "--overwrite", f"--model-sha256={sha}"]
    assert request.seq_args(existing=False) == ["/r/a.####.exr"]
    assert request.engine_config().model_sha256 == sha
    assert DenoiseRequest("/r/a.####.exr").engine_config().model_sha256 is None
    with pytest.raises(PluginError, match="model_sha256 takes the weights' SHA-256"):
        DenoiseRequest("/r/a.####.exr", model_sha256=bytes.fromhex(sha))
    with pytest.raises(RequestUsageError, match="--model-sha256 'abc' is no SHA-256: give its 64"):
        DenoiseRequest("/r/a.####.exr", model_sha256="abc")


def test_every_error_a_caller_may_catch_is_in_plugin_errors():
    from vfxdenoise.core import errors as core_errors
    from vfxdenoise.plugin import errors

    for name, value in vars(core_errors).items():
        if isinstance(value, type) and issubclass(value, core_errors.VfxDenoiseError):
            assert getattr(errors, name) is value and name in errors.__all__, name
    assert {"PluginError", "RunnerError", "DenoiseCancelled"} <= set(errors.__all__)


def test_the_plugin_package_names_its_api_and_imports_no_torch():
    assert heavy_modules_after("import vfxdenoise.plugin") == []
    assert heavy_modules_after("from vfxdenoise.plugin import DenoiseRequest, RunnerConfig, RunResult, "
                               "SeqOptions, OutputLockedError, run_request") == []
    import vfxdenoise.plugin as plugin
    from vfxdenoise.plugin.runner import run_request

    assert plugin.run_request is run_request and plugin.DenoiseRequest is DenoiseRequest
    assert set(plugin.__all__) <= set(dir(plugin))
    with pytest.raises(AttributeError):
        plugin.no_such_name  # noqa: B018


_REFUSED_AS_BUILT = [  # what seq refuses before it reads a frame, known from the request alone
    ({"options": {"missing": "bogus"}}, "--missing must be one of error, hold, skip (got 'bogus')"),
    ({"options": {"compression": "bogus"}}, "--compression must be one of none, rle, zips, zip, piz, zstd"),
    ({"options": {"precision": "bogus"}}, "--precision must be one of auto, float32 (got 'bogus')"),
    ({"options": {"motion_vectors": "bogus"}}, "--motion-vectors must be one of auto, previous, next"),
    ({"options": {"alpha": "bogus"}}, "--alpha must be one of rendered, denoise (got 'bogus')"),
    ({"options": {"tile": -5}}, "--tile must be at least 128 px"),
    ({"options": {"tile": 64}}, "--tile must be at least 128 px"),
    ({"options": {"max_mem": -1.0}}, "--max-mem must be a finite number above 0 (got -1.0)"),
    ({"options": {"cpu_threads": 0}}, "--cpu-threads must be from 1 to 1024 (got 0)"),
    ({"options": {"layers": {"albdo": "albedo"}}},
     "unknown layer feature(s) 'albdo'; the features whose layer can be named are beauty, albedo, normal, "
     "depth, motion"),
    ({"options": {"layers": {"beauty": "none"}}}, "--beauty cannot be 'none'"),
    ({"io_threads": 65}, "--io-threads must be from 1 to 64 (got 65)"),
    ({"frames": "abc"}, "frames='abc': not a frame spec"),
    ({"frames": ""}, "frames='': the frame spec is empty"),
    ({"frames": "1001-1100x0"}, "frames='1001-1100x0': '1001-1100x0' has a step of 0"),
    ({"frames": "1010-1001"}, "'1010-1001' runs backwards"),
    ({"options": {"context_frames": "abc"}}, "context_frames='abc': not a frame spec"),
    ({"options": {"context_frames": ""}}, "context_frames='': the frame spec is empty"),
    ({"options": {"context_frames": "1-9x0"}}, "context_frames='1-9x0': '1-9x0' has a step of 0"),
    ({"options": {"context_frames": "9-1"}}, "context_frames='9-1': '9-1' runs backwards"),
    ({"output_pattern": "/r/a.####.exr"}, "output_pattern /r/a.####.exr is the input pattern"),
    ({"output_pattern": "/r/a.%04d.exr"}, "output_pattern /r/a.%04d.exr is the input pattern (/r/a.####.exr, "
                                          "spelled another way)"),
    ({"output_pattern": "/o/a.####.tif"}, "output_pattern /o/a.####.tif does not end in .exr"),
    ({"output_pattern": "/o/a.exr"}, "output_pattern '/o/a.exr': the file name 'a.exr' has no frame token"),
    ({"output_pattern": "/o/####/a.exr"}, "output_pattern '/o/####/a.exr': the folder '/o/####' holds a "
                                          "frame token"),
    ({"output_pattern": "C:/o/a.####.exr"}, "output_pattern 'C:/o/a.####.exr': it is a Windows path"),
    ({"output_pattern": "/o/a.%04D.exr"}, "output_pattern '/o/a.%04D.exr': %04D is no frame token"),
]


@pytest.mark.skipif(os.sep == "\\", reason="a Windows path is read on Windows")
@pytest.mark.parametrize(("pattern", "words"), [
    ("C:\\shots\\r.####.exr", "it is a Windows path, and '\\' separates no folders on this machine"),
    ("C:/shots/r.####.exr", "it is a Windows path, and this machine has no drive C:"),
    ("/tmp/r.$f4.exr", "$f4 is no frame token (the case matters); write $F4: r.$F4.exr"),
    ("/tmp/r.${f4}.exr", "${f4} is no frame token (the case matters); write ${F4}: r.${F4}.exr"),
    ("/tmp/r.%04D.exr", "%04D is no frame token (the case matters); write %04d: r.%04d.exr"),
    ("/tmp/r.exr", "the file name 'r.exr' has no frame token"),
    ("C:r.####.exr", "it is a Windows path, and this machine has no drive C: (write ./C:... for a name"),
    ("/tmp/r.%4d.exr", "%4d pads with spaces, not zeros; use %04d"),
    ("/tmp/$Fbeauty.exr", "Houdini reads $Fb... as another variable; write ${F} instead"),
])
def test_an_input_pattern_seq_refuses_is_refused_as_the_request_is_built(pattern, words):
    """A Windows path with '/' and a token in the wrong case were built and refused only as the run
    started (a SequenceUsageError), where a pattern without a token was refused at build."""
    from vfxdenoise.plugin.errors import RequestUsageError

    with pytest.raises(RequestUsageError) as refused:
        DenoiseRequest(pattern, output_pattern="/o/den.####.exr")
    assert str(refused.value).startswith(f"input_pattern '{pattern}': ") and words in str(refused.value)


def test_an_output_pattern_typed_as_the_input_pattern_is_named_so_not_as_spelled_another_way():
    """Nuke writes both patterns with %04d: a request with its output over its input was refused as
    "output_pattern /r/a.%04d.exr is the input pattern (/r/a.####.exr, spelled another way)"."""
    with pytest.raises(PluginError) as refused:
        DenoiseRequest("/r/a.%04d.exr", output_pattern="/r/a.%04d.exr")
    assert "output_pattern /r/a.%04d.exr is the input pattern: the outputs" in str(refused.value)


@pytest.mark.parametrize(("setting", "words"), _REFUSED_AS_BUILT,
                         ids=[str(setting) for setting, _ in _REFUSED_AS_BUILT])
def test_what_seq_refuses_before_its_first_frame_is_refused_as_the_request_is_built(setting, words):
    """The in-process runner ran them (a tile of -5 px as 16 px tiles, 22 times slower), the
    subprocess refused them once started, and `check_request` passed them. Now refused alike by
    both, before either starts: a PluginError (what docs/python.md promises) and a UsageError (as
    seq's own refusal is), in the run's own words where the run's check (`EngineConfig.check`) says it."""
    from vfxdenoise.core.errors import UsageError
    from vfxdenoise.plugin.errors import RequestUsageError

    built = {name: SeqOptions(**value) if name == "options" else value for name, value in setting.items()}
    with pytest.raises(RequestUsageError) as refused:
        DenoiseRequest("/r/a.####.exr", **built)
    assert isinstance(refused.value, PluginError) and isinstance(refused.value, UsageError)
    assert words in str(refused.value)


def test_the_checks_as_a_request_is_built_need_no_torch_numpy_or_fileseq():
    assert heavy_modules_after(
        "from vfxdenoise.plugin import DenoiseRequest, PluginError, SeqOptions\n"
        "for bad in ({'options': SeqOptions(tile=64)}, {'frames': '1-9x0'},\n"
        "            {'options': SeqOptions(context_frames='abc')},\n"
        "            {'output_pattern': '/o/a.####.tif'}, {'output_pattern': '/o/a.exr'}):\n"
        "    try:\n        DenoiseRequest('/r/a.####.exr', **bad)\n"
        "    except PluginError:\n        pass\n"
        "    else:\n        raise AssertionError(bad)\n") == []
