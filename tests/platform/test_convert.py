"""codeclab.browser.convert in CPython: JS values are played by small stand-ins for Pyodide's
JsProxy / JsBuffer / JsArray (the shape of the real ones: ``constructor.name``, ``to_bytes()``,
``typeof``, iteration, attribute access, and ``to_py()`` converting as Pyodide's does: objects to
dicts, arrays to lists, buffers to memoryviews of a copy in their element format), as Pyodide's
own tests do."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from codeclab.browser import convert


def _to_py(value):
    return value.to_py() if isinstance(value, FakeJsProxy) else value


class FakeJsProxy:
    """A JS object: attributes are its properties; ``typeof`` as JavaScript says it.  ``plain``:
    a plain object, which ``to_py`` converts; an instance of a JS class it leaves as it is."""

    def __init__(self, typeof: str = "object", py: object = None, plain: bool = True, **properties):
        self.typeof = typeof
        self._py = py
        self._plain = plain
        self._keys = list(properties)
        for key, value in properties.items():
            setattr(self, key, value)

    def to_py(self):
        if self.typeof != "object":
            return self._py
        if not self._plain:
            return self
        return {key: _to_py(getattr(self, key)) for key in self._keys}


# The element format of the memoryview Pyodide's to_py gives for each kind of buffer.
VIEW_FORMATS = {"Int8Array": "b", "Int16Array": "h", "Int32Array": "i", "Uint16Array": "H", "Uint32Array": "I",
                "Float32Array": "f", "Float64Array": "d", "BigInt64Array": "q", "BigUint64Array": "Q",
                **dict.fromkeys(convert.BYTE_BUFFERS, "B")}


class FakeJsBuffer(FakeJsProxy):
    """An ArrayBuffer, typed array or DataView: its constructor's name and its bytes."""

    def __init__(self, kind: str, data: bytes):
        super().__init__()
        self.constructor = SimpleNamespace(name=kind)
        self._data = bytes(data)

    def to_bytes(self) -> bytes:
        return self._data

    def to_py(self):
        return memoryview(bytearray(self._data)).cast(VIEW_FORMATS[self.constructor.name])


class FakeJsArray(FakeJsProxy):
    def __init__(self, items: list):
        super().__init__()
        self._items = list(items)

    def __iter__(self):
        return iter(self._items)

    def to_py(self):
        return [_to_py(item) for item in self._items]


FAKE = convert.JsTypes(proxy=FakeJsProxy, buffer=FakeJsBuffer, array=FakeJsArray,
                       object_keys=lambda value: list(value._keys))

typed_kinds = st.sampled_from(sorted(convert.TYPED_ARRAY_DTYPES))


@given(kind=typed_kinds, data=st.data())
def test_typed_arrays_become_numpy_arrays_of_their_element_type(kind, data):
    dtype = np.dtype(convert.TYPED_ARRAY_DTYPES[kind])
    values = data.draw(hnp.arrays(dtype, st.integers(0, 64)))
    converted = convert.to_python(FakeJsBuffer(kind, values.tobytes()), FAKE)
    assert isinstance(converted, np.ndarray) and converted.dtype == dtype
    assert converted.tobytes() == values.tobytes()
    assert converted.flags.writeable  # a copy, not a view of the JS heap


@given(kind=st.sampled_from(sorted(convert.BYTE_BUFFERS)), payload=st.binary(max_size=256))
def test_byte_buffers_become_bytes(kind, payload):
    converted = convert.to_python(FakeJsBuffer(kind, payload), FAKE)
    assert isinstance(converted, bytes) and converted == payload


def test_an_unknown_typed_array_is_refused():
    with pytest.raises(KeyError):
        convert.buffer_to_python("Float16Array", b"\0\0")


@given(kind=typed_kinds, data=st.data())
def test_what_to_py_leaves_as_a_proxy_is_walked(kind, data):
    """An instance of a JS class (``to_py`` leaves it a proxy) holding a typed array and an object:
    converted property by property, to the same values as a plain object's."""
    dtype = np.dtype(convert.TYPED_ARRAY_DTYPES[kind])
    values = data.draw(hnp.arrays(dtype, st.integers(0, 8)))
    inner = FakeJsProxy(plain=False, samples=FakeJsBuffer(kind, values.tobytes()), rate=16000)
    converted = convert.to_python(FakeJsProxy(args=inner, packet=FakeJsBuffer("Uint8Array", b"\1\2")), FAKE)
    assert converted["packet"] == b"\1\2" and converted["args"]["rate"] == 16000
    samples = converted["args"]["samples"]
    assert samples.dtype == dtype and samples.tobytes() == values.tobytes() and samples.flags.writeable


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))


