#!/usr/bin/env python3
"""Build, serve, test and benchmark codeclab.

    python3 build.py [build] [--upstream DIR]   build dist/ (a static, self-contained site)
    python3 build.py serve [--port N]           build if needed, serve dist/ on 127.0.0.1
    python3 build.py test [pytest args]         build, then run the whole test suite (node + pytest)
    python3 build.py bench                      run the benchmarks and print a table
    python3 build.py screenshot                 build if needed, write docs/screenshot.png from the page

A thin command line over ``devkit/`` (the build steps, the server, the Chromium flags).
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from devkit.build import build, dist_is_current
from devkit.jstests import run_js_tests
from devkit.paths import DIST, REPO, BuildError, resolve_upstream
from devkit.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="build", choices=["build", "serve", "test", "bench", "screenshot"])
    parser.add_argument("--upstream", help="folder of the published upstream files, laid out like ../shared/upstream "
                        "(default: $CODECLAB_UPSTREAM, else download by pinned URL)")
    parser.add_argument("--port", type=int, default=8000, help="serve: port on 127.0.0.1 (default 8000)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="serve: omit COOP/COEP headers, like a plain static host")
    parser.add_argument("--rebuild", action="store_true", help="serve/test: rebuild even if dist/ is current")
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in ("test", "bench"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        upstream = resolve_upstream(args.upstream)
        if args.command == "build":
            build(upstream)
        elif args.command == "serve":
            if args.rebuild or not dist_is_current():
                build(upstream)
            serve(DIST, args.port, isolate=not args.no_isolation)
        elif args.command == "screenshot":
            from devkit.screenshot import take_screenshot  # noqa: PLC0415 (needs Playwright, only here)

            if args.rebuild or not dist_is_current():
                build(upstream)
            print(f"wrote {take_screenshot(DIST)}")
        elif args.command in ("test", "bench"):
            if args.command == "test" or args.rebuild or not dist_is_current():
                build(upstream)
            env = dict(os.environ, CODECLAB_DIST=str(DIST))
            if upstream is not None:
                env["CODECLAB_UPSTREAM"] = str(upstream)
            if args.command == "bench":
                return subprocess.call([sys.executable, str(REPO / "tests" / "bench" / "run.py"), *rest], cwd=REPO, env=env)
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
