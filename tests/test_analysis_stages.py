"""Stages 1-12 of the template on the embedded corpus (tiny, English), then the analyses' and the
report's numbers against values recomputed from the hypotheses and references.

Slow (the shared tiny run of tests/mini_l2_run.py trains eight tiny models): ``pytest -m slow tests/test_analysis_stages.py``.
"""

import csv
import math

import jiwer
import pytest
from rapidfuzz.distance import Levenshtein

from dualasr.data.datadir import read_kaldi_map
from mini_l2_run import mini_l2_tiny, run  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def recipe(mini_l2_tiny):
    """The shared ``run.sh --size tiny`` run (ko + en, every model kind, through the report), and a
    second run of stages 10-12 that must skip everything."""
    again = run(mini_l2_tiny, "--stage", "10")
    return {"dir": mini_l2_tiny, "log": (mini_l2_tiny / "first_run.log").read_text(),
            "again": again.stdout + again.stderr}


def _csv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _pooled(refs, hyps, ids, metric):
    f = jiwer.cer if metric == "cer" else jiwer.wer
    return 100.0 * f([refs[u] for u in ids], [hyps[u] for u in ids])


def test_report_main_table_from_hypotheses(recipe):
    d = recipe["dir"]
    rows = _csv(d / "exp" / "report" / "main.csv")
    assert {(r["output"], r["metric"]) for r in rows} == {(o, m) for o in ("surface", "meaning") for m in ("cer", "wer")}
    for r in rows:
        o, metric = r["output"], r["metric"]
        refs = read_kaldi_map(d / "dump" / "fbank" / "test_en" / f"text.{o}")
        so = read_kaldi_map(d / "exp" / f"so_{o}_en" / "decode_test_en" / f"text.{o}")
        do = read_kaldi_map(d / "exp" / "do_en" / "decode_test_en" / f"text.{o}")
        ids = sorted(refs)
        so_rate, do_rate = _pooled(refs, so, ids, metric), _pooled(refs, do, ids, metric)
        assert r["SO"] == f"{so_rate:.2f}" and r["DO"] == f"{do_rate:.2f}"
        assert r["DO − SO"] == f"{do_rate - so_rate:+.2f}"
    readme = (d / "exp" / "report" / "README.md").read_text(encoding="utf-8")
    so_rate = _pooled(*(read_kaldi_map(p) for p in (d / "dump/fbank/test_en/text.surface",
                                                     d / "exp/so_surface_en/decode_test_en/text.surface")),
                      sorted(read_kaldi_map(d / "dump/fbank/test_en/text.surface")), "cer")
    assert f"(SO {so_rate:.2f} %" in readme


def test_divergence_bins_from_hypotheses(recipe):
    d = recipe["dir"]
    ref_dir = d / "dump" / "fbank" / "test_en"
    surf, mean = read_kaldi_map(ref_dir / "text.surface"), read_kaldi_map(ref_dir / "text.meaning")
    rows = [r for r in _csv(d / "exp" / "analysis" / "divergence" / "bins.csv") if r["unit"] == "char"]
    assert [r["bin"] for r in rows[:5]] == ["0", "1-2", "3-5", "6-10", ">10"]
    bounds = {"0": (0, 0), "1-2": (1, 2), "3-5": (3, 5), "6-10": (6, 10), ">10": (11, 10**9)}
    checked = 0
    for r in rows:
        lo, hi = bounds[r["bin"]]
        ids = sorted(u for u in surf if lo <= Levenshtein.distance(" ".join(surf[u].split()),
                                                                   " ".join(mean[u].split())) <= hi)
        assert int(r["n"]) == len(ids)
        if not ids:
            continue
        o = r["output"]
        refs = surf if o == "surface" else mean
        so = read_kaldi_map(d / "exp" / f"so_{o}_en" / "decode_test_en" / f"text.{o}")
        do = read_kaldi_map(d / "exp" / "do_en" / "decode_test_en" / f"text.{o}")
        assert float(r["so_rate"]) == pytest.approx(_pooled(refs, so, ids, "cer"), abs=5e-5)
        assert float(r["do_rate"]) == pytest.approx(_pooled(refs, do, ids, "cer"), abs=5e-5)
        checked += 1
    assert checked >= 2


def test_cka_outputs(recipe):
    cka = recipe["dir"] / "exp" / "analysis" / "cka"
    diag = _csv(cka / "diagonal.csv")
    for a, b in (("so_surface", "so_meaning"), ("do", "so_surface"), ("do", "so_meaning")):
        rows = _csv(cka / "en" / f"{a}__{b}.csv")
        assert len(rows) == 9  # input + 2 conformer blocks, on both sides
        vals = {(r["layer_a"], r["layer_b"]): float(r["cka"]) for r in rows}
        assert all(math.isfinite(v) and -0.5 < v <= 1.0 + 1e-6 for v in vals.values())
        for r in diag:
            if (r["model_a"], r["model_b"]) == (a, b):
                assert float(r["cka"]) == pytest.approx(vals[(r["layer"], r["layer"])], abs=1e-4)
        assert (recipe["dir"] / "exp" / "report" / "figures" / "cka" / "en" / f"{a}__{b}.png").stat().st_size > 10_000


def test_cross_decoder_outputs(recipe):
    d = recipe["dir"]
    xd = d / "exp" / "analysis" / "cross_decoder"
    swap = _csv(xd / "swap.csv")
    pairs = {(r["output"], r["encoder"], r["decoder"]) for r in swap}
    for o in ("surface", "meaning"):
        so = f"so_{o}"
        assert {(o, so, so), (o, "do", "do"), (o, "do", so), (o, so, "do")} <= pairs
    refs = {o: read_kaldi_map(d / "dump" / "fbank" / "test_en" / f"text.{o}") for o in ("surface", "meaning")}
    for r in swap:
        hyps = read_kaldi_map(xd / "swap_hyps" / f"en_{r['output']}_{r['encoder']}+{r['decoder']}.txt")
        assert int(r["n"]) == len(hyps) == 6
        assert float(r["rate"]) == pytest.approx(_pooled(refs[r["output"]], hyps, sorted(hyps), r["metric"]), abs=5e-5)
    dec = _csv(xd / "decoder_cka.csv")
    assert {r["output"] for r in dec} == {"surface", "meaning"}
    pool = _csv(xd / "encoder_pooling.csv")
    assert {(r["model"], r["output"]) for r in pool} == {("do", "surface"), ("do", "meaning"),
                                                         ("so_surface", "surface"), ("so_meaning", "meaning")}
    readme = (d / "exp" / "report" / "README.md").read_text(encoding="utf-8")
    r = next(r for r in swap if (r["output"], r["encoder"], r["decoder"], r["metric"]) == ("surface", "do", "so_surface", "cer"))
    assert f"the so_surface decoder gives surface CER {float(r['rate']):.2f} % on the DO encoder" in readme


def test_report_files_and_rerun_is_noop(recipe):
    rep = recipe["dir"] / "exp" / "report"
    for f in ("tables.md", "tables.tex", "main.csv", "significance.csv", "divergence.csv", "cka_summary.csv",
              "decoder_swap.csv", "README.md", "figures/divergence/divergence_char.png",
              "figures/cross_decoder/swap.png", "figures/cross_decoder/decoder_cka.png", "figures/cka/diagonal.png"):
        assert (rep / f).is_file(), f
    assert "Report: exp/report/README.md" in recipe["log"]
    for what in ("divergence already done", "encoder CKA already done", "cross-decoder analysis already done",
                 "report already done"):
        assert what in recipe["again"]
