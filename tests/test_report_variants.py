"""The report's dual-output variant parts on a hand-written exp/ (two seeds; scored with the real scorer):
CIs in the main table, the variants' divergence figure, the sparsity table, the generated sentences."""

import csv

from dualasr.bin import analyze_divergence, report
from test_report import scored_exp

# character drops per hypothesis: do_hier beats SO on surface, do_adv loses on both
EDITS = {"so_surface": 1, "so_meaning": 1, "do": 2, "do_hier": 0, "do_adv": 3}


def test_variants_in_main_table_figure_and_sentences(tmp_path):
    exp = scored_exp(tmp_path, EDITS)
    (exp / "do_adv_en_seed1" / "sparsity.csv").write_text(  # as dualasr.bin.residual_sparsity writes it
        "output,entries,tol,sparsity,l1,max_abs\nsurface,100,0.001,0.25,1.5,0.1\nmeaning,100,0.001,0.5,1.0,0.1\n")
    common = ["--expdir", str(exp), "--dumpdir", str(tmp_path / "dump" / "fbank"), "--lang_set", "en=test_en",
              "--bins", "0,1-2,3+", "--n_boot", "200"]
    assert analyze_divergence.main(common) == 0
    for m in ("do_hier", "do_adv"):
        assert analyze_divergence.main(common + ["--do_model", m, "--outdir", str(exp / "analysis" / "divergence" / "models" / m)]) == 0
    assert report.main(["--expdir", str(exp), "--lang_set", "en=test_en", "--n_boot", "200"]) == 0
    out = exp / "report"
    with open(out / "main.csv", encoding="utf-8") as f:
        main = {(r["output"], r["metric"]): r for r in csv.DictReader(f)}
    with open(out / "variants_significance.csv", encoding="utf-8") as f:
        sig = {(r["model"], r["output"], r["metric"]): r for r in csv.DictReader(f)}
    cell = main[("surface", "cer")]["do_hier − SO"]
    r = sig[("do_hier", "surface", "cer")]
    assert cell.endswith(f"[{r['ci_low']}, {r['ci_high']}]") and float(r["delta"]) < 0
    assert "[" not in main[("meaning", "cer")]["DO − SO"] and ("do", "meaning", "cer") in sig
    assert (out / "figures" / "variants" / "divergence_surface_cer.png").stat().st_size > 1000
    text = (out / "README.md").read_text(encoding="utf-8")
    section = text.split("## 5. Dual-output variants", 1)[1]
    line = next(s for s in section.splitlines() if s.startswith("- In en"))
    keeps, others = line.split("the others:")
    assert "do_hier (surface" in keeps and "do_adv" in others and "do_adv" not in keeps
    assert "do_adv_en_seed1: 25.0 % of the surface residual's 100 entries" in section
    assert "figures/variants/divergence_surface_cer.png" in section
    with open(out / "residual_sparsity.csv", encoding="utf-8") as f:
        assert [r["output"] for r in csv.DictReader(f)] == ["surface", "meaning"]


def test_single_run_variant_sentence_says_so():
    """With one seed per model, the variants sentence names the differences as single runs, not findings."""
    from dualasr.report.variants import sentences_variants

    def row(model, output, errors):
        return {"lang": "en", "model": model, "output": output, "metric": "cer", "errors": errors, "ref_len": 100,
                "seed": None, "test_set": "test_en"}

    rows = [row("so_surface", "surface", 5), row("so_meaning", "meaning", 8), row("do", "surface", 6),
            row("do", "meaning", 7), row("do_hier", "surface", 4), row("do_hier", "meaning", 7)]
    (line,) = sentences_variants(rows, [])
    assert "do_hier (surface -1.00" in line and "single runs (one seed of each model)" in line
    rows += [{**r, "seed": 2, "errors": r["errors"] + 1} for r in rows]
    (line,) = sentences_variants([{**r, "seed": r["seed"] or 1} for r in rows], [])
    assert "single runs" not in line
