"""The dual-output variants (do_hier, do_adapter, do_pcgrad, do_adv, do_sparse): each one's mechanism,
on tiny models built through DualASRTask."""


import pytest
import torch
import yaml

from model_utils import batch, build_model
from dualasr.models.dual_model import grad_reverse
from dualasr.train.pcgrad import PCGradModel, pcgrad

KINDS = ("do_hier", "do_adapter", "do_pcgrad", "do_adv", "do_sparse")


def kind_conf(kind):
    """conf/model_kinds.yaml's options of a kind, as --model_conf key=value strings."""
    from pathlib import Path
    conf = yaml.safe_load((Path(__file__).resolve().parents[1] / "conf" / "model_kinds.yaml").read_text())[kind]
    return [f"{k}={'[' + ','.join(v) + ']' if isinstance(v, list) else yaml.safe_dump(v).splitlines()[0]}"
            for k, v in conf.items() if k != "outputs"]


@pytest.mark.parametrize("kind", KINDS)
def test_variant_from_yaml_trains_and_encodes(kind):
    model = build_model(num_blocks=4, model_conf=kind_conf(kind))
    loss, stats, _ = model(**batch())
    assert torch.isfinite(loss)
    loss.backward()
    model.eval()
    enc = model.encode(batch()["speech"], batch()["speech_lengths"])
    assert set(enc) == {"surface", "meaning"} and all(v[0].shape[-1] == 16 for v in enc.values())


def test_hier_surface_ctc_reads_the_configured_layer():
    model = build_model(num_blocks=4, model_conf=["hier_layer=1"]).eval()
    assert model.hier_layer == 1
    assert build_model(num_blocks=4, model_conf=["hier_layer=-1"]).hier_layer == 2  # the middle block
    b = batch()
    with model.capture_encoder_layers() as store:
        enc = model.encode(b["speech"], b["speech_lengths"])
    h = store["shared"]  # block inputs: h[0]; block i's output: h[i]
    # conformer blocks are pre-norm: ESPnet applies the final norm to the intermediate output too
    assert torch.allclose(enc["surface"][0], model.encoder.after_norm(h[1]), atol=1e-6)
    assert torch.allclose(enc["meaning"][0], model.encoder.after_norm(h[4]), atol=1e-6)
    assert not torch.allclose(enc["surface"][0], enc["meaning"][0])
    # the surface CTC loss is the CTC of block 1's output
    losses_stats = model.output_losses(**b)[1]
    ys, yl = b["text_surface"], b["text_surface_lengths"]
    direct = model.ctcs["surface"](model.encoder.after_norm(h[1]), enc["surface"][1], ys[:, : yl.max()], yl)
    assert torch.allclose(losses_stats["loss_ctc_surface"], direct, atol=1e-5)


def test_hier_self_conditioning_feeds_surface_posteriors_back():
    model = build_model(num_blocks=4, model_conf=["hier_layer=2", "hier_self_condition=true"]).eval()
    assert model.encoder.interctc_use_conditioning and model.encoder.conditioning_layer.in_features == 8
    b = batch()
    before = model.encode(b["speech"], b["speech_lengths"])
    with torch.no_grad():
        model.ctcs["surface"].ctc_lo.weight.mul_(3)  # other surface posteriors: a different meaning encoding
    after = model.encode(b["speech"], b["speech_lengths"])
    assert torch.allclose(before["surface"][0], after["surface"][0])
    assert not torch.allclose(before["meaning"][0], after["meaning"][0])


def test_adapter_updated_only_by_its_own_output():
    model = build_model(num_blocks=3, model_conf=["adapter_layers=2", "adapter_bottleneck=4"])
    assert len(model.top) == 2 and len(model.adapters["surface"]) == 2
    losses, _ = model.output_losses(**batch())
    # the up-projections start at zero (identity adapters), so the gradient reaches them first
    for o, other in (("surface", "meaning"), ("meaning", "surface")):
        model.zero_grad()
        losses[o].backward(retain_graph=True)
        own = [p.grad for p in model.adapters[o].parameters()]
        assert all(g is not None for g in own) and sum(g.abs().sum() for g in own) > 0
        assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.adapters[other].parameters()), \
            f"{o} loss reaches the {other} adapter"
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.top.parameters()
                   if p.dim() == 2), "the shared top blocks get no gradient"


def test_pcgrad_projection_never_leaves_a_conflict():
    g = torch.Generator().manual_seed(0)
    conflicts = 0
    for _ in range(200):
        a, b = torch.randn(50, generator=g), torch.randn(50, generator=g)
        conflicts += bool(a @ b < 0)
        pa, pb = pcgrad([a, b])
        assert pa @ b >= -1e-5 and pb @ a >= -1e-5 and pa @ pb >= -1e-5
        if a @ b >= 0:
            assert torch.equal(pa, a) and torch.equal(pb, b)
    assert conflicts > 50


