"""Linear CKA between layer representations, with the unbiased HSIC estimator.

CKA(X, Y) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)), with K = X X^T and L = Y Y^T the linear-kernel
Gram matrices of n paired rows (frames). HSIC is the unbiased estimator of Song et al. (2012), and
the minibatch form of Nguyen, Raghu & Kornblith (2021): each minibatch of n >= 4 frames gives an
unbiased estimate of the three HSIC terms, the estimates are averaged over minibatches, and the ratio
is taken at the end. Memory is bounded by one minibatch: (La + Lb) n^2 float64 Gram entries.

Why hand-written: the PyPI CKA packages checked (torch-cka 0.21, ckatorch, cka-pytorch, pytorch-cka)
are single-author projects built around forward hooks on an ``nn.Module`` and a DataLoader, while our
inputs are frame matrices pooled from padded ESPnet encoder outputs of two models. The one
feature-matrix entry point (pytorch-cka ``cka_from_features``) clamps CKA to [0, 1] and adds an
epsilon, which hides the negative values the unbiased estimator gives for unrelated features. The
estimator itself is the 20 lines below, checked in tests against the U-statistic definition.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import torch


def _as_f64(x, where: str) -> torch.Tensor:
    """Return ``x`` (numpy array or tensor) as a float64 tensor [n, d], or raise naming ``where``."""
    t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if t.dim() != 2:
        raise ValueError(f"{where}: expected a 2-D [n, d] array, got shape {tuple(t.shape)}")
    t = t.to(torch.float64)
    if not torch.isfinite(t).all():
        raise ValueError(f"{where}: contains NaN or infinite values")
    return t


def _hollow_grams(layers: Sequence, name: str, n: int | None) -> torch.Tensor:
    """Linear-kernel Gram matrices [L, n, n] of ``layers`` with their diagonals set to zero."""
    feats = [_as_f64(x, f"{name}[{i}]") for i, x in enumerate(layers)]
    if not feats:
        raise ValueError(f"{name}: no layers given")
    for i, f in enumerate(feats):
        if n is None:
            n = f.shape[0]
        if f.shape[0] != n:
            raise ValueError(f"{name}[{i}]: has {f.shape[0]} rows, expected {n} (rows are paired frames)")
    if n < 4:
        raise ValueError(f"{name}: the unbiased HSIC needs n >= 4 rows per minibatch, got {n}")
    grams = torch.stack([f @ f.T for f in feats])
    grams.diagonal(dim1=1, dim2=2).zero_()
    return grams


def _hsic_terms(ka: torch.Tensor, kb: torch.Tensor) -> torch.Tensor:
    """Unbiased HSIC for every pair (i, j) of hollow Gram stacks ka [La, n, n], kb [Lb, n, n].

    HSIC_1 = [tr(K L) + 1'K1 1'L1 / ((n-1)(n-2)) - 2/(n-2) 1'K L1] / (n(n-3)), K and L with zero
    diagonals (Song et al. 2012, eq. 5). Returns [La, Lb].
    """
    n = ka.shape[-1]
    trace = ka.reshape(ka.shape[0], -1) @ kb.reshape(kb.shape[0], -1).T  # tr(K L) = sum K * L
    rows_a, rows_b = ka.sum(dim=2), kb.sum(dim=2)  # K 1, L 1
    tot_a, tot_b = rows_a.sum(dim=1), rows_b.sum(dim=1)  # 1'K1, 1'L1
    out = trace + torch.outer(tot_a, tot_b) / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (rows_a @ rows_b.T)
    return out / (n * (n - 3))


def _self_hsic(k: torch.Tensor) -> torch.Tensor:
    """Unbiased HSIC(K_i, K_i) for each Gram matrix of the stack k [L, n, n]; returns [L]."""
    n = k.shape[-1]
    rows = k.sum(dim=2)
    tot = rows.sum(dim=1)
    out = (k * k).sum(dim=(1, 2)) + tot * tot / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (rows * rows).sum(1)
    return out / (n * (n - 3))


class CKAAccumulator:
    """Minibatch linear CKA between every layer of side a and every layer of side b.

    Call :meth:`update` once per minibatch of n paired frames (the same frames, in the same order,
    in every layer of both sides), then :meth:`result`. Each minibatch counts equally in the
    average, so feed minibatches of (about) the same size.
    """

    def __init__(self) -> None:
        self.hsic_ab: np.ndarray | None = None  # [La, Lb] sums of per-batch HSIC(K_i, L_j)
        self.hsic_aa: np.ndarray | None = None  # [La]
        self.hsic_bb: np.ndarray | None = None  # [Lb]
        self.num_batches = 0

    def update(self, layers_a: Sequence, layers_b: Sequence) -> None:
        """Add one minibatch: ``layers_a`` is a list of La arrays [n, d_i], ``layers_b`` of Lb [n, d_j]."""
        ka = _hollow_grams(layers_a, "layers_a", None)
        kb = _hollow_grams(layers_b, "layers_b", ka.shape[-1])
        ab = _hsic_terms(ka, kb).cpu().numpy()
        aa, bb = _self_hsic(ka).cpu().numpy(), _self_hsic(kb).cpu().numpy()
        if self.hsic_ab is None:
            self.hsic_ab, self.hsic_aa, self.hsic_bb = ab, aa, bb
        elif ab.shape != self.hsic_ab.shape:
            raise ValueError(
                f"minibatch {self.num_batches + 1}: {ab.shape} layers, earlier ones had {self.hsic_ab.shape}"
            )
        else:
            self.hsic_ab += ab
            self.hsic_aa += aa
            self.hsic_bb += bb
        self.num_batches += 1

    def result(self) -> np.ndarray:
        """CKA matrix [La, Lb] (float64). NaN where a self-HSIC estimate is not positive."""
        if self.hsic_ab is None:
            raise ValueError("CKAAccumulator.result(): no minibatch was added")
        denom = np.outer(self.hsic_aa, self.hsic_bb)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denom > 0, self.hsic_ab / np.sqrt(np.maximum(denom, 0)), np.nan)


def minibatch_cka(batches_x: Iterable, batches_y: Iterable) -> float:
    """Minibatch linear CKA between two streams of paired minibatches [n_b, d1], [n_b, d2]."""
    acc = CKAAccumulator()
    for x, y in zip(batches_x, batches_y, strict=True):
        acc.update([x], [y])
    return float(acc.result()[0, 0])


def linear_cka(x, y, unbiased: bool = True) -> float:
    """Linear CKA of X [n, d1] and Y [n, d2] (numpy arrays or torch tensors).

    ``unbiased=True`` (default) uses the unbiased HSIC on all n rows at once (n^2 memory);
    ``unbiased=False`` gives the usual biased CKA of Kornblith et al. (2019), computed in feature
    space (centred features), kept for comparison.
    """
    if unbiased:
        acc = CKAAccumulator()
        acc.update([x], [y])
        return float(acc.result()[0, 0])
    xf, yf = _as_f64(x, "x"), _as_f64(y, "y")
    if xf.shape[0] != yf.shape[0]:
        raise ValueError(f"x has {xf.shape[0]} rows and y has {yf.shape[0]}: rows must be paired")
    xf, yf = xf - xf.mean(0), yf - yf.mean(0)
    num = float(torch.linalg.matrix_norm(yf.T @ xf) ** 2)
    den = float(torch.linalg.matrix_norm(xf.T @ xf) * torch.linalg.matrix_norm(yf.T @ yf))
    return num / den if den > 0 else math.nan
