"""Tests of dualasr.analysis.divergence and dualasr.analysis.stats."""

import csv
import math
from dataclasses import fields

import numpy as np
import pytest

from dualasr.analysis.divergence import (
    UttScore,
    analyze,
    bin_index,
    bin_results,
    csv_row,
    distance,
    join_scores,
    parse_bins,
    plot_divergence,
    read_distances,
    read_utt_scores,
    spearman,
)
from dualasr.analysis.stats import format_mean_sd, mean_sd, paired_bootstrap
from dualasr.data.datadir import Utterance, write_data_dir
from dualasr.files import csv_text, write_atomic


def test_distance_korean_chars_ignore_spaces():
    assert distance("가치 가요", "같이 가요", "ko") == 2  # 가치 vs 같이: two syllables differ
    assert distance("같이가요", "같이 가요", "ko") == 0
    assert distance("머거요", "먹어요", "ko", "char") == 2
    assert distance("가치 가요", "같이 가요", "ko", "word") == 1


def test_distance_english_chars_keep_spaces_and_words():
    assert distance("I sink so", "I think so", "en") == 2  # s -> t, insert h
    assert distance("I sink so", "I think so", "en", "word") == 1
    assert distance("ice cream", "icecream", "en", "char") == 1  # the space counts in English
    assert distance("I  sink ", "I sink", "en", "char") == 0  # runs of spaces collapse
    assert distance("I go to the school", "I go school", "en", "word") == 2
    with pytest.raises(ValueError, match="unknown language"):
        distance("a", "b", "fr")
    with pytest.raises(ValueError, match="unknown unit"):
        distance("a", "b", "en", "phone")


