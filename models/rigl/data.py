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
docs/rigl.md), read from their installed paths, and opencv-doc's sample photos.
GCompris's photographs (``gcompris-qt-data``, read out of its Qt resource
bundles by ``qt_resources``) are split in two by name: every other one is the
broad held-out ruler (``BROAD_HELD_OUT``, ``models.rigl.broad``), the rest the
``train-gcompris`` split.  Nothing generated here is committed; it is cached
under ``.cache/rigl/``.
"""

from __future__ import annotations

import functools
import io
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
DATA_VERSION = 3                         # 3: with the teacher's consensus labels
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


STAMP_PACKAGE = "tuxpaint-stamps-default"
STAMPS = Path("/usr/share/tuxpaint/stamps")
STAMP_FRACTION = 0.4                    # training images that get one or two stamps pasted in
STAMP_MIN_COLOURS = 150                 # distinct 15-bit colours: drops the one-colour letters and signs


def installed_stamps() -> list[np.ndarray]:
    """Tux Paint's stamps (photographed and drawn objects on a transparent background) as RGBA arrays: objects
    to paste into the training photos, a salient thing in a new place on a new background each time."""
    from PIL import Image

    if not STAMPS.is_dir():
        print(f"models.rigl.data: no stamps (apt-get install {STAMP_PACKAGE})", file=sys.stderr)
        return []
    stamps = []
    for path in sorted(STAMPS.rglob("*.png")):
        with Image.open(path) as image:
            rgba = np.asarray(image.convert("RGBA"))
        opaque = rgba[rgba[:, :, 3] > 200][:, :3] // 8
        if len(opaque) < 400:
            continue
        colours = np.unique((opaque[:, 0].astype(np.int32) << 10) | (opaque[:, 1].astype(np.int32) << 5) | opaque[:, 2])
        if len(colours) >= STAMP_MIN_COLOURS:
            stamps.append(rgba)
    return stamps


def paste_stamps(rng: np.random.Generator, image: np.ndarray, stamps: list[np.ndarray]) -> np.ndarray:
    """One or two stamps, each 15-45 % of the image's short side, alpha-blended at random places."""
    from PIL import Image

    out = image.astype(np.float32)
    h, w = image.shape[:2]
    for _ in range(1 + int(rng.random() < 0.3)):
        stamp = stamps[int(rng.integers(len(stamps)))]
        sh, sw = stamp.shape[:2]
        scale = rng.uniform(0.15, 0.45) * min(h, w) / max(sh, sw)
        tw, th = max(4, min(w, round(sw * scale))), max(4, min(h, round(sh * scale)))
        patch = np.asarray(Image.fromarray(stamp[:, ::-1] if rng.random() < 0.5 else stamp)
                           .resize((tw, th), Image.Resampling.BICUBIC)).astype(np.float32)
        x0, y0 = int(rng.integers(0, w - tw + 1)), int(rng.integers(0, h - th + 1))
        alpha = patch[:, :, 3:4] / 255.0
        region = out[y0:y0 + th, x0:x0 + tw]
        out[y0:y0 + th, x0:x0 + tw] = patch[:, :, :3] * alpha + region * (1.0 - alpha)
    return np.clip(out, 0, 255).astype(np.uint8)


_OPENCV = "/usr/share/doc/opencv-doc/examples/"
# opencv-doc: OpenCV's sample photos -- people, animals, street signs and shop fronts (text draws the eye), objects
# on tables; the synthetic test patterns (pic1-pic4) are left out.
OPENCV_PHOTOS = {f"opencv:{Path(path).stem}": _OPENCV + path for path in (
    *(f"data/{name}" for name in (
        "chicky_512.png", "rubberwhale1.png", "leuvenA.jpg", "aloeL.jpg", "starry_night.jpg", "ela_original.jpg",
        "baboon.jpg", "basketball1.png", "box_in_scene.png", "board.jpg", "smarties.png", "fruits.jpg",
        "building.jpg", "cards.png", "messi5.jpg", "squirrel_cls.jpg", "aero1.jpg", "aero3.jpg",
        "licenseplate_motion.jpg", "apple.jpg", "orange.jpg", "butterfly.jpg", "home.jpg", "stuff.jpg",
        "text_defocus.jpg", "pca_test1.jpg", "left.jpg", "Blender_Suzanne1.jpg", "graf1.png", "HappyFish.jpg")),
    "hfs/data/000.jpg", "hfs/data/002.jpg",
    *(f"text/scenetext0{i}.jpg" for i in range(1, 7)),
    *(f"text/scenetext_segmented_word0{i}.jpg" for i in range(1, 6)))}
