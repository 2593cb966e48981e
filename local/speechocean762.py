"""speechocean762 (non-native English, Mandarin L1) -> data/{train,test}.

Reads the corpus' own ``train/`` and ``test/`` lists (wav.scp paths relative to the corpus root,
text, utt2spk) and writes ``data/train`` and ``data/test``; there is no dev set.

- meaning = ``text``, lowercased, punctuation dropped (apostrophes inside words kept);
- surface = ARPAbet phones, space separated, without stress digits or word-position marks:
  with ``resource/scores.json``, each word's canonical ``phones`` with its ``mispronunciations``
  applied (``<DEL>`` deletes the phone; a distorted ``X*`` is written ``X``; ``<unk>``, a sound
  outside the phone set, keeps the canonical phone and is counted in the log); without
  scores.json, the canonical phones of ``resource/text-phone``. The log says which was used.
- canonical (``text.canonical``) = the canonical phones of ``resource/text-phone`` in the same form;
- ``resource/lexicon.txt`` is copied to ``<out_dir>/local/lexicon.txt`` (prompt-free MDD in stage 9
  turns a model's meaning hypothesis into phones with it);
- utterance id = ``<speaker>-<corpus id>``, speaker = the corpus' utt2spk value.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Dict, List

try:
    from . import common as C
except ImportError:  # run as a script: python local/speechocean762.py
    import common as C

from dualasr.data.datadir import Utterance
from dualasr.files import write_atomic
from dualasr.text.normalize import normalize_en

PROG = "speechocean762"
SETS = ("train", "test")


def clean_phone(p: str) -> str:
    """``IY0_E`` / ``iy1`` / ``L*`` -> ``IY`` / ``IY`` / ``L``."""
    return re.sub(r"_[BIES]$", "", p.strip()).upper().rstrip("012*")


def text_phone(path: Path) -> Dict[str, List[str]]:
    """Canonical phones per utterance from ``resource/text-phone`` (``UTT.WORD  P_B P_E`` lines)."""
    words: Dict[str, Dict[int, List[str]]] = {}
    for key, phones in C.read_table(path).items():
        utt, _, idx = key.rpartition(".")
        if not utt or not idx.isdigit():
            raise C.PrepError(f"{path}: key {key!r} is not <utterance>.<word index>")
        words.setdefault(utt, {})[int(idx)] = [clean_phone(p) for p in phones.split()]
    return {u: [p for i in sorted(w) for p in w[i]] for u, w in words.items()}


def scored_phones(entry: dict, where: str, notes: Counter) -> List[str]:
    """Surface phones of one scores.json utterance: canonical phones with mispronunciations applied."""
    out: List[str] = []
    for word in entry.get("words") or []:
        phones = word.get("phones")
        phones = phones.split() if isinstance(phones, str) else phones
        if not isinstance(phones, list):
            raise C.PrepError(f"{where}: word {word.get('text')!r} has no phones")
        said = [clean_phone(p) for p in phones]
        for m in word.get("mispronunciations") or []:
            i, canon, heard = m.get("index"), m.get("canonical-phone", ""), m.get("pronounced-phone")
            if not isinstance(i, int) or not 0 <= i < len(phones) or clean_phone(canon) != said[i] \
                    or not isinstance(heard, str):
                raise C.PrepError(f"{where}: word {word.get('text')!r}: mispronunciation {m} does not fit phones {phones}")
            if heard == "<DEL>":
                said[i] = ""
                notes["deleted phones (<DEL>)"] += 1
            elif heard == "<unk>":
                notes["<unk> phones written as the canonical phone"] += 1
            else:
                said[i] = clean_phone(heard)
                notes["substituted phones"] += 1
        out += [p for p in said if p]
    return out


def prepare(corpus_dir: Path, out_dir: Path, wav_dir: Path | None = None, nj: int = 1) -> None:
    """Write ``out_dir/train`` and ``out_dir/test`` from a speechocean762 tree."""
    corpus_dir = C.require_dir(corpus_dir, "--corpus_dir")
    wav_dir = wav_dir or out_dir / "local" / "wav_speechocean762"
    scores_path = corpus_dir / "resource" / "scores.json"
    notes: Counter = Counter()
    canonical = text_phone(corpus_dir / "resource" / "text-phone")
    if scores_path.is_file():
        scores = C.load_json(scores_path)
        C.log(PROG, f"surface: canonical phones with mispronunciations applied, from {scores_path}")
    else:
        scores = None
        C.log(PROG, f"surface: canonical phones from {corpus_dir / 'resource' / 'text-phone'} "
                    f"(no {scores_path}, so no mispronunciations are applied)")
    drops: Counter = Counter()
    sets = {}
    for name in SETS:
        d = corpus_dir / name
        wavs, texts, spks = (C.read_table(d / f) for f in ("wav.scp", "text", "utt2spk"))
        rows = []
        for uid, rel in wavs.items():
            if uid not in texts or uid not in spks:
                raise C.PrepError(f"{d}: utterance {uid} is in wav.scp but not in text or utt2spk")
            if uid not in canonical:
                raise C.PrepError(f"{corpus_dir / 'resource' / 'text-phone'}: no phones for utterance {uid}")
            if scores is not None:
                if uid not in scores:
                    raise C.PrepError(f"{scores_path}: no entry for utterance {uid}")
                surface = " ".join(scored_phones(scores[uid], f"{scores_path}: utterance {uid}", notes))
            else:
                surface = " ".join(canonical[uid])
            meaning = normalize_en(texts[uid])
            if not surface or not meaning:
                drops["empty surface or meaning"] += 1
                continue
            rows.append((C.make_uttid(spks[uid], uid), spks[uid], corpus_dir / rel, surface, meaning,
                         " ".join(canonical[uid])))
        paths = C.audio_entries([(src, wav_dir / f"{u}.wav") for u, _, src, _, _, _ in rows], nj)
        sets[name] = [Utterance(u, w, s, sur, mea, can) for (u, s, _, sur, mea, can), w in zip(rows, paths)]
    for what, n in sorted(notes.items()):
        C.log(PROG, f"{what}: {n}")
    C.write_sets(PROG, out_dir, sets)
    lexicon = corpus_dir / "resource" / "lexicon.txt"
    if lexicon.is_file():
        (out_dir / "local").mkdir(parents=True, exist_ok=True)
        write_atomic(out_dir / "local" / "lexicon.txt", lexicon.read_text(encoding="utf-8"))
        C.log(PROG, f"lexicon for prompt-free MDD: {out_dir / 'local' / 'lexicon.txt'}")
    C.report_drops(PROG, drops)


def main(argv=None) -> None:
    args = C.base_parser(__doc__).parse_args(argv)
    prepare(args.corpus_dir, args.out_dir, args.wav_dir, args.nj)


if __name__ == "__main__":
    C.cli(main)
