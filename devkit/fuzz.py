"""The fuzz harness: ``python3 build.py fuzz [--minutes N] [--format F] [--seed S]``.

Every parser a user's file reaches gets cases made by mutating seeds written by the real encoders and
by generating headers from each format's grammar. The formats are the tools' own: each tool's manifest
names a module (its "fuzz" field) whose ``FORMATS`` say, per format, how to make seeds, generate a case,
find its size fields and run what the page runs on such a file (codeclab.fuzzing.Format). Each case runs
in a worker subprocess under an address-space limit (RLIMIT_AS) and a per-case timeout (the worker is
killed and restarted on a timeout), and ends as one of

* ``ok``       -- parsed;
* ``typed``    -- a CodeclabError (the message a user sees);
* ``untyped``  -- any other exception (a bug: a traceback in the CLI, a raw message in the page);
* ``timeout``  -- ran past the per-case limit;
* ``memory``   -- MemoryError, or the worker died (an allocation failing under the limit).

Anything not ok/typed is minimized (delta debugging on bytes, keeping the same outcome and
exception type) and written to the regression corpus ``tests/fuzz/corpus/<format>/``, which
``tests/fuzz/test_regressions.py`` replays in the normal test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .paths import BuildError
from .tools import load_tools

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fuzz" / "corpus"
OUTCOMES = ("ok", "typed", "untyped", "timeout", "memory")
BAD_OUTCOMES = ("untyped", "timeout", "memory")

DEFAULT_CASE_SECONDS = 15.0  # a legitimate image at the size cap must decode and run its predictor within it
DEFAULT_MEMORY_MB = 2048

for _path in (str(REPO / "pysrc"), str(REPO)):  # build.py runs without PYTHONPATH; the formats are in pysrc
    if _path not in sys.path:
        sys.path.insert(0, _path)

from codeclab.fuzzing import HUGE_VALUES, Format  # noqa: E402 (importable once pysrc is on sys.path)


def load_formats() -> dict[str, Format]:
    """Every tool's fuzz formats by name, in tab order."""
    formats: dict[str, Format] = {}
    for tool in load_tools():
        for fmt in importlib.import_module(tool.fuzz).FORMATS if tool.fuzz else ():
            if fmt.name in formats:
                raise BuildError(f"{tool.id}: fuzz format {fmt.name!r} is already declared")
            formats[fmt.name] = fmt
    return formats


FORMAT_TABLE = load_formats()
FORMATS = tuple(FORMAT_TABLE)


@dataclass
class Result:
    outcome: str
    detail: str = ""
    seconds: float = 0.0
    peak_mb: float = 0.0

    @property
    def signature(self) -> tuple[str, str]:
        """What a minimized case must keep: the outcome and the exception type."""
        return self.outcome, self.detail.split(":", 1)[0]


def format_of(fmt: str | Format) -> Format:
    return FORMAT_TABLE[fmt] if isinstance(fmt, str) else fmt


def classify(fmt: str | Format, data: bytes) -> Result:
    """Runs one case of ``fmt`` (a format or its name) in this process (the worker; the regression test) and
    names its outcome."""
    from codeclab.errors import CodeclabError  # noqa: PLC0415

    _reset_peak_rss()
    start = time.perf_counter()
    try:
        format_of(fmt).run_target(data)
        outcome, detail = "ok", ""
    except CodeclabError as err:
        outcome, detail = "typed", f"{type(err).__name__}: {err}"
    except MemoryError as err:
        outcome, detail = "memory", f"MemoryError: {err}"
    except Exception as err:  # noqa: BLE001 (this is what the harness looks for)
        outcome, detail = "untyped", f"{type(err).__name__}: {err}"
    return Result(outcome, detail[:300], time.perf_counter() - start, _peak_rss_mb())


def _reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets the peak RSS (VmHWM), so each case reports its own."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_main(conn, memory_mb: int, paths: list[str]) -> None:
    sys.path[:0] = [p for p in paths if p not in sys.path]
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import warnings  # noqa: PLC0415

    warnings.simplefilter("ignore")
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        conn.send(classify(*message))