OPENCV_PACKAGE = "opencv-doc"


def installed_wallpapers() -> dict[str, str]:
    """The wallpaper (and opencv-doc) photos whose files are installed (the others are reported once, skipped)."""
    wanted = {**WALLPAPERS, **OPENCV_PHOTOS}
    found = {name: path for name, path in wanted.items() if Path(path).exists()}
    if len(found) < len(wanted):
        print(f"models.rigl.data: {len(wanted) - len(found)} of {len(wanted)} packaged photos are not installed "
              f"(apt-get install {' '.join(WALLPAPER_PACKAGES)} {OPENCV_PACKAGE})", file=sys.stderr)
    return found


GCOMPRIS_PACKAGE = "gcompris-qt-data"
GCOMPRIS_BUNDLES = Path("/usr/share/gcompris-qt/rcc")
# GCompris's activities whose pictures are photographs with one clear subject: animals (1920x1080 and 1024-wide),
# farm animals and monuments (checked by eye).  Other activities' pictures are drawings, icons or small.
GCOMPRIS_ACTIVITIES = ("erase", "explore_world_animals", "explore_farm_animals", "explore_monuments")
GCOMPRIS_MIN_LONG_SIDE = 640
GCOMPRIS_PREFIX = "gcompris:"


@functools.lru_cache(maxsize=1)  # photos load in name order, so one bundle after another: keep the last one
def _bundle_files(bundle: str) -> dict[str, bytes]:
    from .qt_resources import files

    return dict(files(Path(bundle).read_bytes()))


def installed_gcompris() -> dict[str, tuple[str, str]]:
    """GCompris's photographs, ``gcompris:<activity>/<stem>`` -> (bundle, path inside it), in name order; empty
    (and reported) when gcompris-qt-data is not installed."""
    from PIL import Image

    found = {}
    for activity in GCOMPRIS_ACTIVITIES:
        bundle = GCOMPRIS_BUNDLES / f"{activity}.rcc"
        if not bundle.is_file():
            continue
        for inner, blob in _bundle_files(str(bundle)).items():
            if not inner.endswith((".webp", ".jpg", ".jpeg", ".png")) or "/resource/" not in inner:
                continue
            with Image.open(io.BytesIO(blob)) as image:  # reads the header only
                if max(image.size) >= GCOMPRIS_MIN_LONG_SIDE:
                    found[f"{GCOMPRIS_PREFIX}{activity}/{Path(inner).stem}"] = (str(bundle), inner)
    if not found:
        print(f"models.rigl.data: GCompris's photos are not installed (apt-get install {GCOMPRIS_PACKAGE}); the "
              f"broad held-out set and the train-gcompris split need them", file=sys.stderr)
    return dict(sorted(found.items()))


def _gcompris(where: tuple[str, str]) -> np.ndarray:
    from PIL import Image

    bundle, inner = where
    with Image.open(io.BytesIO(_bundle_files(bundle)[inner])) as image:
        image = image.convert("RGB")
        image.thumbnail((WALLPAPER_LONG_SIDE, WALLPAPER_LONG_SIDE), Image.Resampling.LANCZOS)
        return np.asarray(image)


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
    **{name: (_gcompris, where) for name, where in installed_gcompris().items()},
}
# The broad held-out set: every other GCompris photo (in name order), never in any training split.  The four
# HELD_OUT photos are the table's first ruler; this one (~50 photos, three images each) is the broad one.
BROAD_HELD_OUT = tuple(name for name in PHOTOS if name.startswith(GCOMPRIS_PREFIX))[::2]
BROAD_IMAGES_PER_PHOTO = 3


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


