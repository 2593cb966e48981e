"""Decoding: a DO model encodes once and gives the same hypotheses as decoding each output alone (in
every decode mode); the batched CTC prefix beam search; and the decode CLI's robustness (too-short
utterances, unknown config keys, a killed job that resumes)."""

import itertools
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch
import yaml

from dualasr.bin import dual_asr_inference as inference
from dualasr.bin.dual_asr_inference import DECODE_MODES, DualSpeech2Text, ctc_prefix_beam_search
from model_utils import build_args, build_model

REPO = Path(__file__).resolve().parents[1]


def count_encoder_calls(model):
    calls = {"n": 0}
    forward = model.encoder.forward

    def counting(*args, **kwargs):
        calls["n"] += 1
        return forward(*args, **kwargs)

    model.encoder.forward = counting
    return calls


@pytest.mark.parametrize("mode, extra", [(m, {}) for m in DECODE_MODES]
                         + [("ctc_rescore", {"rescore_nbest": 10, "length_bonus": 1.0, "rescore_margin": 2.0}),
                            ("ctc_rescore", {"length_bonus": 1.0, "attention_candidate": ["surface", "meaning"]})])
def test_joint_decode_equals_separate_and_encodes_once(mode, extra):
    model = build_model(("surface", "meaning"), seed=3)
    feats = [torch.randn(60, 20, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    joint = DualSpeech2Text(model, beam_size=3, maxlenratio=0.3, decode_mode=mode, **extra)
    calls = count_encoder_calls(model)
    joint_hyps = [joint(f) for f in feats]
    assert calls["n"] == len(feats), "a DO model must run its encoder once per utterance"
    assert all(set(h) == {"surface", "meaning"} for h in joint_hyps)

    for o in ("surface", "meaning"):
        alone = DualSpeech2Text(model, beam_size=3, maxlenratio=0.3, outputs=[o], decode_mode=mode, **extra)
        calls["n"] = 0
        hyps = [alone(f)[o] for f in feats]
        assert calls["n"] == len(feats)
        assert hyps == [h[o] for h in joint_hyps]


@pytest.mark.parametrize("beam, ctc_weight, maxlenratio", [(4, 0.3, 0.0), (4, 0.5, 0.0), (4, 0.5, 0.4), (4, 0.0, 0.4),
                                                        (4, 1.0, 0.4), (1, 0.0, 0.0), (1, 0.5, 0.0)])
@pytest.mark.parametrize("stacked", [True, False], ids=["stacked", "espnet_step"])
def test_joint_batch_gives_espnet_beam_search_hypotheses(beam, ctc_weight, maxlenratio, stacked, monkeypatch):
    """joint_batch is ESPnet's joint CTC/attention beam search batched over utterances and outputs: a
    batch of utterances of different lengths gets the hypotheses of beam_search (ESPnet's BatchBeamSearch,
    one utterance and one output at a time), with ESPnet's end detection (maxlenratio 0) or a maxlen, with
    the CTC or the decoder alone, and greedy (beam 1; stage 9's attention-only greedy decoding). The two
    outputs' vocabularies differ in size (their <sos/eos> ids too). The decoders run stacked, or (decoders
    that do not stack) through ESPnet's forward_one_step, one output at a time."""
    if not stacked:
        monkeypatch.setattr(inference, "stackable", lambda decoders: False)
    model = build_model(("surface", "meaning"), seed=11)
    feats = [torch.randn(n, 20, generator=torch.Generator().manual_seed(n)) for n in (31, 58, 44, 70, 52, 37)]
    kw = dict(beam_size=beam, ctc_weight=ctc_weight, maxlenratio=maxlenratio)
    ref = [DualSpeech2Text(model, decode_mode="beam_search", **kw)(f) for f in feats]
    s2t = DualSpeech2Text(model, decode_mode="joint_batch", **kw)
    assert s2t.decode_batch(feats) == ref
    assert any(h[o] for h in ref for o in h), "empty hypotheses: the test would show nothing"
    # outputs of unequal numbers of streams (each output's decoder stepped on its own)
    enc = s2t.encode_each(feats[:3], ["a", "b", "c"])
    ids = s2t._lockstep_search([("surface", e["surface"]) for e in enc] + [("meaning", enc[1]["meaning"])])
    assert [s2t.text("surface", i) for i in ids[:3]] == [r["surface"] for r in ref[:3]]
    assert s2t.text("meaning", ids[3]) == ref[1]["meaning"]


@pytest.mark.parametrize("mode", ["joint_batch", "ctc_rescore"])
def test_batched_modes_encode_each_utterance_alone(mode):
    """One encoder pass per utterance, so that a hypothesis does not depend on its batch-mates' padding (a
    batch of different lengths decodes as one utterance at a time)."""
    model = build_model(("surface", "meaning"), seed=5)
    feats = [torch.randn(n, 20, generator=torch.Generator().manual_seed(n)) for n in (40, 64, 52, 33)]
    s2t = DualSpeech2Text(model, beam_size=3, decode_mode=mode)
    calls = count_encoder_calls(model)
    batched = s2t.decode_batch(feats)
    assert calls["n"] == len(feats)
    assert batched == [s2t(f) for f in feats]


def test_rescore_margin_bounds_which_prefixes_are_rescored():
    model = build_model(("surface", "meaning"), seed=5)
    feats = [torch.randn(64, 20, generator=torch.Generator().manual_seed(n)) for n in range(3)]

    def hyps(**kw):
        return DualSpeech2Text(model, beam_size=4, decode_mode="ctc_rescore", **kw).decode_batch(feats)

    assert hyps(rescore_margin=1e9) == hyps()  # every prefix within the margin: all rescored
    assert hyps(rescore_margin=0.0) == hyps(ctc_weight=1.0)  # only the best CTC prefix: nothing to rescore
    assert hyps() != hyps(ctc_weight=1.0), "this model's decoders must change some hypothesis"


def test_ctc_rescore_picks_from_the_ctc_nbest_of_rescore_nbest_with_the_length_bonus():
    """The candidates are the ``rescore_nbest`` best CTC prefixes (not ``beam_size`` of them), and
    ``length_bonus`` is added per token: a large bonus picks the longest candidate, a large malus the
    shortest, and a 10-best offers a longer one than a 4-best (the right hypothesis is recovered from
    a deeper n-best: with n-best 4 it was missing in most utterances where ctc_rescore lost to
    beam_search on the demo models)."""
    model = build_model(("surface", "meaning"), seed=5).eval()
    feats = [torch.randn(64, 20, generator=torch.Generator().manual_seed(n)) for n in range(4)]

    def nbest(s2t, x, o, n):
        with torch.no_grad():
            enc, elens = model.encode(x[None], torch.tensor([x.shape[0]]))[o]
            lp = model.ctcs[o].log_softmax(enc)
        lp[:, :, len(model.token_lists[o]) - 1] = float("-inf")
        pref, plen, score = ctc_prefix_beam_search(lp, elens, n)
        return [(s2t.text(o, pref[0, j, : plen[0, j]].tolist()), int(plen[0, j])) for j in range(n)
                if torch.isfinite(score[0, j])]

    longer_in_10 = 0
    for x in feats:
        for n in (4, 10):
            for sign, pick in ((1.0, max), (-1.0, min)):
                s2t = DualSpeech2Text(model, beam_size=4, rescore_nbest=n, length_bonus=sign * 1e3,
                                      ctc_weight=0.5, decode_mode="ctc_rescore")
                hyp = s2t(x)
                for o in model.outputs:
                    cands = nbest(s2t, x, o, n)
                    want = pick(length for _, length in cands)
                    assert hyp[o] in {t for t, length in cands if length == want}, (n, sign, o, hyp[o], cands)
        s2t = DualSpeech2Text(model, beam_size=4, decode_mode="ctc_rescore")
        longer_in_10 += any(max(length for _, length in nbest(s2t, x, o, 10))
                            > max(length for _, length in nbest(s2t, x, o, 4)) for o in model.outputs)
    assert longer_in_10, "some 10-best must hold a longer prefix than the 4-best, or this test shows nothing"


def test_attention_candidate_is_the_greedy_attention_hypothesis_scored_like_the_ctc_nbest():
    """``attention_candidate``: the batched greedy search gives ESPnet's attention-only beam search of
    beam 1 (stage 9's att_greedy), its score is ctc_weight x exact CTC + the rest x attention + bonus,
    and it replaces the n-best's pick exactly when it scores higher."""
    model = build_model(("surface", "meaning"), seed=5).eval()
    feats = [torch.randn(n, 20, generator=torch.Generator().manual_seed(n)) for n in (64, 50, 72)]
    greedy = DualSpeech2Text(model, beam_size=1, ctc_weight=0.0, decode_mode="beam_search")
    plain = DualSpeech2Text(model, beam_size=4, decode_mode="ctc_rescore", ctc_weight=0.5, length_bonus=0.5)
    with_att = DualSpeech2Text(model, beam_size=4, decode_mode="ctc_rescore", ctc_weight=0.5, length_bonus=0.5,
                               attention_candidate=["meaning"])
    changed = 0
    for x in feats:
        with torch.no_grad():
            enc = model.encode(x[None], torch.tensor([x.shape[0]]))
            o = "meaning"
            lp = model.ctcs[o].log_softmax(enc[o][0])
            lp[:, :, len(model.token_lists[o]) - 1] = float("-inf")
            hyps, scores = with_att._attention_candidates(o, enc[o], lp)
        assert with_att.text(o, hyps[0]) == greedy(x)[o]
        ids = torch.tensor([hyps[0]], dtype=torch.long).reshape(1, -1)
        ctc = -torch.nn.functional.ctc_loss(lp.transpose(0, 1), ids, enc[o][1], torch.tensor([len(hyps[0])]),
                                            reduction="none")
        att = with_att._attention_scores(o, enc[o], torch.tensor([0]), ids, torch.tensor([len(hyps[0])]))
        assert scores[0] == pytest.approx(float(0.5 * ctc + 0.5 * att + 0.5 * len(hyps[0])), abs=1e-3)
        a, b = with_att(x), plain(x)
        assert a["surface"] == b["surface"]  # only the outputs named get the candidate
        assert a[o] in (b[o], greedy(x)[o])
        changed += a[o] != b[o]
    assert changed, "the greedy hypothesis must win somewhere, or this test shows nothing"


def test_ctc_prefix_beam_search_gives_exact_prefix_probabilities():
    """With a beam that holds every prefix, each prefix's score is its CTC probability (torch's ctc_loss)."""
    torch.manual_seed(0)
    logp = torch.randn(2, 5, 3).log_softmax(-1)
    lengths = torch.tensor([5, 3])
    pref, plen, score = ctc_prefix_beam_search(logp, lengths, beam=63)
    for s in range(2):
        got = {tuple(pref[s, j, : plen[s, j]].tolist()): float(score[s, j]) for j in range(63)
               if torch.isfinite(score[s, j])}
        n_feasible = 0
        for n in range(int(lengths[s]) + 1):
            for seq in itertools.product([1, 2], repeat=n):
                ref = -torch.nn.functional.ctc_loss(
                    logp[s : s + 1, : lengths[s]].transpose(0, 1), torch.tensor([list(seq)], dtype=torch.long),
                    lengths[s : s + 1], torch.tensor([n]), reduction="sum")
                if torch.isfinite(ref):
                    n_feasible += 1
                    assert got[seq] == pytest.approx(float(ref), abs=1e-4), seq
        assert len(got) == n_feasible


def test_ctc_prefix_beam_search_keeps_the_best_prefix():
    """A peaky CTC output: the search returns the collapsed best path first."""
    path = [1, 1, 0, 2, 2, 0, 2, 1]  # -> 1 2 2 1
    logp = torch.full((1, len(path), 3), -8.0)
    for t, c in enumerate(path):
        logp[0, t, c] = 0.0
    logp = logp.log_softmax(-1)
    pref, plen, score = ctc_prefix_beam_search(logp, torch.tensor([len(path)]), beam=4)
    best = int(score[0].argmax())
    assert pref[0, best, : plen[0, best]].tolist() == [1, 2, 2, 1]


def test_branch_model_decodes_both_outputs():
    model = build_model(("surface", "meaning"), branch=1, seed=4)
    for mode in DECODE_MODES:
        hyp = DualSpeech2Text(model, beam_size=2, maxlenratio=0.3, decode_mode=mode)(torch.randn(50, 20))
        assert set(hyp) == {"surface", "meaning"}


def test_unknown_output_is_refused():
    model = build_model(("surface",))
    with pytest.raises(ValueError, match="not meaning"):
        DualSpeech2Text(model, outputs=["meaning"])


def test_cli_prints_the_decode_settings_stage_8_records(tmp_path):
    """Stage 8 records a decode's settings (not the config file's bytes): a comment or the key order does
    not change them, a value does, and a bad config is the one-line error of decoding."""
    def settings(text: str) -> subprocess.CompletedProcess:
        conf = tmp_path / "decode.yaml"
        conf.write_text(text)
        env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        return subprocess.run([sys.executable, "-m", "dualasr.bin.dual_asr_inference", "--print_settings",
                               "--inference_config", str(conf)], capture_output=True, text=True, env=env)

    base = settings("beam_size: 4\nctc_weight: 0.3\n")
    assert base.returncode == 0 and base.stdout.strip() == '{"beam_size": 4, "ctc_weight": 0.3}'
    assert settings("# tuned\nctc_weight: 0.3   # joint\nbeam_size: 4\n").stdout == base.stdout
    assert settings("beam_size: 8\nctc_weight: 0.3\n").stdout != base.stdout
    bad = settings("beamsize: 3\n")
    assert bad.returncode != 0 and "beamsize" in bad.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("mode", DECODE_MODES)
def test_too_short_utterance_gets_an_empty_hypothesis_and_a_warning(mode, caplog):
    model = build_model(("surface", "meaning"), seed=3)
    s2t = DualSpeech2Text(model, beam_size=2, maxlenratio=0.3, decode_mode=mode)
    feats = [torch.randn(50, 20), torch.randn(4, 20), torch.randn(45, 20)]
    with caplog.at_level(logging.WARNING):
        hyps = s2t.decode_batch(feats, keys=["u1", "tiny_utt", "u3"])
    assert hyps[1] == {"surface": "", "meaning": ""}
    assert hyps[0] == s2t(feats[0]) and hyps[2] == s2t(feats[2])
    assert any("tiny_utt" in r.getMessage() and "too short" in r.getMessage() for r in caplog.records)


# ---- the decode CLI on a model saved like a trained one ----

def saved_model(d: Path, n_utts: int = 6, short: int = 1, step: int = 7):
    """A model's config.yaml and weights, and a feats.scp of ``n_utts`` utterances (``short`` too short)."""
    d.mkdir(parents=True, exist_ok=True)
    args = build_args(("surface", "meaning"))
    torch.manual_seed(3)
    model = inference.DualASRTask.build_model(args)
    (d / "config.yaml").write_text(yaml.safe_dump(vars(args), allow_unicode=True))
    torch.save(model.state_dict(), d / "model.pth")
    g = np.random.default_rng(0)
    with kaldiio.WriteHelper(f"ark,scp:{d}/feats.ark,{d}/feats.scp") as w:
        for i in range(n_utts):
            frames = 3 if i < short else 40 + step * i
            w[f"utt{i:02d}"] = g.standard_normal((frames, 20)).astype(np.float32)
    return d


def cli(d: Path, out: str, *extra: str, **kw) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "dualasr.bin.dual_asr_inference", "--config", str(d / "config.yaml"),
           "--model_file", str(d / "model.pth"), "--data", str(d / "feats.scp"), "--output_dir", str(d / out),
           *extra]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)


