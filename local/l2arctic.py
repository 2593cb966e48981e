"""L2-ARCTIC (non-native English) -> data/{train,dev,test}.

Uses only the hand-annotated utterances (``<SPK>/annotation/*.TextGrid``, about 150 per speaker);
the rest of the corpus has no perceived phones and is left out.

- meaning = ``transcript/<utt>.txt``, lowercased, punctuation dropped (apostrophes inside words kept);
- surface = the perceived phones of the annotation's ``phones`` tier (read with praatio), ARPAbet,
  space separated, stress digits dropped, ``sil``/``sp``/``spn``/empty skipped:
  correct ``IY1`` -> IY; substitution ``DH,D,s`` -> D; deletion ``TH,sil,d`` -> nothing;
  addition ``sil,AH,a`` -> AH; a deviation ``T,T*,s`` (an accented T) -> T; ``CPL,err,s``
  (perceived phone not identifiable) -> the canonical phone, counted in the log;
- canonical (``text.canonical``) = the canonical phones of the same tier (each label's CPL; an
  addition has none), in the same form;
- audio: ``wav/<utt>.wav`` (44.1 kHz) resampled to 16 kHz under ``--wav_dir``
  (default ``<out_dir>/local/wav_l2arctic``);
- an annotation file that does not parse, lacks a ``phones`` tier or holds a label of no known
  form is skipped with a warning naming it, and counted;
- utterance id = ``<SPK>-arctic_a0001``.

Splits (speaker-disjoint): ``--split standard`` (default), the split of the mispronunciation
detection and diagnosis (MDD) literature: test = NJS TLV TNI TXHC YKWK ZHAA, dev = MBMPS THV SVBI
NCC YDCK YBAA (one speaker per L1 each), train = every other speaker found (12 in the full corpus).
YDCK arctic_a0209 and arctic_a0272 (broken TextGrids) are left out by name and counted, as the
literature does. ``--split korean``: train HJK HKK, dev YDCK, test YKWK.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import List, Tuple

from praatio import textgrid

try:
    from . import common as C
except ImportError:  # run as a script: python local/l2arctic.py
    import common as C

from dualasr.data.datadir import Utterance
from dualasr.text.normalize import normalize_en

PROG = "l2arctic"
KOREAN = {"train": ["HJK", "HKK"], "dev": ["YDCK"], "test": ["YKWK"]}
STANDARD_DEV = ["MBMPS", "THV", "SVBI", "NCC", "YDCK", "YBAA"]
STANDARD_TEST = ["NJS", "TLV", "TNI", "TXHC", "YKWK", "ZHAA"]
# left out by name in the MDD literature (broken annotation TextGrids)
EXCLUDED = {("YDCK", "arctic_a0209"), ("YDCK", "arctic_a0272")}
SILENCE = {"", "sil", "sp", "spn"}


class BrokenAnnotation(Exception):
    """An annotation TextGrid that cannot be used."""


def clean_phone(label: str, whole: str) -> str:
    """``AH0`` / ``ao*`` -> ``AH`` / ``AO``; anything not a plain phone name is a broken label."""
    p = label.strip().upper().rstrip("*").rstrip("012")
    if not p.isascii() or not p.isalpha():
        raise BrokenAnnotation(f"label {whole!r} has no phone name")
    return p


def annotation_phones(path: Path, notes: Counter) -> Tuple[List[str], List[str]]:
    """The canonical and the perceived phone sequences of one annotation TextGrid.

    Canonical: each label's CPL (a plain label is both); an addition (``sil,AH,a``) has none."""
    try:
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
        tier = tg.getTier("phones")
    except Exception as e:  # praatio raises many kinds on a malformed file
        raise BrokenAnnotation(f"{type(e).__name__}: {e}") from None
    out: List[str] = []
    canon: List[str] = []
    for entry in tier.entries:
        label = entry.label.strip()
        parts = [x.strip() for x in label.split(",")]
        if len(parts) == 1:
            if label.lower() not in SILENCE:
                out.append(clean_phone(label, label))
                canon.append(out[-1])
            continue
        if len(parts) != 3:
            raise BrokenAnnotation(f"label {label!r} is neither PHONE nor CPL,PPL,TYPE")
        cpl, ppl, kind = parts[0], parts[1], parts[2].lower()
        if kind not in ("s", "a", "d"):
            raise BrokenAnnotation(f"label {label!r} has unknown error type {parts[2]!r}")
        if cpl.lower() not in SILENCE:
            canon.append(clean_phone(cpl, label))
        if kind == "d":
            notes["deletions"] += 1
        else:
            notes["substitutions" if kind == "s" else "additions"] += 1
            if ppl.lower() == "err":
                if cpl.lower() in SILENCE:
                    notes["unidentified added phones ('sil,err,a') left out"] += 1
                else:
                    notes["unidentified phones ('CPL,err,s') written as the canonical phone"] += 1
                    out.append(clean_phone(cpl, label))
            elif ppl.lower() not in SILENCE:
                out.append(clean_phone(ppl, label))
    if not out or not canon:
        raise BrokenAnnotation("no phones")
    return canon, out


