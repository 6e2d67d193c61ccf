"""Plots and the README table from docs/rigl/{runs,results}.json (written by models.rigl.evaluate).

    python3 -m models.rigl.plot        # docs/rigl/curves.png, docs/rigl/heldout.png; prints the markdown table
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rigl"
COLOURS = {"dense": "black", "rigl": "tab:red", "set": "tab:blue", "static": "tab:green"}
STYLES = {80: ":", 90: "-", 95: "--", 0: "-"}


def _style(name: str, record: dict) -> dict:
    percent = round(100 * record.get("target_sparsity", 0))
    return {"color": COLOURS[record["method"]], "linestyle": STYLES.get(percent, "-"), "label": name}


def curves(runs: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, record in runs.items():
        history, style = record["history"], _style(name, record)
        axes[0].plot(history["step"], history["loss"], **style)
        axes[1].plot(history["step"], history["centre_px"], **style)
        axes[2].plot(history["step"], [100 * s for s in history["sparsity"]], **style)
        if record["method"] in ("rigl", "set"):
            axes[2].plot(history["step"], [100 * m / max(1, history["moved"][-1]) for m in history["moved"]],
                         color=style["color"], linestyle=style["linestyle"], alpha=0.35)
    axes[0].set(title="distillation loss (KL + centre), training batches", xlabel="step", yscale="log")
    axes[1].set(title="centre error on training batches (640x480 px)", xlabel="step", yscale="log")
    axes[2].set(title="sparsity % (solid); connections moved, % of final (faint)", xlabel="step", ylim=(-2, 102))
    axes[0].legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def heldout(results: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.6))
    for row in results["rows"]:
        if row["kind"] in ("teacher", "baseline"):
            continue
        colour = COLOURS[row["kind"]]
        size = row["download_bytes"] / 1024
        ax.errorbar([size], [row["median_px"]], yerr=[[0], [row["p90_px"] - row["median_px"]]], fmt="o",
                    color=colour, capsize=3)
        ax.annotate(row["name"], (size, row["median_px"]), textcoords="offset points", xytext=(6, 4), fontsize=8)
    baseline = next(row for row in results["rows"] if row["kind"] == "baseline")
    ax.axhline(baseline["median_px"], color="grey", linestyle="--", linewidth=1)
    ax.annotate(f"'image centre' predictor: median {baseline['median_px']} px", (0.02, baseline["median_px"]),
                xycoords=("axes fraction", "data"), textcoords="offset points", xytext=(0, 4), fontsize=8,
                color="grey")
    ax.axhline(20, color="tab:orange", linestyle=":", linewidth=1)
    ax.annotate("quality bar: median 20 px", (0.02, 20), xycoords=("axes fraction", "data"),
                textcoords="offset points", xytext=(0, -11), fontsize=8, color="tab:orange")
    teacher = next(row for row in results["rows"] if row["kind"] == "teacher")
    ax.set(xscale="log", xlabel="download, KiB (packed: nonzeros float16 + bitmask, zlib; + graph)",
           ylabel="centre error vs teacher, 640x480 px",
           title=f"held-out: {results['held_out_images']} images of {len(results['held_out_photos'])} unseen photos "
                 f"(dot: median, bar: to p90); teacher {teacher['download_bytes'] / 2 ** 20:.1f} MiB")
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def markdown(results: dict) -> str:
    lines = ["| model | sparsity | centre error vs teacher, median / p90 (640×480 px) | download | "
             "inference, CPython onnxruntime 1 thread |", "|---|---|---|---|---|"]
    for row in results["rows"]:
        if row["kind"] == "teacher":
            size = f"{row['download_bytes'] / 2 ** 20:.2f} MiB ({row['download_gzip_bytes'] / 2 ** 20:.2f} MiB gzipped)"
            lines.append(f"| full attention-center (teacher) | 0 | — | {size} | {row['cpython_ms']:.1f} ms |")
        elif row["kind"] == "baseline":
            lines.append(f"| image centre (no model) | — | {row['median_px']} / {row['p90_px']} | 0 | — |")
        else:
            lines.append(f"| {row['name']} ({row['kind']}) | {100 * row['sparsity']:.1f} % | {row['median_px']} / "
                         f"{row['p90_px']} | {row['download_bytes'] / 1024:.1f} KiB | {row['cpython_ms']:.2f} ms |")
    return "\n".join(lines)


def main() -> int:
    runs = json.loads((DOCS / "runs.json").read_text())
    results = json.loads((DOCS / "results.json").read_text())
    curves(runs, DOCS / "curves.png")
    heldout(results, DOCS / "heldout.png")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
