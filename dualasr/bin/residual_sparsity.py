"""Write how sparse a ``do_sparse`` model's per-output weight residuals ended up: ``<dir>/sparsity.csv``.

    python -m dualasr.bin.residual_sparsity exp/do_sparse_en [--inference_model valid.acc.ave.pth]

DualASRTask calls :func:`write_sparsity` itself when a ``do_sparse`` training ends (on the averaged
model the recipe decodes, ``valid.acc.ave.pth``, or the last epoch's weights when there is none).

Columns: output, entries, tol, sparsity (share of entries with |r| <= tol), l1, max_abs. A model
without residuals (any other kind) writes nothing and says so.
"""

import argparse
import sys
from pathlib import Path

from dualasr.files import csv_text, write_atomic

HEADER = ["output", "entries", "tol", "sparsity", "l1", "max_abs", "model_file"]


def write_sparsity(model_dir: Path, model_file: str = "") -> list:
    """Write ``model_dir/sparsity.csv`` for ``model_file`` (default: valid.acc.ave.pth, else latest.pth);
    return its rows (none, and no file, for a model without residuals)."""
    from dualasr.analysis.layout import load_model  # here: --help imports no torch

    if not model_file:
        model_file = next((f for f in ("valid.acc.ave.pth", "latest.pth") if (model_dir / f).is_file()), "valid.acc.ave.pth")
    model, _ = load_model(model_dir, model_file)
    rows = [{**r, "model_file": model_file} for r in model.residual_sparsity()]
    if not rows:
        print(f"{model_dir}: no task residuals (not a do_sparse model); nothing written", file=sys.stderr)
        return rows
    write_atomic(model_dir / "sparsity.csv", csv_text(HEADER, [[r[k] for k in HEADER] for r in rows]))
    for r in rows:
        print(f"{model_dir}: {r['output']} residual: {100 * r['sparsity']:.1f}% of {r['entries']} entries "
              f"|r| <= {r['tol']:g}, L1 {r['l1']:.4g} ({model_file})", file=sys.stderr)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir", type=Path)
    p.add_argument("--inference_model", default="", help="default: valid.acc.ave.pth, else latest.pth")
    a = p.parse_args(argv)
    write_sparsity(a.model_dir, a.inference_model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
