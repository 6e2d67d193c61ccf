"""The fuzz harness (devkit/fuzz.py) on a format that is no tool's: it knows formats only through
codeclab.fuzzing.Format, runs each case in its worker, tells typed errors from bugs, minimizes a bug's case
to what still raises it and writes it to the corpus (here a temporary folder)."""

from __future__ import annotations

import random

import pytest

from codeclab.errors import CodeclabError
from codeclab.fuzzing import Format
from devkit.fuzz import classify, fuzz, mutate


class StubFormatError(CodeclabError):
    pass


def run_stub(data: bytes) -> None:
    """A parser with one bug: any file holding BUG raises an untyped KeyError; one starting "!" is refused."""
    if b"BUG" in data:
        raise KeyError("the bug")
    if data[:1] == b"!":
        raise StubFormatError("a file starting with ! is not a stub file")


def stub_seeds(work) -> list[bytes]:
    (work / "seed.stub").write_bytes(b"!" + b"x" * 40)
    return [(work / "seed.stub").read_bytes(), b"plain" * 20]


def stub_grammar(rng: random.Random, _seeds: list[bytes]) -> bytes:
    noise = bytes(rng.randrange(256) for _ in range(rng.randint(0, 60)))
    return noise[:30] + b"BUG" + noise[30:]


def double_first_byte(out: bytearray, _rng: random.Random) -> None:
    out[:1] = out[:1] * 2


STUB = Format("stub", "stub", run_stub, stub_seeds, stub_grammar, after_mutation=double_first_byte)


def test_classify_names_each_outcome():
    assert classify(STUB, b"plain").outcome == "ok"
    assert classify(STUB, b"!x").signature == ("typed", "StubFormatError")
    assert classify(STUB, b"aBUGa").signature == ("untyped", "KeyError")


def test_a_mutation_ends_with_the_format_fix_up():
    rng = random.Random(4)
    for _ in range(20):
        data = mutate(STUB, b"abcdef", rng)
        assert data[:1] == data[1:2]


@pytest.mark.slow
def test_a_bug_is_found_minimized_and_written_to_the_corpus(tmp_path):
    lines: list[str] = []
    # Generous budgets: the worker's start and each case's round trip are slow on a loaded machine.
    tally = fuzz(10, (STUB,), seed=2, corpus=tmp_path, minimize_seconds=60, log=lines.append)
    report = "\n".join(lines) + "\n" + tally.table()
    counts = tally.counts["stub"]
    assert counts["ok"] > 0 and counts["typed"] > 0 and counts["untyped"] > 0, report
    assert tally.seed_counts == {"stub": 2}
    assert len(tally.findings) == 1, report  # one bug: found again, but minimized and written once
    name, result, path = tally.findings[0]
    assert (name, result.signature) == ("stub", ("untyped", "KeyError"))
    assert path.parent == tmp_path / "stub" and path.suffix == ".stub"
    assert path.read_bytes() == b"BUG", report
    assert tally.bad() == counts["untyped"]
