"""Pack a trained model into one zip that loads anywhere (stage 13 of the recipe).

    python -m dualasr.bin.pack_model --config exp/do_ko/config.yaml \\
        --model_file exp/do_ko/valid.acc.ave.pth --inference_config conf/decode.yaml \\
        --lang ko --fs 16000 --out exp/do_ko/packed/do_ko.zip

The archive's layout is described in ``dualasr.packed``. Load it with
``DualSpeech2Text.from_pretrained("do_ko.zip")`` or ``python -m dualasr.bin.transcribe --model do_ko.zip``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, type=Path, help="the training config.yaml of the model")
    p.add_argument("--model_file", required=True, type=Path, help="the weights, e.g. valid.acc.ave.pth")
    p.add_argument("--inference_config", type=Path, default=None, help="decode settings (stage 8's yaml)")
    p.add_argument("--lang", required=True, help="language of the model (ko, en): picks the canonical form")
    p.add_argument("--fs", type=int, default=16000, help="sample rate the features were computed at")
    p.add_argument("--out", required=True, type=Path, help="the zip to write")
    a = p.parse_args(argv)
    from dualasr.packed import pack

    for f in (a.config, a.model_file) + ((a.inference_config,) if a.inference_config else ()):
        if not f.is_file():
            p.error(f"{f}: no such file")
    out = pack(a.config, a.model_file, a.out, lang=a.lang, fs=a.fs, inference_config=a.inference_config)
    print(f"packed {out} ({out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
