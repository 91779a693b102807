"""Noise models match their parameters statistically, are seeded, and specs parse or fail clearly."""

import numpy as np
import pytest

from vfxdenoise.core.classic.datasets import ImagePair
from vfxdenoise.core.classic.noise import (
    Chain,
    Choice,
    Clip,
    Gaussian,
    Identity,
    Poisson,
    SaltPepper,
    add_noise,
    gaussian_sigma,
    noisy_inputs,
    parse_noise,
    refuse_missing_captures,
)
from vfxdenoise.core.errors import DatasetError, ImageError, NoiseSpecError

N = 200_000  # values per statistical check: standard errors well under 1% of the checked quantities


def flat(value: float, n: int = N) -> np.ndarray:
    return np.full((1, n // 400, 400), value, np.float32)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("spec, sigma", [("gaussian:25", 25 / 255), ("gaussian:sigma=0.1,scale=1", 0.1),
                                         ("awgn:50", 50 / 255), ("gaussian:4000,scale=65535", 4000 / 65535)])
def test_gaussian_has_zero_mean_and_the_given_sigma(spec, sigma):
    clean = flat(0.5)
    noise = parse_noise(spec)(clean, rng()) - clean
    assert abs(noise.mean()) < 5 * sigma / np.sqrt(N)
    assert noise.std() == pytest.approx(sigma, rel=0.01)
    assert gaussian_sigma(parse_noise(spec)) == pytest.approx(sigma)


def test_gaussian_is_not_clipped_and_does_not_modify_its_input():
    clean = flat(1.0, 4000)
    before = clean.copy()
    noisy = add_noise(clean, "gaussian:25")
    assert noisy.max() > 1.05 and noisy.dtype == np.float32
    np.testing.assert_array_equal(clean, before)


def test_gaussian_range_draws_one_sigma_per_call_within_the_range():
    model = parse_noise("gaussian:10-40")
    generator = rng(3)
    sigmas = [float((model(flat(0.5, 8000), generator) - 0.5).std()) * 255 for _ in range(60)]
    assert 9 < min(sigmas) < 16 and 34 < max(sigmas) < 41
    assert gaussian_sigma(model) is None  # not a fixed level


@pytest.mark.parametrize("value", [0.05, 0.4, 0.9])
def test_poisson_mean_is_the_value_and_variance_value_over_photons(value):
    photons = 30.0
    noisy = parse_noise("poisson:30")(flat(value), rng(1))
    assert noisy.mean() == pytest.approx(value, abs=5 * np.sqrt(value / photons / N))
    assert noisy.var() == pytest.approx(value / photons, rel=0.02)
    counts = noisy * photons
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-4)  # whole photon counts


def test_poisson_accepts_exponent_notation():
    model = parse_noise("poisson:1e+3")
    assert isinstance(model, Poisson) and model.photons == 1000.0
    assert parse_noise("shot:2E3").photons == 2000.0


def test_impulse_replaces_the_density_with_uniform_values():
    clean = flat(0.123)
    noisy = parse_noise("impulse:0.2")(clean, rng(2))
    hit = noisy != clean
    assert hit.mean() == pytest.approx(0.2, abs=0.005)
    replaced = noisy[hit]
    assert replaced.mean() == pytest.approx(0.5, abs=0.005)
    assert replaced.var() == pytest.approx(1 / 12, rel=0.03)
    quarters = np.histogram(replaced, bins=4, range=(0, 1))[0] / replaced.size
    np.testing.assert_allclose(quarters, 0.25, atol=0.01)


@pytest.mark.parametrize("spec, density, salt", [("saltpepper:0.1", 0.1, 0.5), ("s&p:0.3,0.8", 0.3, 0.8),
                                                 ("saltpepper:density=0.05,salt=0", 0.05, 0.0)])
def test_salt_and_pepper_density_and_ratio(spec, density, salt):
    clean = flat(0.5)
    noisy = parse_noise(spec)(clean, rng(4))
    assert set(np.unique(noisy)) <= {0.0, 0.5, 1.0}
    assert (noisy != clean).mean() == pytest.approx(density, abs=0.005)
    assert (noisy == 1.0).mean() == pytest.approx(density * salt, abs=0.004)


