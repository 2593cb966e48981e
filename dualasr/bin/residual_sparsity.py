"""Write how sparse a ``do_sparse`` model's per-output weight residuals ended up: ``<dir>/sparsity.csv``.

    python -m dualasr.bin.residual_sparsity exp/do_sparse_en [--inference_model valid.acc.ave.pth]

Columns: output, entries, tol, sparsity (share of entries with |r| <= tol), l1, max_abs. A model
without residuals (any other kind) writes nothing and says so.
"""

import argparse
import sys
from pathlib import Path

from dualasr.analysis.layout import load_model
from dualasr.files import csv_text, write_atomic

HEADER = ["output", "entries", "tol", "sparsity", "l1", "max_abs"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir", type=Path)
    p.add_argument("--inference_model", default="valid.acc.ave.pth")
    a = p.parse_args(argv)
    model, _ = load_model(a.model_dir, a.inference_model)
    rows = model.residual_sparsity()
    if not rows:
        print(f"{a.model_dir}: no task residuals (not a do_sparse model); nothing written", file=sys.stderr)
        return 0
    write_atomic(a.model_dir / "sparsity.csv", csv_text(HEADER, [[r[k] for k in HEADER] for r in rows]))
    for r in rows:
        print(f"{a.model_dir}: {r['output']} residual: {100 * r['sparsity']:.1f}% of {r['entries']} entries "
              f"|r| <= {r['tol']:g}, L1 {r['l1']:.4g}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