# Training splits by photo set, as (only these prefixes or None for all, without these prefixes): "train" is every
# installed photo but GCompris's (the 106 photos of the second round); "train-before-opencv" the 63 before opencv-doc's
# were added; "train-gcompris" the GCompris photos not held out.  Each is labelled and cached on its own, so they can
# be trained on together (train.py --also) without relabelling the others.
TRAIN_SPLITS = {"train": (None, (GCOMPRIS_PREFIX,)), "train-before-opencv": (None, ("opencv:", GCOMPRIS_PREFIX)),
                "train-gcompris": ((GCOMPRIS_PREFIX,), ())}


def split(which: str = "train") -> tuple[list[str], list[str]]:
    """(training photo names of the split ``which``, held-out photo names: the broad set's for "held-broad",
    else the four HELD_OUT).  No held-out photo of either set is in any training split."""
    only, without = TRAIN_SPLITS.get(which, (None, ()))
    held_anywhere = {*HELD_OUT, *BROAD_HELD_OUT}
    train = [name for name in PHOTOS if name not in held_anywhere and not name.startswith(without)
             and (only is None or name.startswith(only))]
    return train, list(BROAD_HELD_OUT if which == "held-broad" else HELD_OUT)


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
    # The teacher's consensus over views no viewer tells apart (``VIEWS``): its mean centre, aligned back to the
    # image, in both frames, and its map averaged with the mirrored view's.  Its centre moves by ~25 px (median,
    # 640x480 frame) when a photo loses 2 % of its width or is mirrored (``python3 -m models.rigl.evaluate`` measures it):
    # the consensus is what the teacher says of the photo rather than of one framing of it.
    consensus_small: np.ndarray | None = None
    consensus_big: np.ndarray | None = None
    consensus_maps: np.ndarray | None = None

    FIELDS = ("frames", "centre_small", "centre_big", "maps", "sizes", "photo")
    CONSENSUS = ("consensus_small", "consensus_big", "consensus_maps")

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {key: getattr(self, key) for key in (*self.FIELDS, *self.CONSENSUS) if getattr(self, key) is not None}
        np.savez(path, **arrays, names=np.array(self.names))

    @classmethod
    def load(cls, path: Path) -> Samples:
        with np.load(path) as data:
            return cls(**{key: data[key] for key in (*cls.FIELDS, *cls.CONSENSUS) if key in data},
                       names=[str(n) for n in data["names"]])

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


def teacher(image: np.ndarray, runner) -> tuple[tuple[float, float], np.ndarray]:
    """The teacher's centre (640x480 frame) and its map pooled to the student's cells."""
    big, _ = resize_with_pad(image, TEACHER_HEIGHT, TEACHER_WIDTH)
    out = runner.run_sync("attention_center", {"image": big[None]})
    u, v = (float(c) for c in np.asarray(out["center"]).reshape(-1))
    return (u, v), pool_map(np.asarray(out["weights"], np.float32).reshape(TEACHER_HEIGHT, TEACHER_WIDTH))


# Views of one photo that no viewer tells apart: (mirrored, left, top, right, bottom) with the crop as a fraction
# of the width/height.  The first is the photo itself.
VIEWS = ((False, 0.0, 0.0, 0.0, 0.0), (True, 0.0, 0.0, 0.0, 0.0),
         (False, 0.02, 0.02, 0.0, 0.0), (False, 0.0, 0.0, 0.02, 0.02))


def view_of(image: np.ndarray, view) -> tuple[np.ndarray, int, int]:
    """The view's pixels and the offset (x0, y0) of its top-left corner in ``image`` (before any mirroring)."""
    mirrored, left, top, right, bottom = view
    h, w = image.shape[:2]
    x0, y0 = round(left * w), round(top * h)
    x1, y1 = w - round(right * w), h - round(bottom * h)
    pixels = image[y0:y1, x0:x1]
    return np.ascontiguousarray(pixels[:, ::-1] if mirrored else pixels), x0, y0


@dataclass
class Consensus:
    centre: tuple[float, float]             # the teacher's own, on the photo itself (640x480 frame)
    map: np.ndarray                         # the teacher's own, pooled
    consensus_centre: tuple[float, float]   # 640x480 frame
    consensus_original: tuple[float, float]  # original image pixels
    consensus_map: np.ndarray


