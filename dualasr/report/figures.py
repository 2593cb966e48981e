"""PNG figures of the analyses (matplotlib, Agg backend), each written atomically."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path | str) -> None:
    """Save ``fig`` to ``path`` through a temporary name and a rename, then close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.png")
    fig.savefig(tmp, dpi=150)
    _plt().close(fig)
    os.replace(tmp, path)


def cka_heatmap(path: Path | str, matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str],
                row_label: str, col_label: str, title: str) -> None:
    """Heatmap of a CKA matrix [rows, cols] with the values written in the cells."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(4.8, 1.6 + 0.6 * len(cols)), max(3.8, 1.4 + 0.5 * len(rows))))
    im = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis", origin="lower")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            v = matrix[i, j]
            ax.text(j, i, "nan" if math.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if (not math.isnan(v) and v > 0.6) else "white")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel(f"{col_label} layer")
    ax.set_ylabel(f"{row_label} layer")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label="linear CKA")
    fig.tight_layout()
    save(fig, path)


def diagonal_lines(path: Path | str, series: Mapping[Tuple[str, str], Tuple[List[str], List[float]]],
                   title: str, ylabel: str = "linear CKA (layer i vs layer i)") -> None:
    """One subplot per language; one line per pair name: ``series[(lang, name)] = (layers, values)``;
    a name starting with ``reference`` is drawn as a dashed black line."""
    plt = _plt()
    langs = list(dict.fromkeys(lang for lang, _ in series))
    fig, axes = plt.subplots(1, len(langs), figsize=(5.0 * len(langs), 5.0), squeeze=False, sharey=True)
    for ax, lang in zip(axes[0], langs):
        width = 1
        for (lg, name), (layers, values) in series.items():
            if lg == lang:
                style = dict(color="black", linestyle="--") if name.startswith("reference") else {}
                ax.plot(range(len(layers)), values, marker="o", label=name, alpha=0.85, **style)
                ax.set_xticks(range(len(layers)), layers)
                width = max(width, len(layers))
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_title(f"{lang}")
        ax.set_xlabel("layer")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    axes[0][0].set_ylabel(ylabel)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save(fig, path)


def swap_bars(path: Path | str, rows: Sequence[Dict[str, object]], title: str,
              ylabel: str = "error rate (%)") -> None:
    """Grouped bars of decoder-swap error rates: one subplot per (lang, output), one bar per encoder+decoder."""
    plt = _plt()
    groups = list(dict.fromkeys((r["lang"], r["output"]) for r in rows))
    fig, axes = plt.subplots(1, max(1, len(groups)), figsize=(3.6 * max(1, len(groups)), 3.6), squeeze=False)
    for ax, (lang, output) in zip(axes[0], groups):
        sel = [r for r in rows if (r["lang"], r["output"]) == (lang, output)]
        labels = [f"enc {r['encoder']}\ndec {r['decoder']}" for r in sel]
        colors = ["tab:blue" if r["encoder"] == r["decoder"] else "tab:orange" for r in sel]
        ax.bar(range(len(sel)), [float(r["rate"]) for r in sel], color=colors)
        ax.set_xticks(range(len(sel)), labels, fontsize=6)
        ax.set_title(f"{lang} {output} ({sel[0]['metric']})", fontsize=9)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, path)


def training_curves(path: Path | str, series: Mapping[Tuple[str, str], Tuple[List[float], Dict[str, List[float]]]],
                    title: str = "Validation during training") -> None:
    """Validation values against wall-clock minutes: one column per language, one row per kind of value
    (CTC greedy CER, attention accuracy), one line per model dir and output.

    ``series[(lang, model_dir_name)] = (minutes at each epoch's end, {valid key: values})``, the keys as
    ESPnet logs them (``cer_ctc_surface``, ``acc_meaning``, ...)."""
    plt = _plt()
    langs = list(dict.fromkeys(lang for lang, _ in series))
    rows = [("cer_ctc_", "valid CER, CTC greedy"), ("acc_", "valid accuracy, attention (teacher-forced)")]
    fig, axes = plt.subplots(len(rows), len(langs), figsize=(5.5 * len(langs), 7.0), squeeze=False)
    for col, lang in enumerate(langs):
        for row, (prefix, label) in enumerate(rows):
            ax = axes[row][col]
            for (lg, name), (minutes, values) in series.items():
                if lg != lang:
                    continue
                for key, ys in values.items():
                    if key.startswith(prefix) and len(ys) == len(minutes):
                        ax.plot(minutes, ys, marker="o", markersize=3, label=f"{name} {key[len(prefix):]}")
            ax.set_xlabel("wall-clock minutes since the job started")
            ax.set_ylabel(label)
            ax.set_title(f"{lang}", fontsize=9)
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, path)
