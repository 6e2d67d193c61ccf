"""Benchmarks (`python3 build.py bench`): `run` prints one table from every `bench_*` module's rows.

A module is `tests/bench/bench_<name>.py` with `rows(ctx) -> list[Row]` (Row from `tests.bench.run`);
`run` finds it by its file name and imports it as `tests.bench.bench_<name>`.
"""