def js_values(leaves):
    """A JS value tree (stand-ins) together with the Python value it must convert to."""
    def extend(children):
        arrays = st.lists(children, max_size=4).map(
            lambda pairs: (FakeJsArray([js for js, _ in pairs]), [py for _, py in pairs]))
        objects = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), children, max_size=4).map(
            lambda pairs: (FakeJsProxy(**{k: js for k, (js, _) in pairs.items()}),
                           {k: py for k, (_, py) in pairs.items()}))
        return st.one_of(arrays, objects)
    return st.recursive(leaves, extend, max_leaves=12)


leaf_pairs = st.one_of(
    scalars.map(lambda v: (v, v)),  # Python primitives cross as themselves
    st.binary(max_size=16).map(lambda b: (FakeJsBuffer("Uint8Array", b), b)),
    st.integers(-5, 5).map(lambda v: (FakeJsProxy(typeof="bigint", py=v), v)),  # other proxies: to_py()
)


@given(js_values(leaf_pairs))
def test_nested_arrays_and_objects_become_lists_and_dicts(pair):
    value, expected = pair
    assert convert.to_python(value, FAKE) == expected


result_arrays = hnp.arrays(
    st.sampled_from([np.bool_, np.uint8, np.int16, np.int32, np.float32, np.float64]),
    hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
)


@given(result_arrays, st.booleans())
def test_result_arrays_become_flat_contiguous_buffers(array, transposed):
    source = array.T if transposed else array
    view = convert.plain(source)
    assert isinstance(view, memoryview) and view.ndim == 1 and view.contiguous
    expected = source.astype(np.uint8) if source.dtype == np.bool_ else source
    assert view.tobytes() == np.ascontiguousarray(expected).tobytes()  # bit for bit, NaNs included


numpy_scalars = st.one_of(st.integers(-100, 100).map(np.int32), st.floats(-1e3, 1e3).map(np.float64),
                          st.booleans().map(np.bool_))


@given(st.recursive(st.one_of(scalars, numpy_scalars),
                    lambda c: st.one_of(st.lists(c, max_size=3), st.lists(c, max_size=3).map(tuple),
                                        st.dictionaries(st.integers(0, 9), c, max_size=3)),
                    max_leaves=10))
def test_results_hold_only_plain_python_values(value):
    def plain_only(node):
        if isinstance(node, dict):
            return all(isinstance(k, str) and plain_only(v) for k, v in node.items())
        if isinstance(node, list):
            return all(plain_only(v) for v in node)
        return not isinstance(node, (np.generic, np.ndarray, tuple))

    converted = convert.plain(value)
    assert plain_only(converted)
    assert converted == _expected_plain(value)


def _expected_plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _expected_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_expected_plain(v) for v in value]
    return value


tensor_arrays = hnp.arrays(st.sampled_from(sorted(convert.ORT_TYPES, key=str)),
                           hnp.array_shapes(min_dims=0, max_dims=4, max_side=4))


@given(st.dictionaries(st.from_regex(r"state_in_[0-9]", fullmatch=True), tensor_arrays, max_size=3),
       st.booleans())
def test_tensors_cross_to_onnxruntime_and_back_unchanged(arrays, transposed):
    if transposed:
        arrays = {k: v.T for k, v in arrays.items()}
    feeds = convert.tensor_feeds(arrays)
    assert sorted(feeds) == sorted(arrays)
    for key, array in arrays.items():
        feed = feeds[key]
        assert feed["type"] == convert.ORT_TYPES[array.dtype] and feed["dims"] == list(array.shape)
        back = convert.tensor_from_js(feed["type"], feed["dims"], bytes(feed["data"]))
        assert back.dtype == array.dtype and back.shape == array.shape
        assert back.tobytes() == np.ascontiguousarray(array).tobytes()


def test_tensor_type_names_are_onnxruntime_webs():
    assert set(convert.ORT_DTYPES) == {"float32", "int32", "int64", "uint8", "int8", "float64"}
    with pytest.raises(KeyError):
        convert.tensor_feeds({"x": np.zeros(2, np.float16)})
