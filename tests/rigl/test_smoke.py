"""A tiny training run (the real ones are not part of CI): RigL on two generated images."""

from __future__ import annotations

import numpy as np
import torch

from models.rigl.data import Samples, pool_map, student_frame
from models.rigl.sparsity import sparse_parameters
from models.rigl.train import train


def _disc_image(cx: float, cy: float, size=(200, 300)) -> tuple[np.ndarray, np.ndarray]:
    """A dark photo-like image with one bright disc; its 'teacher map' is a blob on the disc."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    disc = np.exp(-((xx - cx * w) ** 2 + (yy - cy * h) ** 2) / (2 * 15.0 ** 2))
    image = np.clip(40 + 200 * disc[..., None] * np.array([1.0, 0.8, 0.5]), 0, 255).astype(np.uint8)
    frame_y, frame_x = np.mgrid[0:480, 0:640]
    # the image fills the frame's width (300x200 -> 640x427, padded 26 rows above)
    weights = np.exp(-((frame_x - cx * 640) ** 2 + (frame_y - (26 + cy * 427)) ** 2) / (2 * 40.0 ** 2))
    return image, weights.astype(np.float32)


def _samples() -> Samples:
    frames, maps, centres = [], [], []
    for cx, cy in ((0.25, 0.3), (0.7, 0.65)):
        image, weights = _disc_image(cx, cy)
        frames.append(student_frame(image).astype(np.float16))
        maps.append(pool_map(weights))
        centres.append((cx * 160, 6.5 + cy * 106.75))
    # the consensus labels (what training reads by default) are the raw ones: this teacher has no framing noise
    return Samples(frames=np.stack(frames), centre_small=np.array(centres, np.float32),
                   centre_big=np.array(centres, np.float32) * 4, maps=np.stack(maps),
                   sizes=np.array([(300, 200)] * 2, np.int32), photo=np.zeros(2, np.int16), names=["disc"],
                   consensus_small=np.array(centres, np.float32), consensus_big=np.array(centres, np.float32) * 4,
                   consensus_maps=np.stack(maps))


def test_a_few_rigl_steps_keep_the_masks_and_reduce_the_loss():
    torch.set_num_threads(1)
    model, result = train(_samples(), "rigl", 0.9, steps=60, batch=2, lr=3e-3, delta_t=5, seed=0, log=lambda m: None)
    record, masks = result["record"], result["masks"]
    history = record["history"]
    assert record["mask_updates"] == len(range(5, 45, 5))  # every ΔT until 75 % of the run
    assert history["moved"][-1] > 0  # connections really moved
    assert all(abs(s - history["sparsity"][0]) < 1e-12 for s in history["sparsity"])
    assert abs(history["sparsity"][0] - 0.9) < 0.01
    params = sparse_parameters(model)
    for name, mask in masks.items():
        assert bool((params[name][~mask] == 0).all()), name
    assert np.mean(history["loss"][-2:]) < 0.7 * np.mean(history["loss"][:1])
    assert history["centre_px"][-1] < history["centre_px"][0]
    with torch.no_grad():
        _, centre = model(torch.from_numpy(_samples().frames.astype(np.float32)))
    assert bool(torch.isfinite(centre).all()) and bool((centre[:, 0] < 160).all())


def test_mirroring_a_batch_mirrors_its_labels_exactly():
    from models.rigl.student import Student
    from models.rigl.train import mirror_half

    samples = _samples()
    frames = torch.from_numpy(samples.frames.astype(np.float32))
    maps, centres = torch.from_numpy(samples.maps), torch.from_numpy(samples.centre_small)
    rng = np.random.default_rng(1)
    flipped = [mirror_half(rng, frames, maps, centres) for _ in range(8)]
    assert any(bool((f[0] != frames).any()) for f in flipped) and any(bool((f[0] == frames).all()) for f in flipped)
    for f, m, c in flipped:
        for i in range(len(frames)):
            mirrored = bool((f[i] != frames[i]).any())
            assert torch.equal(m[i], maps[i].flip(-1) if mirrored else maps[i])
            assert torch.equal(f[i], frames[i].flip(-1) if mirrored else frames[i])
            expected_x = 159 - centres[i, 0] if mirrored else centres[i, 0]
            assert float(c[i, 0]) == float(expected_x) and float(c[i, 1]) == float(centres[i, 1])
    # the label convention matches the student's: a mirrored input's soft-argmax centre is 159 - x
    torch.manual_seed(0)
    model = Student().eval()
    with torch.no_grad():
        log_map, centre = model(frames)
    weights = log_map.exp().flip(-1)
    x = (weights.sum(dim=1) * model.xs).sum(dim=1)
    assert torch.allclose(x, 159 - centre[:, 0], atol=1e-4)


def test_a_resumed_run_goes_on_from_its_weights_masks_and_curve():
    torch.set_num_threads(1)
    model, result = train(_samples(), "rigl", 0.9, steps=30, batch=2, delta_t=5, seed=0, log=lambda m: None)
    earlier = {"state_dict": model.state_dict(), "masks": result["masks"], "record": result["record"]}
    before = {name: mask.clone() for name, mask in result["masks"].items()}
    resumed, again = train(_samples(), "rigl", 0.9, steps=20, batch=2, delta_t=5, seed=1, log=lambda m: None,
                           resume=earlier, alpha=0.1)
    record = again["record"]
    assert record["steps"] == 50 and record["steps_before"] == 30 and record["cycle_steps"] == 20
    assert record["history"]["step"][:3] == result["record"]["history"]["step"][:3]
    assert record["history"]["step"][-1] == 50 and len(record["history"]["step"]) == 5
    assert record["mask_updates"] == result["record"]["mask_updates"] + len(range(5, 15, 5))
    for name, mask in again["masks"].items():
        assert int(mask.sum()) == int(before[name].sum()), name  # RigL moves connections, keeps their count
    assert any(bool((again["masks"][name] != before[name]).any()) for name in before)  # and did move some
    params = sparse_parameters(resumed)
    assert all(bool((params[name][~mask] == 0).all()) for name, mask in again["masks"].items())
