"""Pack trained models, each into one zip that loads anywhere (stage 13 of the recipe).

    python -m dualasr.bin.pack_model --lang ko --fs 16000 --inference_config conf/decode.yaml \\
        --model_file valid.acc.ave.pth exp/do_ko exp/so_surface_ko

writes ``exp/do_ko/packed/do_ko.zip`` from ``exp/do_ko/config.yaml`` and ``exp/do_ko/valid.acc.ave.pth``
(and likewise for each model dir given). The archive's layout is described in ``dualasr.packed``.
Load it with ``DualSpeech2Text.from_pretrained("do_ko.zip")`` or
``python -m dualasr.bin.transcribe --model do_ko.zip a.wav``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dirs", nargs="+", type=Path, help="trained model dirs (each with config.yaml)")
    p.add_argument("--model_file", default="valid.acc.ave.pth", help="the weights inside each model dir")
    p.add_argument("--inference_config", type=Path, default=None, help="decode settings (stage 8's yaml)")
    p.add_argument("--lang", required=True, help="language of the models (ko, en): picks the canonical form")
    p.add_argument("--fs", type=int, default=16000, help="sample rate the features were computed at")
    a = p.parse_args(argv)
    for f in [a.inference_config] if a.inference_config else []:
        if not f.is_file():
            p.error(f"--inference_config {f}: no such file")
    for d in a.model_dirs:
        for f in (d / "config.yaml", d / a.model_file):
            if not f.is_file():
                p.error(f"{f}: no such file")
    from dualasr.packed import pack

    for d in a.model_dirs:
        out = pack(d / "config.yaml", d / a.model_file, d / "packed" / f"{d.name}.zip", lang=a.lang, fs=a.fs,
                   inference_config=a.inference_config)
        print(f"packed {out} ({out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
