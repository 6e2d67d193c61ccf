#!/usr/bin/env python3
"""Build, serve, test and benchmark codeclab.

    python3 build.py [build] [--upstream DIR] [--best-compression] [--deflated-archives]
                                                build dist/ (a static, self-contained site; any base path)
    python3 build.py serve [--port N] [--base-path /codeclab/] [--no-isolation]
                                                build if dist/ is not current, serve it on 127.0.0.1
    python3 build.py test [pytest args]         build, then run the whole test suite (node + pytest)
    python3 build.py bench [--quick] [NAME ...] run the benchmarks and print a table (--quick: a few
                                                iterations of each, exit 1 if one failed; CI runs it)
    python3 build.py screenshot                 build if needed, write docs/screenshot.png from the page
    python3 build.py fuzz [--minutes N] [--format F]  fuzz every parser (devkit/fuzz.py)

A thin command line over ``devkit/`` (the build steps, the server, the Chromium flags).
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from devkit.build import build, describe, stale_reasons
from devkit.jstests import run_js_tests
from devkit.paths import DIST, REPO, BuildError, resolve_upstream
from devkit.server import serve


def build_if_stale(upstream, rebuild: bool) -> None:
    """Rebuild dist/ when asked to or when its recorded inputs differ from the checkout's, saying why."""
    reasons = ["--rebuild given"] if rebuild else stale_reasons(upstream, DIST)
    if reasons:
        print(f"build.py: building dist/ ({'; '.join(reasons)})", flush=True)
        build(upstream)
    else:
        print("build.py: dist/ is current (same sources, upstream files, converter and dependencies)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="build", choices=["build", "serve", "test", "bench", "screenshot", "fuzz"])
    parser.add_argument("--upstream", help="folder of the published upstream files, laid out like ../shared/upstream "
                        "(default: $CODECLAB_UPSTREAM, else ../shared/upstream beside the checkout if it exists, else download "
                        "by pinned URL)")
    parser.add_argument("--port", type=int, default=8000, help="serve: port on 127.0.0.1 (default 8000)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="serve: omit COOP/COEP headers, like a plain static host")
    parser.add_argument("--base-path", default="/",
                        help="serve: the site's path on the server, e.g. /codeclab/ as GitHub Pages serves a project (default /)")
    parser.add_argument("--best-compression", action="store_true",
                        help="build: Brotli's slowest, smallest setting for the precompressed copies (publishing; minutes)")
    parser.add_argument("--required-update", action="store_true",
                        help="build: mark this deploy required (a security fix): open pages switch to it as soon as no tool is running")
    parser.add_argument("--deflated-archives", action="store_true",
                        help="build: keep Python's archives deflated, for a host that compresses on the fly but not zips "
                             "(GitHub Pages); by default their members are stored, for the precompressed copies")
    parser.add_argument("--rebuild", action="store_true", help="serve/test: rebuild even if dist/ is current")
    args, rest = parser.parse_known_args(argv)
    if args.command == "fuzz":  # its own options: python3 build.py fuzz [--minutes N] [--format F] ...
        from devkit.fuzz import main as fuzz_main  # noqa: PLC0415 (only this command needs it)

        return fuzz_main(rest)
    if rest and args.command not in ("test", "bench"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        upstream = resolve_upstream(args.upstream)
        if args.command == "build":
            build(upstream, best_compression=args.best_compression, required_update=args.required_update,
                  deflated_archives=args.deflated_archives)
            print(f"build.py: dist/ built {describe(DIST, upstream)}")
        elif args.command == "serve":
            build_if_stale(upstream, args.rebuild)
            print(f"build.py: serving dist/ {describe(DIST, upstream)}", flush=True)
            serve(DIST, args.port, isolate=not args.no_isolation, base_path=args.base_path)
        elif args.command == "screenshot":
            from devkit.screenshot import take_screenshot  # noqa: PLC0415 (needs Playwright, only here)

            build_if_stale(upstream, args.rebuild)
            print(f"wrote {take_screenshot(DIST)}")
        elif args.command in ("test", "bench"):
            if args.command == "test":
                build(upstream)
            else:
                build_if_stale(upstream, args.rebuild)
            env = dict(os.environ, CODECLAB_DIST=str(DIST))
            if upstream is not None:
                env["CODECLAB_UPSTREAM"] = str(upstream)
            if args.command == "bench":
                return subprocess.call([sys.executable, "-m", "tests.bench", *rest], cwd=REPO, env=env)
            # The JavaScript unit tests first (seconds); then pytest, whose summary closes the run.
            js_status = run_js_tests() if not rest else 0
            py_status = subprocess.call([sys.executable, "-m", "pytest", *rest], cwd=REPO, env=env)
            return py_status or js_status
    except BuildError as err:
        print(f"build.py: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
