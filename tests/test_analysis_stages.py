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
from mini_l2_run import run

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


LANGS = ("ko", "en")
METRICS = {"ko": ("cer", "cer_space"), "en": ("cer", "wer")}


def _prep(text, lang, metric):
    text = " ".join(text.split())
    return text.replace(" ", "") if (lang, metric) == ("ko", "cer") else text


def _pooled(refs, hyps, ids, metric, lang="en"):
    """Pooled error rate with jiwer, the texts prepared as the scoring stage does."""
    f = jiwer.wer if metric == "wer" else jiwer.cer
    return 100.0 * f([_prep(refs[u], lang, metric) for u in ids], [_prep(hyps[u], lang, metric) for u in ids])


def _hyps(d, model, lang, output):
    return read_kaldi_map(d / "exp" / f"{model}_{lang}" / f"decode_test_{lang}" / f"text.{output}")


@pytest.mark.parametrize("lang", LANGS)
def test_report_main_table_from_hypotheses(recipe, lang):
    d = recipe["dir"]
    rows = [r for r in _csv(d / "exp" / "report" / "main.csv") if r["lang"] == lang]
    assert {(r["output"], r["metric"]) for r in rows} == {(o, m) for o in ("surface", "meaning") for m in METRICS[lang]}
    for r in rows:
        o, metric = r["output"], r["metric"]
        refs = read_kaldi_map(d / "dump" / "fbank" / f"test_{lang}" / f"text.{o}")
        ids = sorted(refs)
        so_rate = _pooled(refs, _hyps(d, f"so_{o}", lang, o), ids, metric, lang)
        do_rate = _pooled(refs, _hyps(d, "do", lang, o), ids, metric, lang)
        assert r["SO"] == f"{so_rate:.2f}" and r["DO"] == f"{do_rate:.2f}"
        assert r["DO − SO"] == f"{do_rate - so_rate:+.2f} (1 run)"  # one seed: marked as a single run
        br_rate = _pooled(refs, _hyps(d, "do_branch", lang, o), ids, metric, lang)
        assert r["do_branch"] == f"{br_rate:.2f}"
    readme = (d / "exp" / "report" / "README.md").read_text(encoding="utf-8")
    refs = read_kaldi_map(d / f"dump/fbank/test_{lang}/text.surface")
    so_rate = _pooled(refs, _hyps(d, "so_surface", lang, "surface"), sorted(refs), "cer", lang)
    assert f"(SO {so_rate:.2f} %" in readme


@pytest.mark.parametrize("lang", LANGS)
def test_divergence_bins_from_hypotheses(recipe, lang):
    d = recipe["dir"]
    ref_dir = d / "dump" / "fbank" / f"test_{lang}"
    surf, mean = read_kaldi_map(ref_dir / "text.surface"), read_kaldi_map(ref_dir / "text.meaning")
    # the embedded corpus has text.canonical: d = Levenshtein(canonical, perceived surface)
    canon = read_kaldi_map(ref_dir / "text.canonical")
    rows = [r for r in _csv(d / "exp" / "analysis" / "divergence" / "bins.csv")
            if r["unit"] == "char" and r["lang"] == lang]
    assert [r["bin"] for r in rows[:5]] == ["0", "1-2", "3-5", "6-10", ">10"]
    assert {r["distance"] for r in rows} == {"canonical-perceived"}
    bounds = {"0": (0, 0), "1-2": (1, 2), "3-5": (3, 5), "6-10": (6, 10), ">10": (11, 10**9)}
    checked = 0
    for r in rows:
        lo, hi = bounds[r["bin"]]
        ids = sorted(u for u in surf if lo <= Levenshtein.distance(_prep(surf[u], lang, "cer"),
                                                                   _prep(canon[u], lang, "cer")) <= hi)
        assert int(r["n"]) == len(ids)
        if not ids:
            continue
        o = r["output"]
        refs = surf if o == "surface" else mean
        assert float(r["so_rate"]) == pytest.approx(_pooled(refs, _hyps(d, f"so_{o}", lang, o), ids, "cer", lang), abs=5e-5)
        assert float(r["do_rate"]) == pytest.approx(_pooled(refs, _hyps(d, "do", lang, o), ids, "cer", lang), abs=5e-5)
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("lang", LANGS)
def test_cka_outputs(recipe, lang):
    cka = recipe["dir"] / "exp" / "analysis" / "cka"
    diag = [r for r in _csv(cka / "diagonal.csv") if r["lang"] == lang]
    for a, b in (("so_surface", "so_meaning"), ("do", "so_surface"), ("do", "so_meaning")):
        rows = _csv(cka / lang / f"{a}__{b}.csv")
        assert len(rows) == 9  # input + 2 conformer blocks, on both sides
        vals = {(r["layer_a"], r["layer_b"]): float(r["cka"]) for r in rows}
        assert all(math.isfinite(v) and -0.5 < v <= 1.0 + 1e-6 for v in vals.values())
        for r in diag:
            if (r["model_a"], r["model_b"]) == (a, b):
                assert float(r["cka"]) == pytest.approx(vals[(r["layer"], r["layer"])], abs=1e-4)
        assert (recipe["dir"] / "exp" / "report" / "figures" / "cka" / lang / f"{a}__{b}.png").stat().st_size > 10_000


