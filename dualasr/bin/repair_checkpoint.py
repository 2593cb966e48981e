"""Repair what a kill during ESPnet's end-of-epoch saving left, before a training job resumes.

``python -m dualasr.bin.repair_checkpoint exp/do_en`` (stage 7 runs it when ``checkpoint.pth`` exists).
At the end of epoch n ESPnet's trainer writes ``checkpoint.pth`` (model, optimizers, schedulers,
reporter), then ``{n}epoch.pth`` (the model alone), each with a plain ``torch.save``: a kill in
between, or during either write, leaves a file that ``--resume`` or the final checkpoint averaging
cannot read. ESPnet's own code does the saving, so the repair happens here instead:

- ``checkpoint.pth`` unreadable: the state of the last finished epoch is gone (the file was being
  overwritten), so the epoch files are removed too and training starts again from epoch 1. The
  epochs are seeded, so the result is the same; only time is lost.
- ``checkpoint.pth`` readable at epoch n but ``{n}epoch.pth`` missing or unreadable: written again
  from the checkpoint's model state (the same tensors ESPnet saves there).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _readable(path: Path):
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # a truncated zip/pickle raises several kinds of error
        return None


def repair(output_dir: Path | str) -> str:
    """Repair ``output_dir`` in place; returns what was done (one line), or "" if nothing was needed."""
    import torch

    d = Path(output_dir)
    ckpt = d / "checkpoint.pth"
    if not ckpt.is_file():
        return ""
    states = _readable(ckpt)
    if states is None:
        removed = [ckpt] + sorted(d.glob("*epoch.pth")) + [p for p in d.glob("*.pth") if p.is_symlink()]
        for p in removed:
            p.unlink(missing_ok=True)
        return (f"{ckpt}: unreadable (killed while it was written): removed it and {len(removed) - 1} epoch "
                f"file(s); training restarts from epoch 1")
    epoch = states["reporter"]["epoch"]
    ep = d / f"{epoch}epoch.pth"
    if epoch > 0 and (not ep.is_file() or _readable(ep) is None):
        tmp = d / f".{ep.name}.tmp{os.getpid()}"
        torch.save(states["model"], tmp)
        os.replace(tmp, ep)
        return f"{ep}: missing or unreadable (killed after {ckpt.name} was written): rewritten from it"
    return ""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("output_dir", type=Path)
    msg = repair(p.parse_args(argv).output_dir)
    if msg:
        print(msg, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