def test_salt_and_pepper_hits_channels_independently():
    clean = np.full((3, 200, 200), 0.5, np.float32)
    hit = parse_noise("saltpepper:0.5")(clean, rng(5)) != clean
    all_three = hit.all(axis=0).mean()
    assert all_three == pytest.approx(0.125, abs=0.01)  # 0.5 ** 3, not 0.5 as for whole-pixel hits


def test_speckle_is_multiplicative():
    for value in (0.2, 0.8):
        clean = flat(value)
        noisy = parse_noise("speckle:0.2")(clean, rng(6))
        assert noisy.mean() == pytest.approx(value, abs=5 * 0.2 * value / np.sqrt(N))
        assert noisy.std() == pytest.approx(0.2 * value, rel=0.01)


def test_chain_applies_left_to_right_and_variances_add():
    model = parse_noise("gaussian:10+poisson:50")
    assert isinstance(model, Chain) and [type(p) for p in model.parts] == [Gaussian, Poisson]
    noisy = model(flat(0.5), rng(7))
    assert noisy.var() == pytest.approx(0.5 / 50 + (10 / 255) ** 2, rel=0.02)


@pytest.mark.parametrize("spec", ["gaussian:25+clip", "poisson:5+gaussian:0-55+clip", "speckle:0.5+CLIP"])
def test_clip_keeps_the_chain_s_noise_within_0_1_as_a_file_holds_it(spec):
    """Clipping draws nothing: the same seed gives the unclipped chain's values, clipped."""
    clean = np.random.default_rng(0).random((3, 64, 64)).astype(np.float32)
    clean[:, :8] = 1.0
    clean[:, 8:16] = 0.0
    noisy = add_noise(clean, spec, seed=5)
    unclipped = add_noise(clean, spec.rpartition("+")[0], seed=5)
    assert unclipped.min() < 0 or unclipped.max() > 1
    np.testing.assert_array_equal(noisy, np.clip(unclipped, 0.0, 1.0))
    assert noisy.dtype == np.float32 and isinstance(parse_noise(spec).parts[-1], Clip)


def test_clip_leaves_values_inside_0_1_as_the_chain_gives_them():
    clean = flat(0.5)
    noisy = parse_noise("gaussian:10+clip")(clean, rng(9))  # 12.75 sigmas from either end
    assert noisy.std() == pytest.approx(10 / 255, rel=0.01)
    assert gaussian_sigma(parse_noise("gaussian:10+clip")) is None  # BM3D measures clipped noise


def test_clip_applies_to_its_own_option_of_a_choice():
    model = parse_noise("gaussian:50+clip|gaussian:50")
    assert isinstance(model, Choice) and isinstance(model.options[0], Chain)
    assert model.options[0].spec == "gaussian:50+clip" and isinstance(model.options[1], Gaussian)


def test_choice_picks_each_option_about_equally_often():
    model = parse_noise("gaussian:25|saltpepper:0.1|none")
    assert isinstance(model, Choice) and isinstance(model.options[2], Identity)
    generator, kinds = rng(8), []
    for _ in range(600):
        noisy = model(flat(0.5, 400), generator)
        kinds.append("none" if np.all(noisy == 0.5) else "sp" if np.isin(noisy, (0, 0.5, 1)).all() else "g")
    for kind in ("g", "sp", "none"):
        assert kinds.count(kind) / 600 == pytest.approx(1 / 3, abs=0.07)


def test_same_seed_same_noise_other_seed_other_noise():
    clean = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    for spec in ("gaussian:25", "poisson:30", "impulse:0.2", "saltpepper:0.1", "speckle:0.2",
                 "gaussian:0-55|saltpepper:0-0.2"):
        np.testing.assert_array_equal(add_noise(clean, spec, seed=3), add_noise(clean, spec, seed=3))
        assert not np.array_equal(add_noise(clean, spec, seed=3), add_noise(clean, spec, seed=4))


