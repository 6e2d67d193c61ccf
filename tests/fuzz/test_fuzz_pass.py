"""CI's short fuzz pass: the harness itself (devkit/fuzz.py) for ~20 s over every format with a
fixed seed, seeds from the real encoders, each case in the limited worker.  Nothing may end
untyped, in a timeout or out of memory; findings are not written (tests never write tracked files)."""

from __future__ import annotations

import os

import pytest

from devkit.fuzz import FORMATS, fuzz

SECONDS = float(os.environ.get("CODECLAB_FUZZ_SECONDS", 20))


@pytest.mark.slow
def test_short_fuzz_pass_finds_nothing():
    lines: list[str] = []
    tally = fuzz(SECONDS, FORMATS, seed=15, corpus=None, minimize_seconds=10, log=lines.append)
    print("\n".join(lines) + "\n" + tally.table())
    if os.environ.get("CI"):  # the encoders are installed in CI: every format starts from real files
        assert all(tally.seed_counts[fmt] > 0 for fmt in FORMATS), tally.seed_counts
    assert set(tally.counts) == set(FORMATS)
    assert all(sum(counts.values()) >= 5 for counts in tally.counts.values()), tally.table()
    findings = [f"{fmt}: {result.outcome}: {result.detail}" for fmt, result, _ in tally.findings]
    assert tally.bad() == 0, "\n".join(findings) + "\n" + tally.table()
