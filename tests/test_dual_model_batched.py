"""The model's batched decoder targets and CTC loss equal ESPnet's per-utterance ones, value for value
(``DualASRModel._sos_eos`` against ``add_sos_eos``, ``DualASRModel._ctc_forward`` against ``CTC.forward``)."""

import pytest
import torch
from espnet.nets.pytorch_backend.nets_utils import pad_list
from espnet.nets.pytorch_backend.transformer.add_sos_eos import add_sos_eos
from espnet2.asr.ctc import CTC

from dualasr.models.dual_model import DualASRModel


def padded_batch(gen, lens, vocab=12, extra=0):
    ys = [torch.randint(1, vocab - 1, (n,), generator=gen) for n in lens]
    ys_pad = pad_list(ys, -1)
    if extra:  # more padding columns than the longest row needs
        ys_pad = torch.cat([ys_pad, ys_pad.new_full((len(lens), extra), -1)], dim=1)
    return ys_pad, torch.tensor(lens)


@pytest.mark.parametrize("lens,extra", [([5, 3, 1, 5], 0), ([2, 7, 4], 3), ([1], 0), ([0, 3], 0), ([6, 6], 2)])
def test_sos_eos_equals_espnet(lens, extra):
    ys_pad, _ = padded_batch(torch.Generator().manual_seed(len(lens) + extra), lens, extra=extra)
    got = DualASRModel._sos_eos(ys_pad, 11, 11, -1)
    want = add_sos_eos(ys_pad, 11, 11, -1)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and torch.equal(g, w)


@pytest.mark.parametrize("ctc_type", ["builtin", "builtin2"])
@pytest.mark.parametrize("reduce", [True, False])
def test_ctc_forward_equals_espnet(ctc_type, reduce):
    gen = torch.Generator().manual_seed(3)
    ys_pad, ys_lens = padded_batch(gen, [4, 2, 6, 1], extra=2)
    hs = torch.randn(4, 15, 8, generator=gen, requires_grad=True)
    hlens = torch.tensor([15, 12, 15, 9])
    torch.manual_seed(0)
    ctc = CTC(odim=12, encoder_output_size=8, ctc_type=ctc_type, reduce=reduce)
    want = ctc(hs, hlens, ys_pad, ys_lens)
    (gw,) = torch.autograd.grad(want.sum(), hs)
    got = DualASRModel._ctc_forward(ctc, hs, hlens, ys_pad, ys_lens)
    (gg,) = torch.autograd.grad(got.sum(), hs)
    assert torch.equal(got, want) and torch.equal(gg, gw)
