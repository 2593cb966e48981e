"""Print the training options of a model kind, for the recipe template to ``eval``.

    python -m dualasr.bin.model_kind conf/model_kinds.yaml do_branch
    # outputs='surface meaning'; model_conf_args=(--model_conf 'outputs=[surface,meaning]' ...)
"""

import argparse
import shlex
import sys

import yaml


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("kinds_yaml")
    p.add_argument("model")
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
    print(f"outputs={shlex.quote(' '.join(outputs))}; model_conf_args=({' '.join(shlex.quote(x) for x in args)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