def test_pcgrad_trainer_gradient_is_the_projected_sum():
    """The gradient the trainer's backward() leaves on the shared parameters is the PCGrad combination of
    the two outputs' gradients; on head parameters it is the plain gradient of their own output."""
    model = build_model(model_conf=["pcgrad=true"])
    b = batch()
    wrapped = PCGradModel(model)
    # the outputs' real gradients, one backward each (same seed: same dropout masks as the wrapper's pass)
    torch.manual_seed(1)
    losses, _ = model.output_losses(**b)
    params = [p for p in model.parameters() if p.requires_grad]
    gs = [torch.autograd.grad(losses[o], params, retain_graph=True, allow_unused=True) for o in model.outputs]
    shared = [i for i in range(len(params)) if all(g[i] is not None for g in gs)]
    assert any(n.startswith("encoder.") for n, p in model.named_parameters() if any(p is params[i] for i in shared))
    flat = [torch.cat([g[i].flatten() for i in shared]) for g in gs]
    expected = sum(pcgrad(flat))
    model.zero_grad()
    torch.manual_seed(1)
    loss, stats, _ = wrapped(**b)
    loss.backward()
    got = torch.cat([params[i].grad.flatten() for i in shared])
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-4)
    assert torch.allclose(loss, losses["surface"] + losses["meaning"], atol=1e-5)
    dec = [p for n, p in model.named_parameters() if n.startswith("decoders.meaning.")][0]
    i = next(k for k, p in enumerate(params) if p is dec)
    assert torch.allclose(dec.grad, gs[1][i], atol=1e-6)
    assert float(stats["pcgrad_conflict"]) == float(flat[0] @ flat[1] < 0)


def test_pcgrad_kind_selects_the_pcgrad_trainer():
    from dualasr.tasks.dual_asr import DualASRPCGradTask, DualASRTask
    from dualasr.train.pcgrad import PCGradTrainer
    assert DualASRPCGradTask.trainer is PCGradTrainer and DualASRTask.trainer is not PCGradTrainer


def test_gradient_reversal_flips_the_encoder_gradient():
    model = build_model(num_blocks=2, model_conf=["adv_private_layers=1", "adv_grl_scale=0.5"])
    b = batch()
    enc = model._encode(b["speech"], b["speech_lengths"])
    out, lens, shared, private = enc["surface"]
    adv, _ = model._adv_terms("surface", out, lens, shared, private)
    enc_params = [p for n, p in model.named_parameters() if n.startswith("encoder.")]
    reversed_g = torch.autograd.grad(adv, enc_params, retain_graph=True)
    # the same loss without the reversal layer
    scale, model.adv_grl_scale = model.adv_grl_scale, -1.0  # grad_reverse(x, -1) is the identity's gradient
    adv2, _ = model._adv_terms("surface", out, lens, shared, private)
    plain_g = torch.autograd.grad(adv2, enc_params, retain_graph=True)
    assert torch.allclose(adv, adv2)
    assert sum(g.abs().sum() for g in plain_g) > 0
    for r, p in zip(reversed_g, plain_g):
        assert torch.allclose(r, -scale * p, atol=1e-7)
    # the discriminator itself is trained normally (no reversal on its own weights)
    model.adv_grl_scale = scale
    d = torch.autograd.grad(adv, list(model.discriminator.parameters()), retain_graph=True)
    assert sum(g.abs().sum() for g in d) > 0
    x = torch.randn(3, requires_grad=True)
    (grad_reverse(x, 2.0) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert torch.equal(x.grad, torch.tensor([-2.0, -4.0, -6.0]))


def test_adv_private_encoders_and_orthogonality():
    model = build_model(num_blocks=2, model_conf=["adv_private_layers=1"])
    losses, stats = model.output_losses(**batch())
    for o, other in (("surface", "meaning"), ("meaning", "surface")):
        assert stats[f"loss_ortho_{o}"] > 0
        gs = torch.autograd.grad(losses[o], list(model.private[other].parameters()), retain_graph=True,
                                 allow_unused=True)
        assert all(g is None for g in gs), f"{o} loss reaches the {other} private encoder"


def test_sparse_residual_l1_and_sparsity_reported():
    model = build_model(num_blocks=3, model_conf=["sparse_layers=1", "sparse_l1=0.01", "sparse_tol=0.001"])
    rows = model.residual_sparsity()
    assert [r["output"] for r in rows] == ["surface", "meaning"] and all(r["sparsity"] == 1.0 for r in rows)
    with torch.no_grad():  # a residual that is not zero
        first = next(iter(model.residuals["surface"].values()))
        first[0, :3] = torch.tensor([0.5, -0.25, 0.0005])
    rows = {r["output"]: r for r in model.residual_sparsity()}
    assert rows["surface"]["l1"] == pytest.approx(0.7505, rel=1e-4)
    assert rows["surface"]["sparsity"] == pytest.approx(1 - 2 / rows["surface"]["entries"])
    losses, stats = model.output_losses(**batch())
    assert stats["residual_l1_surface"] == pytest.approx(0.7505, rel=1e-4)
    # the residual changes only its own output's path
    b = batch()
    model.eval()
    enc = model.encode(b["speech"], b["speech_lengths"])
    with torch.no_grad():
        first.zero_()
    enc0 = model.encode(b["speech"], b["speech_lengths"])
    assert not torch.allclose(enc["surface"][0], enc0["surface"][0])
    assert torch.allclose(enc["meaning"][0], enc0["meaning"][0])
    # the L1 term's gradient is sparse_l1 * sign(r) on top of the output's own loss
    model.train()
    with torch.no_grad():
        first[0, 0] = 0.5
    losses, _ = model.output_losses(**b)
    g_meaning = torch.autograd.grad(losses["meaning"], [first], allow_unused=True)[0]
    assert g_meaning is None


def test_variants_cannot_be_combined():
    with pytest.raises(ValueError, match="cannot be combined"):
        build_model(num_blocks=3, model_conf=["hier_layer=1", "adapter_layers=1"])
    with pytest.raises(ValueError, match="needs both outputs"):
        build_model(outputs=("surface",), num_blocks=3, model_conf=["sparse_layers=1"])
