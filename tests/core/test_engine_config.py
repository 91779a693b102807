"""A sequence run's settings: which of them an output's pixels depend on (what --resume checks)."""

import json
from dataclasses import fields, replace

import pytest

from vfxdenoise.core.engine_config import RUN_ONLY, EngineConfig
from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.io.aov_option import AovName


def test_run_only_names_fields_of_the_config():
    assert RUN_ONLY <= {f.name for f in fields(EngineConfig)}


@pytest.mark.parametrize("change", [{"model": "fast"}, {"keep_noisy": True}, {"aovs": ("key",)},
                                    {"temporal_radius": 1}, {"motion_vectors": "next"},
                                    {"compression": "zip"}, {"precision": "float32"}, {"alpha": "denoise"}])
def test_a_setting_the_pixels_or_channels_depend_on_changes_the_output_settings(change):
    assert replace(EngineConfig(), **change).output_settings() != EngineConfig().output_settings()


@pytest.mark.parametrize("change", [{"device": "cpu"}, {"existing": "resume"}, {"existing": "overwrite"},
                                    {"tile": 256},
                                    {"max_mem_gb": 4.0}, {"io_threads": 3}, {"cpu_threads": 1},
                                    {"keep_going": True}, {"missing": "hold"},
                                    {"context_frames": "1-10"}, {"model_sha256": "ab" * 32}])
def test_how_a_run_goes_leaves_the_output_settings_alone(change):
    assert replace(EngineConfig(), **change).output_settings() == EngineConfig().output_settings()


def test_one_setting_spelt_two_ways_reads_alike():
    ours = EngineConfig(motion_scale=1.0, aovs=("key", "fill"), layers={"albedo": "a", "normal": "n"})
    theirs = EngineConfig(motion_scale=1, aovs=["key", "fill"], layers={"normal": "n", "albedo": "a"})
    assert ours.output_settings() == theirs.output_settings()
    assert (EngineConfig(temporal_radius=2).output_settings(temporal_radius=2)
            == EngineConfig().output_settings(temporal_radius=2))  # the radius as run
    assert EngineConfig(model="x").output_settings(model="w") == EngineConfig().output_settings(model="w")


def test_every_layer_to_denoise_keeps_the_option_it_was_given_with():
    """A name given with --aov and with --aov-radiance is two requests, whose errors name each its
    option: a str subclass tagged with the option compared equal to the plain name and lost the
    tag to any string operation."""
    asked = EngineConfig(aovs=("key", "spec"), radiance_aovs=("key",)).all_aovs()
    assert asked == (AovName("--aov", "key"), AovName("--aov", "spec"), AovName("--aov-radiance", "key"))
    assert len(set(asked)) == 3 and asked[0] != asked[2]


def test_the_alpha_enters_the_output_settings_only_when_it_is_denoised():
    """Outputs made before --alpha existed recorded settings without it: left at its default, the
    settings read as theirs did, so their records stay valid."""
    settings = json.loads(EngineConfig().output_settings())
    assert "alpha" not in settings and EngineConfig(alpha="rendered").output_settings() == json.dumps(
        settings, sort_keys=True)
    assert json.loads(EngineConfig(alpha="denoise").output_settings())["alpha"] == "denoise"


def test_an_alpha_treatment_no_run_takes_is_refused():
    with pytest.raises(UsageError, match="--alpha must be one of rendered, denoise"):
        EngineConfig(alpha="denoised").check()


@pytest.mark.parametrize("pin", ["abc", "g" * 64, "ab" * 31 + " ab", 123])
def test_a_weights_pin_that_is_no_sha256_is_refused(pin):
    """The in-process API passes `model_sha256` without seq's option: a pin no weights file can
    have is refused before anything is read, in the words seq's option uses; either case passes."""
    with pytest.raises(UsageError, match=r"--model-sha256 .* is no SHA-256: give its 64 hexadecimal digits"):
        EngineConfig(model_sha256=pin).check()
    EngineConfig(model_sha256="AB" * 32).check()


def test_a_weights_pin_is_read_as_every_boundary_reads_it():
    """seq's and farm's --model-sha256, a host request's `model_sha256` and farm jobs take a pin
    pasted from `sha256sum` with spaces around it (`model_files.pinned_sha256`); the in-process
    API's config refused it. Its check reads it so, and the run compares what it names."""
    from vfxdenoise.core.model_files import pinned_sha256

    pasted = "  " + "AB" * 32 + "\n"
    config = EngineConfig(model_sha256=pasted)
    config.check()
    assert config.model_sha256 == pinned_sha256(pasted) == "ab" * 32


