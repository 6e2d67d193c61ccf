"""Sparse training as in "Rigging the Lottery: Making All Tickets Winners" (Evci et al., 2020).

Our own implementation of the paper's algorithm, in PyTorch:

* **ERK initial sparsity** (section 3, "Sparsity distribution"): layer ``l`` gets
  density ``eps * (sum of its kernel dims) / (product of its kernel dims)``
  (for a conv ``n_in, n_out, k_h, k_w``), with ``eps`` chosen so the total
  number of nonzeros is the budget; a layer whose density would exceed 1 is
  made dense and ``eps`` recomputed over the others.  Masks are drawn at
  random with exactly ``round(density * size)`` ones.
* **The mask update** every ``delta_t`` steps until ``t_end`` (Algorithm 1):
  for each layer, ``k = drop_fraction(t) * (active connections)``; drop the
  ``k`` active weights of smallest magnitude, grow ``k`` connections — RigL:
  those of largest dense-gradient magnitude among the connections not active
  after the drop (so a just-dropped one may come back, as the paper's
  ``ArgTopK_{i not in theta \\ I_drop}`` allows); SET: chosen uniformly at
  random among the same.  New connections start at zero (and so do their
  optimiser moments), so growing does not change the network's output.
* **Cosine drop fraction**: ``alpha / 2 * (1 + cos(pi * t / t_end))``.
* **Static** sparsity: the ERK mask is kept for the whole run (the paper's
  "Static" baseline).

The number of nonzeros of every layer is constant across updates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

METHODS = ("dense", "static", "set", "rigl")


@dataclass(frozen=True)
class SparseSchedule:
    """When and how much the masks change."""

    delta_t: int = 50            # steps between mask updates
    t_end: int = 1000            # last step at which masks may change (the paper: 75 % of training)
    alpha: float = 0.3           # initial drop fraction

    def drop_fraction(self, step: int) -> float:
        if step >= self.t_end:
            return 0.0
        return self.alpha / 2.0 * (1.0 + math.cos(math.pi * step / self.t_end))

    def is_update_step(self, step: int) -> bool:
        return step > 0 and step % self.delta_t == 0 and step < self.t_end


def erk_densities(shapes: dict[str, tuple[int, ...]], density: float, power_scale: float = 1.0) -> dict[str, float]:
    """Erdős–Rényi-Kernel density per layer so that the total nonzeros equal ``density`` of all weights.

    ``shapes`` are torch weight shapes (``out, in, kh, kw`` or ``out, in``).
    """
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    sizes = {name: math.prod(shape) for name, shape in shapes.items()}
    total = sum(sizes.values())
    raw = {name: (sum(shape) / math.prod(shape)) ** power_scale for name, shape in shapes.items()}
    dense: set[str] = set()
    while True:
        # nonzeros left for the sparse layers once the dense ones are counted in full
        budget = density * total - sum(sizes[name] for name in dense)
        weighted = sum(raw[name] * sizes[name] for name in shapes if name not in dense)
        if weighted <= 0:
            break
        eps = budget / weighted
        over = [name for name in shapes if name not in dense and eps * raw[name] > 1.0]
        if not over:
            break
        dense.add(max(over, key=lambda name: raw[name]))
    return {name: 1.0 if name in dense else eps * raw[name] for name in shapes}


def random_mask(shape: tuple[int, ...], density: float, generator: torch.Generator) -> torch.Tensor:
    size = math.prod(shape)
    ones = int(round(density * size))
    order = torch.randperm(size, generator=generator)
    mask = torch.zeros(size, dtype=torch.bool)
    mask[order[:ones]] = True
    return mask.reshape(shape)


def update_mask(weight: torch.Tensor, mask: torch.Tensor, grad: torch.Tensor | None, fraction: float,
                method: str, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One layer's drop-and-grow.  Returns ``(new_mask, grown)``, both bool of ``mask``'s shape.

    ``grad`` is the dense gradient of the loss w.r.t. the (masked) weight, needed by RigL only.
    """
    if method not in ("rigl", "set"):
        raise ValueError(f"update_mask needs method 'rigl' or 'set', got {method!r}")
    flat_mask = mask.reshape(-1)
    active = int(flat_mask.sum())
    k = int(round(fraction * active))
    k = min(k, active, flat_mask.numel() - active)
    if k <= 0:
        return mask.clone(), torch.zeros_like(mask)
    magnitude = torch.where(flat_mask, weight.detach().reshape(-1).abs(), torch.full_like(flat_mask, math.inf,
                                                                                           dtype=weight.dtype))
    dropped = torch.topk(magnitude, k, largest=False).indices
    after_drop = flat_mask.clone()
    after_drop[dropped] = False
    if method == "rigl":
        if grad is None:
            raise ValueError("RigL grows by gradient magnitude: pass the dense gradient")
        score = grad.detach().reshape(-1).abs().to(torch.float64)
    else:
        score = torch.rand(flat_mask.numel(), generator=generator, dtype=torch.float64)
    score = torch.where(after_drop, torch.full_like(score, -math.inf), score)
    grow = torch.topk(score, k, largest=True).indices
    new_mask = after_drop.clone()
    new_mask[grow] = True
    grown = torch.zeros_like(flat_mask)
    grown[grow] = True  # includes any just-dropped weight grown back: it restarts at zero too
    return new_mask.reshape(mask.shape), grown.reshape(mask.shape)


