"""Every dual-output variant (do_hier, do_adapter, do_pcgrad, do_adv, do_sparse) trains for one epoch and
decodes the test set through the recipe (stages 7-9), on the prepared tiny English data of the suite's one
tiny run (the ``tiny_recipe`` fixture: stages 1-6 copied, nothing prepared again)."""

import json

import pytest
from tiny_recipe import copy_recipe, run_recipe

VARIANTS = ("do_hier", "do_adapter", "do_pcgrad", "do_adv", "do_sparse")


@pytest.mark.slow
def test_every_variant_trains_decodes_and_scores(tiny_recipe, tmp_path):
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    run_recipe(rdir, "--stage", "7", "--stop_stage", "9", "--models", " ".join(VARIANTS),
                     "--train_args", "--max_epoch 1")
    n_test = sum(1 for _ in open(rdir / "dump" / "fbank" / "test_en" / "feats.scp"))
    for m in VARIANTS:
        d = rdir / "exp" / f"{m}_en"
        for o in ("surface", "meaning"):
            hyps = (d / "decode_test_en" / f"text.{o}").read_text().splitlines()
            assert len(hyps) == n_test, f"{m}: {len(hyps)} {o} hypotheses for {n_test} test utterances"
        rows = [r for f in d.glob("decode_test_en/score_*/score.json") for r in json.loads(f.read_text())]
        assert {r["output"] for r in rows} == {"surface", "meaning"} and {r["model"] for r in rows} == {m}
    # the PCGrad model trained through the PCGrad trainer, and reported its conflicts
    assert "pcgrad_conflict" in (rdir / "exp" / "do_pcgrad_en" / "train.log").read_text()
    # do_sparse: each residual's sparsity, written to the model dir when training ended
    d = rdir / "exp" / "do_sparse_en"
    sp = (d / "sparsity.csv").read_text().splitlines()
    assert sp[0] == "output,entries,tol,sparsity,l1,max_abs,model_file"
    assert [x.split(",")[0] for x in sp[1:]] == ["surface", "meaning"]
    assert all(0.0 <= float(x.split(",")[3]) <= 1.0 and float(x.split(",")[4]) > 0 for x in sp[1:])
    assert "do_sparse_en: surface residual" in (d / "train.log").read_text()
