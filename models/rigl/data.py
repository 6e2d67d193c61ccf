"""Distillation data: photos that Python packages ship, augmented, labelled by the converted teacher.

The teacher is our ONNX conversion of Google's attention-center model
(``build/models/attention_center.onnx``): its ``center`` (x, y in the 640x480
frame) and ``weights`` (its sigmoid weighting map over the frame, the map
whose gravity centre is the centre).  Each sample keeps

* the student's input: the same image through the same TensorFlow-exact
  ``resize_with_pad``, into a 160x120 frame (float16 to halve the cache);
* the teacher's centre in the student's frame (via original-image pixels, so
  the two frames' slightly different paddings are accounted for exactly) and
  in the teacher's 640x480 frame;
* the teacher's map averaged over the student's 15x20 cells (32x32 teacher
  pixels each), normalised to sum 1.

Photos are split by *photo*: the held-out ones are never augmented into
training.  Besides the Python packages' sample images, training uses the
photographs (and a few illustrations) that Debian's wallpaper packages install
(``WALLPAPER_PACKAGES``; ``apt-get install`` them: models/rigl/apt-packages.txt and
the main README), read from their installed paths.  Nothing generated here is
committed; it is cached under ``.cache/rigl/``.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "pysrc"))

from codeclab.attention.geometry import frame_to_original, original_to_frame  # noqa: E402
from codeclab.attention.preprocess import pad_geometry, resize_with_pad  # noqa: E402

from .architecture import FRAME_HEIGHT, FRAME_WIDTH, GRID_HEIGHT, GRID_WIDTH  # noqa: E402

TEACHER_HEIGHT, TEACHER_WIDTH = 480, 640
HELD_OUT = ("matplotlib:grace_hopper", "sklearn:flower", "skimage:coffee", "skimage:camera")
CACHE = REPO / ".cache" / "rigl"
DATA_VERSION = 2
# Debian packages whose wallpapers are photographs (checked by eye; abstract renders are left out).
WALLPAPER_PACKAGES = ("lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "mate-backgrounds",
                      "plasma-workspace-wallpapers", "ukui-wallpapers")
WALLPAPER_LONG_SIDE = 1600               # decoded photos are downscaled to this (augmentation goes to <= 900)


def _skimage(name: str) -> np.ndarray:
    import skimage.data

    return getattr(skimage.data, name)()


def _sklearn(name: str) -> np.ndarray:
    from sklearn.datasets import load_sample_image

    return load_sample_image(f"{name}.jpg")


def _matplotlib(name: str) -> np.ndarray:
    import matplotlib
    from PIL import Image

    folder = Path(matplotlib.get_data_path()) / "sample_data"
    match = next(path for path in folder.iterdir() if path.stem == name)
    return np.asarray(Image.open(match).convert("RGBA" if match.suffix == ".png" else "RGB"))


def _wallpaper(path: str) -> np.ndarray:
    """A photo installed by a Debian wallpaper package; a Plasma wallpaper folder picks its 2560-wide image."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    file = Path(path)
    if file.is_dir():  # /usr/share/wallpapers/<Name>: contents/images/<W>x<H>.<ext>
        sizes = sorted(file.glob("contents/images/*x*.*"), key=lambda f: int(f.stem.split("x")[0]))
        file = next((f for f in sizes if int(f.stem.split("x")[0]) >= 2560), sizes[-1])
    with Image.open(file) as image:
        image.draft("RGB", (WALLPAPER_LONG_SIDE, WALLPAPER_LONG_SIDE))
        image = image.convert("RGB")
        image.thumbnail((WALLPAPER_LONG_SIDE, WALLPAPER_LONG_SIDE), Image.Resampling.LANCZOS)
        return np.asarray(image)


