"""The tools, as their folders declare them: every ``web/tools/<id>/tool.json``.

A tool is one folder. Its manifest says what the shared layers need to know about it, so that none of them
names a tool: the build (vendored files, MIME types, worker policies), the offline groups, the tab bar,
the RPC router (its Python service module) and the fuzz harness (its formats module) iterate over these.

The build writes the page's view of them to ``dist/tools.json`` (:func:`page_index`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from .paths import REPO, BuildError

WEB = REPO / "web"
MANIFEST_NAME = "tool.json"
PAGE_INDEX = "tools.json"
SHELL_PANELS = ("about",)  # panels of the page itself, after the tools'

_REQUIRED = {"id": str, "label": str, "order": int, "python": str, "needs": list}
_OPTIONAL = {"groups": dict, "vendor": dict, "mime": dict, "compressible": list, "eval_workers": dict,
             "fuzz": str, "module": str, "worker": str, "aliases": list, "kinds": list}


@dataclass(frozen=True)
class OfflineGroup:
    """Files of dist/ (by path prefix) that a tool needs and that are cached together."""

    name: str
    label: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class VendorPackage:
    """Files copied from node_modules/<package>/ into dist/vendor/<dir>/."""

    dir: str
    package: str
    license: str
    files: tuple[str, ...]
    # Bare specifiers rewritten in a vendored ES module: {file name: {text: replacement}}.
    imports: dict[str, dict[str, str]] = field(default_factory=dict)
    # Emscripten classic glue also written as ES modules exporting ``export`` (a module worker cannot
    # importScripts): {"files": [...], "export": "ModuleFactory"}.
    modules: dict | None = None


@dataclass(frozen=True)
class Tool:
    """One tool, as its folder's manifest declares it (the fields are the manifest's, checked)."""

    id: str
    label: str
    order: int
    folder: Path
    python: str  # the module whose public functions the page may call as "<id>.<function>"
    needs: tuple[str, ...]  # offline groups it needs beyond the shell and Python
    groups: tuple[OfflineGroup, ...] = ()
    vendor: tuple[VendorPackage, ...] = ()
    mime: dict[str, str] = field(default_factory=dict)
    compressible: tuple[str, ...] = ()
    eval_workers: tuple[str, ...] = ()  # worker scripts (in the folder) whose CSP allows 'unsafe-eval'
    eval_reason: str = ""
    fuzz: str | None = None  # module with the tool's fuzz formats
    module: str = "index.js"  # the page module (exports mount), loaded when the tab is first opened
    worker: str | None = None  # the Python worker's plug-in (exports install(host)): model runtimes, stream state
    aliases: tuple[str, ...] = ()  # older URL hashes that still open the tab (#<alias>)
    # File kinds the tool's formats add to lib/filekind.js: {"kind", "label", "magic": [[byte or null, ...], ...]}
    kinds: tuple[dict, ...] = ()

    @property
    def web_path(self) -> str:
        """The folder's path in dist/ (forward slashes)."""
        return f"tools/{self.id}"


