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


def load_subset(feats_scp: Path | str, max_utts: int) -> Dict[str, np.ndarray]:
    """The first ``max_utts`` utterances (by id) of a feats.scp: uttid -> features [frames, dim]."""
    import kaldiio

    feats_scp = Path(feats_scp)
    if not feats_scp.is_file():
        raise FileNotFoundError(f"{feats_scp}: missing; run the feature stages (3-4) first")
    reader = kaldiio.load_scp(str(feats_scp))
    keys = sorted(reader.keys(), key=lambda k: k.encode("utf-8"))[:max_utts]
    return {k: np.asarray(reader[k], dtype=np.float32) for k in keys}


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


def common_lang_sets(p, a):
    """``--lang_set`` parsed; a bad value is an argparse error naming it."""
    try:
        return parse_lang_sets(a.lang_set)
    except ValueError as e:
        p.error(str(e))
