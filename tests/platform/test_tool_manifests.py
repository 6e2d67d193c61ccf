"""Every tool folder declares itself (web/tools/<id>/tool.json), and a bad manifest is refused by name."""

import importlib
import json
import re

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


def test_the_tab_bar_is_stamped_from_the_manifests_first_tab_selected_and_preloaded():
    from devkit.paths import REPO
    from devkit.tools import stamp_tabs

    tools = load_tools()
    html = stamp_tabs((REPO / "web" / "index.html").read_text(), tools)
    assert "<!-- tools:" not in html
    tabs = re.findall(r'<button type="button" role="tab" id="tab-(\w+)"[^>]*aria-selected="(\w+)"[^>]*>([^<]*)<', html)
    assert tabs == [(t.id, "true" if t is tools[0] else "false", t.label.replace("&", "&amp;")) for t in tools] + [
        ("about", "false", "About")]  # the page's own tab stays last
    assert re.findall(r'<section class="panel" id="panel-(\w+)"', html) == [t.id for t in tools] + ["about"]
    assert f'<link rel="modulepreload" href="tools/{tools[0].id}/{tools[0].module}">' in html
    assert 'data-aliases="speech"' in html  # old links (#speech) still open their tab


def test_index_html_without_its_marks_is_refused():
    from devkit.tools import stamp_tabs

    with pytest.raises(BuildError, match="tools: tabs"):
        stamp_tabs("<html></html>", load_tools())


@pytest.mark.parametrize(("extra", "words"), [
    ({"worker": "plugin.js"}, "plugin.js"),
    ({"kinds": [{"kind": "x", "label": "an X"}]}, "a file kind must be"),
    ({"aliases": "old"}, "'aliases' must be a list"),
])
def test_optional_fields_are_checked(tmp_path, extra, words):
    folder = tmp_path / "tools" / "stub"
    folder.mkdir(parents=True)
    (folder / "index.js").write_text("export function mount() {}\n")
    (folder / "tool.json").write_text(json.dumps({"id": "stub", "label": "X", "order": 1, "python": "m", "needs": [], **extra}))
    with pytest.raises(BuildError, match=words):
        load_tool(folder / "tool.json")
