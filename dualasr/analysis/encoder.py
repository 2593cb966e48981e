"""Encoder hidden states of trained models on an analysis subset, and layer-by-layer CKA between models.

Every model encodes the same utterances one at a time (no padding). From each utterance the same
frame positions are kept in every layer and every model (a seeded choice of at most
``ceil(max_frames / n_utts)`` frames), so memory stays bounded by ``max_frames`` rows per layer and
the rows of two models are paired frames. Models compared must subsample time the same way; a
mismatch in frame counts is an error naming the utterance.
"""

from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
from tqdm import tqdm

from dualasr.analysis.cka import CKAAccumulator


def frame_choice(n_frames: int, k: int, seed: int, index: int) -> np.ndarray:
    """Sorted positions of ``min(k, n_frames)`` frames of utterance number ``index``, reproducibly."""
    if n_frames <= k:
        return np.arange(n_frames)
    rng = np.random.default_rng([seed, index])
    return np.sort(rng.choice(n_frames, size=k, replace=False))


@torch.no_grad()
def encoder_layers(
    model,
    feats: Mapping[str, np.ndarray],
    max_frames: int = 4000,
    seed: int = 0,
    output: Optional[str] = None,
    desc: str = "encode",
) -> Dict[str, object]:
    """Hidden states of ``model`` (a DualASRModel) on ``feats`` (uttid -> [frames, dim]).

    Returns ``{"layers": [L arrays [n, d]], "frames": {uttid: kept frame count}}``: layer 0 is the
    input to the first encoder block, layer i the output of block i. For a model with per-output
    branch blocks, ``output`` picks the branch whose blocks follow the shared ones (default: the
    model's first output).
    """
    per_utt = max(1, math.ceil(max_frames / max(1, len(feats))))
    rows: List[List[np.ndarray]] = []
    kept: Dict[str, int] = {}
    branch = output or model.outputs[0]
    for index, (uttid, x) in enumerate(tqdm(feats.items(), desc=desc, mininterval=5, leave=False)):
        speech = torch.as_tensor(x).unsqueeze(0)
        with model.capture_encoder_layers() as store:
            model.encode(speech, torch.tensor([speech.shape[1]]))
        hidden = list(store["shared"]) + list(store.get(branch, []))
        lengths = {h.shape[1] for h in hidden}
        if len(lengths) != 1:
            raise ValueError(f"utterance {uttid}: encoder layers differ in frame count {sorted(lengths)}")
        pick = frame_choice(hidden[0].shape[1], per_utt, seed, index)
        kept[uttid] = len(pick)
        if not rows:
            rows = [[] for _ in hidden]
        if len(hidden) != len(rows):
            raise ValueError(f"utterance {uttid}: {len(hidden)} layers captured, earlier ones had {len(rows)}")
        for r, h in zip(rows, hidden):
            r.append(h[0, pick].to(torch.float64).numpy())
    if not rows:
        raise ValueError("encoder_layers: no utterances given")
    return {"layers": [np.concatenate(r) for r in rows], "frames": kept}


def minibatches(n: int, batch: int, seed: int = 0) -> List[np.ndarray]:
    """Row indices of n rows, shuffled once and split into about-equal minibatches of <= ``batch`` (>= 4) rows."""
    if n < 4:
        raise ValueError(f"CKA needs at least 4 paired frames, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    parts = max(1, math.ceil(n / max(4, batch)))
    while parts > 1 and n // parts < 4:
        parts -= 1
    return np.array_split(order, parts)


def cka_matrix(layers_a: Sequence[np.ndarray], layers_b: Sequence[np.ndarray], batch: int = 500,
               seed: int = 0) -> np.ndarray:
    """Minibatch linear CKA (unbiased HSIC) between every layer of a and every layer of b: [La, Lb]."""
    n = layers_a[0].shape[0]
    for name, layers in (("a", layers_a), ("b", layers_b)):
        for i, x in enumerate(layers):
            if x.shape[0] != n:
                raise ValueError(f"layer {i} of model {name} has {x.shape[0]} frames, expected {n} (paired)")
    acc = CKAAccumulator()
    for idx in minibatches(n, batch, seed):
        acc.update([x[idx] for x in layers_a], [y[idx] for y in layers_b])
    return acc.result()


def check_paired(frames_a: Mapping[str, int], frames_b: Mapping[str, int], name_a: str, name_b: str) -> None:
    """Raise naming the first utterance whose kept frame count differs between two models."""
    for u, n in frames_a.items():
        if frames_b.get(u) != n:
            raise ValueError(
                f"utterance {u}: {name_a} has {n} encoder frames and {name_b} {frames_b.get(u)}; "
                "CKA needs models that subsample time the same way"
            )