def test_bins_default_and_spec():
    bins = parse_bins()
    assert [b.label for b in bins] == ["0", "1-2", "3-5", "6-10", ">10"]
    got = [bin_index(d, bins) for d in (0, 1, 2, 3, 5, 6, 10, 11, 500)]
    assert got == [0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert [b.label for b in parse_bins("0-1, 2-4 ,5+")] == ["0-1", "2-4", ">4"]
    for bad, why in [
        ("1-2,3+", "start at 0"),
        ("0,2-3,4+", "start at 1"),
        ("0,3-2,4+", "not end before"),
        ("0,1-2", "open-ended"),
        ("0,1+,3+", "after the open bin"),
        ("0,x,2+", "cannot parse"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_bins(bad)


def _rows():
    return [
        UttScore("s1-u1", 0, 1, 10, 2, 10),
        UttScore("s1-u2", 0, 0, 10, 1, 10),
        UttScore("s1-u3", 4, 2, 5, 4, 5),
        UttScore("s2-u4", 12, 3, 20, 3, 20),
    ]


def test_per_bin_rates_hand_computed():
    res = {r.bin: r for r in bin_results(_rows(), "en", "surface", n_boot=200)}
    assert list(res) == ["0", "1-2", "3-5", "6-10", ">10"]
    zero = res["0"]
    assert (zero.n, zero.so_rate, zero.do_rate, zero.delta) == (2, 5.0, 15.0, 10.0)  # 1/20, 3/20
    assert zero.ci_low <= 10.0 <= zero.ci_high
    mid = res["3-5"]
    assert (mid.n, mid.so_rate, mid.do_rate, mid.delta) == (1, 40.0, 80.0, 40.0)
    assert mid.ci_low == mid.ci_high == 40.0  # one utterance: every resample is the same
    assert (res[">10"].so_rate, res[">10"].delta) == (15.0, 0.0)
    with pytest.raises(ValueError, match="en/surface: utterance s1-x: distance -1"):
        bin_results(_rows() + [UttScore("s1-x", -1, 0, 1, 0, 1)], "en", "surface")
    empty = res["1-2"]
    assert empty.n == 0 and math.isnan(empty.so_rate) and math.isnan(empty.ci_low)


def _simulated(n, seed, p_so=0.10, p_do=0.15):
    rng = np.random.default_rng(seed)
    ref = rng.integers(5, 30, size=n)
    return rng.binomial(ref, p_so), ref, rng.binomial(ref, p_do), ref


def test_bootstrap_ci_contains_estimate_and_shrinks_with_n():
    widths = []
    for n in (100, 1600):
        so_e, so_n, do_e, do_n = _simulated(n, seed=n)
        rows = [UttScore(f"s-{i}", 0, *map(int, v)) for i, v in enumerate(zip(so_e, so_n, do_e, do_n))]
        (r,) = [b for b in bin_results(rows, "ko", "meaning") if b.n]
        assert r.ci_low < r.delta < r.ci_high
        widths.append(r.ci_high - r.ci_low)
    assert widths[1] < widths[0] / 2  # about 1/sqrt(16) = 1/4 of the width


def test_spearman_monotone_gives_rho_one():
    rows = [UttScore(f"s-{d:02d}", d, 0, 20, d, 20) for d in range(20)]
    c = spearman(rows, "en", "surface")
    assert c.n == 20 and c.rho == pytest.approx(1.0) and c.p_value < 1e-6
    anti = [UttScore(f"s-{d:02d}", d, 0, 20, 20 - d, 20) for d in range(20)]
    assert spearman(anti, "en", "surface").rho == pytest.approx(-1.0)
    # Utterances with an empty reference carry no rate and are left out.
    assert spearman(rows + [UttScore("s-x", 3, 0, 0, 0, 0)], "en", "surface").n == 20


def test_paired_bootstrap_detects_difference_and_not_identity():
    so_e, so_n, do_e, do_n = _simulated(300, seed=7, p_so=0.10, p_do=0.20)
    diff = paired_bootstrap(so_e, so_n, do_e, do_n)
    assert diff.p_value < 0.05 and diff.ci_low > 0 and diff.ci_low < diff.delta < diff.ci_high
    assert diff.delta == pytest.approx(100 * (do_e.sum() - so_e.sum()) / so_n.sum())
    same = paired_bootstrap(so_e, so_n, so_e, so_n)
    assert same.delta == 0.0 and same.p_value > 0.5 and same.ci_low == same.ci_high == 0.0
    again = paired_bootstrap(so_e, so_n, do_e, do_n)
    assert again == diff  # fixed seed: reproducible
    with pytest.raises(ValueError, match=r"so_errors\[1\]"):
        paired_bootstrap([1, -2], [3, 3], [1, 1], [3, 3])
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap([1, 2], [3, 3], [1], [3])


def test_paired_bootstrap_p_value_matches_normal_approximation():
    # A moderate difference: the bootstrap p-value should agree with 2 * (1 - Phi(|delta| / se)),
    # se read off the (near-normal) bootstrap CI.
    from scipy.stats import norm

    so_e, so_n, do_e, do_n = _simulated(400, seed=3, p_so=0.10, p_do=0.11)
    r = paired_bootstrap(so_e, so_n, do_e, do_n, n_boot=4000)
    se = (r.ci_high - r.ci_low) / (2 * norm.ppf(0.975))
    want = 2 * norm.sf(abs(r.delta) / se)
    assert 0.005 < want < 0.5
    assert r.p_value == pytest.approx(want, abs=0.02)


def test_mean_sd_across_seeds():
    assert mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert format_mean_sd([10.0, 12.0]) == "11.00 ± 1.41"
    assert format_mean_sd([5.0], digits=1) == "5.0"
    with pytest.raises(ValueError):
        mean_sd([])


def test_csv_and_png_are_written(tmp_path):
    groups = {}
    for lang in ("ko", "en"):
        for k, output in enumerate(("surface", "meaning")):
            rng = np.random.default_rng(k)
            rows = []
            for i in range(60):
                d = int(rng.integers(0, 15))
                so_err, do_err = int(rng.integers(0, 3)), int(rng.integers(0, 3)) + d // 3
                rows.append(UttScore(f"s-{i:03d}", d, so_err, 20, do_err, 20))
            groups[(lang, output)] = rows
    table, corrs = analyze(groups, n_boot=200)
    for name, rows in (("bins.csv", table), ("spearman.csv", corrs)):
        write_atomic(tmp_path / name, csv_text([f.name for f in fields(rows[0])], [csv_row(r) for r in rows]))
    plot_divergence(tmp_path / "divergence.png", table, unit="char", metric="CER")
    with open(tmp_path / "bins.csv", newline="") as f:
        got = list(csv.DictReader(f))
    assert len(got) == 4 * 5
    assert list(got[0]) == ["lang", "output", "bin", "n", "so_rate", "do_rate", "delta", "ci_low", "ci_high"]
    assert sum(int(r["n"]) for r in got if r["lang"] == "ko" and r["output"] == "surface") == 60
    with open(tmp_path / "spearman.csv", newline="") as f:
        c = list(csv.DictReader(f))
    assert len(c) == 4 and all(float(r["rho"]) > 0.5 for r in c)
    png = (tmp_path / "divergence.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    import matplotlib.image

    img = matplotlib.image.imread(tmp_path / "divergence.png")
    assert img.shape[0] > 300 and img.shape[1] > 600 and img.std() > 0.01  # not a blank canvas
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


def test_inputs_from_data_dir_and_score_files(tmp_path):
    write_data_dir(
        tmp_path / "test_en",
        [
            Utterance("spk1-a", "/a.wav", "spk1", "I sink so", "I think so"),
            Utterance("spk1-b", "/b.wav", "spk1", "hello", "hello"),
        ],
    )
    d = read_distances(tmp_path / "test_en", "en", "char")
    assert d == {"spk1-a": 2, "spk1-b": 0}
    (tmp_path / "so.txt").write_text("uttid errors ref_len\nspk1-a 1 10\nspk1-b 0 5\n")
    (tmp_path / "do.txt").write_text("spk1-a,2,10\nspk1-b,0,5\n")
    rows = join_scores(d, read_utt_scores(tmp_path / "so.txt"), read_utt_scores(tmp_path / "do.txt"), "en/surface")
    assert rows[0] == UttScore("spk1-a", 2, 1, 10, 2, 10)
    with pytest.raises(ValueError, match="en/surface: utterance spk1-b is missing from the DO scores"):
        join_scores(d, read_utt_scores(tmp_path / "so.txt"), {"spk1-a": (2, 10)}, "en/surface")
    (tmp_path / "bad.txt").write_text("spk1-a 1 10\nspk1-b one 5\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: expected"):
        read_utt_scores(tmp_path / "bad.txt")
    (tmp_path / "test_en" / "text.meaning").write_text("spk1-a I think so\n")
    with pytest.raises(ValueError, match=r"text.meaning: utterance spk1-b is missing"):
        read_distances(tmp_path / "test_en", "en")
