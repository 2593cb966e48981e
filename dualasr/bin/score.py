"""Score one decode dir: ``python -m dualasr.bin.score --ref_dir dump/fbank/test_ko --decode_dir
exp/do_ko/decode_test_ko --lang ko --model do``.

For every output decoded there (``text.<output>``) and every metric of the language, writes into
``<decode_dir>/score_<output>/``: ``utt_errors.<metric>`` (``uttid errors ref_len``),
``alignment.<metric>.txt`` (jiwer's per-utterance alignment) and ``score.json`` (the rows that
``dualasr.bin.results`` gathers into exp/results.json). ``--decode`` names the decoding that made the
hypotheses (``joint``: stage 8's search; ``ctc_greedy``/``att_greedy``: ``dualasr.bin.greedy_decode``,
whose hypotheses lie in ``<decode_dir>/<mode>/``); it goes into every row.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dualasr.data.datadir import read_kaldi_map
from dualasr.files import write_atomic
from dualasr.scoring import error_rate, metrics_for, score_set


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ref_dir", type=Path, required=True, help="holds text.surface and text.meaning")
    p.add_argument("--decode_dir", type=Path, required=True, help="holds text.<output> hypotheses")
    p.add_argument("--lang", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--decode", default="joint", choices=["joint", "ctc_greedy", "att_greedy"])
    a = p.parse_args(argv)
    outputs = [o for o in ("surface", "meaning") if (a.decode_dir / f"text.{o}").is_file()]
    if not outputs:
        raise SystemExit(f"{a.decode_dir}: no text.surface or text.meaning hypotheses to score")
    for o in outputs:
        refs = read_kaldi_map(a.ref_dir / f"text.{o}")
        hyps = read_kaldi_map(a.decode_dir / f"text.{o}")
        sdir = a.decode_dir / f"score_{o}"
        sdir.mkdir(parents=True, exist_ok=True)
        rows = []
        for metric in metrics_for(a.lang):
            scores = score_set(refs, hyps, a.lang, metric, where=str(a.decode_dir / f"text.{o}"))
            write_atomic(sdir / f"utt_errors.{metric}",
                         "uttid errors ref_len\n" + "".join(f"{s.uttid} {s.errors} {s.ref_len}\n" for s in scores))
            write_atomic(sdir / f"alignment.{metric}.txt",
                         "".join(f"=== {s.uttid} errors={s.errors} ref_len={s.ref_len}\n{s.alignment}\n\n" for s in scores))
            rows.append(dict(lang=a.lang, model=a.model, output=o, metric=metric,
                             test_set=a.ref_dir.name, seed=a.seed, decode=a.decode, n=len(scores),
                             errors=sum(s.errors for s in scores), ref_len=sum(s.ref_len for s in scores),
                             value=round(error_rate(scores), 4)))
            print(f"{a.model} {a.lang} {a.ref_dir.name} {o} {metric} ({a.decode}): {rows[-1]['value']:.2f} % "
                  f"({rows[-1]['errors']}/{rows[-1]['ref_len']}, {len(scores)} utts)", file=sys.stderr)
        write_atomic(sdir / "score.json", json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