_BACKGROUNDS = "/usr/share/backgrounds/"
WALLPAPERS = {
    # lomiri-wallpapers-16.04 / -20.04 (Ubuntu Touch photo contests)
    **{f"lomiri:{name.split('_by_')[0]}": _BACKGROUNDS + name for name in (
        "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Infinite-Sea_by_Aury88.jpg",
        "Kleiber_by_Lukas_Baubkus.jpg", "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg",
        "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg", "analogpattern_by_Peter_Nerlich.jpg",
        "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg", "life_by_Aitzol_Berasategi.jpg",
        "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
        "sunset_by_Aitzol_Berasategi.jpg")},
    # mate-backgrounds: the nature photos
    **{f"mate:{name}": f"{_BACKGROUNDS}mate/nature/{name}.jpg" for name in (
        "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "Storm",
        "TwoWings", "Wood", "YellowFlower")},
    # plasma-workspace-wallpapers: the photos, and one painting
    **{f"plasma:{name}": f"/usr/share/wallpapers/{name}" for name in (
        "Autumn", "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
        "Kite", "OneStandsOut", "Path", "summer_1am")},
    # ukui-wallpapers: illustrations with one salient object (users drop graphics too)
    **{f"ukui:{name}": f"{_BACKGROUNDS}{name}" for name in ("goldfish.png", "the-mouse.jpg", "calla.png",
                                                              "firstgeneration.jpg")},
}


def installed_wallpapers() -> dict[str, str]:
    """The wallpaper photos whose files are installed (the others are reported once and skipped)."""
    found = {name: path for name, path in WALLPAPERS.items() if Path(path).exists()}
    if len(found) < len(WALLPAPERS):
        print(f"models.rigl.data: {len(WALLPAPERS) - len(found)} of {len(WALLPAPERS)} wallpaper photos are not "
              f"installed (apt-get install {' '.join(WALLPAPER_PACKAGES)})", file=sys.stderr)
    return found


PHOTOS = {
    **{f"skimage:{name}": (_skimage, name) for name in (
        "astronaut", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina", "coins", "moon",
        "clock", "page", "text", "brick", "grass", "gravel", "cell", "colorwheel", "logo", "horse", "coffee",
        "camera")},
    "sklearn:china": (_sklearn, "china"),
    "sklearn:flower": (_sklearn, "flower"),
    "matplotlib:grace_hopper": (_matplotlib, "grace_hopper"),
    "matplotlib:Minduka_Present_Blue_Pack": (_matplotlib, "Minduka_Present_Blue_Pack"),
    **{name: (_wallpaper, path) for name, path in installed_wallpapers().items()},
}


def as_rgb8(image: np.ndarray) -> np.ndarray:
    """Any package image (bool, grey, RGBA, float) -> uint8 [h, w, 3]."""
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 4:  # over white, like a browser page would show it
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(image[:, :, :3])


def load_photos(names: list[str]) -> dict[str, np.ndarray]:
    return {name: as_rgb8(PHOTOS[name][0](PHOTOS[name][1])) for name in names}


def split() -> tuple[list[str], list[str]]:
    train = [name for name in PHOTOS if name not in HELD_OUT]
    return train, list(HELD_OUT)


# ---------------------------------------------------------------- augmentation

def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BICUBIC))


