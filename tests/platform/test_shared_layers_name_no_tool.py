"""The shared layers name no tool: a tool is one folder (web/tools/<id>/ with its manifest, and its Python
package), and everything around it reads the manifests instead of listing the tools (issue 25).

The tool ids come from the manifests, so a fifth tool is covered the day its folder lands. A name counts as
a whole word, in any case, in code and in comments alike ("Lyra" in a comment is a tool named as much as
"lyra" in a string is)."""

from __future__ import annotations

import re

import pytest

from devkit.paths import REPO
from devkit.tools import load_tools

SHARED = ["web/worker.js", "web/app.js", "web/sw.js", "web/lib", "pysrc/codeclab/browser", "devkit"]
SOURCE_SUFFIXES = {".js", ".mjs", ".py", ".json", ".html", ".css"}


def shared_files() -> list:
    files = []
    for name in SHARED:
        path = REPO / name
        if path.is_file():
            files.append(path)
        else:
            files += sorted(p for p in path.rglob("*") if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts)
    return files


def tool_ids() -> list[str]:
    return [tool.id for tool in load_tools()]


def test_the_list_of_shared_files_is_not_empty_and_the_tools_are_known():
    files = {path.relative_to(REPO).as_posix() for path in shared_files()}
    assert {"web/worker.js", "web/app.js", "web/sw.js", "web/lib/offline.js", "pysrc/codeclab/browser/rpc.py",
            "devkit/build.py", "devkit/tools.py"} <= files
    assert len(tool_ids()) >= 4


@pytest.mark.parametrize("path", shared_files(), ids=lambda path: path.relative_to(REPO).as_posix())
def test_a_shared_file_names_no_tool(path):
    pattern = re.compile(rf"\b({'|'.join(map(re.escape, tool_ids()))})\b", re.IGNORECASE)
    hits = [f"{number}: {line.strip()}" for number, line in enumerate(path.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert not hits, f"{path.relative_to(REPO)} names a tool (read it from the manifests instead):\n" + "\n".join(hits)


def test_the_rule_catches_a_tool_named_in_a_comment(tmp_path):
    """The check itself: a tool named in any case, as a whole word, in a comment, is found; a longer word is not."""
    pattern = re.compile(rf"\b({'|'.join(map(re.escape, tool_ids()))})\b", re.IGNORECASE)
    name = tool_ids()[0]
    assert pattern.search(f"// the {name.upper()} tab boots first")
    assert not pattern.search(f"const x = lib{name}2;")
