"""Build step for the models: upstream .tflite files -> ONNX + side files + manifest.json.

``build_models(upstream, out_dir, cache_dir)`` reads the manifests in
models/manifests/, checks each upstream file's sha256, converts it with our
TFLite→ONNX converter (or extracts the RVQ codebooks), and writes into
``out_dir``::

    attention_center.onnx
    attention_lite.onnx  attention_lite.rigl     (RigL student, models/rigl/export.py)
    lyra/soundstream_encoder.onnx   lyra/soundstream_encoder.state_init.npz
    lyra/lyragan.onnx               lyra/lyragan.state_init.npz
    lyra/quantizer_codebooks.npy
    lyra/soundstream_encoder.tflite lyra/lyragan.tflite   (the upstream files as they are: ``ship_source``)
    manifest.json

Results are cached in ``cache_dir`` under a key made of the source sha256 and
the converter version, so a rebuild with unchanged inputs converts nothing.
``fetch_upstream(dest)`` downloads the files by pinned URL on a connected
machine, refusing any whose sha256 differs.

Run by hand: ``python3 -m models.build_models --upstream ../shared/upstream --out build/models``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

MANIFESTS = Path(__file__).resolve().parent / "manifests"


class ModelBuildError(Exception):
    """An upstream file is missing, altered, or cannot be converted."""


def _log_default(message: str) -> None:
    print(f"[models] {message}", file=sys.stderr)


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def load_manifests() -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(MANIFESTS.glob("*.json"))]


def _converter_version() -> str:
    from .tflite2onnx import CONVERTER_VERSION
    return CONVERTER_VERSION


def _checked_source(upstream: Path, manifest: dict) -> Path:
    source = manifest["source"]
    path = upstream / source["file"]
    if not path.is_file():
        raise ModelBuildError(f"{manifest['name']}: upstream file {path} is missing")
    actual = sha256_of(path)
    if actual != source["sha256"]:
        raise ModelBuildError(f"{manifest['name']}: {path} has sha256 {actual}, the manifest pins {source['sha256']}")
    return path


def _convert_one(manifest: dict, source: Path, work: Path) -> dict:
    """Produce the manifest's files inside ``work``; return the manifest entry."""
    output = work / manifest["output"]
    output.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "name": manifest["name"],
        "file": manifest["output"],
        "source": {k: manifest["source"][k] for k in ("repository", "commit", "path", "url", "sha256")},
        "converter_version": _converter_version(),
        "inputs": manifest.get("inputs", {}),
        "outputs": manifest.get("outputs", {}),
        "runtime": manifest.get("runtime", {}),
    }
    started = time.perf_counter()
    if manifest.get("kind") == "codebooks":
        from .lyra_codebooks import extract_codebooks
        books = extract_codebooks(source)
        np.save(output, books.astype(np.float32))
    else:
        import onnx

        from .tflite2onnx import convert
        converted = convert(source, name=manifest["name"], input_names=manifest.get("rename_inputs"),
                            output_names=manifest.get("rename_outputs"), extra_outputs=manifest.get("extra_outputs"))
        onnx.checker.check_model(converted.model)
        model = converted.model
        if converted.states:
            init = converted.state_init()
            entry["states"] = [{"input": s.input_name, "output": s.output_name, "variable": s.key,
                                "shape": list(init[s.input_name].shape), "layout": s.layout}
                               for s in converted.states]
            if manifest.get("pack_states"):
                from .tflite2onnx.pack import pack_states
                model, init, layout = pack_states(model, init)
                for state, packed in zip(entry["states"], layout):
                    state["packed_offset"], state["packed_size"] = packed["offset"], packed["size"]
                entry["packed_states"] = {"input": "state_in_0", "output": "state_out_0",
                                          "size": int(init["state_in_0"].size)}
            np.savez(output.with_name(output.stem + ".state_init.npz"), **init)
            entry["state_init"] = str(Path(manifest["output"]).with_name(output.stem + ".state_init.npz").as_posix())
        onnx.save(model, output)
        entry["onnx_inputs"] = {name: shape for name, shape in converted.inputs.items() if not name.startswith("state_")}
        entry["onnx_outputs"] = {name: shape for name, shape in converted.outputs.items()
                                 if not name.startswith("state_")}
    entry["bytes"] = output.stat().st_size
    entry["sha256"] = sha256_of(output)
    entry["conversion_seconds"] = round(time.perf_counter() - started, 3)
    return entry