class Worker:
    """One subprocess running cases under the memory limit; killed and restarted on a timeout."""

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB, case_seconds: float = DEFAULT_CASE_SECONDS):
        self.memory_mb, self.case_seconds = memory_mb, case_seconds
        self.context = multiprocessing.get_context("spawn")
        self.process = None
        self.conn = None
        self.restarts = 0

    def _start(self) -> None:
        parent, child = self.context.Pipe()
        paths = [str(REPO / "pysrc"), str(REPO)]
        self.process = self.context.Process(target=_worker_main, args=(child, self.memory_mb, paths), daemon=True)
        self.process.start()
        child.close()
        self.conn = parent

    def _kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None
            self.restarts += 1

    def run(self, fmt: Format, data: bytes) -> Result:
        if self.process is None or not self.process.is_alive():
            self._start()
        start = time.perf_counter()
        try:
            # a tool's format by name (the worker has the same table); any other by value
            self.conn.send((fmt.name if FORMAT_TABLE.get(fmt.name) is fmt else fmt, data))
            # the first case in a new worker also pays for its imports
            if self.conn.poll(self.case_seconds + (10.0 if self.restarts == 0 else 5.0)):
                return self.conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            code = self.process.exitcode if self.process else None
            self._kill()
            return Result("memory", f"WorkerDied: exit code {code}", time.perf_counter() - start)
        self._kill()
        return Result("timeout", f"Timeout: more than {self.case_seconds:.0f} s", time.perf_counter() - start)

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(timeout=5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.process = None


# ----------------------------------------------------------------------------- cases

def make_seeds(formats: list[Format], work: Path) -> dict[str, list[bytes]]:
    """Real files from the real encoders (missing tools leave a format with grammar cases only)."""
    seeds = {}
    for fmt in formats:
        folder = work / fmt.name
        folder.mkdir()
        seeds[fmt.name] = fmt.seeds(folder)
    return seeds


def _length_fields(fmt: Format, data: bytes) -> list[tuple[int, int, str]]:
    """(offset, width, byte order) of size fields the format's structure points at."""
    return [f for f in fmt.length_fields(data) if f[0] + f[1] <= len(data)]


def mutate(fmt: Format, data: bytes, rng: random.Random) -> bytes:
    """One to three of: bit flips, interesting bytes, truncation, a size field set huge,
    chunk duplication or deletion; then the format's own fix-up, if it has one."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not out:
            break
        kind = rng.choice(("flip", "flip", "byte", "truncate", "huge", "huge", "duplicate", "delete"))
        if kind == "flip":
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(out))
                out[at] ^= 1 << rng.randrange(8)
        elif kind == "byte":
            out[rng.randrange(len(out))] = rng.choice((0, 0xFF, 0x7F, 0x80, 1))
        elif kind == "truncate":
            del out[rng.randrange(len(out)):]
        elif kind == "huge":
            fields = _length_fields(fmt, bytes(out))
            if fields and rng.random() < 0.8:
                offset, width, order = rng.choice(fields)
            else:
                width, order = rng.choice(((4, "little"), (4, "big"), (2, "little"), (2, "big")))
                offset = rng.randrange(max(1, len(out) - width))
            value = rng.choice(HUGE_VALUES) & ((1 << (8 * width)) - 1)
            out[offset:offset + width] = value.to_bytes(width, order)
        elif kind == "duplicate":
            a = rng.randrange(len(out))
            b = min(len(out), a + rng.randint(1, 512))
            at = rng.randrange(len(out) + 1)
            out[at:at] = out[a:b] * rng.choice((1, 1, 2, 16))
        else:
            a = rng.randrange(len(out))
            del out[a:a + rng.randint(1, 64)]
    if fmt.after_mutation is not None:
        fmt.after_mutation(out, rng)
    return bytes(out[:1 << 22])


# ----------------------------------------------------------------------------- minimization

def minimize(worker: Worker, fmt: Format, data: bytes, target: tuple[str, str], budget_seconds: float = 60.0) -> bytes:
    """Delta debugging on bytes: drop ever smaller chunks while the outcome and exception type stay."""
    deadline = time.monotonic() + budget_seconds
    best = data
    chunk = max(1, len(best) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        start, shrunk = 0, False
        while start < len(best) and time.monotonic() < deadline:
            candidate = best[:start] + best[start + chunk:]
            if candidate and worker.run(fmt, candidate).signature == target:
                best, shrunk = candidate, True
            else:
                start += chunk
        if not shrunk:
            chunk //= 2
    return best


# ----------------------------------------------------------------------------- the run

@dataclass
class Tally:
    counts: dict[str, Counter] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)
    slowest: dict[str, float] = field(default_factory=dict)
    findings: list[tuple[str, Result, Path | None]] = field(default_factory=list)
    seed_counts: dict[str, int] = field(default_factory=dict)

    def add(self, fmt: str, result: Result) -> None:
        self.counts.setdefault(fmt, Counter())[result.outcome] += 1
        self.peak_mb[fmt] = max(self.peak_mb.get(fmt, 0.0), result.peak_mb)
        self.slowest[fmt] = max(self.slowest.get(fmt, 0.0), result.seconds)

    def bad(self) -> int:
        return sum(c[o] for c in self.counts.values() for o in BAD_OUTCOMES)

    def table(self) -> str:
        head = f"{'format':<7} {'cases':>7} " + " ".join(f"{o:>8}" for o in OUTCOMES) + f" {'slowest s':>9} {'peak MB':>8}"
        lines = [head, "-" * len(head)]
        total = Counter()
        for fmt, counts in self.counts.items():
            total.update(counts)
            lines.append(f"{fmt:<7} {sum(counts.values()):>7} " + " ".join(f"{counts[o]:>8}" for o in OUTCOMES)
                         + f" {self.slowest[fmt]:>9.2f} {self.peak_mb[fmt]:>8.0f}")
        lines.append(f"{'total':<7} {sum(total.values()):>7} " + " ".join(f"{total[o]:>8}" for o in OUTCOMES)
                     + f" {max(self.slowest.values(), default=0):>9.2f} {max(self.peak_mb.values(), default=0):>8.0f}")
        return "\n".join(lines)


def fuzz(seconds: float, formats: tuple[str | Format, ...] = FORMATS, seed: int = 0, corpus: Path | None = CORPUS,
         case_seconds: float = DEFAULT_CASE_SECONDS, memory_mb: int = DEFAULT_MEMORY_MB,
         minimize_seconds: float = 60.0, log=print) -> Tally:
    """Round-robin over ``formats`` (formats or their names) for ``seconds``; findings minimized into
    ``corpus``/<format>/ (None: not saved)."""
    rng = random.Random(seed)
    kinds = [format_of(fmt) for fmt in formats]
    tally = Tally()
    seen: set[tuple[str, str, str]] = set()
    worker = Worker(memory_mb, case_seconds)
    try:
        with tempfile.TemporaryDirectory(prefix="codeclab-fuzz-") as tmp:
            seeds = make_seeds(kinds, Path(tmp))
            tally.seed_counts = {name: len(pool) for name, pool in seeds.items()}
            for name, pool in seeds.items():
                log(f"{name}: {len(pool)} seed files" + ("" if pool else " (tool missing: grammar cases only)"))
            deadline = time.monotonic() + seconds
            turn = 0
            while time.monotonic() < deadline:
                fmt = kinds[turn % len(kinds)]
                turn += 1
                pool = seeds[fmt.name]
                data = mutate(fmt, rng.choice(pool), rng) if pool and rng.random() < 0.8 else fmt.grammar(rng, pool)
                result = worker.run(fmt, data)
                tally.add(fmt.name, result)
                if result.outcome in BAD_OUTCOMES:
                    key = (fmt.name, *result.signature)
                    if key in seen:
                        continue
                    seen.add(key)
                    log(f"{fmt.name}: {result.outcome}: {result.detail}")
                    small = minimize(worker, fmt, data, result.signature, minimize_seconds)
                    path = None if corpus is None else _save_finding(corpus, fmt, small)
                    if path is not None:
                        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
                        log(f"  minimized {len(data)} -> {len(small)} bytes: {shown}")
                    tally.findings.append((fmt.name, result, path))
    finally:
        worker.close()
    return tally


def _save_finding(corpus: Path, fmt: Format, data: bytes) -> Path:
    folder = corpus / fmt.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha1(data).hexdigest()[:12]}.{fmt.extension}"
    path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to run (default 5)")
    parser.add_argument("--format", choices=FORMATS, action="append",
                        help="only this format (repeatable; default: all)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    parser.add_argument("--case-seconds", type=float, default=DEFAULT_CASE_SECONDS, help="per-case time limit")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, help="worker address-space limit")
    parser.add_argument("--no-save", action="store_true", help="do not write findings to tests/fuzz/corpus/")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    formats = tuple(args.format) if args.format else FORMATS
    print(f"fuzzing {', '.join(formats)} for {args.minutes:g} min, seed {seed}")
    tally = fuzz(args.minutes * 60, formats, seed, None if args.no_save else CORPUS, args.case_seconds, args.memory_mb)
    print(tally.table())
    return 1 if tally.bad() else 0


if __name__ == "__main__":
    sys.exit(main())