def test_cli_unknown_decode_config_key_is_a_one_line_error(tmp_path):
    d = saved_model(tmp_path / "m")
    conf = tmp_path / "my_decode.yaml"
    conf.write_text("beam_size: 2\nbeamsize: 3\n")
    res = cli(d, "out", "--inference_config", str(conf))
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert "beamsize" in last and str(conf) in last and "Traceback" not in res.stderr


@pytest.mark.parametrize("mode", DECODE_MODES)
def test_cli_decodes_and_resumes_where_it_stopped(tmp_path, mode):
    d = saved_model(tmp_path / "m", n_utts=8)
    conf = tmp_path / "decode.yaml"
    conf.write_text(f"beam_size: 2\nctc_weight: 0.5\nmaxlenratio: 0.3\ndecode_mode: {mode}\nbatch_size: 2\n")
    full = cli(d, "full", "--inference_config", str(conf))
    assert full.returncode == 0, full.stderr[-2000:]
    assert "utt00" in full.stderr and "too short" in full.stderr
    assert (d / "full/.done").is_file()
    ref = {o: sorted((d / f"full/text.{o}").read_text().splitlines()) for o in ("surface", "meaning")}
    assert len(ref["surface"]) == 8 and "utt00" in [line.split(" ", 1)[0] for line in ref["surface"]]

    # a job killed after some utterances (here: its files as a kill leaves them, one line cut short)
    part = d / "part"
    part.mkdir()
    for o in ("surface", "meaning"):
        lines = (d / f"full/text.{o}").read_text().splitlines(keepends=True)
        keep = lines[:3] if o == "surface" else lines[:2]
        (part / f"text.{o}").write_text("".join(keep) + lines[4][:5])
    res = cli(d, "part", "--inference_config", str(conf))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "2 utterances already decoded" in res.stderr and "decoded 6 utterances" in res.stderr
    for o in ("surface", "meaning"):
        assert sorted((part / f"text.{o}").read_text().splitlines()) == ref[o]


