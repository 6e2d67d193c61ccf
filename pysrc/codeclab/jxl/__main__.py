"""CLI: ``python -m codeclab.jxl info FILE... [--json]`` and
``python -m codeclab.jxl reorder IN OUT (--center X,Y | --scanline | --attention)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codeclab.errors import CodeclabError

from . import service


def _print_info(info: dict) -> None:
    kind = "container" if info["container"] else "bare codestream"
    print(f"{info['name'] or ''}: {info['size']} bytes, {kind}, {info['width']}x{info['height']}, "
          f"{len(info['frames'])} frame(s)")
    if info["container"]:
        for box in info["boxes"]:
            print(f"  box {box['type']!r:8} at {box['offset']:>9}  {box['size']:>9} bytes")
    for fr in info["frames"]:
        print(f"frame {fr['index']}: {fr['encoding']} {fr['frame_type']} {fr['width']}x{fr['height']}"
              f" at ({fr['x0']},{fr['y0']}), group {fr['group_dim']}, {fr['passes']} pass(es),"
              f" {fr['num_lf_groups']} LF group(s), {fr['num_groups']} AC group(s) ({fr['groups_x']}x{fr['groups_y']}),"
              f" {'permuted' if fr['permuted'] else 'not permuted'}"
              + (f", centre group {fr['center_group']}" if fr["center_group"] is not None else ""))
        print("   #  kind        pass  group      offset       size")
        for i, sec in enumerate(fr["toc"]):
            p = "" if sec["pass"] is None else sec["pass"]
            g = "" if sec["group"] is None else sec["group"]
            print(f"  {i:>3} {sec['kind']:<11} {p!s:>4} {g!s:>6} {sec['offset']:>11} {sec['size']:>10}")


def _attention_center(path: Path, model: str | None) -> list[float]:
    """Predicts the attention centre on the decoded pixels (CPython: decodes with djxl)."""
    import shutil
    import subprocess
    import tempfile

    try:
        from codeclab.attention.__main__ import make_runner
        from codeclab.attention.predict import predict_pixels
    except ImportError as err:  # pragma: no cover - depends on the attention package
        raise CodeclabError(f"--attention needs codeclab.attention ({err}); use --center X,Y") from err
    djxl = shutil.which("djxl")
    if djxl is None:
        raise CodeclabError("--attention decodes the image with djxl, which is not installed (apt-get install libjxl-tools)")
    import numpy as np
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "decoded.png"
        done = subprocess.run([djxl, str(path), str(png)], capture_output=True, text=True)
        if done.returncode != 0:
            raise CodeclabError(f"djxl could not decode {path}: {done.stderr.strip()[-200:]}")
        with Image.open(png) as im:
            pixels = np.asarray(im.convert("RGB"))
    runner, source, note = make_runner(model, 1)
    if note:
        print(note, file=sys.stderr)
    prediction = predict_pixels(pixels, runner=runner, predictor="fallback" if runner is None else "model")
    print(f"attention centre from {source}: {prediction.x:.1f},{prediction.y:.1f}")
    return [float(prediction.x), float(prediction.y)]


def _info_batch(files: list[Path], as_json: bool) -> int:
    """Every file is inspected; a bad one gets a one-line error and the rest still run (exit 2 at the end)."""
    failures = 0
    for path in files:
        try:
            info = service.inspect(path.read_bytes(), path.name)
        except (CodeclabError, OSError) as err:
            print(f"error: {path}: {err.strerror if isinstance(err, OSError) and err.strerror else err}",
                  file=sys.stderr)
            failures += 1
            continue
        if as_json:
            print(json.dumps(info, indent=1))
        else:
            _print_info(info)
    return 2 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeclab.jxl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="headers, frames and TOC of JPEG XL files")
    p_info.add_argument("files", type=Path, nargs="+", metavar="file")
    p_info.add_argument("--json", action="store_true")
    p_re = sub.add_parser("reorder", help="rewrite the group order losslessly")
    p_re.add_argument("input", type=Path)
    p_re.add_argument("output", type=Path)
    how = p_re.add_mutually_exclusive_group(required=True)
    how.add_argument("--center", help="X,Y in pixels of the displayed image (after its orientation)")
    how.add_argument("--scanline", action="store_true")
    how.add_argument("--attention", action="store_true", help="centre predicted by codeclab.attention")
    p_re.add_argument("--model", help="with --attention: model file (.onnx/.tflite) or 'fallback'")
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            return _info_batch(args.files, args.json)
        data = args.input.read_bytes()
        if args.scanline:
            result = service.reorder(data, order="scanline")
        else:
            if args.attention:
                center = _attention_center(args.input, args.model)
            else:
                try:
                    center = [float(v) for v in args.center.split(",")]
                except ValueError:
                    parser.error("--center wants X,Y")
                if len(center) != 2:
                    parser.error("--center wants X,Y")
            result = service.reorder(data, center=center)
            print(f"centre {center[0]:.0f},{center[1]:.0f}")
        args.output.write_bytes(result["data"])
        first = result["info"]["frames"][0]
        print(f"wrote {args.output} ({len(result['data'])} bytes, {'changed' if result['changed'] else 'unchanged'},"
              f" centre group {first['center_group']})")
        return 0
    except (CodeclabError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
