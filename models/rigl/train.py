"""Train one student by distillation from the attention-center teacher.

    python3 -m models.rigl.train --method rigl --sparsity 0.9 --steps 700

``--method``: ``dense`` | ``static`` (fixed ERK mask) | ``set`` (random regrowth)
| ``rigl`` (gradient regrowth).  The loss is the KL divergence from the
teacher's weighting map (pooled to the student's 15x20 cells) to the
student's, plus a smooth-L1 on the centre in cell units.  One CPU thread
(``torch.set_num_threads(1)``): the machine is shared.

Writes ``.cache/rigl/runs/<name>.pt`` (weights, masks, history) — the export
and the table read it from there.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .architecture import ARCH_NAME
from .data import CACHE, Samples, cached_split
from .sparsity import SparseSchedule, apply_masks, init_sparse, mask_gradients, rewire
from .student import CELL, FRAME_WIDTH, Student

RUNS = CACHE / "runs"
MODEL_DIR = Path(__file__).resolve().parents[2] / "build" / "models"
TRAIN_COUNT, HELD_COUNT = 4800, 160
TRAIN_SEED, HELD_SEED = 1, 2


def run_name(method: str, sparsity: float) -> str:
    return "dense" if method == "dense" else f"{method}{round(sparsity * 100)}"


def distillation_loss(log_map: torch.Tensor, centre: torch.Tensor, target_map: torch.Tensor,
                      target_centre: torch.Tensor, centre_weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns (loss, mean centre error in student-frame pixels)."""
    kl = F.kl_div(log_map.flatten(1), target_map.flatten(1), reduction="batchmean")
    centre_loss = F.smooth_l1_loss(centre / CELL, target_centre / CELL)
    error = (centre - target_centre).norm(dim=1).mean()
    return kl + centre_weight * centre_loss, error