def _code_digest() -> str:
    """Hash of the conversion code itself, so that editing the converter invalidates the cache."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*(here / "tflite2onnx").glob("*.py"), here / "lyra_codebooks.py", here / "build_models.py"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


_SHIPPING_KEYS = ("ship_source", "why_ship_source")


def _ship_source(manifest: dict, source: Path, out_dir: Path, entry: dict) -> dict:
    """Copy the (sha256-checked) upstream file itself into ``out_dir`` when the manifest says the
    page runs it as it is (``ship_source``: its path under ``out_dir``); the entry then pins it."""
    target = manifest.get("ship_source")
    if not target:
        return entry
    path = out_dir / target
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)  # not copy2: the upstream folder may be read-only
    return {**entry, "shipped_source": {"file": target, "sha256": manifest["source"]["sha256"],
                                        "bytes": path.stat().st_size, "license": manifest["source"].get("license")}}


def _cache_key(manifest: dict) -> str:
    # Shipping the source file beside the conversion does not change the conversion.
    recipe = json.dumps({k: v for k, v in manifest.items() if k not in ("description", *_SHIPPING_KEYS)},
                        sort_keys=True)
    digest = hashlib.sha256((recipe + _converter_version() + _code_digest()).encode()).hexdigest()[:16]
    return f"{manifest['name']}-{manifest['source']['sha256'][:16]}-{digest}"


def build_models(upstream: Path, out_dir: Path, cache_dir: Path, log=_log_default) -> dict:
    """Convert every manifest's model from ``upstream`` into ``out_dir``; returns the manifest dict."""
    upstream, out_dir, cache_dir = Path(upstream), Path(out_dir), Path(cache_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    entries = []
    for manifest in load_manifests():
        source = _checked_source(upstream, manifest)
        cached = cache_dir / _cache_key(manifest)
        if (cached / "entry.json").is_file():
            entry = json.loads((cached / "entry.json").read_text())
            log(f"{manifest['name']}: cached ({cached.name})")
        else:
            work = cached.with_name(cached.name + ".tmp")
            if work.exists():
                shutil.rmtree(work)
            work.mkdir(parents=True)
            entry = _convert_one(manifest, source, work)
            (work / "entry.json").write_text(json.dumps(entry, indent=1))
            if cached.exists():
                shutil.rmtree(cached)
            work.rename(cached)
            log(f"{manifest['name']}: converted in {entry['conversion_seconds']} s -> {entry['file']} "
                f"({entry['bytes'] / 1e6:.2f} MB)")
        for path in cached.rglob("*"):
            if path.is_file() and path.name != "entry.json":
                target = out_dir / path.relative_to(cached)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        entries.append(_ship_source(manifest, source, out_dir, entry))
    entries.append(_build_lite_attention(out_dir, log))
    manifest = {"converter": f"codeclab-tflite2onnx {_converter_version()}", "models": entries}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _build_lite_attention(out_dir: Path, log) -> dict:
    """The RigL-trained sparse attention student, from its committed packed checkpoint (models/rigl/)."""
    from .rigl.export import build_lite

    entry = build_lite(out_dir)
    log(f"attention_lite: {entry['meta'].get('sparsity', 0):.0%} sparse -> {entry['file']} ({entry['bytes']} B graph) "
        f"+ {entry['weights_file']} ({entry['weights_bytes'] / 1024:.0f} KiB packed weights)")
    return entry


def fetch_upstream(dest: Path, log=_log_default) -> Path:
    """Download every manifest's source file by its pinned URL into ``dest`` (sha256 checked)."""
    dest = Path(dest)
    for manifest in load_manifests():
        source = manifest["source"]
        target = dest / source["file"]
        if target.is_file() and sha256_of(target) == source["sha256"]:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        log(f"downloading {source['url']}")
        try:
            with urllib.request.urlopen(source["url"], timeout=60) as response:
                data = response.read()
        except OSError as err:
            raise ModelBuildError(f"cannot download {source['url']}: {err}") from err
        actual = hashlib.sha256(data).hexdigest()
        if actual != source["sha256"]:
            raise ModelBuildError(f"{source['url']} has sha256 {actual}, expected {source['sha256']}")
        target.write_bytes(data)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m models.build_models", description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", type=Path, help="folder laid out like ../shared/upstream (else: download)")
    parser.add_argument("--out", type=Path, default=Path("build/models"))
    parser.add_argument("--cache", type=Path, default=Path(".cache/models"))
    args = parser.parse_args(argv)
    try:
        upstream = args.upstream or fetch_upstream(args.cache / "upstream")
        manifest = build_models(upstream, args.out, args.cache)
    except ModelBuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for entry in manifest["models"]:
        print(f"{entry['file']:40s} {entry['bytes'] / 1e6:7.2f} MB  {entry['conversion_seconds']:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