def view_centre(image: np.ndarray, view, runner) -> tuple[tuple[float, float], np.ndarray, tuple[float, float]]:
    """The teacher on one view of ``image``: its centre mapped back into ``image``'s pixels, its pooled map
    (flipped back if the view is mirrored) and its centre in the view's own 640x480 frame."""
    pixels, x0, y0 = view_of(image, view)
    vh, vw = pixels.shape[:2]
    (u, v), pooled = teacher(pixels, runner)
    x, y = frame_to_original(u, v, pad_geometry(vw, vh, TEACHER_WIDTH, TEACHER_HEIGHT))
    if view[0]:
        x, pooled = vw - 1 - x, pooled[:, ::-1]
    return (x + x0, y + y0), pooled, (u, v)


def consensus(image: np.ndarray, runner, views=VIEWS) -> Consensus:
    """The teacher on the photo and its consensus over ``views``: each view's centre is mapped back onto the photo
    and the centres are averaged.  The map is the photo's averaged with the mirrored view's (flipped back; the
    frame pads both alike to within a pixel); crops shift content by a fraction of a cell, so only their centres
    count."""
    h, w = image.shape[:2]
    frame = pad_geometry(w, h, TEACHER_WIDTH, TEACHER_HEIGHT)
    points, maps = [], []
    first, first_map = None, None
    for view in views:
        point, pooled, own = view_centre(image, view, runner)
        points.append(point)
        if first is None:
            first, first_map = own, pooled
        if view[1:] == (0.0, 0.0, 0.0, 0.0):
            maps.append(pooled)
    x, y = np.mean(points, axis=0)
    pooled = np.mean(maps, axis=0)
    return Consensus(first, first_map, original_to_frame(float(x), float(y), frame), (float(x), float(y)),
                     (pooled / pooled.sum()).astype(np.float32))


def label(images, photo_ids: list[int], names: list[str], runner, log=print) -> Samples:
    """``images``: a list or any iterable of ``len(photo_ids)`` images (a generator keeps memory flat)."""
    n = len(photo_ids)
    frames = np.zeros((n, 3, FRAME_HEIGHT, FRAME_WIDTH), np.float16)
    centre_small = np.zeros((n, 2), np.float32)
    centre_big = np.zeros((n, 2), np.float32)
    maps = np.zeros((n, GRID_HEIGHT, GRID_WIDTH), np.float32)
    consensus_small = np.zeros((n, 2), np.float32)
    consensus_big = np.zeros((n, 2), np.float32)
    consensus_maps = np.zeros((n, GRID_HEIGHT, GRID_WIDTH), np.float32)
    sizes = np.zeros((n, 2), np.int32)
    started = time.perf_counter()
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        labels = consensus(image, runner)
        u, v = labels.centre
        centre_big[i] = (u, v)
        centre_small[i] = big_to_small(u, v, w, h)
        maps[i] = labels.map
        consensus_big[i] = labels.consensus_centre
        consensus_small[i] = original_to_frame(*labels.consensus_original, pad_geometry(w, h, FRAME_WIDTH,
                                                                                         FRAME_HEIGHT))
        consensus_maps[i] = labels.consensus_map
        frames[i] = student_frame(image)
        sizes[i] = (w, h)
        if (i + 1) % 100 == 0:
            log(f"  labelled {i + 1}/{n} ({(time.perf_counter() - started) / (i + 1) * 1000:.0f} ms each)")
    return Samples(frames, centre_small, centre_big, maps, sizes, np.array(photo_ids, np.int16), names,
                   consensus_small, consensus_big, consensus_maps)


def split_images(which: str, count: int, seed: int) -> tuple[list[np.ndarray], list[int], list[str]]:
    """The split's images (deterministic for a seed), each photo's index, and the photo names."""
    images, ids, names = iter_split_images(which, count, seed)
    return list(images), ids, names


