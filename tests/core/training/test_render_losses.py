"""Render training losses: falling when fitting a batch, each weight scaling its own term, the
temporal term reading the frame pairs a batch counts."""

import pytest
import torch
from exr_sequences import write_render_dataset

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.models import build_model
from vfxdenoise.core.models.temporal_unet import from_log
from vfxdenoise.core.training.render_batches import batches, uses_pairs
from vfxdenoise.core.training.render_data import RenderDataConfig
from vfxdenoise.core.training.render_losses import (
    energy_loss,
    relmse_loss,
    self_supervised_loss,
    supervised_loss,
)


def _dataset(root, sequences=2):
    return load_dataset(write_render_dataset(root, sequences))


def test_supervised_loss_falls_when_fitting_a_batch(tmp_path, torch_threads):
    torch.set_num_threads(1)  # 80 small steps: more threads' waits spun beside the suite's other processes
    torch.manual_seed(0)
    seqs = _dataset(tmp_path, 1)
    config = RenderDataConfig(crop=32, batch=8, layout=InputLayout(1))
    batch = next(batches(seqs, config, seed=99))
    pairs = uses_pairs(seqs, config)
    model = build_model("temporal-unet", temporal_radius=1, widths=(16, 16, 16, 16))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(80):
        loss = supervised_loss(model, batch, pairs=pairs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]


def test_temporal_weight_scales_the_flicker_term_only(tmp_path):
    seqs = _dataset(tmp_path, 1)
    config = RenderDataConfig(crop=24, batch=4, layout=InputLayout(1))
    batch = next(batches(seqs, config, seed=3))
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 8))
    with torch.no_grad():
        loss = {w: supervised_loss(model, batch, pairs=True, temporal_weight=w).item() for w in (0, 1, 2)}
    assert loss[1] > loss[0]
    assert loss[2] - loss[0] == pytest.approx(2 * (loss[1] - loss[0]), rel=1e-4)


def test_energy_loss_prefers_the_noisy_mean_to_a_darker_smooth_image():
    """Heavy-tailed noise: a few bright samples carry much of the energy. The median-like image an
    L1 loss favours drops that energy, which the energy term sees and plain L1 does not."""
    generator = torch.Generator().manual_seed(0)
    reference = torch.full((1, 3, 64, 64), 0.5)
    fireflies = (torch.rand(reference.shape, generator=generator) < 0.02).float() * 20.0
    noisy = reference * 0.2 + fireflies  # mean 0.1 + 0.4 = 0.5, median 0.1
    dark = torch.full_like(reference, 0.1)
    log = torch.log1p
    assert (log(dark) - log(reference)).abs().mean() < (log(noisy) - log(reference)).abs().mean()
    assert energy_loss(log(noisy), log(reference)) < 0.5 * energy_loss(log(dark), log(reference))


@pytest.mark.parametrize(("weight", "term"), [("energy_weight", energy_loss), ("relmse_weight", relmse_loss)])
def test_a_loss_weight_adds_its_term(tmp_path, weight, term):
    seqs = _dataset(tmp_path, 1)
    batch = next(batches(seqs, RenderDataConfig(crop=24, batch=4, layout=InputLayout(1)), seed=3))
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 8))
    with torch.no_grad():
        loss = {w: supervised_loss(model, batch, **{weight: w}).item() for w in (0, 2)}
        expected = term(model.forward_log(batch["input"]), torch.log1p(batch["target"]))
    assert loss[2] - loss[0] == pytest.approx(2 * expected.item(), rel=1e-4)


def test_relmse_loss_sees_a_sparkle_that_log_l1_barely_does():
    """One pixel at 12 on a 0.05 background (a bright sample let through) against an image 20%
    too dark everywhere: log-space L1 prefers the sparkle, relative MSE does not."""
    reference = torch.full((1, 3, 64, 64), 0.05)
    sparkle = reference.clone()
    sparkle[..., 10, 20] = 12.0
    dark = reference * 0.8
    log = torch.log1p
    assert (log(sparkle) - log(reference)).abs().mean() < (log(dark) - log(reference)).abs().mean()
    assert relmse_loss(log(sparkle), log(reference)) > 100 * relmse_loss(log(dark), log(reference))


