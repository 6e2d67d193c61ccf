"""Where things are: the checkout, its build outputs and caches, the upstream files."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "dist"
BUILD = REPO / "build"
CACHE = REPO / ".cache"
NODE_MODULES = REPO / "node_modules"
DEFAULT_UPSTREAM = REPO.parent / "shared" / "upstream"


class BuildError(Exception):
    """A build step failed in a way the user can act on."""


def resolve_upstream(arg: str | None, default: Path = DEFAULT_UPSTREAM) -> Path | None:
    """--upstream DIR, else $CODECLAB_UPSTREAM, else the upstream folder beside the checkout
    (../shared/upstream) when it exists, else None (the build then fetches by pinned URL)."""
    if arg:
        path = Path(arg).expanduser().resolve()
        if not path.is_dir():
            raise BuildError(f"--upstream {arg}: no such folder")
        return path
    env = os.environ.get("CODECLAB_UPSTREAM")
    if env:
        path = Path(env).expanduser().resolve()
        if not path.is_dir():
            raise BuildError(f"CODECLAB_UPSTREAM={env}: no such folder")
        return path
    if default.is_dir():
        return default.resolve()
    return None
