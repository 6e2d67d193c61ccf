"""Property tests: damaged files parse or raise BasisFormatError, nothing else, quickly."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeclab.basis.errors import BasisFormatError
from codeclab.basis.info import TextureInfo, describe
from tests.basis.cases import CASES
from tests.basis.test_malformed import fix_basis_crcs

SMALL = [c.name for c in CASES if c.name.split("_")[-1].split(".")[0] in ("1x1", "3x5a", "mip") and
         not c.name.startswith("etc1s_512")]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

mutation = st.tuples(
    st.sampled_from(["flip", "set", "truncate", "insert", "delete"]),
    st.floats(min_value=0.0, max_value=1.0),  # position as a fraction of the file
    st.integers(min_value=0, max_value=255),
    st.booleans(),  # bias the position into the first 256 bytes (headers and indexes)
)


def mutate(data: bytes, mutations) -> bytes:
    out = bytearray(data)
    for kind, where, value, head in mutations:
        if not out:
            break
        span = min(len(out), 256) if head else len(out)
        pos = min(int(where * span), len(out) - 1)
        if kind == "flip":
            out[pos] ^= 1 << (value % 8)
        elif kind == "set":
            out[pos] = value
        elif kind == "truncate":
            del out[pos:]
        elif kind == "insert":
            out[pos:pos] = bytes([value])
        else:
            del out[pos]
    return bytes(out)


def check(data: bytes) -> None:
    start = time.monotonic()
    try:
        result = describe(data)
    except BasisFormatError as err:
        assert err.field is not None and err.offset is not None, str(err)
    else:
        assert isinstance(result, TextureInfo)
        assert result.width >= 1 and result.height >= 1 and result.levels
    assert time.monotonic() - start < 2.0


@SETTINGS
@given(name=st.sampled_from(SMALL), mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_files_parse_or_raise_basis_error(textures, name, mutations):
    check(mutate(textures[name], mutations))


@SETTINGS
@given(name=st.sampled_from([n for n in SMALL if n.endswith(".basis")]),
       mutations=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_basis_with_fixed_crcs(textures, name, mutations):
    """CRCs recomputed after the damage, so the structural checks behind them are exercised."""
    data = mutate(textures[name], mutations)
    if len(data) >= 77 and data[:2] == b"sB":
        try:
            data = fix_basis_crcs(data)
        except Exception:  # noqa: BLE001 (a cut-short header cannot be patched; check it as is)
            pass
    check(data)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data):
    check(data)


@SETTINGS
@given(name=st.sampled_from(SMALL), body=st.binary(min_size=0, max_size=200))
def test_valid_header_random_body(textures, name, body):
    """A real header (and index) followed by garbage."""
    head = 77 if name.endswith(".basis") else 80
    check(textures[name][:head] + body)