def test_salt_pepper_class_keeps_its_spec():
    model = parse_noise("  saltpepper:0.1 ")
    assert isinstance(model, SaltPepper) and model.spec == "saltpepper:0.1"


@pytest.mark.parametrize("spec, words", [
    ("", "empty"),
    ("blur:3", "unknown noise 'blur'"),
    ("gaussian", "needs its sigma"),
    ("gaussian:300", "sigma must lie in"),
    ("saltpepper:1.5", "density must lie in"),
    ("gaussian:40-10", "runs backwards"),
    ("gaussian:abc", "not a number"),
    ("poisson:30,4", "unexpected parameter"),
    ("gaussian:25,sigma=3", "given twice"),
    ("gaussian:25+", "not a number"),
    ("gaussian:0.2,scale=0.5", "scale must lie in"),
    ("gaussian:sigma=0.1,scale=1-2", "scale is the scale sigma is written on .* not a range"),
    # An empty option was read as a noise named '': "unknown noise '' in ''", naming neither.
    ("gaussian:25|", r"noise 'gaussian:25\|': an empty choice .* e\.g\. gaussian:25\|saltpepper:0\.1"),
    ("gaussian:25|| poisson:30", r"noise 'gaussian:25\|\| poisson:30': an empty choice"),
    ("gaussian:25+clp", "unknown noise 'clp' in 'clp'; use one of .* and clip to end a chain"),
    ("gaussian:25+clip:0-255", r"noise 'gaussian:25\+clip:0-255': clip takes no parameters"),
    ("clip", r"noise 'clip': clip needs a noise before it .* e\.g\. gaussian:25\+clip"),
    ("gaussian:25+clip+saltpepper:0.1", r"noise 'gaussian:25\+clip\+saltpepper:0\.1': clip must come last"),
    ("gaussian:25+clip+clip", "clip must come last"),
])
def test_bad_specs_raise_noise_spec_errors_naming_the_problem(spec, words):
    with pytest.raises(NoiseSpecError, match=words):
        parse_noise(spec)


def test_noisy_inputs_are_fixed_per_image_seed_or_the_real_captures():
    """Image i gets `add_noise` with seed + i (validation scores like with like on every call);
    without a noise model, each image's real noisy capture, and one lacking it is refused."""
    pair = ImagePair("flat", np.full((1, 16, 16), 0.5, np.float32))
    other = ImagePair("other", np.full((1, 16, 16), 0.25, np.float32))
    noise = parse_noise("gaussian:25")
    assert noisy_inputs([pair], noise, 3)[0].std() > 0.05
    first, second = noisy_inputs([pair, other], noise, 3)
    np.testing.assert_array_equal(first, add_noise(pair.clean, noise, seed=3))
    np.testing.assert_array_equal(second, add_noise(other.clean, noise, seed=4))
    captured = ImagePair("real", pair.clean, noisy=np.zeros((1, 16, 16), np.float32))
    assert noisy_inputs([captured], None, 3)[0] is captured.noisy
    with pytest.raises(DatasetError, match="flat has no real noisy capture"):
        noisy_inputs([captured, pair], None, 3)


def test_images_lacking_a_real_capture_are_refused_only_without_a_synthetic_noise():
    clean = np.full((1, 8, 8), 0.5, np.float32)
    bare, captured = ImagePair("bare", clean), ImagePair("real", clean, noisy=clean.copy())
    refuse_missing_captures([bare], parse_noise("gaussian:25"))
    refuse_missing_captures([captured], None)
    with pytest.raises(DatasetError, match="bare has no real noisy capture; give a synthetic noise"):
        refuse_missing_captures([captured, bare], None)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, bool])
def test_add_noise_refuses_integer_pixels(dtype):
    """0-255 values got noise drawn on the 0-1 scale, 255 times too weak, without a word."""
    with pytest.raises(ImageError, match=rf"the image holds {np.dtype(dtype)} values.*divide 8-bit"):
        add_noise(np.full((1, 16, 16), 1, dtype), "gaussian:25")
    assert add_noise(np.full((1, 16, 16), 0.5, np.float16), "gaussian:25").std() > 0.05
