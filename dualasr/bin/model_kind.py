"""Print the training options of a model kind, for the recipe template to ``eval``.

    python -m dualasr.bin.model_kind conf/model_kinds.yaml do_branch
    # outputs='surface meaning'; model_conf_args=(--model_conf 'outputs=[surface,meaning]' ...)
    python -m dualasr.bin.model_kind conf/model_kinds.yaml do --seed 1   # adds init_args=(--init_seed N)

Initial weights (``init_args``): each (model kind, seed) draws its own, from ``init_seed(kind, seed)``,
so that no two model kinds of a run share their starting encoder (or decoder). ``so_surface`` keeps
ESPnet's behaviour (the weights from ``--seed``), so it stays the very model ESPnet's ASRTask trains
with that config and seed. ``--shared_init true``: every kind takes its weights from ``--seed``.
"""

import argparse
import shlex
import sys
import zlib

import yaml


ESPNET_INIT_KIND = "so_surface"  # initialised from --seed itself, as ESPnet's ASRTask would


def init_seed(kind: str, seed: int):
    """The seed of the initial weights of model ``kind`` trained with ``seed`` (None: ``seed`` itself)."""
    if kind == ESPNET_INIT_KIND:
        return None
    return zlib.crc32(f"{kind}:{seed}".encode("utf-8")) % (2**31 - 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("kinds_yaml")
    p.add_argument("model")
    p.add_argument("--seed", type=int, default=None, help="also print init_args for this training seed")
    p.add_argument("--shared_init", choices=["true", "false"], default="false")
    a = p.parse_args(argv)
    kinds = yaml.safe_load(open(a.kinds_yaml, encoding="utf-8")) or {}
    if a.model not in kinds:
        raise SystemExit(f"{a.kinds_yaml}: no model kind {a.model!r} (known: {' '.join(kinds)})")
    conf = dict(kinds[a.model])
    outputs = conf.get("outputs")
    if not outputs or any(o not in ("surface", "meaning") for o in outputs):
        raise SystemExit(f"{a.kinds_yaml}: {a.model}: outputs must list surface and/or meaning, got {outputs}")
    args = []
    for k, v in conf.items():
        value = "[" + ",".join(v) + "]" if isinstance(v, list) else yaml.safe_dump(v).splitlines()[0]
        args += ["--model_conf", f"{k}={value}"]
    # a bash array, so that no word is split or globbed on its way to the trainer
    out = f"outputs={shlex.quote(' '.join(outputs))}; model_conf_args=({' '.join(shlex.quote(x) for x in args)})"
    if a.seed is not None:
        k = None if a.shared_init == "true" else init_seed(a.model, a.seed)
        out += f"; init_args=({'' if k is None else f'--init_seed {k}'})"
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
