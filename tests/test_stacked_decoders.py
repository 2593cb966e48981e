"""The lockstep search's stacked decoder step against ESPnet's own ``forward_one_step``."""

import pytest
import torch
from espnet2.asr.decoder.rnn_decoder import RNNDecoder
from espnet2.asr.decoder.transformer_decoder import TransformerDecoder
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask
from espnet.nets.pytorch_backend.transformer.mask import subsequent_mask

from dualasr.models.stacked_decoders import StackedDecoders, stackable


def decoder(vocab, seed, normalize_before=True, num_blocks=2):
    torch.manual_seed(seed)
    return TransformerDecoder(vocab, 16, attention_heads=2, linear_units=24, num_blocks=num_blocks,
                              normalize_before=normalize_before).eval()


@pytest.mark.parametrize("normalize_before", [True, False])
def test_stacked_step_gives_espnet_forward_one_step_log_probabilities(normalize_before):
    """Two decoders of different vocabularies, three utterances of different lengths, beam 3, six steps
    with the hypotheses reordered between steps: each step's log-probabilities equal ESPnet's cached
    forward_one_step of each decoder, in the shared index space (<sos/eos> last, -inf where an output
    has no such id)."""
    vocab = [9, 13]
    width, eos, beam = max(vocab), max(vocab) - 1, 3
    decs = [decoder(v, seed, normalize_before) for seed, v in enumerate(vocab)]
    g = torch.Generator().manual_seed(0)
    lens = torch.tensor([11, 7, 9])
    mem = [torch.randn(3, 11, 16, generator=g) for _ in decs]
    mask = (~make_pad_mask(lens))[:, None, :]
    stacked = StackedDecoders(decs, mem, [mask, mask], beam, vocab, width)
    ys = torch.full((2 * 3 * beam, 1), eos)  # shared ids, output by output
    caches = [None, None]
    rows = [slice(0, 3 * beam), slice(3 * beam, 6 * beam)]
    with torch.no_grad():
        for i in range(6):
            got = stacked.step(ys[:, -1])
            for o, (d, v, r) in enumerate(zip(decs, vocab, rows)):
                own = torch.where(ys[r] == eos, v - 1, ys[r])
                lp, caches[o] = d.forward_one_step(own, subsequent_mask(i + 1).unsqueeze(0),
                                                   mem[o].repeat_interleave(beam, 0),
                                                   mask.repeat_interleave(beam, 0), cache=caches[o])
                torch.testing.assert_close(got[r, : v - 1], lp[:, : v - 1], rtol=1e-5, atol=1e-5)
                torch.testing.assert_close(got[r, eos], lp[:, v - 1], rtol=1e-5, atol=1e-5)
                assert torch.isneginf(got[r, v - 1 : eos]).all()
            # keep some hypotheses twice, drop others (each within its utterance and output), add a token
            pick = torch.cat([torch.randint(0, beam, (beam,), generator=g) + k * beam for k in range(6)])
            stacked.reorder(pick)
            caches = [[c[pick[r] - r.start] for c in caches[o]] for o, r in enumerate(rows)]
            new = torch.cat([torch.randint(1, v - 1, (3 * beam, 1), generator=g) for v in vocab])
            ys = torch.cat([ys[pick], new], dim=1)


def test_only_decoders_of_one_transformer_shape_stack():
    assert stackable([decoder(9, 0), decoder(13, 1)])
    assert not stackable([decoder(9, 0), decoder(9, 1, num_blocks=1)])
    assert not stackable([decoder(9, 0), decoder(9, 1, normalize_before=False)])
    assert not stackable([RNNDecoder(9, 16)])
