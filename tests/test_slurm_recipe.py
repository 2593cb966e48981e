"""The recipe on the real one-node Slurm cluster: decoding (stage 8, array jobs submitted by
utils/slurm.sh) and scoring (stage 9) with ``cmd_backend=slurm`` give the same hypotheses and the same
exp/results.json as the local run of the same trained model (tiny config, English, DO model).
"""

from __future__ import annotations

import json
import re

import pytest
from tiny_recipe import copy_recipe, run_recipe

from dualasr import OUTPUTS



@pytest.fixture(scope="module")
def decoded_locally(mini_l2_tiny, tmp_path_factory):
    """A private copy of the suite's shared tiny run, whose English DO model was trained, decoded and
    scored on this machine (the local backend)."""
    return copy_recipe(mini_l2_tiny, tmp_path_factory.mktemp("slurm_recipe") / "asr1")


@pytest.mark.slow
def test_decode_and_score_on_slurm_match_local_run(slurm_cluster, decoded_locally):
    rdir = decoded_locally
    ddir = rdir / "exp/do_en/decode_test_en"
    local_hyps = {o: (ddir / f"text.{o}").read_text(encoding="utf-8") for o in OUTPUTS}
    local_results = json.loads((rdir / "exp/results.json").read_text(encoding="utf-8"))
    n_test = len((rdir / "dump/fbank/test_en/feats.scp").read_text().splitlines())
    for o in OUTPUTS:
        lines = local_hyps[o].splitlines()
        assert len(lines) == n_test, (o, lines)
        assert any(len(line.split(maxsplit=1)) == 2 for line in lines), f"every {o} hypothesis is empty"
    assert {(r["output"], r["metric"]) for r in local_results if (r["model"], r["lang"]) == ("do", "en")} == {
        (o, m) for o in OUTPUTS for m in ("cer", "wer")}
    assert not (ddir / "logdir/q").exists(), "the local run must not have gone through Slurm"

    out = run_recipe(rdir, "--stage", "8", "--stop_stage", "9", "--force", "true",
                     env={**slurm_cluster.env, "cmd_backend": "slurm"}, log_name="slurm.log")

    # stage 8 ran as one Slurm array job of nj=2 tasks; each task log ends with code 0
    submit = (ddir / "logdir/q/decode.submit.log").read_text()
    assert re.search(r"--array=1-2\b", submit) and re.search(r"^\d+", submit.splitlines()[1]), submit
    for i in (1, 2):
        assert "# Ended (code 0)" in (ddir / f"logdir/decode.{i}.log").read_text()
    assert "Stage 9" in out
    for o in OUTPUTS:
        assert (ddir / f"text.{o}").read_text(encoding="utf-8") == local_hyps[o], o
    assert json.loads((rdir / "exp/results.json").read_text(encoding="utf-8")) == local_results
