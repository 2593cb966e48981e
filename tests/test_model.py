"""SO, DO and do_branch models: finite losses, and where each output's gradient goes."""

import pytest
import torch

from model_utils import batch, build_model


def grads_of(model, loss):
    model.zero_grad()
    loss.backward(retain_graph=True)
    return {n: p.grad.abs().sum().item() if p.grad is not None else 0.0 for n, p in model.named_parameters()}


def grad_sum(g, prefix):
    return sum(v for n, v in g.items() if n.startswith(prefix))


@pytest.mark.parametrize("outputs,branch", [(("surface",), 0), (("meaning",), 0), (("surface", "meaning"), 0),
                                            (("surface", "meaning"), 1)])
def test_forward_backward_finite(outputs, branch):
    model = build_model(outputs, branch)
    loss, stats, weight = model(**batch())
    assert torch.isfinite(loss)
    loss.backward()
    for n, p in model.named_parameters():
        assert p.grad is None or torch.isfinite(p.grad).all(), n
    for o in outputs:
        assert torch.isfinite(stats[f"loss_{o}"]) and stats[f"acc_{o}"] is not None
    assert int(weight) == 3


def test_do_both_outputs_reach_shared_encoder():
    model = build_model(("surface", "meaning"))
    losses, _ = model.output_losses(**batch())
    for o, other in (("surface", "meaning"), ("meaning", "surface")):
        g = grads_of(model, losses[o])
        assert grad_sum(g, "encoder.") > 0, f"{o} loss does not reach the shared encoder"
        assert grad_sum(g, f"decoders.{o}.") > 0 and grad_sum(g, f"ctcs.{o}.") > 0
        assert grad_sum(g, f"decoders.{other}.") == 0 and grad_sum(g, f"ctcs.{other}.") == 0


def test_so_has_no_head_for_the_other_output():
    model = build_model(("surface",))
    names = [n for n, _ in model.named_parameters()]
    assert any(n.startswith("decoders.surface.") for n in names)
    assert not any("meaning" in n for n in names)
    with pytest.raises(ValueError, match="text_surface"):
        b = batch()
        del b["text_surface"]
        model(**b)


def test_do_branch_each_branch_only_from_its_output():
    model = build_model(("surface", "meaning"), branch=1)
    assert len(model.encoder.encoders) == 1 and len(model.branches["surface"]["blocks"]) == 1
    losses, _ = model.output_losses(**batch())
    for o, other in (("surface", "meaning"), ("meaning", "surface")):
        g = grads_of(model, losses[o])
        assert grad_sum(g, f"branches.{o}.") > 0
        assert grad_sum(g, f"branches.{other}.") == 0, f"{o} loss leaks into the {other} branch"
        assert grad_sum(g, "encoder.") > 0


def test_branch_layers_out_of_range():
    with pytest.raises(ValueError, match="task_branch_layers"):
        build_model(("surface", "meaning"), branch=2, num_blocks=2)


def test_capture_encoder_layers_counts_blocks():
    model = build_model(("surface", "meaning"), branch=1).eval()
    b = batch()
    with model.capture_encoder_layers() as hs:
        model.encode(b["speech"], b["speech_lengths"])
    assert len(hs["shared"]) == 2  # input of block 1 + output of the one shared block
    assert len(hs["surface"]) == 1 and len(hs["meaning"]) == 1


def test_encode_leaves_its_input_alone(tmp_path):
    """ESPnet's GlobalMVN normalises in place; without a frontend the model must not let it touch the
    caller's features (the analyses feed the same arrays to several models)."""
    import numpy as np

    stats = tmp_path / "cmvn.npz"
    np.savez(stats, count=100, sum=np.full(20, 50.0), sum_square=np.full(20, 400.0))
    model = build_model(("surface", "meaning"), normalize_stats=str(stats)).eval()
    b = batch()
    speech = b["speech"].clone()
    first = model.encode(b["speech"], b["speech_lengths"])["surface"][0]
    assert torch.equal(b["speech"], speech), "encode() changed its input"
    second = model.encode(b["speech"], b["speech_lengths"])["surface"][0]
    assert torch.allclose(first, second)