def test_cli_kill_and_resume_equals_an_uninterrupted_run(tmp_path):
    """A real kill: SIGKILL the decode once it has written some hypotheses, re-run, compare."""
    d = saved_model(tmp_path / "m", n_utts=30, short=0, step=1)
    conf = tmp_path / "decode.yaml"
    conf.write_text("beam_size: 2\nctc_weight: 0.5\nmaxlenratio: 0.3\ndecode_mode: beam_search\n")
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [sys.executable, "-m", "dualasr.bin.dual_asr_inference", "--config", str(d / "config.yaml"),
           "--model_file", str(d / "model.pth"), "--data", str(d / "feats.scp"), "--output_dir", str(d / "killed"),
           "--inference_config", str(conf)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = d / "killed/text.meaning"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if out.is_file() and len(out.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail("the decode finished before it could be killed; give it more utterances")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (d / "killed/.done").exists()
    n_before = len(out.read_text().splitlines())
    assert 3 <= n_before < 30
    res = cli(d, "killed", "--inference_config", str(conf))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "already decoded" in res.stderr
    full = cli(d, "full", "--inference_config", str(conf))
    assert full.returncode == 0, full.stderr[-2000:]
    for o in ("surface", "meaning"):
        got = sorted((d / f"killed/text.{o}").read_text().splitlines())
        assert got == sorted((d / f"full/text.{o}").read_text().splitlines())
        assert len(got) == 30


def test_stage8_uses_the_decode_config_path_as_given(tmp_path):
    """--inference_config with a / is that file (not conf/<its basename>); a bare name is looked up in conf/."""
    from mini_l2_run import recipe_copy

    rdir = recipe_copy(tmp_path / "asr1")
    mine = tmp_path / "elsewhere" / "decode.yaml"
    mine.parent.mkdir()
    mine.write_text("beam_size: 2\n")

    def stage8(conf):
        res = subprocess.run(["./run.sh", "--langs", "en", "--models", "so_surface", "--stage", "8", "--stop_stage", "8",
                              "--inference_config", conf], cwd=rdir, capture_output=True, text=True,
                             env={**os.environ, "cmd_backend": "local"})
        return res.returncode, res.stdout + res.stderr

    rc, out = stage8(str(mine))  # goes on to decode (and stops there: this recipe copy has no data)
    assert f"decode config: {mine}\n" in out
    rc, out = stage8("decode.yaml")
    assert f"decode config: {REPO}/conf/decode.yaml\n" in out
    rc, out = stage8(str(tmp_path / "missing" / "decode.yaml"))
    assert rc != 0 and f"--inference_config {tmp_path}/missing/decode.yaml: no such file" in out
    rc, out = stage8("nothere.yaml")
    assert rc != 0 and "no config nothere.yaml in conf/" in out


@pytest.mark.parametrize("partial", [True, False], ids=["pre_beam", "full_vocabulary"])
def test_batched_ctc_prefix_scores_are_espnet_ctc_prefix_score_th(partial):
    """The lockstep search's CTC prefix scorer (its frame loop in closed form, its per-hypothesis loops as
    tensor operations) gives ESPnet's CTCPrefixScoreTH scores, step after step, for utterances of
    different lengths (padded frames), with a pre-beam of scored ids or the whole vocabulary."""
    from espnet.nets.ctc_prefix_score import CTCPrefixScoreTH

    g = torch.Generator().manual_seed(3)
    n_utt, hyps, odim, eos = 3, 2, 7, 6
    lens = torch.tensor([9, 14, 11])
    x = torch.randn(n_utt, 14, odim, generator=g).mul(3).log_softmax(-1)
    ours, ref = inference._BatchedCTCPrefixScore(x.clone(), lens, 0, eos), CTCPrefixScoreTH(x.clone(), lens, 0, eos)
    y = torch.full((n_utt * hyps, 1), eos)
    s_ours = s_ref = None
    for step in range(6):
        ids = torch.topk(torch.randn(n_utt * hyps, odim, generator=g), 4, dim=-1)[1] if partial else None
        got, full_ours = ours(y, s_ours, ids)
        want, full_ref = ref([row for row in y], s_ref, ids)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-3)
        # extend each utterance's hypotheses by a scored, non-blank id of any of its hypotheses
        cand = (ids if partial else torch.arange(1, odim).expand(n_utt * hyps, -1))
        best = torch.zeros(n_utt, hyps, dtype=torch.long)
        for u in range(n_utt):
            for j in range(hyps):
                k = int(torch.randint(0, hyps, (1,), generator=g))
                best[u, j] = k * odim + int(cand[u * hyps + k, int(torch.randint(0, cand.shape[1], (1,), generator=g))])
        best = torch.where(best % odim == 0, best + 1, best)  # not the blank
        s_ours, s_ref = ours.index_select_state(full_ours, best), ref.index_select_state(full_ref, best)
        prev = (torch.arange(n_utt)[:, None] * hyps + best // odim).view(-1)
        y = torch.cat([y[prev], (best % odim).view(-1, 1)], dim=1)
