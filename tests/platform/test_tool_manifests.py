"""Every tool folder declares itself (web/tools/<id>/tool.json), and a bad manifest is refused by name."""

import importlib
import json

import pytest

from devkit.paths import BuildError
from devkit.tools import load_tool, load_tools, page_index


def test_every_tool_folder_has_a_valid_manifest():
    tools = load_tools()
    assert [tool.id for tool in tools] == ["attention", "jxl", "lyra", "basis"]  # tab order
    for tool in tools:
        assert importlib.import_module(tool.python)  # the RPC module exists
        declared = {group.name for t in tools for group in t.groups} | {"models-runtime"}
        assert set(tool.needs) <= declared, tool.id


def test_page_index_lists_modules_in_tab_order():
    index = page_index(load_tools())
    assert [entry["module"] for entry in index["tools"]] == [
        f"tools/{name}/index.js" for name in ("attention", "jxl", "lyra", "basis")]


@pytest.mark.parametrize(("manifest", "words"), [
    ({"id": "other", "label": "X", "order": 1, "python": "m", "needs": []}, "differs from its folder"),
    ({"id": "stub", "label": "X", "order": "1", "python": "m", "needs": []}, "'order' must be a int"),
    ({"id": "stub", "label": "X", "order": 1, "python": "m", "needs": [], "colour": 1}, "unknown field 'colour'"),
    ({"id": "stub", "label": "X", "order": 1, "python": "m", "needs": [], "module": "missing.js"}, "missing.js"),
])
def test_a_bad_manifest_is_refused_with_its_path_and_field(tmp_path, manifest, words):
    folder = tmp_path / "tools" / "stub"
    folder.mkdir(parents=True)
    (folder / "index.js").write_text("export function mount() {}\n")
    (folder / "tool.json").write_text(json.dumps(manifest))
    with pytest.raises(BuildError, match=words):
        load_tool(folder / "tool.json")
