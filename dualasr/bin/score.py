"""Score one decode dir: ``python -m dualasr.bin.score --ref_dir dump/fbank/test_ko --decode_dir
exp/do_ko/decode_test_ko --lang ko --model do [--surface_token_type word] [--lexicon lexicon.txt]``.

For every output decoded there (``text.<output>``) and every metric of the output
(``dualasr.scoring.metrics_for``: CER/WER, or PER for a surface of word tokens, i.e. phones),
writes into ``<decode_dir>/score_<output>/``: ``utt_errors.<metric>`` (``uttid errors ref_len``),
``alignment.<metric>.txt`` (jiwer's per-utterance alignment) and ``score.json`` (the rows that
``dualasr.bin.results`` gathers into exp/results.json). ``--decode`` names the decoding that made the
hypotheses (``joint``: stage 8's search; ``ctc_greedy``/``att_greedy``: ``dualasr.bin.greedy_decode``,
whose hypotheses lie in ``<decode_dir>/<mode>/``); it goes into every row.

Mispronunciation detection and diagnosis (MDD) of the joint decode, into ``score_surface/mdd.json`` (and
``mdd_utt.<mode>``, per-utterance counts):
- ``prompted``: when the reference dir has ``text.canonical``, the canonical pronunciation is the
  reading prompt's (canonical vs perceived = text.surface vs recognised = the surface hypothesis);
- ``prompt-free``: a model with both outputs (DO) supplies its own canonical form from its meaning
  hypothesis: ``dualasr.align.canonical(meaning_hyp, lang)`` for a surface in characters, or the
  words' phones from ``--lexicon`` (``WORD PH1 PH2 ...`` lines; first entry wins, stress digits
  dropped, unknown words left out and counted) for a surface of phones. No reading prompt needed.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Dict, Optional, Tuple

from dualasr.data.datadir import read_kaldi_map
from dualasr.files import write_atomic
from dualasr.scoring import MDD_COUNTS, error_rate, mdd_metrics, mdd_set, metrics_for, score_set


def read_lexicon(path: Path) -> Dict[str, str]:
    """``WORD PH1 PH2 ...`` (tab or spaces) -> {"word": "PH1 PH2"}; the first entry of a word wins."""
    lex: Dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise SystemExit(f"{path}:{lineno}: expected 'WORD PHONE...', got {line.strip()!r}")
            lex.setdefault(parts[0].lower(), " ".join(re.sub(r"[012]$", "", p.upper()) for p in parts[1:]))
    return lex


def prompt_free_canonical(meaning_hyps: Dict[str, str], lang: str, token_type: str,
                          lexicon: Optional[Dict[str, str]]) -> Tuple[Optional[Dict[str, str]], int]:
    """The canonical form of each meaning hypothesis in the surface's units (None: no way to get it),
    and the number of words the lexicon lacked."""
    from dualasr.align import canonical

    if token_type != "word":
        return {u: canonical(t, lang) for u, t in meaning_hyps.items()}, 0
    if lexicon is None:
        return None, 0
    out, oov = {}, 0
    for u, t in meaning_hyps.items():
        phones = []
        for w in t.split():
            if w.lower() in lexicon:
                phones.append(lexicon[w.lower()])
            else:
                oov += 1
        out[u] = " ".join(phones)
    return out, oov


def _num(x: float) -> Optional[float]:
    return None if math.isnan(x) else round(x, 4)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref_dir", type=Path, required=True, help="holds text.surface and text.meaning (and text.canonical)")
    p.add_argument("--decode_dir", type=Path, required=True, help="holds text.<output> hypotheses")
    p.add_argument("--lang", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--decode", default="joint", choices=["joint", "ctc_greedy", "att_greedy"])
    p.add_argument("--surface_token_type", default="char", help="word: space-separated phones, scored as PER")
    p.add_argument("--meaning_token_type", default="char")
    p.add_argument("--lexicon", type=Path, default=None,
                   help="prompt-free MDD for a surface of phones: WORD PHONE... lines")
    a = p.parse_args(argv)
    token_types = {"surface": a.surface_token_type, "meaning": a.meaning_token_type}
    outputs = [o for o in ("surface", "meaning") if (a.decode_dir / f"text.{o}").is_file()]
    if not outputs:
        raise SystemExit(f"{a.decode_dir}: no text.surface or text.meaning hypotheses to score")
    hyps_of = {o: read_kaldi_map(a.decode_dir / f"text.{o}") for o in outputs}
    for o in outputs:
        refs = read_kaldi_map(a.ref_dir / f"text.{o}")
        hyps = hyps_of[o]
        sdir = a.decode_dir / f"score_{o}"
        sdir.mkdir(parents=True, exist_ok=True)
        rows = []
        for metric in metrics_for(a.lang, token_types[o], o):
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

    if "surface" not in outputs or a.decode != "joint":
        return 0
    perceived = read_kaldi_map(a.ref_dir / "text.surface")
    canon: Dict[str, Tuple[Dict[str, str], dict]] = {}
    if (a.ref_dir / "text.canonical").is_file():
        canon["prompted"] = (read_kaldi_map(a.ref_dir / "text.canonical"), {"canonical_from": "text.canonical"})
    if "meaning" in outputs:
        lex = read_lexicon(a.lexicon) if a.lexicon else None
        free, oov = prompt_free_canonical(hyps_of["meaning"], a.lang, a.surface_token_type, lex)
        if free is None:
            print(f"{a.model} {a.lang}: no prompt-free MDD: the surface is phones and no --lexicon was given",
                  file=sys.stderr)
        else:
            how = f"lexicon {a.lexicon}" if a.surface_token_type == "word" else "dualasr.align.canonical"
            canon["prompt-free"] = (free, {"canonical_from": f"meaning hypothesis via {how}", "oov_words": oov})
    mdd_rows = []
    for mode, (canonical, extra) in canon.items():
        where = f"{a.decode_dir / 'text.surface'} ({mode} MDD)"
        per_utt = mdd_set(canonical, perceived, hyps_of["surface"], a.surface_token_type, where=where)
        total = {k: sum(c[k] for c in per_utt.values()) for k in MDD_COUNTS}
        m = mdd_metrics(total)
        mdd_rows.append(dict(lang=a.lang, model=a.model, output="surface", metric="mdd", mode=mode,
                             test_set=a.ref_dir.name, seed=a.seed, decode=a.decode, n=len(per_utt), **total,
                             **{k: _num(v) for k, v in m.items()}, value=_num(m["f1"]), **extra))
        write_atomic(a.decode_dir / "score_surface" / f"mdd_utt.{mode}",
                     "uttid " + " ".join(MDD_COUNTS) + "\n"
                     + "".join(f"{u} {' '.join(str(c[k]) for k in MDD_COUNTS)}\n" for u, c in per_utt.items()))
        print(f"{a.model} {a.lang} {a.ref_dir.name} MDD {mode}: F1 {m['f1']:.2f} (P {m['precision']:.2f}, "
              f"R {m['recall']:.2f}, diagnosis {m['diag_acc']:.2f}; TA {total['TA']} FR {total['FR']} "
              f"FA {total['FA']} TR {total['TR']})", file=sys.stderr)
    mdd_file = a.decode_dir / "score_surface" / "mdd.json"
    if mdd_rows:
        write_atomic(mdd_file, json.dumps(mdd_rows, ensure_ascii=False, indent=1) + "\n")
    elif mdd_file.exists():
        mdd_file.unlink()  # stale: this reference dir has no canonical form any more
    return 0


if __name__ == "__main__":
    sys.exit(main())
