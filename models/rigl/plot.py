"""Plots and the lab record's table (docs/rigl.md) from docs/rigl/{runs,results}.json (written by models.rigl.evaluate).

    python3 -m models.rigl.plot        # docs/rigl/{curves,heldout,rulers}.png; prints the markdown table
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rigl"
COLOURS = {"dense": "black", "rigl": "tab:red", "set": "tab:blue", "static": "tab:green"}
STYLES = {80: ":", 90: "-", 95: "--", 0: "-"}


# the longer RigL runs, told apart from rigl90 (20 photos / 63 photos / 63 photos and the wide student)
VARIANTS = {"rigl90-long": ("darkred", "-."), "rigl90-wall": ("tab:orange", "-"), "rigl90-wide": ("tab:purple", "-"),
            "rigl90-wide-consensus": ("tab:pink", "-"), "rigl90-consensus": ("tab:brown", "-"),
            "wide-dense": ("grey", "-"), "wide-rigl80": ("magenta", ":"), "wide-rigl90": ("magenta", "-"),
            "wide-rigl95": ("magenta", "--"), "wide-rigl90-gc": ("tab:cyan", "-"), "wide-rigl95-gc": ("tab:cyan", "--"),
            "wide-dense-gc": ("dimgrey", "--"), "wide-set95-gc": ("navy", "--"), "wide-static95-gc": ("darkgreen", "--")}


def _style(name: str, record: dict) -> dict:
    percent = round(100 * record.get("target_sparsity", 0))
    colour, line = VARIANTS.get(name, (COLOURS[record["method"]], STYLES.get(percent, "-")))
    return {"color": colour, "linestyle": line, "label": name}


def curves(runs: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, record in runs.items():
        history, style = record["history"], _style(name, record)
        axes[0].plot(history["step"], history["loss"], **style)
        axes[1].plot(history["step"], history["centre_px"], **style)
        if history.get("held_px"):  # watched during training (torch, unpacked), never used to choose
            axes[1].plot(history["held_step"], history["held_px"], marker="o", markersize=3, linewidth=0.8,
                         color=style["color"], linestyle=style["linestyle"], alpha=0.6)
        axes[2].plot(history["step"], [100 * s for s in history["sparsity"]], **style)
        if record["method"] in ("rigl", "set"):
            axes[2].plot(history["step"], [100 * m / max(1, history["moved"][-1]) for m in history["moved"]],
                         color=style["color"], linestyle=style["linestyle"], alpha=0.35)
    axes[0].set(title="distillation loss (KL + centre), training batches", xlabel="step", yscale="log")
    axes[1].set(title="centre error (640x480 px): training batches (mean);\nheld-out median (dots, where watched)",
                xlabel="step")
    axes[2].set(title="sparsity % (flat lines); cumulative connections moved,\n% of the run's total (faint: RigL/SET)",
                xlabel="step", ylim=(-2, 102))
    axes[0].legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def heldout(results: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in results["rows"] if row["kind"] not in ("teacher", "baseline")]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.8))
    for i, row in enumerate(rows):
        colour = COLOURS[row["kind"]]
        ax.barh(i, row["p90_px"], color=colour, alpha=0.25, height=0.7)
        ax.barh(i, row["median_px"], color=colour, height=0.7)
        ax.annotate(f"{row['median_px']:.1f} / {row['p90_px']:.1f} px   {row['download_bytes'] / 1024:.1f} KiB",
                    (row["p90_px"], i), textcoords="offset points", xytext=(5, -3), fontsize=8)
    ax.set_yticks(range(len(rows)), [f"{row['name']} ({100 * row.get('sparsity', 0):.0f} %)" for row in rows])
    ax.invert_yaxis()
    baseline = next(row for row in results["rows"] if row["kind"] == "baseline")
    ax.axvline(baseline["median_px"], color="grey", linestyle="--", linewidth=1,
               label=f"'image centre' predictor, median {baseline['median_px']} px")
    bar = results.get("teacher_self_disagreement")
    if bar:
        ax.axvline(bar["median_px"], color="tab:orange", linestyle="-", linewidth=1.5,
                   label=f"quality bar: the teacher vs itself, mirrored or 2 % cropped, median {bar['median_px']} px")
    ax.axvline(20, color="tab:orange", linestyle=":", linewidth=1.2, label="first bar set: median 20 px")
    teacher = next(row for row in results["rows"] if row["kind"] == "teacher")
    ax.set(xlabel="centre error vs teacher, 640x480 frame px (solid: median, light: p90)", xlim=(0, 190),
           title=f"held-out: {results['held_out_images']} images of {len(results['held_out_photos'])} unseen photos;\n"
                 f"download = packed weights + graph (teacher: {teacher['download_bytes'] / 2 ** 20:.2f} MiB)")
    ax.legend(fontsize=8, loc="lower right")
    ax.title.set_fontsize(10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def rulers(results: dict, second: dict, broad: dict, out: Path) -> None:
    """Each student's margin to the quality bar on each held-out ruler: its median error minus the teacher's own
    median movement (mirrored, 2 % cropped) on the same images; left of zero meets the bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first_bar = results["teacher_self_disagreement"]["median_px"]
    second_bar = second["teacher_self_disagreement_second_draw"]["median_px"]
    by_name = {
        "first": {row["name"]: row["median_px"] - first_bar for row in results["rows"] if row.get("target") == "consensus"},
        "second": {row["name"]: row["second_draw"]["median_px"] - second_bar for row in second["rows"]},
        "broad": {row["name"]: row for row in broad["rows"] if "margin_px" in row}}
    names = [name for name in by_name["broad"] if name in by_name["first"]]
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(names) + 2.4))
    for i, name in enumerate(names):
        row = by_name["broad"][name]
        low, high = row["margin_90_interval_px"]
        ax.errorbar(row["margin_px"], i, xerr=[[row["margin_px"] - low], [high - row["margin_px"]]], fmt="o",
                    color="tab:red", capsize=3, label=None if i else
                    f"broad: {broad['images']} images of {len(broad['photos'])} photos (90 % interval over photos)")
        ax.plot(by_name["first"][name], i, "s", color="tab:blue", alpha=0.7,
                label=None if i else f"table's draw: {results['held_out_images']} images of 4 photos")
        if name in by_name["second"]:
            ax.plot(by_name["second"][name], i, "^", color="tab:green", alpha=0.7,
                    label=None if i else "second draw: 160 more images of the same 4")
    ax.axvline(0, color="tab:orange", linewidth=1.5)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set(xlabel="median centre error minus the teacher's own movement (mirrored / 2 % cropped), 640x480 px",
           title="margin to the quality bar on each held-out ruler (left of the orange line: meets the bar)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.45, -0.1), ncol=2)
    ax.title.set_fontsize(10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def markdown(results: dict) -> str:
    lines = ["| model | trained on (photos / images, steps), labels | sparsity | centre error vs teacher, median / p90 "
             "(640×480 px) | download | inference, CPython onnxruntime 1 thread |", "|---|---|---|---|---|---|"]
    for row in results["rows"]:
        if row["kind"] == "teacher":
            size = f"{row['download_bytes'] / 2 ** 20:.2f} MiB ({row['download_gzip_bytes'] / 2 ** 20:.2f} MiB gzipped)"
            lines.append(f"| full attention-center (teacher) | — | 0 | — | {size} | {row['cpython_ms']:.1f} ms |")
        elif row["kind"] == "baseline":
            lines.append(f"| image centre (no model) | — | — | {row['median_px']} / {row['p90_px']} | 0 | — |")
        else:
            trained = (f"{row.get('train_photos', 20)} / {row.get('train_images', 3000)}, {row['steps']}, "
                       f"{row.get('target', 'teacher')}")
            lines.append(f"| {row['name']} ({row['kind']}) | {trained} | {100 * row['sparsity']:.1f} % | {row['median_px']} / "
                         f"{row['p90_px']} | {row['download_bytes'] / 1024:.1f} KiB | {row['cpython_ms']:.2f} ms |")
    return "\n".join(lines)


def bar_line(results: dict) -> str:
    bar = results["teacher_self_disagreement"]
    views = ", ".join(f"{name} {v['median_px']} / {v['p90_px']}" for name, v in bar["views"].items())
    return (f"teacher vs itself on the held-out images: median {bar['median_px']} / p90 {bar['p90_px']} px "
            f"({views}); teacher vs its consensus: {results['teacher_vs_consensus']['median_px']} / "
            f"{results['teacher_vs_consensus']['p90_px']} px")


def main() -> int:
    runs = json.loads((DOCS / "runs.json").read_text())
    results = json.loads((DOCS / "results.json").read_text())
    curves(runs, DOCS / "curves.png")
    heldout(results, DOCS / "heldout.png")
    if (DOCS / "broad.json").is_file() and (DOCS / "second_draw.json").is_file():
        rulers(results, json.loads((DOCS / "second_draw.json").read_text()),
               json.loads((DOCS / "broad.json").read_text()), DOCS / "rulers.png")
    print(markdown(results))
    if "teacher_self_disagreement" in results:
        print("\n" + bar_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