@pytest.mark.parametrize("lang", LANGS)
def test_cross_decoder_outputs(recipe, lang):
    d = recipe["dir"]
    xd = d / "exp" / "analysis" / "cross_decoder"
    swap = [r for r in _csv(xd / "swap.csv") if r["lang"] == lang]
    pairs = {(r["output"], r["encoder"], r["decoder"]) for r in swap}
    for o in ("surface", "meaning"):
        so = f"so_{o}"
        assert {(o, so, so), (o, "do", "do"), (o, "do", so), (o, so, "do")} <= pairs
    refs = {o: read_kaldi_map(d / "dump" / "fbank" / f"test_{lang}" / f"text.{o}") for o in ("surface", "meaning")}
    for r in swap:
        hyps = read_kaldi_map(xd / "swap_hyps" / f"{lang}_{r['output']}_{r['encoder']}+{r['decoder']}.txt")
        assert int(r["n"]) == len(hyps) == 6
        assert float(r["rate"]) == pytest.approx(
            _pooled(refs[r["output"]], hyps, sorted(hyps), r["metric"], lang), abs=5e-5)
    dec = [r for r in _csv(xd / "decoder_cka.csv") if r["lang"] == lang]
    assert {r["output"] for r in dec} == {"surface", "meaning"}
    assert all(math.isfinite(float(r["cka"])) and float(r["cka"]) <= 1.0 + 1e-6 for r in dec)
    pool = [r for r in _csv(xd / "encoder_pooling.csv") if r["lang"] == lang]
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


@pytest.mark.parametrize("lang", LANGS)
def test_train_log_parse_and_training_curves(recipe, lang):
    """ESPnet's train.log of every model gives max_epoch validation points at rising wall times, and the
    report draws them (section 5: one sentence per model dir, one figure)."""
    from dualasr.report.trainlog import grad_clip, max_epoch, parse_train_log

    rdir = recipe["dir"]
    readme = (rdir / "exp" / "report" / "README.md").read_text(encoding="utf-8")
    assert "## 6. Training curves" in readme and (rdir / "exp" / "report" / "figures" / "training" / "curves.png").is_file()
    for model in ("so_surface", "so_meaning", "do", "do_branch"):
        d = rdir / "exp" / f"{model}_{lang}"
        log = parse_train_log(d / "train.log")
        outputs = ("surface", "meaning") if model.startswith("do") else (model[3:],)
        assert [e.epoch for e in log.epochs] == list(range(1, max_epoch(d) + 1))
        assert all(a.seconds < b.seconds for a, b in zip(log.epochs, log.epochs[1:]))
        assert log.n_batch and all(e.total_count == e.epoch * log.n_batch for e in log.epochs)
        for e in log.epochs:
            assert {f"acc_{o}" for o in outputs} | {f"cer_ctc_{o}" for o in outputs} <= set(e.valid)
            assert all(0.0 <= e.valid[f"acc_{o}"] <= 1.0 for o in outputs)
        mine = [line for line in readme.splitlines() if line.startswith(f"- {d.name}: {len(log.epochs)} epochs in")]
        assert len(mine) == 1
        # ESPnet's training means of the last epoch: the gradient norm and the share of clipped steps
        last = log.epochs[-1].train
        assert last["grad_norm"] > 0 and 0.0 <= last["clip"] <= 100.0
        assert (f"last epoch's gradient norm {last['grad_norm']:.1f}, clipped to {grad_clip(d):g} on "
                f"{last['clip']:.0f} % of its steps") in mine[0]


