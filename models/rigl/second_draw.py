"""A second draw of the held-out images: the same four unseen photos, augmented anew, to see how much of a
difference between students is the draw.

    python3 -m models.rigl.second_draw          # writes docs/rigl/second_draw.json, prints a table

The table's held-out set is one draw of 160 augmented images of four photos (``data.split_images("held")``).
This draws 160 more of the same photos with other random crops, rescales and colour changes (image ``i`` from
its own generator, seeded ``[HELD_SEED, i]``), labels them with the teacher as training data is labelled, and
measures every packed student in ``.cache/rigl/packed/`` (written by ``models.rigl.evaluate``) and the committed
checkpoint, through the page's own Python path, on both draws.  It also measures the yardstick of the quality
bar (``evaluate.teacher_self_disagreement``) on the new draw.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from .data import CACHE, REPO, Samples, augment, cached_split, label, load_photos, split, split_images
from .evaluate import errors_of, evaluate_student, summary, teacher_self_disagreement
from .export import CHECKPOINT
from .train import HELD_COUNT, HELD_SEED, MODEL_DIR

OUT = REPO / "docs" / "rigl" / "second_draw.json"


def second_draw_images() -> list[np.ndarray]:
    names = split("held")[1]
    photos = load_photos(names)
    return [photos[names[i % len(names)]] if i < len(names)
            else augment(np.random.default_rng([HELD_SEED, i]), photos[names[i % len(names)]], [])
            for i in range(HELD_COUNT)]


def second_draw(images: list[np.ndarray]) -> Samples:
    path = CACHE / f"held-second-draw-n{HELD_COUNT}-s{HELD_SEED}.npz"
    if path.is_file():
        return Samples.load(path)
    from codeclab.onnx_bridge import OnnxRunner

    names = split("held")[1]
    samples = label(images, [i % len(names) for i in range(len(images))], names,
                    OnnxRunner(model_dir=MODEL_DIR, num_threads=1), log=lambda m: print(m, file=sys.stderr))
    samples.save(path)
    return samples


def main() -> int:
    first = cached_split("held", HELD_COUNT, HELD_SEED, MODEL_DIR)
    first_images, _, _ = split_images("held", HELD_COUNT, HELD_SEED)
    images = second_draw_images()
    second = second_draw(images)
    students = {f"{CHECKPOINT.name} (committed)": CHECKPOINT.read_bytes()}
    students.update({path.stem: path.read_bytes() for path in sorted((CACHE / "packed").glob("*.rigl"))})
    rows = []
    for name, packed in students.items():
        errors = [errors_of(evaluate_student(packed, imgs)[0], samples)
                  for samples, imgs in ((first, first_images), (second, images))]
        rows.append({"name": name, "first_draw": summary(errors[0]), "second_draw": summary(errors[1]),
                     "both": summary(np.concatenate(errors))})
        print(f"{name:34s} first {rows[-1]['first_draw']}  second {rows[-1]['second_draw']}  both {rows[-1]['both']}",
              file=sys.stderr)
    result = {"images_per_draw": HELD_COUNT, "rows": rows,
              "teacher_self_disagreement_second_draw": teacher_self_disagreement(images, second),
              "teacher_vs_consensus_second_draw": summary(np.hypot(*(second.centre_big - second.consensus_big).T))}
    OUT.write_text(json.dumps(result, indent=1))
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