def augment(rng: np.random.Generator, photo: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """A random crop, rescale, flip, colour jitter and (sometimes) a composite of another photo."""
    h, w = photo.shape[:2]
    area = rng.uniform(0.35, 1.0) * h * w
    aspect = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    cw = int(np.clip(round(np.sqrt(area * aspect)), 16, w))
    ch = int(np.clip(round(np.sqrt(area / aspect)), 16, h))
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    image = photo[y0:y0 + ch, x0:x0 + cw]
    long_side = int(rng.integers(160, 900))
    scale = long_side / max(cw, ch)
    image = _resize(image, max(8, round(cw * scale)), max(8, round(ch * scale)))
    if rng.random() < 0.5:
        image = image[:, ::-1]
    if others and rng.random() < 0.35:
        image = composite(rng, image, others[int(rng.integers(len(others)))])
    pixels = image.astype(np.float32)
    gains = rng.uniform(0.8, 1.2, size=3) * rng.uniform(0.7, 1.3)
    mean = pixels.mean()
    contrast = rng.uniform(0.7, 1.3)
    pixels = (pixels - mean) * contrast + mean
    grey = pixels.mean(axis=2, keepdims=True)
    saturation = rng.uniform(0.5, 1.4)
    pixels = (grey + (pixels - grey) * saturation) * gains
    return np.clip(pixels, 0, 255).astype(np.uint8)


def composite(rng: np.random.Generator, image: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Paste a rescaled crop of ``other`` somewhere in ``image`` (a new salient object in a new place)."""
    h, w = image.shape[:2]
    oh, ow = other.shape[:2]
    fraction = rng.uniform(0.2, 0.5)
    pw, ph = max(8, int(w * fraction)), max(8, int(h * fraction * rng.uniform(0.7, 1.4)))
    ph = min(ph, h)
    cx, cy = int(rng.integers(0, max(1, ow - ow // 2))), int(rng.integers(0, max(1, oh - oh // 2)))
    patch = _resize(other[cy:cy + oh // 2, cx:cx + ow // 2], pw, ph)
    x0, y0 = int(rng.integers(0, w - pw + 1)), int(rng.integers(0, h - ph + 1))
    out = image.copy()
    out[y0:y0 + ph, x0:x0 + pw] = patch
    return out


# ---------------------------------------------------------------- teacher labels

@dataclass
class Samples:
    frames: np.ndarray          # float16 [n, 3, 120, 160]
    centre_small: np.ndarray    # float32 [n, 2] teacher centre in the student's frame (pixel indices)
    centre_big: np.ndarray      # float32 [n, 2] teacher centre in the 640x480 frame
    maps: np.ndarray            # float32 [n, 15, 20] teacher map over the student's cells, sums to 1
    sizes: np.ndarray           # int32 [n, 2] original image (width, height)
    photo: np.ndarray           # int16 [n] index into ``names``
    names: list[str]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, frames=self.frames, centre_small=self.centre_small, centre_big=self.centre_big,
                 maps=self.maps, sizes=self.sizes, photo=self.photo, names=np.array(self.names))

    @classmethod
    def load(cls, path: Path) -> Samples:
        with np.load(path) as data:
            return cls(**{key: data[key] for key in ("frames", "centre_small", "centre_big", "maps", "sizes",
                                                      "photo")}, names=[str(n) for n in data["names"]])

    def __len__(self) -> int:
        return len(self.frames)


def student_frame(image: np.ndarray) -> np.ndarray:
    """uint8 RGB [h, w, 3] -> float32 [3, 120, 160], the TF-exact resize_with_pad into the small frame."""
    frame, _ = resize_with_pad(image, FRAME_HEIGHT, FRAME_WIDTH)
    return frame.transpose(2, 0, 1)


def big_to_small(u: float, v: float, width: int, height: int) -> tuple[float, float]:
    """A point in the teacher's 640x480 frame -> the student's 160x120 frame, through the original image."""
    x, y = frame_to_original(u, v, pad_geometry(width, height, TEACHER_WIDTH, TEACHER_HEIGHT))
    return original_to_frame(x, y, pad_geometry(width, height, FRAME_WIDTH, FRAME_HEIGHT))


def small_to_big(u: float, v: float, width: int, height: int) -> tuple[float, float]:
    x, y = frame_to_original(u, v, pad_geometry(width, height, FRAME_WIDTH, FRAME_HEIGHT))
    return original_to_frame(x, y, pad_geometry(width, height, TEACHER_WIDTH, TEACHER_HEIGHT))


def pool_map(weights: np.ndarray) -> np.ndarray:
    """Teacher map [480, 640] -> mean over 32x32 cells [15, 20], normalised to sum 1."""
    cells = weights.reshape(GRID_HEIGHT, TEACHER_HEIGHT // GRID_HEIGHT, GRID_WIDTH, TEACHER_WIDTH // GRID_WIDTH)
    pooled = cells.mean(axis=(1, 3)).astype(np.float64)
    total = pooled.sum()
    return (pooled / total if total > 0 else np.full_like(pooled, 1.0 / pooled.size)).astype(np.float32)


def label(images, photo_ids: list[int], names: list[str], runner, log=print) -> Samples:
    """``images``: a list or any iterable of ``len(photo_ids)`` images (a generator keeps memory flat)."""
    n = len(photo_ids)
    frames = np.zeros((n, 3, FRAME_HEIGHT, FRAME_WIDTH), np.float16)
    centre_small = np.zeros((n, 2), np.float32)
    centre_big = np.zeros((n, 2), np.float32)
    maps = np.zeros((n, GRID_HEIGHT, GRID_WIDTH), np.float32)
    sizes = np.zeros((n, 2), np.int32)
    started = time.perf_counter()
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        big, _ = resize_with_pad(image, TEACHER_HEIGHT, TEACHER_WIDTH)
        out = runner.run_sync("attention_center", {"image": big[None]})
        u, v = (float(c) for c in np.asarray(out["center"]).reshape(-1))
        centre_big[i] = (u, v)
        centre_small[i] = big_to_small(u, v, w, h)
        maps[i] = pool_map(np.asarray(out["weights"], np.float32).reshape(TEACHER_HEIGHT, TEACHER_WIDTH))
        frames[i] = student_frame(image)
        sizes[i] = (w, h)
        if (i + 1) % 100 == 0:
            log(f"  labelled {i + 1}/{n} ({(time.perf_counter() - started) / (i + 1) * 1000:.0f} ms each)")
    return Samples(frames, centre_small, centre_big, maps, sizes, np.array(photo_ids, np.int16), names)


def split_images(which: str, count: int, seed: int) -> tuple[list[np.ndarray], list[int], list[str]]:
    """The split's images (deterministic for a seed), each photo's index, and the photo names."""
    images, ids, names = iter_split_images(which, count, seed)
    return list(images), ids, names


def iter_split_images(which: str, count: int, seed: int):
    """Like ``split_images`` but the images come from a generator (thousands of them do not fit in memory)."""
    train, held = split()
    names = train if which == "train" else held
    photos = load_photos(names)
    others = [photos[name] for name in train] if which == "train" else []
    rng = np.random.default_rng(seed)
    ids = [i % len(names) for i in range(count)]

    def images():
        for i, pid in enumerate(ids):
            photo = photos[names[pid]]
            # the first sample of each photo is the photo itself, as a user would drop it
            yield photo if i < len(names) else augment(rng, photo, others)

    return images(), ids, names


def make_split(which: str, count: int, seed: int, runner, log=print) -> Samples:
    images, ids, names = iter_split_images(which, count, seed)
    return label(images, ids, names, runner, log)


def cached_split(which: str, count: int, seed: int, model_dir: Path, log=print) -> Samples:
    # the held-out split is the four held-out photos only, whatever else is installed: its name stays v1
    version = DATA_VERSION if which == "train" else 1
    photos = "" if which != "train" else f"-p{len(split()[0])}"
    path = CACHE / f"{which}-v{version}{photos}-n{count}-s{seed}.npz"
    if path.is_file():
        return Samples.load(path)
    from codeclab.onnx_bridge import OnnxRunner

    runner = OnnxRunner(model_dir=model_dir, num_threads=int(os.environ.get("RIGL_TEACHER_THREADS", "1")))
    log(f"labelling {count} {which} images with the teacher ({model_dir}/attention_center.onnx)")
    samples = make_split(which, count, seed, runner, log)
    samples.save(path)
    return samples