def test_relmse_loss_is_the_relmse_score_with_its_gradient():
    """One formula for the score and the loss: the loss is the score of the linear radiance."""
    generator = torch.Generator().manual_seed(0)
    pred = torch.rand((2, 3, 16, 16), generator=generator).mul(4).log1p().requires_grad_()
    target = torch.rand((2, 3, 16, 16), generator=generator).mul(4).log1p()
    loss = relmse_loss(pred, target)
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert loss.item() == pytest.approx(metrics.relmse(torch.expm1(pred), torch.expm1(target)), rel=1e-6)


def test_the_temporal_term_compares_the_pairs_the_batch_counts_only(tmp_path):
    """Pairs come first in a batch (`render_batches.draw_batch`), single frames after them: only the
    first `batch["pairs"]` pairs are compared frame to frame."""
    seqs = _dataset(tmp_path)
    batch = next(batches(seqs, RenderDataConfig(crop=24, batch=6, layout=InputLayout(1)), seed=5))
    batch["pairs"] = 1  # frames 2..5 read as single frames
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 8))
    with torch.no_grad():
        loss = {w: supervised_loss(model, batch, pairs=True, temporal_weight=w).item() for w in (0, 5)}
        pred, target = model.forward_log(batch["input"]), torch.log1p(batch["target"])
    change = (pred[1] - pred[0]) - (target[1] - target[0])
    assert loss[5] - loss[0] == pytest.approx(5 * change.abs().mean().item(), rel=1e-4)


def test_a_batch_of_pairs_only_need_not_count_them(tmp_path):
    """Every frame paired: the loss of a batch that counts its pairs and of one that does not agree."""
    seqs = _dataset(tmp_path)
    drawn = next(batches(seqs, RenderDataConfig(crop=24, batch=4, layout=InputLayout(1)), seed=2))
    assert drawn["pairs"] == 2
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 8))
    with torch.no_grad():
        counted = supervised_loss(model, drawn, pairs=True)
        uncounted = supervised_loss(model, {k: drawn[k] for k in ("input", "target")}, pairs=True)
    assert counted.item() == uncounted.item()


def test_the_gradient_term_sees_edges_the_plain_l1_does_not(tmp_path):
    """Two references as far from the output on average (L1 of the log radiance `c` per pixel):
    one shifted evenly, one shifted by 0 and 2c in a checkerboard. Only the second has edges the
    output lacks; the gradient term (half the L1 of the x and y differences, 2c each) tells them
    apart by 0.5 * (2c + 2c)."""
    seqs = _dataset(tmp_path, 1)
    batch = next(batches(seqs, RenderDataConfig(crop=24, batch=4, layout=InputLayout(1)), seed=3))
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 8))
    c = 0.1
    with torch.no_grad():
        pred = model.forward_log(batch["input"])
        assert pred.min() >= 0  # both references below stay in the log transfer's range
        rows, cols = torch.meshgrid(torch.arange(24), torch.arange(24), indexing="ij")
        checker = ((rows + cols) % 2).float() * 2 - 1  # -1 and 1
        targets = {"even": from_log(pred + c), "edged": from_log(pred + c * (1 + checker))}
        loss = {name: supervised_loss(model, {"input": batch["input"], "target": target}).item()
                for name, target in targets.items()}
    assert loss["edged"] - loss["even"] == pytest.approx(0.5 * (2 * c + 2 * c), rel=1e-3)


def test_the_self_supervised_loss_sends_no_gradient_through_its_denominator(tmp_path):
    """Noise2Noise's relative L2 divides by the output's square as a weight only: differentiating
    the denominator too would reward brighter outputs, a bias. The model's gradient is that of
    (pred - target)^2 over a constant pred^2 + 0.01."""
    seqs = _dataset(tmp_path, 1)
    batch = next(batches(seqs, RenderDataConfig(crop=24, batch=4, layout=InputLayout(1)), seed=3))
    torch.manual_seed(0)
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 8))
    self_supervised_loss(model, batch).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    pred = model(batch["input"])
    weight = 1 / (pred.detach() ** 2 + 0.01)
    (((pred - batch["target"]) ** 2) * weight).mean().backward()
    assert any(g.abs().sum() > 0 for g in grads)
    for got, expected in zip(grads, (p.grad for p in model.parameters())):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-7)
