"""The broad held-out ruler: 53 photographs no student has trained on, three images of each.

    python3 -m models.rigl.broad            # writes docs/rigl/broad.json, prints a table

The table's held-out set (``evaluate``) is 160 images of four photos, so a student's median there is mostly how
it does on those four.  This ruler is every other GCompris photo in name order (``data.BROAD_HELD_OUT``: animals
and monuments from ``gcompris-qt-data``), each as it is and twice augmented (its own generator per image,
``data.split_images("held-broad")``).  No training split has any of them.

It measures, through the page's own Python path like ``evaluate``: every packed student in
``.cache/rigl/packed/`` (written by ``models.rigl.evaluate``) and the committed checkpoint; the image-centre
baseline; and the quality bar's yardstick, the teacher's own disagreement with itself when the photo is mirrored or
loses 2 % of its width (``evaluate.teacher_view_errors``), on these images.  Each student's margin to the bar
(its median minus the teacher's) comes with a 90 % interval from resampling photos, the quartiles of the same
margin photo by photo, and the margin of each of the table's four photos, to set beside that spread.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from .data import BROAD_HELD_OUT, BROAD_IMAGES_PER_PHOTO, CACHE, REPO, cached_split, split_images
from .evaluate import bar_summary, centre_baseline, errors_of, evaluate_student, summary, teacher_view_errors
from .export import CHECKPOINT
from .train import HELD_COUNT, HELD_SEED, MODEL_DIR

OUT = REPO / "docs" / "rigl" / "broad.json"


def broad_count() -> int:
    return BROAD_IMAGES_PER_PHOTO * len(BROAD_HELD_OUT)


def margin_interval(student: np.ndarray, views: np.ndarray, photo: np.ndarray, draws: int = 2000,
                    seed: int = 0) -> tuple[float, float, float]:
    """The student's median error minus the bar's (the teacher's median movement over its views), and a 90 %
    interval of that margin from resampling *photos* with replacement (the images of one photo are not
    independent).  ``student``: [n] errors; ``views``: [n, v] the teacher's movement per image and view;
    ``photo``: [n] photo ids.  Negative = under the bar."""
    margin = float(np.median(student) - np.median(views))
    rng = np.random.default_rng(seed)
    photos = np.unique(photo)
    rows_of = [np.flatnonzero(photo == p) for p in photos]
    samples = []
    for _ in range(draws):
        rows = np.concatenate([rows_of[i] for i in rng.integers(0, len(photos), len(photos))])
        samples.append(np.median(student[rows]) - np.median(views[rows]))
    low, high = np.percentile(samples, [5, 95])
    return round(margin, 1), round(float(low), 1), round(float(high), 1)


def four_photo_margins(packed: bytes, samples, images, views: np.ndarray) -> dict[str, float]:
    """The margin to the bar of each of the table's four held-out photos (its images of the table's draw)."""
    errors = errors_of(evaluate_student(packed, images)[0], samples)
    return {name: round(float(np.median(errors[samples.photo == p]) - np.median(views[samples.photo == p])), 1)
            for p, name in enumerate(samples.names)}


def main() -> int:
    if not BROAD_HELD_OUT:
        print("the broad ruler needs GCompris's photos: apt-get install gcompris-qt-data", file=sys.stderr)
        return 1
    count = broad_count()
    samples = cached_split("held-broad", count, HELD_SEED, MODEL_DIR,
                           log=lambda m: print(m, file=sys.stderr, flush=True))
    images, _, _ = split_images("held-broad", count, HELD_SEED)
    view_errors = teacher_view_errors(images, samples)
    views = np.stack(list(view_errors.values()), axis=1)
    bar = bar_summary(view_errors)
    print(f"teacher vs itself (the bar): {bar['median_px']} / {bar['p90_px']} px", file=sys.stderr)
    # the table's four photos, photo by photo, to set beside the broad ruler's photo-to-photo spread
    four = cached_split("held", HELD_COUNT, HELD_SEED, MODEL_DIR)
    four_images, _, _ = split_images("held", HELD_COUNT, HELD_SEED)
    four_views = np.stack(list(teacher_view_errors(four_images, four).values()), axis=1)
    students = {f"{CHECKPOINT.name} (committed)": CHECKPOINT.read_bytes()}
    students.update({path.stem: path.read_bytes() for path in sorted((CACHE / "packed").glob("*.rigl"))})
    rows = [{"name": "image centre", **summary(errors_of(centre_baseline(samples), samples))}]
    for name, packed in students.items():
        points, ms = evaluate_student(packed, images)
        errors = errors_of(points, samples)
        per_photo = [float(np.median(errors[samples.photo == p])) for p in range(len(samples.names))]
        # the same margin photo by photo: how much one photo's verdict can differ from the whole ruler's
        photo_margins = [float(np.median(errors[samples.photo == p]) - np.median(views[samples.photo == p]))
                         for p in range(len(samples.names))]
        margin, low, high = margin_interval(errors, views, samples.photo)
        rows.append({"name": name, **summary(errors), "cpython_ms": round(ms, 2),
                     "margin_px": margin, "margin_90_interval_px": [low, high],
                     "photo_margin_quartiles_px": [round(float(q), 1) for q in np.percentile(photo_margins,
                                                                                             [25, 50, 75])],
                     "photos_under_bar": int(sum(e <= bar["median_px"] for e in per_photo)),
                     "four_photo_margins_px": four_photo_margins(packed, four, four_images, four_views),
                     "vs_consensus_median_px": round(float(np.median(
                         np.hypot(*(np.asarray(points) - samples.consensus_big.astype(np.float64)).T))), 1)})
        print(f"{name:34s} median {rows[-1]['median_px']:5.1f}  p90 {rows[-1]['p90_px']:5.1f}  "
              f"vs the bar {margin:+.1f} px (90 %: {low:+.1f} .. {high:+.1f})  "
              f"photos under the bar {rows[-1]['photos_under_bar']}/{len(samples.names)}  photo margins (quartiles) "
              f"{rows[-1]['photo_margin_quartiles_px']}  the four photos' {rows[-1]['four_photo_margins_px']}",
              file=sys.stderr)
    result = {"photos": list(BROAD_HELD_OUT), "images": len(samples), "teacher_self_disagreement": bar,
              "teacher_vs_consensus": summary(np.hypot(*(samples.centre_big - samples.consensus_big).T)),
              "rows": rows}
    OUT.write_text(json.dumps(result, indent=1))
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
