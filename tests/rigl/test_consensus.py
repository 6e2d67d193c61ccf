"""The distillation labels: views of a photo, the teacher's consensus over them, stamps pasted into photos, and
slices of a split that match the whole (the labelling runs slices in parallel)."""

from __future__ import annotations

import numpy as np
import pytest

from models.rigl import data


class GravityTeacher:
    """A stand-in for the attention model: its map is the frame's brightness, its centre the map's gravity centre
    plus ``bias_x`` frame pixels (a teacher that is not mirror-symmetric)."""

    def __init__(self, bias_x: float = 0.0):
        self.bias_x = bias_x

    def run_sync(self, name: str, feeds: dict) -> dict:
        assert name == "attention_center"
        frame = feeds["image"][0].mean(axis=2)
        weights = frame / frame.sum()
        ys, xs = np.mgrid[0:frame.shape[0], 0:frame.shape[1]]
        centre = np.array([[(weights * xs).sum() + self.bias_x, (weights * ys).sum()]], np.float32)
        return {"center": centre, "weights": frame[None].astype(np.float32)}


@pytest.fixture
def generated_photos(monkeypatch):
    """Six generated photos (two held out) and two stamps in place of the packages' (CI installs none of them)."""
    def photo(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        h, w = (int(rng.integers(120, 300)), int(rng.integers(120, 300)))
        return _photo(rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), (h, w)) // 2 + rng.integers(0, 60, (h, w, 3),
                                                                                                   dtype=np.uint8)

    photos = {f"gen:{i}": (photo, i) for i in range(6)}
    stamp = np.zeros((30, 20, 4), np.uint8)
    stamp[5:25, 3:17] = (200, 40, 40, 255)
    monkeypatch.setattr(data, "PHOTOS", photos)
    monkeypatch.setattr(data, "HELD_OUT", ("gen:4", "gen:5"))
    monkeypatch.setattr(data, "installed_stamps", lambda: [stamp, stamp[::-1].copy()])