@dataclass
class SparseState:
    """Masks over a model's sparse weights, and the bookkeeping of a run."""

    method: str
    masks: dict[str, torch.Tensor] = field(default_factory=dict)
    schedule: SparseSchedule = field(default_factory=SparseSchedule)
    generator: torch.Generator = field(default_factory=lambda: torch.Generator().manual_seed(0))
    updates: int = 0

    def nonzeros(self) -> int:
        return int(sum(int(mask.sum()) for mask in self.masks.values()))

    def size(self) -> int:
        return int(sum(mask.numel() for mask in self.masks.values()))

    def sparsity(self) -> float:
        return 1.0 - self.nonzeros() / self.size() if self.masks else 0.0


def sparse_parameters(model: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    """The weights we sparsify: every conv / linear kernel (biases and norms stay dense)."""
    return {name: module.weight for name, module in _named_layers(model)}


def _named_layers(model: torch.nn.Module):
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            yield name + ".weight", module


def init_sparse(model: torch.nn.Module, method: str, sparsity: float, schedule: SparseSchedule,
                seed: int = 0) -> SparseState:
    """ERK masks for ``sparsity`` (0.9 = 90 % zeros) applied to ``model``'s weights (dense: no masks)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    state = SparseState(method=method, schedule=schedule, generator=torch.Generator().manual_seed(seed))
    if method == "dense":
        return state
    params = sparse_parameters(model)
    densities = erk_densities({name: tuple(p.shape) for name, p in params.items()}, 1.0 - sparsity)
    for name, param in params.items():
        state.masks[name] = random_mask(tuple(param.shape), densities[name], state.generator)
    apply_masks(model, state)
    return state


@torch.no_grad()
def apply_masks(model: torch.nn.Module, state: SparseState) -> None:
    params = sparse_parameters(model)
    for name, mask in state.masks.items():
        params[name].mul_(mask)


def mask_gradients(model: torch.nn.Module, state: SparseState) -> None:
    """Zero the gradient of inactive weights (called after the dense gradient was read, if at all)."""
    params = sparse_parameters(model)
    for name, mask in state.masks.items():
        if params[name].grad is not None:
            params[name].grad.mul_(mask)


@torch.no_grad()
def rewire(model: torch.nn.Module, state: SparseState, step: int, optimizer: torch.optim.Optimizer | None) -> int:
    """Drop-and-grow on every sparse layer if ``step`` is an update step; returns the connections moved.

    Must be called after ``backward()`` and before :func:`mask_gradients`, so
    that each ``param.grad`` is still the dense gradient RigL grows by.
    """
    if state.method not in ("rigl", "set") or not state.schedule.is_update_step(step):
        return 0
    fraction = state.schedule.drop_fraction(step)
    params = sparse_parameters(model)
    moved = 0
    for name, mask in state.masks.items():
        param = params[name]
        new_mask, grown = update_mask(param, mask, param.grad, fraction, state.method, state.generator)
        param.mul_(new_mask)
        param[grown] = 0.0
        if optimizer is not None:
            for value in optimizer.state.get(param, {}).values():
                if isinstance(value, torch.Tensor) and value.shape == param.shape:
                    value[grown] = 0.0
        moved += int(grown.sum())
        state.masks[name] = new_mask
    state.updates += 1
    return moved
