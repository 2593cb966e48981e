"""Encoder-layer extraction, teacher-forced decoder states and decoder swaps on small real models."""

import numpy as np
import pytest
import torch

from dualasr.analysis.cross_decoder import decoder_states, swap_in, swap_problem
from dualasr.analysis.encoder import cka_matrix, encoder_layers, frame_choice
from dualasr.tasks.dual_asr import DualASRTask
from model_utils import MEANING_TOKENS, SURFACE_TOKENS, build_model


def _feats(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return {f"spk1-u{i}": rng.standard_normal((30 + 7 * i, 20)).astype(np.float32) for i in range(n)}


def _ids(feats, vocab, seed=1):
    rng = np.random.default_rng(seed)
    return {u: rng.integers(2, len(vocab) - 1, size=3 + i).tolist() for i, u in enumerate(feats)}


def test_encoder_layers_shapes_and_cap():
    model = build_model(outputs=("surface",), num_blocks=2).eval()
    feats = _feats()
    got = encoder_layers(model, feats, max_frames=10_000)
    assert len(got["layers"]) == 3  # input to block 1, then blocks 1 and 2
    n = sum(got["frames"].values())
    assert all(x.shape == (n, 16) for x in got["layers"])
    capped = encoder_layers(model, feats, max_frames=8)
    assert all(v <= 2 for v in capped["frames"].values())  # ceil(8 / 4 utterances)
    # a model compared with itself: CKA 1 on the diagonal
    m = cka_matrix(got["layers"], got["layers"], batch=16)
    assert np.allclose(np.diag(m), 1.0, atol=1e-6)


def test_frame_choice_is_reproducible_and_sorted():
    a, b = frame_choice(50, 7, seed=3, index=2), frame_choice(50, 7, seed=3, index=2)
    assert (a == b).all() and (np.diff(a) > 0).all() and len(a) == 7
    assert (frame_choice(5, 7, 0, 0) == np.arange(5)).all()


def test_decoder_states_pooling_matches_manual_attention():
    model = build_model(outputs=("surface", "meaning")).eval()
    feats = _feats(2)
    ids = _ids(feats, SURFACE_TOKENS)
    got = decoder_states(model, "surface", feats, ids, max_tokens=10_000)
    assert got["tokens"] == {u: len(ids[u]) + 1 for u in feats}
    # recompute the first utterance by hand: decoder forward, then mean over heads of src_attn weights
    u = next(iter(feats))
    x = torch.as_tensor(feats[u]).unsqueeze(0)
    with torch.no_grad():
        enc, lens = model.encode(x, torch.tensor([x.shape[1]]))["surface"]
        ys = torch.tensor([[len(SURFACE_TOKENS) - 1] + ids[u]])
        model.decoders["surface"](enc, lens, ys, torch.tensor([ys.shape[1]]))
    attn = model.decoders["surface"].decoders[-1].src_attn.attn[0].mean(0)
    assert np.allclose(got["pooled"][-1][: ys.shape[1]], (attn @ enc[0]).double().numpy(), atol=1e-5)


def test_swap_copies_decoder_and_ctc():
    do = build_model(outputs=("surface", "meaning"), seed=1).eval()
    so = build_model(outputs=("surface",), seed=2).eval()
    feats = _feats(3)
    ids = _ids(feats, SURFACE_TOKENS)
    before = decoder_states(so, "surface", feats, ids)
    assert swap_problem(so, do, "surface") is None
    swap_in(so, do, "surface")
    for k, v in do.decoders["surface"].state_dict().items():
        assert torch.equal(so.decoders["surface"].state_dict()[k], v)
    assert torch.equal(so.ctcs["surface"].ctc_lo.weight, do.ctcs["surface"].ctc_lo.weight)
    # with the encoder copied too, SO now computes exactly what DO computes
    so.encoder.load_state_dict(do.encoder.state_dict())
    after, ref = decoder_states(so, "surface", feats, ids), decoder_states(do, "surface", feats, ids)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(after["layers"], ref["layers"]))
    assert not all(np.allclose(a, b, atol=1e-5) for a, b in zip(before["layers"], ref["layers"]))
    m = cka_matrix(after["layers"], ref["layers"], batch=8)
    assert np.allclose(np.diag(m), 1.0, atol=1e-6)