def perceived_phones(path: Path, notes: Counter) -> List[str]:
    """The perceived phone sequence of one annotation TextGrid."""
    return annotation_phones(path, notes)[1]


def split_of(spk: str, split: str) -> str:
    """The set a speaker belongs to."""
    if split == "korean":
        return next(s for s, spks in KOREAN.items() if spk in spks)
    return "dev" if spk in STANDARD_DEV else "test" if spk in STANDARD_TEST else "train"


def prepare(corpus_dir: Path, out_dir: Path, wav_dir: Path | None = None, nj: int = 1,
            split: str = "standard") -> None:
    """Write ``out_dir/{train,dev,test}`` from an L2-ARCTIC tree."""
    corpus_dir = C.require_dir(corpus_dir, "--corpus_dir")
    wav_dir = wav_dir or out_dir / "local" / "wav_l2arctic"
    if split == "korean":
        speakers = [s for spks in KOREAN.values() for s in spks]
        for spk in speakers:
            C.require_dir(corpus_dir / spk / "annotation", f"--split korean: speaker {spk}")
    elif split == "standard":
        speakers = sorted(p.parent.name for p in corpus_dir.glob("*/annotation") if p.is_dir())
        if not speakers:
            raise C.PrepError(f"{corpus_dir}: no <SPK>/annotation folders")
    else:
        raise C.PrepError(f"--split: unknown value {split!r} (standard or korean)")
    C.log(PROG, "using only the hand-annotated utterances (<SPK>/annotation/*.TextGrid)")
    notes: Counter = Counter()
    drops: Counter = Counter()
    rows = []
    for spk in speakers:
        for tg_path in sorted((corpus_dir / spk / "annotation").glob("*.TextGrid")):
            if (spk, tg_path.stem) in EXCLUDED:
                drops["left out by name (YDCK arctic_a0209, arctic_a0272: broken TextGrids)"] += 1
                continue
            try:
                canon, perceived = annotation_phones(tg_path, notes)
                surface, canonical = " ".join(perceived), " ".join(canon)
            except BrokenAnnotation as e:
                C.log(PROG, f"warning: skipping broken annotation {tg_path}: {e}")
                drops["broken annotation TextGrid"] += 1
                continue
            txt = C.require_file(corpus_dir / spk / "transcript" / f"{tg_path.stem}.txt")
            meaning = normalize_en(txt.read_text(encoding="utf-8"))
            if not meaning:
                drops["empty transcript"] += 1
                continue
            uid = C.make_uttid(spk, tg_path.stem)
            rows.append((uid, spk, corpus_dir / spk / "wav" / f"{tg_path.stem}.wav", surface, meaning, canonical))
    wavs = C.audio_entries([(src, wav_dir / spk / f"{u}.wav") for u, spk, src, _, _, _ in rows], nj)
    sets = {"train": [], "dev": [], "test": []}
    for (u, spk, _, sur, mea, can), w in zip(rows, wavs):
        sets[split_of(spk, split)].append(Utterance(u, w, spk, sur, mea, can))
    for what, n in sorted(notes.items()):
        C.log(PROG, f"{what}: {n}")
    C.write_sets(PROG, out_dir, sets)
    C.report_drops(PROG, drops)


def main(argv=None) -> None:
    p = C.base_parser(__doc__)
    p.add_argument("--split", choices=("standard", "korean"), default="standard")
    args = p.parse_args(argv)
    prepare(args.corpus_dir, args.out_dir, args.wav_dir, args.nj, args.split)


if __name__ == "__main__":
    C.cli(main)