def _photo(cx: float, cy: float, size=(300, 400)) -> np.ndarray:
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    blob = np.exp(-((xx - cx * w) ** 2 + (yy - cy * h) ** 2) / (2 * 20.0 ** 2))
    return np.clip(255 * blob[..., None].repeat(3, axis=2), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("view,x0,y0,shape", [
    ((False, 0.0, 0.0, 0.0, 0.0), 0, 0, (300, 400)),
    ((True, 0.0, 0.0, 0.0, 0.0), 0, 0, (300, 400)),
    ((False, 0.02, 0.02, 0.0, 0.0), 8, 6, (294, 392)),
    ((False, 0.0, 0.0, 0.02, 0.02), 0, 0, (294, 392)),
])
def test_views_cut_and_mirror_where_they_say(view, x0, y0, shape):
    photo = np.arange(300 * 400 * 3, dtype=np.uint32).reshape(300, 400, 3).astype(np.uint8)
    pixels, ox, oy = data.view_of(photo, view)
    assert (ox, oy) == (x0, y0) and pixels.shape[:2] == shape
    expected = photo[y0:y0 + shape[0], x0:x0 + shape[1]]
    np.testing.assert_array_equal(pixels, expected[:, ::-1] if view[0] else expected)


@pytest.mark.parametrize("cx,cy", [(0.3, 0.4), (0.75, 0.6), (0.5, 0.5)])
def test_a_symmetric_teacher_agrees_with_its_consensus(cx, cy):
    labels = data.consensus(_photo(cx, cy), GravityTeacher())
    # views are aligned back onto the photo: every view finds the same blob
    assert np.hypot(*np.subtract(labels.consensus_centre, labels.centre)) < 1.0
    np.testing.assert_allclose(labels.consensus_map, labels.map / labels.map.sum(), atol=2e-4)
    assert abs(labels.consensus_map.sum() - 1.0) < 1e-5


def test_the_mirrored_view_cancels_a_teacher_bias():
    photo = _photo(0.4, 0.5)
    plain = data.consensus(photo, GravityTeacher())
    biased = data.consensus(photo, GravityTeacher(bias_x=12.0))
    assert biased.centre[0] - plain.centre[0] == pytest.approx(12.0, abs=0.1)
    # three of the four views carry +12, the mirrored one -12 once mapped back: +6 in the consensus
    assert biased.consensus_centre[0] - plain.consensus_centre[0] == pytest.approx(6.0, abs=0.2)


def test_stamps_are_blended_by_their_alpha():
    image = np.full((120, 160, 3), 90, np.uint8)
    opaque = np.zeros((40, 40, 4), np.uint8)
    opaque[..., 0], opaque[..., 3] = 250, 255
    clear = opaque.copy()
    clear[..., 3] = 0
    untouched = data.paste_stamps(np.random.default_rng(0), image, [clear])
    np.testing.assert_array_equal(untouched, image)
    pasted = data.paste_stamps(np.random.default_rng(0), image, [opaque])
    red = (pasted[..., 0] == 250) & (pasted[..., 1] == 0)
    assert pasted.shape == image.shape and pasted.dtype == np.uint8
    # 15-45 % of the short side, square: between 18^2 and 54^2 pixels (two stamps at most)
    assert 18 * 18 <= red.sum() <= 2 * 54 * 54
    assert (pasted[~red] == 90).all()
    again = data.paste_stamps(np.random.default_rng(0), image, [opaque])
    np.testing.assert_array_equal(again, pasted)


@pytest.mark.parametrize("which", ["train", "held"])
def test_a_slice_of_a_split_is_the_same_images_as_the_whole(generated_photos, which):
    whole, ids, names = data.split_images(which, 40, seed=5)
    assert names == (["gen:0", "gen:1", "gen:2", "gen:3"] if which == "train" else ["gen:4", "gen:5"])
    part, part_ids, part_names = data.iter_split_images(which, 40, seed=5, start=17, stop=40)
    part = list(part)
    assert part_ids == ids[17:40] and part_names == names and len(part) == 23
    for a, b in zip(part, whole[17:]):
        np.testing.assert_array_equal(a, b)
    # the first image of each photo is the photo itself; the others are augmented (stamps only in training)
    np.testing.assert_array_equal(whole[0], data.load_photos([names[0]])[names[0]])
    stamped = sum(bool(((image == (200, 40, 40)).all(axis=2)).any()) for image in whole[len(names):])
    assert (stamped > 0) == (which == "train")


def test_slices_concatenate_to_the_whole_labelling(generated_photos):
    runner = GravityTeacher()
    whole = data.make_split("held", 6, 3, runner, log=lambda m: None)
    parts = [data.make_split("held", 6, 3, runner, log=lambda m: None, start=a, stop=b) for a, b in ((0, 2), (2, 6))]
    joined = data.concatenate(parts)
    for key in (*data.Samples.FIELDS, *data.Samples.CONSENSUS):
        np.testing.assert_array_equal(getattr(joined, key), getattr(whole, key), err_msg=key)


def test_concatenating_splits_of_different_photo_sets_keeps_each_sample_s_photo(generated_photos):
    runner = GravityTeacher()
    first = data.make_split("held", 5, 3, runner, log=lambda m: None)
    second = data.make_split("held", 5, 4, runner, log=lambda m: None)
    second.names = ["other:photo", *second.names[1:]]  # a split whose photo list differs
    joined = data.concatenate([first, second])
    assert joined.names == [*first.names, "other:photo"]
    assert [joined.names[i] for i in joined.photo] == [first.names[i] for i in first.photo] + \
        [second.names[i] for i in second.photo]
    assert len(joined) == 10


def test_a_longer_split_labels_only_what_a_cached_shorter_one_lacks(generated_photos, tmp_path, monkeypatch):
    labelled = []

    def label_slice(job):
        which, count, seed, _, _, start, stop = job
        labelled.append((start, stop))
        return data.make_split(which, count, seed, GravityTeacher(), lambda m: None, start, stop)

    monkeypatch.setattr(data, "CACHE", tmp_path)
    monkeypatch.setattr(data, "_label_slice", label_slice)
    monkeypatch.setenv("RIGL_LABEL_WORKERS", "1")
    short = data.cached_split("held", 5, 3, tmp_path, log=lambda m: None)
    longer = data.cached_split("held", 8, 3, tmp_path, log=lambda m: None)
    assert labelled == [(0, 5), (5, 8)]
    fresh = data.make_split("held", 8, 3, GravityTeacher(), log=lambda m: None)
    for key in (*data.Samples.FIELDS, *data.Samples.CONSENSUS):
        np.testing.assert_array_equal(getattr(longer, key), getattr(fresh, key), err_msg=key)
    np.testing.assert_array_equal(short.frames, longer.frames[:5])
    assert data.cached_split("held", 8, 3, tmp_path, log=lambda m: None).frames.shape == longer.frames.shape
    assert labelled == [(0, 5), (5, 8)]  # the second call came from the cache


@pytest.fixture
def with_gcompris_photos(generated_photos, monkeypatch):
    """Four more generated photos named like GCompris's; every other one is in the broad held-out set."""
    photos = dict(data.PHOTOS)
    photos.update({f"{data.GCOMPRIS_PREFIX}erase/{i}": photos["gen:0"][:1] + (10 + i,) for i in range(4)})
    monkeypatch.setattr(data, "PHOTOS", photos)
    monkeypatch.setattr(data, "BROAD_HELD_OUT", ("gcompris:erase/0", "gcompris:erase/2"))


def test_no_held_out_photo_of_either_ruler_is_in_any_training_split(with_gcompris_photos):
    held = {*data.split("held")[1], *data.split("held-broad")[1]}
    assert held == {"gen:4", "gen:5", "gcompris:erase/0", "gcompris:erase/2"}
    for which in data.TRAIN_SPLITS:
        assert not held & set(data.split(which)[0]), which
    assert data.split("train")[0] == ["gen:0", "gen:1", "gen:2", "gen:3"]  # the second round's photo set, unchanged
    assert data.split("train-gcompris")[0] == ["gcompris:erase/1", "gcompris:erase/3"]


def test_the_broad_ruler_s_images_each_come_from_their_own_generator(with_gcompris_photos):
    whole, ids, names = data.split_images("held-broad", 6, seed=2)
    assert names == ["gcompris:erase/0", "gcompris:erase/2"] and ids == [0, 1, 0, 1, 0, 1]
    part, part_ids, _ = data.iter_split_images("held-broad", 6, seed=2, start=4)
    for a, b in zip(list(part), whole[4:]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(whole[1], data.load_photos([names[1]])[names[1]])
    assert not any(((image == (200, 40, 40)).all(axis=2)).any() for image in whole)  # no stamps held out


def test_the_margin_to_the_bar_and_its_interval_come_from_resampling_photos():
    from models.rigl.broad import margin_interval

    rng = np.random.default_rng(3)
    photo = np.repeat(np.arange(30), 3)
    views = rng.gamma(2.0, 20.0, size=(90, 3))
    same = views[:, 0].copy()
    margin, low, high = margin_interval(same, views, photo, draws=500)
    assert low <= margin <= high and abs(margin) < 10  # a student that moves like the teacher: at the bar
    worse = np.median(views) + 25 + rng.normal(0, 1, 90)   # a student 25 px past the bar on every image
    margin, low, high = margin_interval(worse, views, photo, draws=500)
    assert 20 < low <= margin <= high < 30