def _model_with_width(width):
    args = DualASRTask.get_parser().parse_args([
        "--output_dir", "/tmp/unused", "--input_size", "20", "--encoder", "transformer",
        "--encoder_conf", f"{{output_size: {width}, attention_heads: 2, linear_units: 32, num_blocks: 1}}",
        "--decoder", "transformer", "--decoder_conf", "{attention_heads: 2, linear_units: 32, num_blocks: 1}",
        "--model_conf", "outputs=[surface,meaning]",
    ])
    args.token_list_surface, args.token_list_meaning = SURFACE_TOKENS, MEANING_TOKENS
    return DualASRTask.build_model(args)


def test_swap_problems_are_named():
    a, b = _model_with_width(16), _model_with_width(24)
    assert "encoder output sizes differ: 16 (target) vs 24 (donor)" in swap_problem(a, b, "surface")
    so = build_model(outputs=("meaning",))
    assert "has no surface output" in swap_problem(so, a, "surface")
    c = build_model(outputs=("surface", "meaning"))
    c.token_lists["surface"] = SURFACE_TOKENS[:-2] + ["e", "<sos/eos>"]
    assert "token lists differ" in swap_problem(c, build_model(outputs=("surface",)), "surface")
    with pytest.raises(ValueError, match="cannot swap the surface decoder"):
        swap_in(a, b, "surface")


def test_encoder_layers_follow_a_branch():
    model = build_model(outputs=("surface", "meaning"), branch=1, num_blocks=2).eval()
    with torch.no_grad():  # the branches start as copies of one block: make the meaning branch differ
        for p in model.branches["meaning"].parameters():
            p.add_(0.1)
    feats = _feats(2)
    surf = encoder_layers(model, feats, output="surface")
    mean = encoder_layers(model, feats, output="meaning")
    assert len(surf["layers"]) == len(mean["layers"]) == 3  # input, shared block, branch block
    assert np.allclose(surf["layers"][1], mean["layers"][1], atol=1e-5)
    assert not np.allclose(surf["layers"][2], mean["layers"][2], atol=1e-5)


def test_teacher_forced_matches_a_recomputed_cross_entropy():
    from dualasr.analysis.cross_decoder import decoder_problem, encoder_output, teacher_forced

    do = build_model(outputs=("surface", "meaning"), seed=1).eval()
    so = build_model(outputs=("meaning",), seed=2).eval()
    feats = _feats(3)
    ids = _ids(feats, SURFACE_TOKENS)
    sos = len(SURFACE_TOKENS) - 1
    with torch.no_grad():
        # the surface decoder of DO on the encoder of so_meaning: its only output's encoding
        enc = {u: encoder_output(so, x, "surface") for u, x in feats.items()}
        assert decoder_problem(so, do, "surface") is None
        got = teacher_forced(do.decoders["surface"], enc, ids, sos)
        nll = correct = n = 0
        for u, (e, lens) in enc.items():
            ys = torch.tensor([[sos] + ids[u]])
            logits, _ = do.decoders["surface"](e, lens, ys, torch.tensor([ys.shape[1]]))
            target = torch.tensor(ids[u] + [sos])
            nll += torch.nn.functional.cross_entropy(logits[0], target, reduction="sum").item()
            correct += (logits[0].argmax(-1) == target).sum().item()
            n += len(target)
    assert got["n"] == n == sum(len(v) + 1 for v in ids.values())
    assert got["correct"] == correct and got["ce"] == pytest.approx(nll / n, rel=1e-5)
    assert got["acc"] == pytest.approx(100.0 * correct / n)
    own = teacher_forced(do.decoders["surface"], {u: encoder_output(do, x, "surface") for u, x in feats.items()},
                         ids, sos)
    assert own["ce"] != pytest.approx(got["ce"])  # another encoder, another score
    assert "has no meaning output" in decoder_problem(do, build_model(outputs=("surface",)), "meaning")


def test_ctc_best_path_merges_repeats_and_drops_blanks():
    from dualasr.bin.greedy_decode import ctc_best_path

    class FakeArgmax:  # only the frame labels matter here; the real CTC's argmax is ESPnet's
        def argmax(self, x):
            return torch.tensor([[0, 3, 3, 0, 3, 2, 2, 0, 0, 5]])

    assert ctc_best_path(FakeArgmax(), torch.zeros(10, 4)) == [3, 3, 2, 5]
    model = build_model(outputs=("surface",)).eval()
    enc, _ = model.encode(torch.randn(1, 40, 20), torch.tensor([40]))["surface"]
    path = ctc_best_path(model.ctcs["surface"], enc[0])
    assert 0 not in path and all(0 < k < len(SURFACE_TOKENS) for k in path)
