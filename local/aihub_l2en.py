"""AI Hub Korean learners' English for education (교육용 한국인의 영어 음성) -> data/{train,dev,test}.

Same layout and split logic as ``aihub_l2ko`` (Validation -> dev; Training -> train minus a
speaker-disjoint test set). The label JSON schema is not public, so the fields are read through
the adapter ``conf/aihub_l2en_fields.yaml`` (``--fields``): dotted paths for ``speaker``,
``meaning``, ``surface`` and optionally ``wav`` (audio file name), plus optional ``strip``
regular expressions removed from both texts. Both texts are lowercased and lose punctuation
(apostrophes inside words stay). A missing field is an error naming the JSON file and the field;
an unknown key in the adapter is an error naming the adapter. An empty (or null) text drops the
item, counted in the log.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import partial
from pathlib import Path

import yaml

try:
    from . import common as C
except ImportError:  # run as a script: python local/aihub_l2en.py
    import common as C

from dualasr.text.normalize import normalize_en

PROG = "aihub_l2en"
DEFAULT_FIELDS = C.REPO / "conf" / "aihub_l2en_fields.yaml"
REQUIRED, OPTIONAL = ("speaker", "meaning", "surface"), ("wav", "strip")
_MISSING = object()


def load_fields(path: Path) -> dict:
    """Read and check the adapter yaml."""
    try:
        fields = yaml.safe_load(C.require_file(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise C.PrepError(f"{path}: not valid yaml ({e})".replace("\n", " ")) from None
    if not isinstance(fields, dict):
        raise C.PrepError(f"{path}: expected a mapping of field names to JSON paths")
    for key in fields:
        if key not in REQUIRED + OPTIONAL:
            raise C.PrepError(f"{path}: unknown field {key!r} (known: {', '.join(REQUIRED + OPTIONAL)})")
    for key in REQUIRED:
        if not isinstance(fields.get(key), str) or not fields[key].strip():
            raise C.PrepError(f"{path}: field {key!r} needs a JSON path")
    try:
        fields["strip"] = [re.compile(r) for r in fields.get("strip") or []]
    except (re.error, TypeError) as e:
        raise C.PrepError(f"{path}: bad 'strip' pattern ({e})") from None
    return fields


def lookup(data, dotted: str):
    """Follow a dotted path (list items by number) into ``data``; ``_MISSING`` if it is not there."""
    for key in dotted.split("."):
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return _MISSING
    return data


def read_item(fields: dict, fields_path: Path, path: Path, drops: Counter):
    """``(speaker, audio file name, surface, meaning)`` of one label JSON, or None (dropped)."""
    data = C.load_json(path)
    values = {}
    for key in REQUIRED + ("wav",):
        if key not in fields:
            continue
        value = lookup(data, fields[key])
        if value is _MISSING:
            raise C.PrepError(f"{path}: missing field {fields[key]!r} (the {key!r} of {fields_path})")
        if value is not None and not isinstance(value, (str, int)):
            raise C.PrepError(f"{path}: field {fields[key]!r} ({key}) is not text")
        values[key] = "" if value is None else str(value).strip()
    if not values["speaker"]:
        raise C.PrepError(f"{path}: field {fields['speaker']!r} (speaker) is empty")
    texts = []
    for key in ("surface", "meaning"):
        text = values[key]
        for pattern in fields["strip"]:
            text = pattern.sub(" ", text)
        texts.append(normalize_en(text))
    if not all(texts):
        drops["empty surface or meaning"] += 1
        return None
    return values["speaker"], values.get("wav") or path.stem, texts[0], texts[1]


def prepare(corpus_dir: Path, out_dir: Path, wav_dir: Path | None = None, nj: int = 1,
            test_spk_frac: float = 0.05, seed: int = 0, fields_path: Path = DEFAULT_FIELDS) -> None:
    """Write ``out_dir/{train,dev,test}`` from an AI Hub Korean learners' English tree."""
    fields = load_fields(fields_path)
    C.log(PROG, f"fields from {fields_path}: " + ", ".join(f"{k}={fields[k]}" for k in REQUIRED + ("wav",) if k in fields))
    C.prepare_aihub(PROG, partial(read_item, fields, fields_path), corpus_dir, out_dir, wav_dir, nj,
                    test_spk_frac, seed)


def main(argv=None) -> None:
    p = C.base_parser(__doc__)
    C.add_split_options(p)
    p.add_argument("--fields", type=Path, default=DEFAULT_FIELDS, help="the JSON field adapter (yaml)")
    args = p.parse_args(argv)
    prepare(args.corpus_dir, args.out_dir, args.wav_dir, args.nj, args.test_spk_frac, args.seed, args.fields)


if __name__ == "__main__":
    C.cli(main)
