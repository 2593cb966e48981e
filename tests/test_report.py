"""The report's numbers against values recomputed from hypotheses and references (no models needed).

A hand-written exp/ with two seeds of so_surface, so_meaning and do on an English test set is scored
with the real scorer (dualasr.bin.score); then stage 10's CLI and the report run on it.
"""

import csv
import re

import jiwer
import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from dualasr.bin import analyze_divergence, report, score
from dualasr.data.datadir import write_kaldi_map
from dualasr.report.report import to_latex

REFS = {  # uttid: (surface, meaning)
    "spk1-a": ("i sink so", "i think so"),
    "spk1-b": ("the cat sat", "the cat sat"),
    "spk1-c": ("pish and chips", "fish and chips"),
    "spk2-d": ("berry good rice", "very good rice"),
    "spk2-e": ("he rike the bideo game", "he likes the video games"),
    "spk2-f": ("open the doa prease", "open the door please"),
}
# hypotheses per (model, seed): one edit per utterance of the reference, more for some models
EDITS = {"so_surface": 1, "so_meaning": 1, "do": 2}


def _hyp(text, k, seed, uttid):
    """Drop k characters (positions from the seed and uttid), so error counts differ by system."""
    rng = np.random.default_rng([seed, k, sum(map(ord, uttid))])
    chars = list(text)
    for _ in range(min(k + int(rng.integers(0, 2)), len(chars) - 1)):
        chars.pop(int(rng.integers(0, len(chars))))
    return "".join(chars)


def scored_exp(root, edits):
    """A hand-written exp/ under ``root``: references in dump/fbank/test_en, and for every model of
    ``edits`` (model -> characters dropped) and seeds 1 and 2, hypotheses scored by the real scorer."""
    ref_dir = root / "dump" / "fbank" / "test_en"
    ref_dir.mkdir(parents=True)
    for i, o in enumerate(("surface", "meaning")):
        write_kaldi_map(ref_dir / f"text.{o}", [(u, t[i]) for u, t in REFS.items()])
    exp = root / "exp"
    for model, k in edits.items():
        outputs = [model[3:]] if model.startswith("so_") else ["surface", "meaning"]
        for seed in (1, 2):
            ddir = exp / f"{model}_en_seed{seed}" / "decode_test_en"
            ddir.mkdir(parents=True)
            for o in outputs:
                idx = 0 if o == "surface" else 1
                write_kaldi_map(ddir / f"text.{o}", [(u, _hyp(t[idx], k, seed, u)) for u, t in REFS.items()])
            assert score.main(["--ref_dir", str(ref_dir), "--decode_dir", str(ddir), "--lang", "en",
                               "--model", model, "--seed", str(seed)]) == 0
    return exp


@pytest.fixture(scope="module")
def expdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    exp = scored_exp(root, EDITS)
    assert analyze_divergence.main(["--expdir", str(exp), "--dumpdir", str(root / "dump" / "fbank"),
                                    "--lang_set", "en=test_en", "--bins", "0,1-2,3+", "--n_boot", "200"]) == 0
    assert report.main(["--expdir", str(exp), "--lang_set", "en=test_en", "--n_boot", "200"]) == 0
    return exp


def _rate(exp, model, seed, output, metric):
    """Pooled error rate recomputed with jiwer straight from the hypothesis and reference files."""
    ddir = exp / f"{model}_en_seed{seed}" / "decode_test_en"
    hyps = dict(line.rstrip("\n").split(" ", 1) for line in open(ddir / f"text.{output}", encoding="utf-8"))
    idx = 0 if output == "surface" else 1
    refs = [REFS[u][idx] for u in sorted(REFS)]
    hyp = [hyps[u] for u in sorted(REFS)]
    f = jiwer.cer if metric == "cer" else jiwer.wer
    return 100.0 * f(refs, hyp)


