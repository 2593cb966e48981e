"""AI Hub foreign speakers' Korean speech (외국인 한국어 발화 음성) -> data/{train,dev,test}.

Layout: ``[1.]Training|[2.]Validation/{라벨링데이터,원천데이터}/...`` (TL_/TS_, VL_/VS_ folders,
unzipped), one label JSON per wav; a JSON finds its wav by ``fileName`` anywhere under the
split's 원천데이터.

- read-aloud items: meaning = ``transcription.Reading`` (the script), surface =
  ``transcription.ReadingLabelText`` (what the transcribers heard); both NFC, sentence
  punctuation dropped;
- answer items (only ``transcription.AnswerLabelText``): left out, counted in the log;
- canonical (``text.canonical``) = the standard-pronunciation rules applied to the script
  (``dualasr.align.canonical(meaning, "ko")``): *derived* by rule, not annotated, and the log says so;
- speaker = ``file_info.speakerID``; utterance id = ``<speaker>-<fileName stem>``;
- splits: Validation -> dev; Training -> train, minus a speaker-disjoint test set of
  ``--test_spk_frac`` (default 5 %) of its speakers drawn with ``--seed``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

try:
    from . import common as C
except ImportError:  # run as a script: python local/aihub_l2ko.py
    import common as C

from dualasr.align import canonical
from dualasr.text.normalize import normalize_ko

PROG = "aihub_l2ko"


def read_item(path: Path, drops: Counter):
    """``(speaker, file name, surface, meaning)`` of one label JSON, or None for a dropped item."""
    data = C.load_json(path)
    tr = data.get("transcription") if isinstance(data, dict) else None
    info = data.get("file_info") if isinstance(data, dict) else None
    if not isinstance(tr, dict) or not isinstance(info, dict):
        raise C.PrepError(f"{path}: missing 'transcription' or 'file_info' object")
    spk = str(info.get("speakerID") or "").strip()
    if not spk:
        raise C.PrepError(f"{path}: missing file_info.speakerID")
    reading, heard = str(tr.get("Reading") or "").strip(), str(tr.get("ReadingLabelText") or "").strip()
    if not reading and not heard:
        if str(tr.get("AnswerLabelText") or "").strip():
            drops["answer item (only AnswerLabelText): left out"] += 1
            return None
        raise C.PrepError(f"{path}: no Reading/ReadingLabelText and no AnswerLabelText")
    if not reading or not heard:
        raise C.PrepError(f"{path}: read-aloud item lacks {'Reading' if not reading else 'ReadingLabelText'}")
    surface, meaning = normalize_ko(heard), normalize_ko(reading)
    if not surface or not meaning:
        drops["empty text after normalisation"] += 1
        return None
    return spk, str(data.get("fileName") or path.stem).strip(), surface, meaning


def prepare(corpus_dir: Path, out_dir: Path, wav_dir: Path | None = None, nj: int = 1,
            test_spk_frac: float = 0.05, seed: int = 0) -> None:
    """Write ``out_dir/{train,dev,test}`` from an AI Hub foreign speakers' Korean tree."""
    corpus_dir = C.require_dir(corpus_dir, "--corpus_dir")
    C.log(PROG, "text.canonical: derived from the script by the standard-pronunciation rules "
                "(dualasr.align.canonical), not annotated")
    C.prepare_aihub(PROG, read_item, corpus_dir, out_dir, wav_dir, nj, test_spk_frac, seed,
                    canonical_of=lambda meaning: canonical(meaning, "ko"))


def main(argv=None) -> None:
    p = C.base_parser(__doc__)
    C.add_split_options(p)
    args = p.parse_args(argv)
    prepare(args.corpus_dir, args.out_dir, args.wav_dir, args.nj, args.test_spk_frac, args.seed)


if __name__ == "__main__":
    C.cli(main)
