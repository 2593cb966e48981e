"""Tests of dualasr.analysis.cka: known properties of linear CKA with the unbiased HSIC."""

import itertools

import numpy as np
import pytest
import torch

from dualasr.analysis.cka import CKAAccumulator, linear_cka, minibatch_cka


def _ustat_hsic(k: np.ndarray, l: np.ndarray) -> float:
    """Unbiased HSIC from its U-statistic definition (Song et al. 2012), by brute force."""
    n = k.shape[0]
    t1 = sum(k[i, j] * l[i, j] for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    t2 = sum(k[i, j] * l[i, q] for i, j, q in itertools.permutations(range(n), 3)) / (n * (n - 1) * (n - 2))
    t3 = sum(k[i, j] * l[q, r] for i, j, q, r in itertools.permutations(range(n), 4)) / (
        n * (n - 1) * (n - 2) * (n - 3)
    )
    return t1 - 2 * t2 + t3


def test_matches_u_statistic_definition():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 5))
    k, l = x @ x.T, y @ y.T
    want = _ustat_hsic(k, l) / np.sqrt(_ustat_hsic(k, k) * _ustat_hsic(l, l))
    assert linear_cka(x, y) == pytest.approx(want, rel=1e-9)


def test_self_similarity_is_one_and_symmetric():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 16))
    y = x @ rng.normal(size=(16, 8)) + 0.5 * rng.normal(size=(300, 8))
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-6)
    assert linear_cka(x, y) == pytest.approx(linear_cka(y, x), abs=1e-12)
    assert 0.2 < linear_cka(x, y) < 1.0


def test_invariant_to_orthogonal_transform_and_isotropic_scaling():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 10))
    y = np.tanh(x[:, :6]) + 0.3 * rng.normal(size=(200, 6))
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    base = linear_cka(x, y)
    assert linear_cka(x @ q, y) == pytest.approx(base, abs=1e-9)
    assert linear_cka(7.5 * x, 0.01 * y) == pytest.approx(base, abs=1e-9)
    # Not invariant to an anisotropic scaling: the test can tell the difference.
    assert abs(linear_cka(x * np.arange(1, 11), y) - base) > 1e-3


def test_independent_features_near_zero_unlike_biased():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4000, 256)), rng.normal(size=(4000, 256))
    unbiased = linear_cka(x, y)
    biased = linear_cka(x, y, unbiased=False)
    assert abs(unbiased) < 0.02
    assert biased > 0.04  # about d / (n + d) = 0.06 for isotropic features: clearly off zero
    assert biased > 5 * abs(unbiased)


def test_accepts_torch_tensors_of_any_float_dtype():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(50, 3))
    want = linear_cka(x, y)
    assert linear_cka(torch.from_numpy(x).float(), torch.from_numpy(y)) == pytest.approx(want, abs=1e-6)


def test_minibatch_average_tracks_full_sample():
    rng = np.random.default_rng(5)
    n, d = 4000, 12
    x = rng.normal(size=(n, d))
    y = x[:, :8] @ rng.normal(size=(8, 6)) + rng.normal(size=(n, 6))
    full = linear_cka(x, y)
    batches = [(x[i : i + 200], y[i : i + 200]) for i in range(0, n, 200)]
    mb = minibatch_cka([b[0] for b in batches], [b[1] for b in batches])
    assert mb == pytest.approx(full, abs=0.02)
    # Independent streams: the minibatch estimate stays near zero, while the biased estimator
    # averaged over the same small batches is pulled away from zero.
    z = rng.normal(size=(n, 6))
    xs, zs = [x[i : i + 200] for i in range(0, n, 200)], [z[i : i + 200] for i in range(0, n, 200)]
    assert abs(minibatch_cka(xs, zs)) < 0.02
    assert np.mean([linear_cka(a, b, unbiased=False) for a, b in zip(xs, zs)]) > 0.03


def test_accumulator_many_layers_matches_pairwise():
    rng = np.random.default_rng(6)
    base = rng.normal(size=(3 * 64, 8))
    layers_a = [base, np.tanh(base), base @ rng.normal(size=(8, 5))]
    layers_b = [base[:, :4], rng.normal(size=(3 * 64, 7))]
    acc = CKAAccumulator()
    for s in range(0, 3 * 64, 64):
        acc.update([a[s : s + 64] for a in layers_a], [b[s : s + 64] for b in layers_b])
    got = acc.result()
    assert got.shape == (3, 2) and got.dtype == np.float64 and acc.num_batches == 3
    for i, j in itertools.product(range(3), range(2)):
        starts = range(0, 192, 64)
        want = minibatch_cka([layers_a[i][s : s + 64] for s in starts], [layers_b[j][s : s + 64] for s in starts])
        assert got[i, j] == pytest.approx(want, abs=1e-12)
    # Same layers on both sides: a symmetric matrix with ones on the diagonal.
    sym = CKAAccumulator()
    sym.update(layers_a, layers_a)
    m = sym.result()
    assert np.allclose(m, m.T, atol=1e-12) and np.allclose(np.diag(m), 1.0, atol=1e-9)


def test_bad_input_is_named():
    acc = CKAAccumulator()
    with pytest.raises(ValueError, match=r"layers_b\[1\].*rows"):
        acc.update([np.ones((10, 2))], [np.ones((10, 2)), np.ones((9, 2))])
    with pytest.raises(ValueError, match="n >= 4"):
        acc.update([np.ones((3, 2))], [np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"layers_a\[0\].*2-D"):
        acc.update([np.ones(10)], [np.ones((10, 2))])
    with pytest.raises(ValueError, match="NaN"):
        linear_cka(np.full((5, 2), np.nan), np.ones((5, 2)))
    with pytest.raises(ValueError, match="no minibatch"):
        CKAAccumulator().result()