def _csv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("output", ["surface", "meaning"])
@pytest.mark.parametrize("metric", ["cer", "wer"])
def test_main_table_is_mean_sd_over_seeds(expdir, output, metric):
    row = next(r for r in _csv(expdir / "report" / "main.csv") if (r["output"], r["metric"]) == (output, metric))
    so = [_rate(expdir, f"so_{output}", s, output, metric) for s in (1, 2)]
    do = [_rate(expdir, "do", s, output, metric) for s in (1, 2)]
    assert row["SO"] == f"{np.mean(so):.2f} ± {np.std(so, ddof=1):.2f}"
    assert row["DO"] == f"{np.mean(do):.2f} ± {np.std(do, ddof=1):.2f}"
    assert row["DO − SO"] == f"{np.mean(do) - np.mean(so):+.2f}"


def test_divergence_bins_match_recomputation(expdir):
    rows = _csv(expdir / "analysis" / "divergence" / "bins.csv")
    assert {r["bin"] for r in rows} == {"0", "1-2", ">2"}
    for r in rows:
        if r["unit"] != "char":
            continue
        o, idx = r["output"], 0 if r["output"] == "surface" else 1
        lo, hi = {"0": (0, 0), "1-2": (1, 2), ">2": (3, 10**9)}[r["bin"]]
        ids = [u for u, (s, m) in REFS.items() if lo <= Levenshtein.distance(s, m) <= hi]
        assert int(r["n"]) == len(ids)
        if not ids:
            assert r["so_rate"] == "nan"
            continue
        rates = {}
        for model in (f"so_{o}", "do"):
            e = n = 0
            for seed in (1, 2):  # seeds pooled per utterance
                hyps = dict(line.rstrip("\n").split(" ", 1) for line in
                            open(expdir / f"{model}_en_seed{seed}" / "decode_test_en" / f"text.{o}", encoding="utf-8"))
                for u in ids:
                    out = jiwer.process_characters(REFS[u][idx], hyps[u])
                    e += out.substitutions + out.deletions + out.insertions
                    n += len(REFS[u][idx])
            rates[model] = 100.0 * e / n
        assert float(r["so_rate"]) == pytest.approx(rates[f"so_{o}"], abs=5e-5)
        assert float(r["do_rate"]) == pytest.approx(rates["do"], abs=5e-5)
        assert float(r["ci_low"]) <= float(r["delta"]) + 1e-9 <= float(r["ci_high"]) + 2e-9
    assert (expdir / "analysis" / "divergence" / "divergence_char.png").stat().st_size > 10_000
    assert (expdir / "report" / "figures" / "divergence" / "divergence_word.png").is_file()


def test_significance_and_readme_sentences(expdir):
    rep = expdir / "report"
    sig = {(r["output"], r["metric"]): r for r in _csv(rep / "significance.csv")}
    readme = (rep / "README.md").read_text(encoding="utf-8")
    for o in ("surface", "meaning"):
        r = sig[(o, "cer")]
        so = np.mean([_rate(expdir, f"so_{o}", s, o, "cer") for s in (1, 2)])
        do = np.mean([_rate(expdir, "do", s, o, "cer") for s in (1, 2)])
        # seeds pooled per utterance, and both seeds score the same utterances: pooled = mean here
        assert float(r["so_rate"]) == pytest.approx(so, abs=0.006)
        assert float(r["delta"]) == pytest.approx(do - so, abs=0.011)
        assert 0 < float(r["p_value"]) <= 1 and r["seeds"] == "2"
        verb = "raises" if do > so else "lowers"
        assert f"DO {verb} {o} CER by {abs(do - so):.2f} points in en" in readme
        assert f"p = {r['p_value']}" in readme
    div = {(r["output"], r["bin"]): r for r in _csv(rep / "divergence.csv") if r["unit"] == "char"}
    first = next(r for (o, b), r in div.items() if o == "surface" and int(r["n"]) > 0)
    assert f"DO − SO surface CER is {float(first['delta']):+.2f} points at distance {first['bin']}" in readme
    assert "stage 11 (cka) has not run" in readme
    assert readme.index("## 1.") < readme.index("## 2.") < readme.index("## 3.") < readme.index("## 4.")
    assert "figures/divergence/divergence_char.png" in readme
    tex = (rep / "tables.tex").read_text(encoding="utf-8")
    # main, MDD (DO's prompt-free row: no text.canonical here), significance, divergence x2
    assert tex.count(r"\begin{tabular}") == 5 and r"$\pm$" in tex and "DO $-$ SO" in tex
    mdd = _csv(rep / "mdd.csv")
    assert [(r["model"], r["canonical"]) for r in mdd] == [("DO", "prompt-free")]
    assert "In en (surface–meaning distance in chars)" in readme