def test_train_progress_on_a_real_log(recipe, tmp_path):
    """train_progress on a finished model's train.log: the stage estimate (this model's rest is 0; the later
    job of twice the frames and 2 outputs costs 2 x DO_COST x this model's measured time), then progress."""
    import subprocess
    import sys

    from dualasr.bin.train_progress import DO_COST, points, speed
    from dualasr.report.trainlog import parse_train_log

    d = recipe["dir"] / "exp" / "so_surface_en"
    log = parse_train_log(d / "train.log")
    s = speed(log)
    assert s and s > 0 and len(points(log)) >= 2
    for parallel in (1, 2):  # --parallel 2 (stage 7's --train_jobs 2): the later job shares the two lanes
        waiter = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(4)"])
        proc = subprocess.run([sys.executable, "-m", "dualasr.bin.train_progress", "--dir", str(d), "--pid",
                               str(waiter.pid), "--frames", "1000", "--outputs", "1", "--later", "en:2:2000:3",
                               "--parallel", str(parallel), "--poll", "1", "--every", "0"],
                              capture_output=True, text=True, timeout=60)
        waiter.wait()
        assert proc.returncode == 0, proc.stderr
        lines = proc.stderr.splitlines()
        est = [line for line in lines if line.startswith("[estimate] so_surface_en:")]
        assert len(est) == 1 and "about 0.0 min left for it" in est[0]
        # per SO frame-epoch x 2000 frames/1000 x 3 epochs x DO cost, over the lanes
        want = s * log.n_batch * 2 * 3 * DO_COST / 60 / parallel
        assert f"{want:.1f} min for the training stage" in est[0]
        assert any(line.startswith("[progress] so_surface_en: epoch") for line in lines)
    bad = subprocess.run([sys.executable, "-m", "dualasr.bin.train_progress", "--dir", str(d), "--pid", "1",
                          "--later", "en:x:1:1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--later 'en:x:1:1': expected lang:outputs:train_frames:epochs" in bad.stderr
def _utt_errors(path):
    rows = read_kaldi_map(path)
    rows.pop("uttid", None)  # the header line
    return {u: tuple(int(x) for x in v.split()) for u, v in rows.items()}


@pytest.mark.parametrize("lang", LANGS)
def test_unswapped_decoder_swap_is_stage8(recipe, lang):
    """An unswapped pair decodes exactly as stage 8: the same hypotheses, so the stage-9 error rate."""
    from dualasr.analysis.layout import balanced_ids

    d = recipe["dir"]
    xd = d / "exp" / "analysis" / "cross_decoder"
    swap = [r for r in _csv(xd / "swap.csv") if r["lang"] == lang]
    utt2spk = read_kaldi_map(d / "dump" / "fbank" / f"test_{lang}" / "utt2spk")
    subset = balanced_ids(utt2spk, 6, 0)
    assert len({utt2spk[u] for u in subset}) == min(6, len(set(utt2spk.values())))
    unswapped = [r for r in swap if r["encoder"] == r["decoder"]]
    assert len(unswapped) == 2 * 2 * len(METRICS[lang])
    for r in unswapped:
        o, m = r["output"], r["encoder"]
        hyps = read_kaldi_map(xd / "swap_hyps" / f"{lang}_{o}_{m}+{m}.txt")
        assert sorted(hyps) == subset
        stage8 = _hyps(d, m, lang, o)
        assert hyps == {u: stage8[u] for u in subset}
        assert int(r["same_as_stage8"]) == 6
        score = _utt_errors(d / "exp" / f"{m}_{lang}" / f"decode_test_{lang}" / f"score_{o}" / f"utt_errors.{r['metric']}")
        e, n = sum(score[u][0] for u in subset), sum(score[u][1] for u in subset)
        assert (int(r["errors"]), int(r["ref_len"])) == (e, n)
        assert float(r["rate"]) == pytest.approx(100.0 * e / n, abs=5e-5)


@pytest.mark.parametrize("lang", LANGS)
def test_teacher_forced_table(recipe, lang):
    d = recipe["dir"]
    tf = [r for r in _csv(d / "exp" / "analysis" / "cross_decoder" / "teacher_forced.csv") if r["lang"] == lang]
    for o in ("surface", "meaning"):
        got = {(r["encoder"], r["decoder"]) for r in tf if r["output"] == o}
        assert got == {(e, dm) for e in ("so_surface", "so_meaning", "do") for dm in (f"so_{o}", "do")}
    for r in tf:
        assert 0.0 <= float(r["acc"]) <= 100.0 and 0.0 < float(r["ce"]) < 20.0 and int(r["n_utts"]) == 6
    readme = (d / "exp" / "report" / "README.md").read_text(encoding="utf-8")
    r = next(r for r in tf if (r["output"], r["encoder"], r["decoder"]) == ("surface", "do", "so_surface"))
    assert f"the do encoder with token accuracy {float(r['acc']):.1f} %" in readme
    assert "| teacher_forced" not in readme and "Teacher-forced decoders on every encoder" in (
        d / "exp" / "report" / "tables.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", LANGS)
def test_cka_reference_and_independent_init(recipe, lang):
    import yaml

    d = recipe["dir"]
    exp = d / "exp"
    inits = {m: yaml.safe_load((exp / f"{m}_{lang}" / "config.yaml").read_text(encoding="utf-8")).get("init_seed")
             for m in ("so_surface", "so_meaning", "do", "do_branch")}
    assert inits["so_surface"] is None and len({inits[m] for m in ("so_meaning", "do", "do_branch")}) == 3
    ref_conf = yaml.safe_load((exp / f"so_surface_{lang}_refseed2" / "config.yaml").read_text(encoding="utf-8"))
    assert ref_conf["seed"] == 2 and ref_conf.get("init_seed") is None
    ref = [r for r in _csv(exp / "analysis" / "cka" / "reference.csv") if r["lang"] == lang]
    assert len(ref) == 1 and ref[0]["dir_b"].endswith(f"so_surface_{lang}_refseed2") and ref[0]["seed_b"] == "2"
    diag = [r for r in _csv(exp / "analysis" / "cka" / "diagonal.csv") if r["lang"] == lang]
    refd = [r for r in diag if (r["model_a"], r["model_b"]) == ("so_surface", "reference")]
    assert [r["layer"] for r in refd] == ["in", "1", "2"]
    assert refd[0]["cka"] != "1.0000"  # layer "in" of two models from other initial weights
    readme = (exp / "report" / "README.md").read_text(encoding="utf-8")
    assert f"In {lang}, the reference for the same task, two so_surface models, seed 1" in readme
    assert f"has last-layer linear CKA {float(refd[-1]['cka']):.2f}" in readme
    assert "Initialisation: independent." in readme


def test_results_have_each_branch_alone(recipe):
    import json

    d = recipe["dir"]
    rows = json.loads((d / "exp" / "results.json").read_text(encoding="utf-8"))
    # MDD is scored on the joint decode only
    joint = {(r["lang"], r["model"], r["output"], r["metric"]) for r in rows
             if r["decode"] == "joint" and r["metric"] != "mdd"}
    for mode in ("ctc_greedy", "att_greedy"):
        assert {(r["lang"], r["model"], r["output"], r["metric"]) for r in rows if r["decode"] == mode} == joint
    for r in rows:
        if r["decode"] != "joint":
            hyps = read_kaldi_map(d / "exp" / f"{r['model']}_{r['lang']}" / f"decode_test_{r['lang']}" / r["decode"]
                                  / f"text.{r['output']}")
            refs = read_kaldi_map(d / "dump" / "fbank" / f"test_{r['lang']}" / f"text.{r['output']}")
            assert r["value"] == pytest.approx(_pooled(refs, hyps, sorted(refs), r["metric"], r["lang"]), abs=5e-4)
    md = (d / "exp" / "results.md").read_text(encoding="utf-8")
    assert "Each branch alone" in md and "| CTC greedy | attention greedy |" in md
