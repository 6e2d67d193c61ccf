"""CLI: ``python -m codeclab.basis info FILE... [--json]`` and
``python -m codeclab.basis plan FILE [--ext NAME ...] [--force TARGET] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codeclab.errors import CodeclabError

from .service import inspect, plan


def _table(rows: list[tuple[str, object]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def format_info(d: dict) -> str:
    rows = [
        ("file", d["name"]),
        ("container", d["container"]),
        ("file size", f"{d['file_size']} bytes"),
        ("source format", d["source_format"].upper()),
        ("size", f"{d['width']}x{d['height']}"),
        ("levels", d["level_count"]),
        ("images", d["images"]),
        ("has alpha", "yes" if d["has_alpha"] else "no"),
        ("supercompression", d["supercompression"]),
        ("sRGB", {True: "yes", False: "no", None: "unknown"}[d["srgb"]]),
        ("y flipped", "yes" if d["y_flipped"] else "no"),
        ("RGBA8 bytes", d["rgba_bytes"]),
    ]
    if "dfd" in d:
        rows.append(("DFD channels", ", ".join(d["dfd"]["channels"])))
    for key, value in d["key_values"].items():
        rows.append((f"key {key!r}", value))
    lines = [_table(rows), "", "level  width x height  bytes"]
    for lv in d["levels"]:
        lines.append(f"{lv['level']:>5}  {lv['width']:>5} x {lv['height']:<6}  {lv['byte_length']}")
    return "\n".join(lines)


def format_plan(d: dict) -> str:
    t = d["target"]
    rows = [
        ("target", f"{t['transcoder_format']} ({t['transcoder_format_number']}), {t['chosen_by']}"),
        ("GL internal format", f"0x{t['gl_internal_format']:04X} {t['gl_internal_format_name']}"),
        ("GPU bytes", d["gpu_bytes"]),
        ("RGBA8 bytes", d["rgba_bytes"]),
        ("available", ", ".join(a["name"] for a in d["available"])),
    ]
    return _table(rows)


def _info_batch(files: list[Path], as_json: bool) -> int:
    """Every file is described; a bad one gets a one-line error and the rest still run (exit 2 at the end)."""
    failures = 0
    for path in files:
        try:
            result = inspect(path.read_bytes(), path.name)
        except (CodeclabError, OSError) as err:
            print(f"error: {path}: {err.strerror if isinstance(err, OSError) and err.strerror else err}",
                  file=sys.stderr)
            failures += 1
            continue
        print(json.dumps(result) if as_json else format_info(result))
    return 2 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeclab.basis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    info_p = sub.add_parser("info", help="describe .ktx2 or .basis files")
    info_p.add_argument("files", type=Path, nargs="+", metavar="file")
    info_p.add_argument("--json", action="store_true", help="one JSON object a file")
    plan_p = sub.add_parser("plan", help="choose the transcode target for given WebGL extensions")
    plan_p.add_argument("file", type=Path)
    plan_p.add_argument("--ext", action="append", default=[], help="a WebGL extension name (repeatable)")
    plan_p.add_argument("--force", help="force a target, e.g. RGBA32 or BC7_RGBA")
    plan_p.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "info":
        return _info_batch(args.files, args.json)
    try:
        result = plan(args.file.read_bytes(), args.ext, args.force)
        print(json.dumps(result) if args.json else format_plan(result))
    except (CodeclabError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
