"""Joint decoding: a DO model encodes once and gives the same hypotheses as decoding each output alone."""

import torch

from dualasr.bin.dual_asr_inference import DualSpeech2Text
from model_utils import build_model


def count_encoder_calls(model):
    calls = {"n": 0}
    forward = model.encoder.forward

    def counting(*args, **kwargs):
        calls["n"] += 1
        return forward(*args, **kwargs)

    model.encoder.forward = counting
    return calls


def test_joint_decode_equals_separate_and_encodes_once():
    model = build_model(("surface", "meaning"), seed=3)
    feats = [torch.randn(60, 20, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    joint = DualSpeech2Text(model, beam_size=3, maxlenratio=0.3)
    calls = count_encoder_calls(model)
    joint_hyps = [joint(f) for f in feats]
    assert calls["n"] == len(feats), "a DO model must run its encoder once per utterance"
    assert all(set(h) == {"surface", "meaning"} for h in joint_hyps)

    for o in ("surface", "meaning"):
        alone = DualSpeech2Text(model, beam_size=3, maxlenratio=0.3, outputs=[o])
        calls["n"] = 0
        hyps = [alone(f)[o] for f in feats]
        assert calls["n"] == len(feats)
        assert hyps == [h[o] for h in joint_hyps]


def test_branch_model_decodes_both_outputs():
    model = build_model(("surface", "meaning"), branch=1, seed=4)
    hyp = DualSpeech2Text(model, beam_size=2, maxlenratio=0.3)(torch.randn(50, 20))
    assert set(hyp) == {"surface", "meaning"}


def test_unknown_output_is_refused():
    model = build_model(("surface",))
    try:
        DualSpeech2Text(model, outputs=["meaning"])
    except ValueError as e:
        assert "not meaning" in str(e)
    else:
        raise AssertionError("expected a ValueError")