def _fail(path: Path, message: str) -> BuildError:
    return BuildError(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {message}")


def load_tool(path: Path) -> Tool:
    """Read and check one manifest (``path``: the tool.json file)."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise _fail(path, f"not a readable JSON manifest ({err})") from err
    if not isinstance(raw, dict):
        raise _fail(path, "the manifest must be a JSON object")
    for key, kind in _REQUIRED.items():
        if not isinstance(raw.get(key), kind):
            raise _fail(path, f"field {key!r} must be a {kind.__name__}")
    for key, value in raw.items():
        if key in _OPTIONAL and not isinstance(value, _OPTIONAL[key]):
            raise _fail(path, f"field {key!r} must be a {_OPTIONAL[key].__name__}")
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise _fail(path, f"unknown field {key!r}")
    if not re.fullmatch(r"[a-z][a-z0-9]*", raw["id"]) or raw["id"] in SHELL_PANELS:
        raise _fail(path, f"id {raw['id']!r} must be lower-case letters and digits, and not a shell panel's")
    if raw["id"] != path.parent.name:
        raise _fail(path, f"id {raw['id']!r} differs from its folder's name {path.parent.name!r}")
    groups = tuple(OfflineGroup(name, spec["label"], tuple(spec["paths"])) for name, spec in raw.get("groups", {}).items())
    vendor = tuple(VendorPackage(name, spec["package"], spec["license"], tuple(spec["files"]),
                                 spec.get("imports", {}), spec.get("modules"))
                   for name, spec in raw.get("vendor", {}).items())
    evals = raw.get("eval_workers", {})
    tool = Tool(id=raw["id"], label=raw["label"], order=raw["order"], folder=path.parent, python=raw["python"],
                needs=tuple(raw["needs"]), groups=groups, vendor=vendor, mime=dict(raw.get("mime", {})),
                compressible=tuple(raw.get("compressible", ())), eval_workers=tuple(evals.get("workers", ())),
                eval_reason=evals.get("reason", ""), fuzz=raw.get("fuzz"), module=raw.get("module", "index.js"),
                worker=raw.get("worker"), aliases=tuple(raw.get("aliases", ())), kinds=tuple(raw.get("kinds", ())))
    for kind in tool.kinds:
        if not (isinstance(kind, dict) and set(kind) == {"kind", "label", "magic"} and isinstance(kind["magic"], list)
                and all(isinstance(magic, list) and magic for magic in kind["magic"])):
            raise _fail(path, f"a file kind must be {{\"kind\", \"label\", \"magic\": [[bytes...], ...]}}, not {kind!r}")
    for worker in (tool.module, *tool.eval_workers, *([tool.worker] if tool.worker else [])):
        if not (tool.folder / worker).is_file():
            raise _fail(path, f"names {worker}, which is not in the folder")
    return tool


def load_tools(web: Path = WEB) -> list[Tool]:
    """Every tool under ``web``/tools, in tab order (a folder without a manifest is shared code, not a tool)."""
    tools = [load_tool(manifest) for manifest in sorted((web / "tools").glob(f"*/{MANIFEST_NAME}"))]
    tools.sort(key=lambda tool: (tool.order, tool.id))
    declared: dict[str, str] = {}
    for tool in tools:
        for group in tool.groups:
            if group.name in declared:
                raise _fail(tool.folder / MANIFEST_NAME, f"group {group.name!r} is already declared by {declared[group.name]}")
            declared[group.name] = tool.id
    return tools


def page_index(tools: list[Tool]) -> dict:
    """What the page and its workers read (dist/tools.json): the tabs, in order, and what each needs."""
    return {"tools": [{"id": tool.id, "label": tool.label, "module": f"{tool.web_path}/{tool.module}",
                       "python": tool.python, "needs": list(tool.needs), "aliases": list(tool.aliases),
                       "kinds": list(tool.kinds), "worker": f"{tool.web_path}/{tool.worker}" if tool.worker else None}
                      for tool in tools]}


def write_page_index(out: Path, tools: list[Tool]) -> None:
    """dist/tools.json, and the tab bar stamped into dist/index.html (:func:`stamp_tabs`)."""
    (out / PAGE_INDEX).write_text(json.dumps(page_index(tools), indent=1))
    index = out / "index.html"
    index.write_text(stamp_tabs(index.read_text(), tools))


# Where index.html takes the tools' parts: written at build time so that the tab bar and the panels are in
# the first paint (nothing moves when the tools' modules load).
TAB_MARK = "<!-- tools: tabs -->"
PANEL_MARK = "<!-- tools: panels -->"
PRELOAD_MARK = "<!-- tools: first tab's module -->"


def stamp_tabs(html: str, tools: list[Tool]) -> str:
    """``html`` with each tool's tab, panel and (for the first tab) modulepreload at the marks; the first
    tool's tab is the selected one, and the shell's own tabs (About) follow the tools'."""
    for mark in (TAB_MARK, PANEL_MARK, PRELOAD_MARK):
        if html.count(mark) != 1:
            raise BuildError(f"web/index.html must hold {mark!r} once")
    if not tools:
        raise BuildError("no tool folder declares itself (web/tools/<id>/tool.json)")
    tabs, panels = [], []
    for at, tool in enumerate(tools):
        first = at == 0
        tabs.append(f'<button type="button" role="tab" id="tab-{tool.id}" aria-controls="panel-{tool.id}" '
                    f'aria-selected="{str(first).lower()}" tabindex="{0 if first else -1}" data-testid="tab-{tool.id}" '
                    f'data-module="{escape(tool.web_path)}/{escape(tool.module)}" '
                    f'data-aliases="{escape(" ".join(tool.aliases))}">{escape(tool.label)}</button>')
        panels.append(f'<section class="panel" id="panel-{tool.id}" role="tabpanel" aria-labelledby="tab-{tool.id}"'
                      f'{"" if first else " hidden"}></section>')
    preload = f'<link rel="modulepreload" href="{escape(tools[0].web_path)}/{escape(tools[0].module)}">'
    return (html.replace(TAB_MARK, "\n      ".join(tabs)).replace(PANEL_MARK, "\n    ".join(panels))
            .replace(PRELOAD_MARK, preload))
