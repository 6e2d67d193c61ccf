#!/usr/bin/env python3
"""Build, serve, test and benchmark codeclab.

    python3 build.py [build] [--upstream DIR]   build dist/ (a static, self-contained site)
    python3 build.py serve [--port N]           build if needed, serve dist/ on 127.0.0.1
    python3 build.py test [pytest args]         build, then run the whole test suite
    python3 build.py bench                      run the benchmarks and print a table

A thin command line over ``devkit/`` (the build steps, the server, the Chromium flags).
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from devkit.build import build, dist_is_current
from devkit.paths import DIST, REPO, BuildError, resolve_upstream
from devkit.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="build", choices=["build", "serve", "test", "bench"])
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
        elif args.command in ("test", "bench"):
            if args.command == "test" or args.rebuild or not dist_is_current():
                build(upstream)
            env = dict(os.environ, CODECLAB_DIST=str(DIST))
            if upstream is not None:
                env["CODECLAB_UPSTREAM"] = str(upstream)
            command = ["-m", "pytest"] if args.command == "test" else [str(REPO / "tests" / "bench" / "run.py")]
            return subprocess.call([sys.executable, *command, *rest], cwd=REPO, env=env)
    except BuildError as err:
        print(f"build.py: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