def test_report_prints_main_table_and_readme_path(expdir, capsys):
    assert report.main(["--expdir", str(expdir), "--lang_set", "en=test_en", "--n_boot", "50",
                        "--outdir", str(expdir / "report2")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Error rates") and "| en | surface | cer |" in out
    assert out.rstrip().endswith(f"Report: {expdir / 'report2' / 'README.md'}")


def test_bad_inputs_name_the_problem(expdir, tmp_path):
    with pytest.raises(SystemExit):
        report.main(["--expdir", str(expdir), "--lang_set", "en"])
    with pytest.raises(SystemExit, match="no .*score.json"):
        report.main(["--expdir", str(tmp_path), "--lang_set", "en=test_en"])
    bad = expdir / "so_surface_en_seed1" / "decode_test_en" / "score_surface" / "utt_errors.cer"
    text = bad.read_text()
    try:
        bad.write_text(text + "spk9-z x 3\n")
        with pytest.raises(ValueError, match=re.escape(f"{bad}:8: expected 'uttid errors ref_len'")):
            analyze_divergence.main(["--expdir", str(expdir), "--dumpdir", str(expdir.parent / "dump" / "fbank"),
                                     "--lang_set", "en=test_en", "--outdir", str(tmp_path)])
    finally:
        bad.write_text(text)


def test_to_latex_escapes():
    tex = to_latex([{"a_b": "x & y", "v": "1.00 ± 0.20"}], "50 % caption", "tab:x")
    assert r"a\_b" in tex and r"x \& y" in tex and r"1.00 $\pm$ 0.20" in tex and r"50 \% caption" in tex


KO_REFS = {  # uttid: (surface, meaning)
    "spk1-a": ("가치 가요", "같이 가요"),
    "spk1-b": ("안녕하세요", "안녕하세요"),
    "spk2-c": ("궁물 머거요", "국물 먹어요"),
    "spk2-d": ("조아요 정말 조아요", "좋아요 정말 좋아요"),
}


def test_korean_single_seed(tmp_path):
    """ko: one unseeded model dir each; CER with spaces removed, distances on characters without spaces."""
    ref_dir = tmp_path / "dump" / "fbank" / "test_ko"
    ref_dir.mkdir(parents=True)
    for i, o in enumerate(("surface", "meaning")):
        write_kaldi_map(ref_dir / f"text.{o}", [(u, t[i]) for u, t in KO_REFS.items()])
    exp = tmp_path / "exp"
    hyps = {"so_surface": {"surface": 0}, "so_meaning": {"meaning": 1}, "do": {"surface": 1, "meaning": 0}}
    for model, outs in hyps.items():
        ddir = exp / f"{model}_ko" / "decode_test_ko"
        ddir.mkdir(parents=True)
        for o, k in outs.items():
            i = 0 if o == "surface" else 1
            write_kaldi_map(ddir / f"text.{o}", [(u, _hyp(t[i], k, 1, u).replace(" ", "")) for u, t in KO_REFS.items()])
        assert score.main(["--ref_dir", str(ref_dir), "--decode_dir", str(ddir), "--lang", "ko", "--model", model]) == 0
    assert analyze_divergence.main(["--expdir", str(exp), "--dumpdir", str(tmp_path / "dump" / "fbank"),
                                    "--lang_set", "ko=test_ko", "--n_boot", "100"]) == 0
    assert report.main(["--expdir", str(exp), "--lang_set", "ko=test_ko", "--n_boot", "100"]) == 0
    bins = _csv(exp / "analysis" / "divergence" / "bins.csv")
    assert {r["unit"] for r in bins} == {"char"} and {r["metric"] for r in bins} == {"cer"}
    # 가치 가요 / 같이 가요: 2 characters apart (spaces removed); 안녕하세요: 0
    zero = next(r for r in bins if r["output"] == "surface" and r["bin"] == "0")
    assert zero["n"] == "1"
    main = {(r["output"], r["metric"]): r for r in _csv(exp / "report" / "main.csv")}
    assert set(main) == {(o, m) for o in ("surface", "meaning") for m in ("cer", "cer_space")}
    for o in ("surface", "meaning"):
        i = 0 if o == "surface" else 1
        refs = ["".join(KO_REFS[u][i].split()) for u in sorted(KO_REFS)]
        for model, col in ((f"so_{o}", "SO"), ("do", "DO")):
            h = dict(line.rstrip("\n").split(" ", 1) for line in
                     open(exp / f"{model}_ko" / "decode_test_ko" / f"text.{o}", encoding="utf-8"))
            assert main[(o, "cer")][col] == f"{100 * jiwer.cer(refs, [h[u] for u in sorted(KO_REFS)]):.2f}"
    sig = _csv(exp / "report" / "significance.csv")
    assert {r["seeds"] for r in sig} == {"1"} and len(sig) == 4
    # one seed: every DO − SO says it is a single run, and no sentence calls it an effect
    assert all(r["DO − SO"].endswith("(1 run)") for r in main.values())
    readme = (exp / "report" / "README.md").read_text(encoding="utf-8")
    sentences = [line for line in readme.splitlines() if line.startswith("- ")]
    assert sum("In a single run (one seed) in ko" in line for line in sentences) == 2
    assert sum("(a single run of each model, one seed)" in line for line in sentences) == 2
    assert not any(w in readme for w in ("DO raises", "DO lowers", "DO leaves"))
    assert "one seed: each DO − SO is the difference of two single runs" in (exp / "report" / "tables.md").read_text(encoding="utf-8")


def test_branch_table_and_reference_sentences():
    from dualasr.report.report import sentences_cka, sentences_cross
    from dualasr.report.tables import branch_table

    rows = [dict(lang="en", model="do", output="surface", metric="cer", seed=None, decode=d, errors=e, ref_len=100)
            for d, e in (("joint", 10), ("ctc_greedy", 20), ("att_greedy", 40))]
    t = branch_table(rows)
    assert t == [{"lang": "en", "model": "do", "output": "surface", "metric": "cer", "joint": "10.00",
                  "CTC greedy": "20.00", "attention greedy": "40.00"}]
    diag = [dict(lang="ko", model_a=a, model_b=b, layer=layer, cka=c)
            for a, b, layer, c in (("so_surface", "reference", "in", "0.5"), ("so_surface", "reference", "2", "0.80"),
                                   ("so_surface", "so_meaning", "2", "0.60"), ("do", "so_surface", "2", "0.90"))]
    ref = [dict(lang="ko", dir_a="exp/so_surface_ko", seed_a="1", dir_b="exp/so_surface_ko_refseed2", seed_b="2")]
    (s,) = sentences_cka(diag, ref)
    assert s == ("In ko, the reference for the same task, two so_surface models, seed 1 (`so_surface_ko`) and seed 2 "
                 "(`so_surface_ko_refseed2`), has last-layer linear CKA 0.80; against it: so_surface–so_meaning 0.60 "
                 "(below it by 0.20), do–so_surface 0.90 (above it by 0.10).")
    assert "no same-task reference" in sentences_cka([r for r in diag if r["model_b"] != "reference"])[0]
    tf = [dict(lang="ko", output="surface", encoder=e, decoder=d, acc=a, ce=c)
          for e, d, a, c in (("so_surface", "so_surface", "90", "0.3"), ("do", "so_surface", "60", "1.5"),
                             ("do", "do", "88", "0.4"), ("so_surface", "do", "50", "2"))]
    (s,) = sentences_cross([], [], tf)
    assert ("teacher-forced, the so_surface decoder reads the do encoder with token accuracy 60.0 % (cross-entropy "
            "1.50) against 90.0 % (0.30) on its own") in s
    assert "the DO surface decoder reads the so_surface encoder with token accuracy 50.0 %" in s


def test_clipping_sentence_only_where_the_clip_binds_on_the_do_model():
    """The report says what a binding gradient clip does to DO - SO (with the DO / SO gradient-norm ratio), and
    says nothing where the clip seldom binds or a language has no DO or no SO model."""
    from dualasr.report.report import sentence_clipping

    grads = {"so_surface": [(15.0, 97.0, 5.0)], "so_meaning": [(17.0, 98.0, 5.0)], "do": [(24.0, 100.0, 5.0)]}
    s = sentence_clipping("en", grads)
    assert s.startswith("In en, the gradient clip (grad_clip 5) bound on 97-100 % of the last epoch's steps")
    assert "1.5 x its SO models'" in s and "--grad_clip N" in s
    assert sentence_clipping("en", {**grads, "do": [(24.0, 30.0, 5.0)]}) is None
    assert sentence_clipping("en", {"do": grads["do"]}) is None
    assert sentence_clipping("en", {k: v for k, v in grads.items() if k != "do"}) is None


def test_training_audio_names_each_models_augmentation(tmp_path):
    """training_audio: stage 2's record beside the features a model's config.yaml names, in one sentence when
    every model shares it, per model when not; clean features give no sentence; gone features are named."""
    import json

    from dualasr.report.report import training_audio

    rec = {"seed": 1, "purpose": "train", "rir_scp": "r.scp", "rir_apply_prob": 0.5, "noise_scp": None,
           "noise_apply_prob": 0.0, "noise_db_range": None, "copies": 2, "keep_clean": False}

    def model(name, feats_dir, record=None):
        (tmp_path / "exp" / name).mkdir(parents=True)
        (tmp_path / "exp" / name / "config.yaml").write_text(
            f"train_data_path_and_name_and_type:\n-   - {feats_dir}/feats.scp\n    - speech\n    - kaldi_ark\n")
        if record is not None:
            feats_dir.mkdir(parents=True, exist_ok=True)
            (feats_dir / "augmentation.json").write_text(json.dumps(record))
    clean, aug = tmp_path / "dump" / "train_en", tmp_path / "dump" / "train_en_aug"
    clean.mkdir(parents=True)
    model("so_surface_en", aug, rec)
    model("do_en", aug)
    text, recs = training_audio(tmp_path / "exp", ["do", "so_surface"], ["en"])
    assert recs == {"do_en": rec, "so_surface_en": rec}
    assert text == ("Training audio: augmented offline with ESPnet's CommonPreprocessor (stage 2): reverberation "
                    "with probability 0.5, 2 realisations of each utterance.")
    model("so_meaning_en", clean)
    text, recs = training_audio(tmp_path / "exp", ["do", "so_meaning", "so_surface"], ["en"])
    assert recs["so_meaning_en"] is None and "so_meaning_en: no augmentation record" in text and "do_en: reverberation" in text
    assert training_audio(tmp_path / "exp", ["so_meaning"], ["en"])[0] == ""
    model("so_meaning_ko", tmp_path / "gone")
    text, _ = training_audio(tmp_path / "exp", ["so_meaning", "so_surface"], ["en", "ko"])
    assert f"so_meaning_ko: unknown ({tmp_path / 'gone'} is gone)" in text