def iter_split_images(which: str, count: int, seed: int, start: int = 0, stop: int | None = None):
    """Like ``split_images`` but the images come from a generator (thousands of them do not fit in memory).

    A training (or broad held-out) image ``i`` depends only on (``seed``, ``i``), so ``start:stop`` makes any slice
    of the split on its own (the labelling runs slices in parallel); a slice of the four-photo held-out split
    generates (and skips) the images before it."""
    training = which in TRAIN_SPLITS
    train, held = split(which)
    names = train if training else held
    photos = load_photos(names)
    others = [photos[name] for name in train] if training else []
    stamps = installed_stamps() if training else []
    ids = [i % len(names) for i in range(count)]
    stop = count if stop is None else stop

    def images():
        # The held-out images come from one generator, as they always have (the table's every row is measured on
        # the same 160 images); a training image from its own, so a slice needs nothing before it.
        held_rng = np.random.default_rng(seed)
        sequential = which == "held"
        for i in range(0 if sequential else start, stop):
            photo = photos[names[ids[i]]]
            # the first sample of each photo is the photo itself, as a user would drop it
            if i < len(names):
                image = photo
            elif sequential:
                image = augment(held_rng, photo, others)
            else:
                rng = np.random.default_rng([seed, i])
                image = augment(rng, photo, others)
                if stamps and rng.random() < STAMP_FRACTION:
                    image = paste_stamps(rng, image, stamps)
            if i >= start:
                yield image

    return images(), ids[start:stop], names


def make_split(which: str, count: int, seed: int, runner, log=print, start: int = 0,
               stop: int | None = None) -> Samples:
    images, ids, names = iter_split_images(which, count, seed, start, stop)
    return label(images, ids, names, runner, log)


def _label_slice(job: tuple) -> Samples:
    which, count, seed, model_dir, threads, start, stop = job
    from codeclab.onnx_bridge import OnnxRunner

    runner = OnnxRunner(model_dir=model_dir, num_threads=threads)
    prefix = f"[{start}:{stop}]"
    return make_split(which, count, seed, runner, lambda m: print(prefix, m, file=sys.stderr, flush=True),
                      start, stop)


def concatenate(parts: list[Samples]) -> Samples:
    """Samples one after the other; photo indices are renumbered into the union of the parts' photo names."""
    names = list(dict.fromkeys(name for part in parts for name in part.names))
    fields = {key: np.concatenate([getattr(part, key) for part in parts])
              for key in (*Samples.FIELDS, *Samples.CONSENSUS)}
    fields["photo"] = np.concatenate([np.array([names.index(n) for n in part.names], np.int16)[part.photo]
                                      for part in parts])
    return Samples(**fields, names=names)


def cached_split(which: str, count: int, seed: int, model_dir: Path, log=print) -> Samples:
    # the held-out split is the four held-out photos only, whatever else is installed
    version = DATA_VERSION
    photos = (f"-p{len(split(which)[0])}" if which in TRAIN_SPLITS
              else f"-p{len(split(which)[1])}" if which != "held" else "")

    def cache(n: int) -> Path:
        return CACHE / f"{which}-v{version}{photos}-n{n}-s{seed}.npz"

    path = cache(count)
    if path.is_file():
        return Samples.load(path)
    # image i depends only on (seed, i): a smaller labelled split of the same seed is this one's beginning
    smaller = sorted((int(f.name.rsplit("-n", 1)[1].split("-s")[0]), f) for f in CACHE.glob(cache(0).name.replace(
        "-n0-", "-n*-")) if int(f.name.rsplit("-n", 1)[1].split("-s")[0]) < count) if CACHE.is_dir() else []
    done, parts = 0, []
    if smaller:
        done, file = smaller[-1]
        parts.append(Samples.load(file))
        log(f"reusing the first {done} labelled images from {file.name}")
    workers = max(1, int(os.environ.get("RIGL_LABEL_WORKERS", "2")))
    threads = int(os.environ.get("RIGL_TEACHER_THREADS", "1"))
    log(f"labelling {count - done} {which} images with the teacher ({model_dir}/attention_center.onnx), "
        f"{len(VIEWS)} views each, {workers} processes")
    bounds = np.linspace(done, count, workers + 1).round().astype(int)
    jobs = [(which, count, seed, model_dir, threads, int(a), int(b)) for a, b in zip(bounds, bounds[1:]) if b > a]
    if len(jobs) == 1:
        parts.append(_label_slice(jobs[0]))
    else:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
            parts += pool.map(_label_slice, jobs)
    samples = concatenate(parts) if len(parts) > 1 else parts[0]
    samples.save(path)
    return samples