def test_the_config_and_its_check_need_no_torch_numpy_or_fileseq():
    """Hosts check a request with the run's own check as they build it, in a Python without them."""
    from stdlib_only import heavy_modules_after

    assert heavy_modules_after("from vfxdenoise.core.engine_config import EngineConfig\n"
                               "EngineConfig(tile=256, layers={'albedo': 'a'}).check()") == []


def test_the_choices_named_here_are_those_the_modules_that_use_them_know():
    """The compressions and motion conventions are mapped to what they mean by modules that need
    OpenEXR or torch: the names here are theirs, every one."""
    from vfxdenoise.core import engine_config, motion_vectors
    from vfxdenoise.core.io.exr import OUTPUT_COMPRESSIONS

    assert engine_config.MOTION_CHOICES == (engine_config.MOTION_AUTO, *motion_vectors.CONVENTIONS)
    assert engine_config.COMPRESSIONS == tuple(OUTPUT_COMPRESSIONS)


def test_seqs_ranges_and_choices_are_those_the_check_refuses_others_of():
    """click refuses on seq's command line what the check refuses elsewhere (the in-process API,
    farm jobs): the same limits."""
    import click

    from vfxdenoise.cli.seq import seq
    from vfxdenoise.core import engine_config

    types = {param.opts[0]: param.type for param in seq.params if param.opts}
    assert (types["--tile"].min, types["--tile"].max) == (engine_config.MIN_TILE, None)
    assert (types["--cpu-threads"].min, types["--cpu-threads"].max) == (1, engine_config.CPU_THREADS_LIMIT)
    assert (types["--io-threads"].min, types["--io-threads"].max) == (1, engine_config.IO_THREADS_LIMIT)
    for option, choices in (("--missing", engine_config.MISSING_POLICIES),
                            ("--alpha", engine_config.ALPHA_MODES), ("--precision", engine_config.PRECISIONS),
                            ("--motion-vectors", engine_config.MOTION_CHOICES),
                            ("--compression", engine_config.COMPRESSIONS)):
        assert isinstance(types[option], click.Choice) and tuple(types[option].choices) == choices, option


@pytest.mark.parametrize(("change", "words"), [
    ({"tile": -5}, "--tile must be at least 128 px"), ({"tile": 0}, "--tile must be at least 128 px"),
    ({"tile": 127}, r"--tile must be at least 128 px, the smallest tile the engine picks itself \(got 127\)"),
    ({"cpu_threads": 0}, r"--cpu-threads must be from 1 to 1024 \(got 0\)"),
    ({"cpu_threads": 1025}, "--cpu-threads must be from 1 to 1024"),
    ({"io_threads": 0}, r"--io-threads must be from 1 to 64 \(got 0\)"), ({"io_threads": 65}, "--io-threads"),
])
def test_a_tile_or_thread_count_out_of_seqs_range_is_refused(change, words):
    """click refused them on seq's command line; in process a tile of -5 px ran as 16 px tiles
    (22 times slower, other pixels) and 0 CPU threads ran as the default."""
    with pytest.raises(UsageError, match=words):
        EngineConfig(**change).check()


@pytest.mark.parametrize("change", [{"tile": 128}, {"cpu_threads": 1}, {"cpu_threads": 1024},
                                    {"io_threads": 1}, {"io_threads": 64}])
def test_the_ends_of_each_range_are_taken(change):
    EngineConfig(**change).check()


@pytest.mark.parametrize("feature", ["albdo", "alpha", "Albedo"])
def test_a_layer_feature_no_option_names_is_refused_naming_it_and_those_there_are(feature):
    """A misspelt key of the in-process API's layers raised a bare ValueError once the first frame
    was read ('alpha' is no layer option: seq's --alpha says what becomes of the alpha)."""
    with pytest.raises(UsageError) as refused:
        EngineConfig(layers={feature: "diffuse_albedo"}).check()
    assert str(refused.value) == (f"unknown layer feature(s) '{feature}'; the features whose layer can be "
                                  "named are beauty, albedo, normal, depth, motion")


@pytest.mark.parametrize(("cpu_threads", "io_threads", "threads"), [
    (None, None, 16), (1, None, 2), (4, None, 4), (64, None, 16), (1, 8, 8)])
def test_a_cpu_thread_count_bounds_the_exr_threads_it_leaves_to_their_default(monkeypatch, cpu_threads,
                                                                              io_threads, threads):
    """A farm task booked with one core of a 32-core worker runs seq --cpu-threads 1: its EXR
    threads were one per CPU of the worker (16), not of the booking; --io-threads still wins."""
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(32)))
    assert EngineConfig(cpu_threads=cpu_threads, io_threads=io_threads).threads() == threads
