"""Where the analyses find things in a recipe's exp/ and dump/ (the layout of dual_asr.sh).

- a trained model: ``exp/<model>_<lang>/`` or, with ``--seeds``, ``exp/<model>_<lang>_seed<k>/``;
  each holds ``config.yaml`` and the averaged ``valid.acc.ave.pth``;
- its scores on a test set: ``<model dir>/decode_<set>/score_<output>/utt_errors.<metric>``;
- the references and features of a test set: ``dump/fbank/<set>/{text.surface,text.meaning,feats.scp}``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from dualasr.analysis.divergence import read_utt_scores
from dualasr.data.datadir import read_kaldi_map

SO_MODELS = {"surface": "so_surface", "meaning": "so_meaning"}


def model_dirs(expdir: Path | str, model: str, lang: str) -> List[Tuple[Optional[int], Path]]:
    """``[(seed, dir)]`` of ``model`` for ``lang``: the one unseeded dir, or every ``_seed<k>`` dir by seed."""
    expdir = Path(expdir)
    plain = expdir / f"{model}_{lang}"
    seeded = []
    pattern = re.compile(rf"{re.escape(model)}_{re.escape(lang)}_seed([0-9]+)")
    for d in expdir.glob(f"{model}_{lang}_seed*"):
        m = pattern.fullmatch(d.name)
        if m and d.is_dir():
            seeded.append((int(m.group(1)), d))
    out = sorted(seeded)
    if plain.is_dir():
        out.insert(0, (None, plain))
    return out


def first_model_dir(expdir: Path | str, model: str, lang: str) -> Path:
    """The dir of ``model``/``lang`` used for the representation analyses (the lowest seed)."""
    dirs = model_dirs(expdir, model, lang)
    if not dirs:
        raise FileNotFoundError(f"{expdir}: no trained model {model}_{lang} (or {model}_{lang}_seed<k>)")
    return dirs[0][1]


REFERENCE_MODEL = "so_surface"  # the CKA reference: two independently initialised models of this kind


def reference_dirs(expdir: Path | str, lang: str) -> Optional[Tuple[Path, Path]]:
    """Two ``so_surface`` models of ``lang`` trained with different seeds (so, by default, from
    different initial weights), for the CKA reference: the two lowest ``--seeds``, else the first
    model and ``so_surface_<lang>_refseed<k>`` (``--reference_seed k``). None when there are not two."""
    expdir = Path(expdir)
    dirs = [d for _, d in model_dirs(expdir, REFERENCE_MODEL, lang)]
    dirs += sorted(d for d in expdir.glob(f"{REFERENCE_MODEL}_{lang}_refseed*")
                   if re.fullmatch(rf"{REFERENCE_MODEL}_{re.escape(lang)}_refseed[0-9]+", d.name) and d.is_dir())
    return (dirs[0], dirs[1]) if len(dirs) >= 2 else None


def train_config(model_dir: Path | str) -> dict:
    """The training config.yaml of a model dir (``seed``, ``init_seed``, ...); an error when it has none."""
    from dualasr.report.trainlog import read_config

    path = Path(model_dir) / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; train the model (stage 7) first")
    return read_config(model_dir)


def pooled_utt_errors(
    expdir: Path | str, model: str, lang: str, test_set: str, output: str, metric: str
) -> Dict[str, Tuple[int, int]]:
    """uttid -> (errors, ref_len) of ``model`` on ``test_set``, summed over its seeds.

    With several seeds each utterance counts its errors and reference length once per seed, so a
    pooled rate is the mean of the seeds' pooled rates weighted by reference length.
    """
    dirs = model_dirs(expdir, model, lang)
    if not dirs:
        raise FileNotFoundError(f"{expdir}: no trained model {model}_{lang} (or {model}_{lang}_seed<k>)")
    total: Dict[str, List[int]] = {}
    for _seed, d in dirs:
        path = d / f"decode_{test_set}" / f"score_{output}" / f"utt_errors.{metric}"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; run the score stage (9) first")
        scores = read_utt_scores(path)
        if total and set(scores) != set(total):
            raise ValueError(f"{path}: holds other utterances than {dirs[0][1]}'s scores")
        for u, (e, n) in scores.items():
            acc = total.setdefault(u, [0, 0])
            acc[0] += e
            acc[1] += n
    return {u: (e, n) for u, (e, n) in total.items()}


def load_model(model_dir: Path | str, model_file: str = "valid.acc.ave.pth"):
    """``(model, train_args)`` of a trained model dir, in eval mode on the CPU."""
    from dualasr.tasks.dual_asr import DualASRTask

    model_dir = Path(model_dir)
    for f in ("config.yaml", model_file):
        if not (model_dir / f).is_file():
            raise FileNotFoundError(f"{model_dir / f}: missing; train the model (stage 7) first")
    model, args = DualASRTask.build_model_from_file(model_dir / "config.yaml", model_dir / model_file, "cpu")
    return model.eval(), args


def balanced_ids(utt2spk: Dict[str, str], max_utts: int, seed: int = 0) -> List[str]:
    """At most ``max_utts`` utterance ids drawn round-robin over speakers: each speaker's ids in a
    seeded random order, speakers in a seeded random order, one id per speaker per round. The same
    ``utt2spk``, size and seed give the same ids (sorted), whatever model reads them."""
    import random

    by_spk: Dict[str, List[str]] = {}
    for u in sorted(utt2spk, key=lambda k: k.encode("utf-8")):
        by_spk.setdefault(utt2spk[u], []).append(u)
    rng = random.Random(seed)
    speakers = sorted(by_spk, key=lambda k: k.encode("utf-8"))
    rng.shuffle(speakers)
    for spk in speakers:
        rng.shuffle(by_spk[spk])
    picked: List[str] = []
    for rnd in range(max((len(v) for v in by_spk.values()), default=0)):
        for spk in speakers:
            if len(picked) < max_utts and rnd < len(by_spk[spk]):
                picked.append(by_spk[spk][rnd])
    return sorted(picked, key=lambda k: k.encode("utf-8"))


def load_subset(feats_scp: Path | str, max_utts: int, seed: int = 0) -> Dict[str, np.ndarray]:
    """A speaker-balanced subset (:func:`balanced_ids` over the ``utt2spk`` beside ``feats_scp``) of
    at most ``max_utts`` utterances of a feats.scp: uttid -> features [frames, dim], by id."""
    import kaldiio

    feats_scp = Path(feats_scp)
    utt2spk = feats_scp.parent / "utt2spk"
    for f in (feats_scp, utt2spk):
        if not f.is_file():
            raise FileNotFoundError(f"{f}: missing; run the feature stages (3-4) first")
    reader = kaldiio.load_scp(str(feats_scp))
    spk = read_kaldi_map(utt2spk)
    missing = [k for k in reader.keys() if k not in spk]
    if missing:
        raise ValueError(f"{utt2spk}: no speaker for utterance {missing[0]} of {feats_scp}")
    keys = balanced_ids({k: spk[k] for k in reader.keys()}, max_utts, seed)
    return {k: np.array(reader[k], dtype=np.float32) for k in keys}  # a copy: writable, as torch wants


def layer_names(n: int) -> List[str]:
    """Names of n captured encoder layers: ``in`` (the input to the first block), then 1..n-1."""
    return ["in"] + [str(i) for i in range(1, n)]


def parse_lang_sets(items: Sequence[str]) -> List[Tuple[str, str]]:
    """``["en=test_en", ...]`` -> ``[("en", "test_en"), ...]``; a bad item is a one-line error."""
    out = []
    for item in items:
        lang, sep, test_set = item.partition("=")
        if not sep or not lang or not test_set:
            raise ValueError(f"--lang_set {item!r}: expected LANG=TEST_SET, e.g. en=test_en")
        out.append((lang, test_set))
    return out



def add_common_args(p, what: str) -> None:
    """The options every analysis CLI takes: where the recipe's outputs are and which test set per language."""
    from pathlib import Path as _Path

    p.add_argument("--expdir", type=_Path, default=_Path("exp"))
    p.add_argument("--dumpdir", type=_Path, default=_Path("dump/fbank"), help=f"holds <test_set>/{what}")
    p.add_argument("--lang_set", action="append", required=True, help="LANG=TEST_SET, once per language")


def add_model_args(p) -> None:
    """The options of every CLI that loads trained models and runs them: which checkpoint, and how
    many torch threads (1 by default, as each stage-8 decoding job)."""
    p.add_argument("--inference_model", default="valid.acc.ave.pth")
    p.add_argument("--num_threads", type=int, default=1,
                   help="torch threads (default 1, as each stage-8 decoding job: on a busy machine more threads than free "
                        "cores slow the many tiny operations of a beam search by 30x)")


def common_lang_sets(p, a):
    """``--lang_set`` parsed; a bad value is an argparse error naming it."""
    try:
        return parse_lang_sets(a.lang_set)
    except ValueError as e:
        p.error(str(e))