def to_tensors(samples: Samples, index: np.ndarray, target: str = "consensus"
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch: frames, target maps and target centres (the teacher's consensus over views, or its raw output)."""
    maps, centres = ((samples.consensus_maps, samples.consensus_small) if target == "consensus"
                     else (samples.maps, samples.centre_small))
    return (torch.from_numpy(samples.frames[index].astype(np.float32)),
            torch.from_numpy(maps[index]), torch.from_numpy(centres[index]))


def mirror_half(rng: np.random.Generator, frames: torch.Tensor, maps: torch.Tensor, centres: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mirror a random half of a batch, labels with it: exact in the student's frame (160 = 20 cells of 8 px; the
    centre is a pixel index, so x -> 159 - x).  Only with consensus labels, which already average the teacher over
    the mirrored photo: its raw output on one framing is not mirror-symmetric (data.consensus)."""
    flip = torch.from_numpy(rng.random(len(frames)) < 0.5)
    frames = torch.where(flip[:, None, None, None], frames.flip(-1), frames)
    maps = torch.where(flip[:, None, None], maps.flip(-1), maps)
    mirrored = torch.stack([(FRAME_WIDTH - 1) - centres[:, 0], centres[:, 1]], dim=1)
    return frames, maps, torch.where(flip[:, None], mirrored, centres)


def held_out_median(model: Student, held: Samples) -> float:
    """Median centre error on the held-out images in the 640x480 frame (torch, unpacked: a progress figure;
    the table's figure comes from models.rigl.evaluate through the shipped path)."""
    from .data import small_to_big

    was_training = model.training
    model.eval()
    with torch.no_grad():
        _, centres = model(torch.from_numpy(held.frames.astype(np.float32)))
    model.train(was_training)
    big = np.array([small_to_big(float(x), float(y), int(w), int(h))
                    for (x, y), (w, h) in zip(centres.numpy(), held.sizes)])
    return float(np.median(np.hypot(*(big - held.centre_big).T)))


def train(samples: Samples, method: str, sparsity: float, steps: int, batch: int = 32, lr: float = 3e-3,
          delta_t: int = 20, end_fraction: float = 0.75, alpha: float = 0.3, seed: int = 0,
          log=print, held: Samples | None = None, eval_every: int = 100, checkpoint=None,
          checkpoint_every: int = 500, target: str = "consensus", resume: dict | None = None
          ) -> tuple[Student, dict]:
    """Train a student on ``samples``; returns it (eval mode) and its run record.

    With ``held``, the held-out median is logged every ``eval_every`` steps (``history["held_step"/"held_px"]``):
    it is only watched, never used to choose anything during training.  ``checkpoint(model, result)`` is
    called every ``checkpoint_every`` steps (a long run on a shared machine leaves something if stopped).
    ``target``: ``consensus`` (the teacher's consensus over views, data.VIEWS) or ``teacher`` (its raw output).
    ``resume``: a saved run (weights, masks, record) to go on from -- a second cosine cycle of ``steps``, its
    RigL updates starting from that run's masks; the history continues that run's step count."""
    torch.manual_seed(seed)
    model = Student()
    schedule = SparseSchedule(delta_t=delta_t, t_end=max(1, int(end_fraction * steps)), alpha=alpha)
    state = init_sparse(model, method, sparsity, schedule, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    history = {"step": [], "loss": [], "centre_px": [], "sparsity": [], "moved": [], "held_step": [], "held_px": []}
    started = time.perf_counter()
    running = []
    moved = 0
    steps_before, seconds_before, updates_before = 0, 0.0, 0
    if resume is not None:
        model.load_state_dict(resume["state_dict"])
        if method != "dense":
            state.masks = {name: mask.clone() for name, mask in resume["masks"].items()}
            apply_masks(model, state)
        earlier = resume["record"]
        steps_before = int(earlier.get("steps_done", earlier["steps"]))
        history = {key: list(values) for key, values in earlier["history"].items()}  # the curve goes on
        moved = history["moved"][-1] if history["moved"] else 0
        seconds_before, updates_before = float(earlier["train_seconds"]), int(earlier["mask_updates"])

    def record(done: int = steps) -> dict:
        return {"method": method, "target_sparsity": sparsity if method != "dense" else 0.0,
                "sparsity": state.sparsity(), "steps": steps_before + steps, "steps_done": steps_before + done,
                "cycle_steps": steps, "batch": batch, "lr": lr,
                "delta_t": delta_t, "t_end": schedule.t_end, "alpha": alpha, "seed": seed,
                "mask_updates": updates_before + state.updates,
                "train_seconds": seconds_before + time.perf_counter() - started,
                "threads": torch.get_num_threads(), "train_images": len(samples), "train_photos": len(samples.names),
                "target": target, "architecture": ARCH_NAME, "steps_before": steps_before,
                "history": history}

    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:  # cosine learning-rate decay
            group["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))
        index = rng.choice(len(samples), size=min(batch, len(samples)), replace=False)
        frames, maps, centres = to_tensors(samples, index, target)
        if target == "consensus":
            frames, maps, centres = mirror_half(rng, frames, maps, centres)
        log_map, centre = model(frames)
        loss, error = distillation_loss(log_map, centre, maps, centres)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        moved += rewire(model, state, step, optimizer)  # reads the dense gradient
        mask_gradients(model, state)
        optimizer.step()
        apply_masks(model, state)  # Adam's moments would otherwise move inactive weights
        running.append((loss.item(), error.item()))
        if (step + 1) % 10 == 0 or step == steps - 1:
            loss_mean, error_mean = np.mean(running, axis=0)
            running.clear()
            history["step"].append(steps_before + step + 1)
            history["loss"].append(float(loss_mean))
            history["centre_px"].append(float(error_mean) * 4.0)  # in 640x480 frame pixels
            history["sparsity"].append(state.sparsity())
            history["moved"].append(moved)
            held_text = ""
            if held is not None and ((step + 1) % eval_every == 0 or step == steps - 1):
                history["held_step"].append(steps_before + step + 1)
                history["held_px"].append(held_out_median(model, held))
                held_text = f"  held-out median {history['held_px'][-1]:.1f} px"
            if (step + 1) % 100 == 0 or step == steps - 1:
                log(f"  step {step + 1:5d}  loss {loss_mean:.4f}  centre {error_mean * 4:.1f} px (640x480)  "
                    f"sparsity {state.sparsity():.3f}  moved {moved}  {time.perf_counter() - started:.0f} s"
                    f"{held_text}")
        if checkpoint is not None and (step + 1) % checkpoint_every == 0 and step < steps - 1:
            model.eval()
            checkpoint(model, {"record": record(step + 1), "masks": state.masks})
            model.train()
    model.eval()
    return model, {"record": record(), "masks": state.masks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m models.rigl.train", description=__doc__.split("\n")[0])
    parser.add_argument("--method", choices=("dense", "static", "set", "rigl"), required=True)
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--delta-t", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", help="run name (default: method + sparsity, e.g. rigl90)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--images", type=int, default=TRAIN_COUNT, help="training images (the first N of the split)")
    parser.add_argument("--also", action="append", default=[], metavar="SPLIT:COUNT",
                        help="another training split to train on as well (data.TRAIN_SPLITS), e.g. "
                             "train-before-opencv:4800 (labelled and cached like the main one)")
    parser.add_argument("--target", choices=("consensus", "teacher"), default="consensus",
                        help="labels: the teacher's consensus over views of each image (default) or its raw output")
    parser.add_argument("--resume", metavar="RUN", help="go on from a saved run (.cache/rigl/runs/RUN.pt): "
                        "a second cosine cycle of --steps from its weights and masks")
    parser.add_argument("--alpha", type=float, default=0.3, help="RigL's initial drop fraction")
    parser.add_argument("--watch-held", action="store_true",
                        help="log the held-out median every 100 steps (watched only; nothing is chosen by it)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    samples = cached_split("train", args.images, TRAIN_SEED, MODEL_DIR)
    if args.also:
        from .data import concatenate

        extra = [cached_split(which, int(count), TRAIN_SEED, MODEL_DIR)
                 for which, count in (spec.split(":") for spec in args.also)]
        samples = concatenate([samples, *extra])
    name = args.name or run_name(args.method, args.sparsity)
    print(f"{name}: {len(samples)} training images, {args.steps} steps of {args.batch}", file=sys.stderr)
    held = cached_split("held", HELD_COUNT, HELD_SEED, MODEL_DIR) if args.watch_held else None

    def save(model: Student, result: dict, suffix: str = "") -> None:
        RUNS.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": model.state_dict(), "masks": result["masks"], "record": result["record"]},
                   RUNS / f"{name}{suffix}.pt")
        (RUNS / f"{name}{suffix}.json").write_text(json.dumps(result["record"], indent=1))

    model, result = train(samples, args.method, args.sparsity, args.steps, args.batch, lr=args.lr,
                          delta_t=args.delta_t, seed=args.seed, log=lambda m: print(m, file=sys.stderr), held=held,
                          checkpoint=lambda m, r: save(m, r, "-partial"), target=args.target, alpha=args.alpha,
                          resume=torch.load(RUNS / f"{args.resume}.pt", weights_only=False) if args.resume else None)
    save(model, result)
    print(f"{name}: {result['record']['train_seconds']:.0f} s -> {RUNS / name}.pt", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
