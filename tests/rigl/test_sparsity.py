"""The RigL mask update on small layers: exact drops, exact grows, counts, zeros, ERK budget."""

from __future__ import annotations

import math

import pytest
import torch  # a dev requirement (requirements-dev.txt)

from models.rigl.sparsity import (
    SparseSchedule,
    apply_masks,
    erk_densities,
    init_sparse,
    mask_gradients,
    random_mask,
    rewire,
    sparse_parameters,
    update_mask,
)


def _layer(seed: int = 0, shape=(6, 5)):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(shape, generator=generator)
    mask = random_mask(shape, 0.4, generator)
    grad = torch.randn(shape, generator=generator)
    return weight * mask, mask, grad


def test_rigl_drops_smallest_active_and_grows_largest_gradient():
    weight, mask, grad = _layer()
    active = int(mask.sum())
    k = round(0.5 * active)
    new_mask, grown = update_mask(weight, mask, grad, 0.5, "rigl")
    assert int(new_mask.sum()) == active
    # the k smallest-magnitude active weights are the ones dropped
    active_idx = mask.reshape(-1).nonzero().reshape(-1)
    by_magnitude = active_idx[weight.reshape(-1)[active_idx].abs().argsort()]
    expected_dropped = set(by_magnitude[:k].tolist())
    kept = set(by_magnitude[k:].tolist())
    assert kept <= set(new_mask.reshape(-1).nonzero().reshape(-1).tolist())
    # grown: the k largest |grad| among everything not kept (inactive before, or just dropped)
    candidates = [i for i in range(mask.numel()) if i not in kept]
    best = sorted(candidates, key=lambda i: -abs(float(grad.reshape(-1)[i])))[:k]
    assert set(grown.reshape(-1).nonzero().reshape(-1).tolist()) == set(best)
    assert set(new_mask.reshape(-1).nonzero().reshape(-1).tolist()) == kept | set(best)
    # what was dropped and not regrown (the paper lets a just-dropped weight be regrown) is now inactive
    assert not (expected_dropped - set(best)) & set(new_mask.reshape(-1).nonzero().reshape(-1).tolist())


def test_set_grows_only_where_it_may_and_preserves_count():
    weight, mask, _ = _layer(1)
    generator = torch.Generator().manual_seed(3)
    new_mask, grown = update_mask(weight, mask, None, 0.3, "set", generator)
    assert int(new_mask.sum()) == int(mask.sum())
    assert bool((new_mask | ~grown).all())  # every grown connection is active
    k = round(0.3 * int(mask.sum()))
    assert int(grown.sum()) == k


def test_rigl_needs_the_gradient():
    weight, mask, _ = _layer()
    with pytest.raises(ValueError, match="gradient"):
        update_mask(weight, mask, None, 0.3, "rigl")


def test_zero_fraction_changes_nothing():
    weight, mask, grad = _layer()
    new_mask, grown = update_mask(weight, mask, grad, 0.0, "rigl")
    assert torch.equal(new_mask, mask) and not grown.any()


def test_cosine_drop_fraction_and_update_steps():
    schedule = SparseSchedule(delta_t=10, t_end=100, alpha=0.3)
    assert schedule.drop_fraction(0) == pytest.approx(0.3)
    assert schedule.drop_fraction(50) == pytest.approx(0.15)
    assert schedule.drop_fraction(100) == 0.0
    assert [s for s in range(0, 130) if schedule.is_update_step(s)] == list(range(10, 100, 10))


def test_erk_densities_sum_to_the_budget_and_cap_at_one():
    shapes = {"stem": (16, 3, 3, 3), "dw": (16, 1, 3, 3), "pw": (64, 16, 1, 1), "big": (128, 64, 3, 3)}
    sizes = {name: math.prod(shape) for name, shape in shapes.items()}
    for density in (0.05, 0.1, 0.2, 0.5):
        found = erk_densities(shapes, density)
        assert all(0 < d <= 1.0 for d in found.values())
        total = sum(found[name] * sizes[name] for name in shapes)
        assert total == pytest.approx(density * sum(sizes.values()), rel=1e-9)
    # small layers with many dims per weight become dense; the biggest stays the sparsest
    found = erk_densities(shapes, 0.1)
    assert found["dw"] == 1.0 and found["big"] == min(found.values())


def _tiny_model():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 1))


def test_rewire_zeroes_grown_weights_and_their_adam_moments():
    torch.manual_seed(0)
    model = _tiny_model()
    schedule = SparseSchedule(delta_t=1, t_end=10, alpha=0.5)
    state = init_sparse(model, "rigl", 0.8, schedule, seed=1)
    counts = {name: int(mask.sum()) for name, mask in state.masks.items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    x = torch.randn(2, 3, 6, 6)
    for step in range(3):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        before = {name: mask.clone() for name, mask in state.masks.items()}
        grads = {name: p.grad.clone() for name, p in sparse_parameters(model).items()}
        moved = rewire(model, state, step, optimizer)
        params = sparse_parameters(model)
        for name, mask in state.masks.items():
            assert int(mask.sum()) == counts[name]
            new = mask & ~before[name]
            assert bool((params[name][new] == 0).all())
            for value in optimizer.state.get(params[name], {}).values():
                if isinstance(value, torch.Tensor) and value.shape == mask.shape:
                    assert bool((value[new] == 0).all())
            if step > 0:  # grown where the gradient was largest among the non-kept
                assert new.any() or moved == 0
                if new.any():
                    inactive = ~before[name]
                    assert float(grads[name][new].abs().min()) >= float(grads[name][inactive & ~mask].abs().max())
        mask_gradients(model, state)
        optimizer.step()
        apply_masks(model, state)
        for name, mask in state.masks.items():
            assert bool((sparse_parameters(model)[name][~mask] == 0).all())


def test_static_masks_never_change():
    model = _tiny_model()
    state = init_sparse(model, "static", 0.9, SparseSchedule(delta_t=1, t_end=10), seed=2)
    masks = {name: mask.clone() for name, mask in state.masks.items()}
    model(torch.randn(1, 3, 4, 4)).sum().backward()
    assert rewire(model, state, 1, None) == 0
    assert all(torch.equal(masks[name], state.masks[name]) for name in masks)
    assert state.sparsity() == pytest.approx(0.9, abs=0.01)
