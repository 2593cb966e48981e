"""Incremental decoding steps of several outputs' attention decoders as one computation (the lockstep
search of ``dualasr.bin.dual_asr_inference``).

A DO model has one ESPnet ``TransformerDecoder`` per output, of the same shape. Decoded one after the
other, each step runs every layer's operations once per output, and on a CPU at the demo's size
(d = 64, 2 blocks, 64-256 hypotheses a step) a step costs the calls, not the arithmetic: the two
decoders cost about twice one. Here the decoders' weights are stacked along a leading output axis, and
each step runs each operation once for all outputs (``torch.baddbmm`` and batched matmuls), so the
decoders of a DO model cost about one decoder.

The arithmetic is ESPnet's ``TransformerDecoder.forward_one_step`` with its cache (pre- or post-norm
``DecoderLayer`` with self-attention, source attention and a position-wise feed-forward), with two
changes that do not change what is computed: the self-attention's keys and values of earlier positions
are kept projected (ESPnet re-projects the whole prefix at every step), and the source attention's keys
and values are projected once per search, an utterance's hypotheses attending as query positions of it
(ESPnet projects the encoding at every step, once per hypothesis). Results agree with ESPnet's to
float rounding (``tests/test_inference.py`` compares the log-probabilities step by step, and the
searches' hypotheses). Written here because neither ESPnet nor torch has a cached multi-model decoder
step; ``torch.func.stack_module_state`` + ``vmap`` stacks the weights but not ESPnet's cached step.

Decoders of another kind (RNN, another attention or layer type) are decoded by ESPnet's own
``forward_one_step``, one output at a time (:func:`stackable` says which).
"""

from __future__ import annotations

import math
from typing import List, Sequence

import torch


def stackable(decoders: Sequence) -> bool:
    """Whether :class:`StackedDecoders` can run these decoders: ESPnet ``TransformerDecoder``s of one shape
    (embedding + sinusoidal positions input, plain multi-head attention, ``concat_after`` off)."""
    from espnet.nets.pytorch_backend.transformer.attention import MultiHeadedAttention
    from espnet.nets.pytorch_backend.transformer.decoder_layer import DecoderLayer
    from espnet.nets.pytorch_backend.transformer.embedding import PositionalEncoding
    from espnet.nets.pytorch_backend.transformer.positionwise_feed_forward import PositionwiseFeedForward

    def attn_ok(a) -> bool:
        return type(a) is MultiHeadedAttention and not getattr(a, "use_sdpa", False) \
            and not getattr(a, "use_flash_attn", False) and isinstance(a.q_norm, torch.nn.Identity) \
            and isinstance(a.k_norm, torch.nn.Identity)

    def shape(dec):
        embed, layers = getattr(dec, "embed", None), getattr(dec, "decoders", None)
        if not isinstance(embed, torch.nn.Sequential) or len(embed) != 2 \
                or not isinstance(embed[0], torch.nn.Embedding) or type(embed[1]) is not PositionalEncoding \
                or getattr(embed[1], "reverse", False) or not isinstance(getattr(dec, "output_layer", None),
                                                                         torch.nn.Linear):
            return None
        out = [dec.normalize_before, embed[0].embedding_dim]
        for layer in layers or ():
            if type(layer) is not DecoderLayer or layer.concat_after or layer.sequential_attn is not None \
                    or not attn_ok(layer.self_attn) or not attn_ok(layer.src_attn) \
                    or type(layer.feed_forward) is not PositionwiseFeedForward:
                return None
            ff = layer.feed_forward
            out.append((layer.normalize_before, layer.self_attn.h, layer.src_attn.h, ff.w_1.out_features,
                        type(ff.activation)))
        return tuple(out) if layers else None

    shapes = [shape(d) for d in decoders]
    return bool(shapes) and shapes[0] is not None and all(s == shapes[0] for s in shapes)


class StackedDecoders:
    """The cached decoding steps of ``G`` outputs' decoders (:func:`stackable`), each over the same
    number ``R = utterances x beam`` of hypotheses, as one computation.

    ``memories[g]``: output ``g``'s encodings ``[utterances, T, D]`` (padded), ``masks[g]``: their valid
    frames ``[utterances, 1, T]``. ``vocab[g]``: output ``g``'s vocabulary size; the log-probabilities
    come back in the lockstep search's shared index space of ``width`` ids (each output's ``<sos/eos>``
    at ``width - 1``, ``-inf`` at the ids an output does not have).
    """

    def __init__(self, decoders: Sequence, memories: Sequence[torch.Tensor], masks: Sequence[torch.Tensor],
                 beam: int, vocab: Sequence[int], width: int):
        self.G, self.beam, self.width = len(decoders), beam, width
        d0 = decoders[0]
        layer0 = d0.decoders[0]
        self.h = layer0.self_attn.h
        self.dk = layer0.self_attn.d_k
        self.normalize_before = d0.normalize_before
        dev = memories[0].device
        stack = torch.stack
        # embeddings of every output in one table (rows of output g start at offset[g])
        self.table = torch.cat([d.embed[0].weight for d in decoders])
        sizes = torch.tensor([d.embed[0].num_embeddings for d in decoders], device=dev)
        self.offset = (torch.cumsum(sizes, 0) - sizes)[:, None]
        self.vocab = torch.tensor(list(vocab), device=dev)[:, None]
        self.eos = width - 1
        pos = d0.embed[1]
        self.xscale, self.pos = pos.xscale, pos

        def lin(mods):  # stacked [G, in, out] weights and [G, 1, out] biases
            return stack([m.weight.t() for m in mods]), stack([m.bias for m in mods])[:, None, :]

        def norm(mods):
            return (stack([m.weight for m in mods])[:, None, :], stack([m.bias for m in mods])[:, None, :],
                    mods[0].eps)

        self.layers = []
        n_utt = memories[0].shape[0]
        for i in range(len(d0.decoders)):
            ls = [d.decoders[i] for d in decoders]
            sa, xa, ff = [x.self_attn for x in ls], [x.src_attn for x in ls], [x.feed_forward for x in ls]
            qkv_w = stack([torch.cat([a.linear_q.weight, a.linear_k.weight, a.linear_v.weight]).t() for a in sa])
            qkv_b = stack([torch.cat([a.linear_q.bias, a.linear_k.bias, a.linear_v.bias]) for a in sa])[:, None]
            # the source attention's keys and values: once per search, [G, utterances, heads, T, d_k]
            kv = [(a.linear_k(m), a.linear_v(m)) for a, m in zip(xa, memories)]
            mem_k = stack([k.view(n_utt, -1, self.h, self.dk).transpose(1, 2) for k, _ in kv])
            mem_v = stack([v.view(n_utt, -1, self.h, self.dk).transpose(1, 2) for _, v in kv])
            self.layers.append({
                "norm1": norm([x.norm1 for x in ls]), "norm2": norm([x.norm2 for x in ls]),
                "norm3": norm([x.norm3 for x in ls]), "qkv": (qkv_w, qkv_b),
                "self_out": lin([a.linear_out for a in sa]), "src_q": lin([a.linear_q for a in xa]),
                "src_out": lin([a.linear_out for a in xa]), "mem_k": mem_k.transpose(-2, -1), "mem_v": mem_v,
                "w1": lin([f.w_1 for f in ff]), "w2": lin([f.w_2 for f in ff]), "act": ls[0].feed_forward.activation,
                "pre": ls[0].normalize_before,
            })
        # frames outside an utterance: ESPnet's masked_fill with the dtype's minimum before the softmax
        self.mem_pad = stack([~m[:, None, :, :] for m in masks])  # [G, utterances, 1, 1, T]
        self.min = torch.finfo(memories[0].dtype).min
        self.after_norm = norm([d.after_norm for d in decoders]) if self.normalize_before else None
        # the output layers in the shared index space: -inf bias at the ids an output does not have
        out_w = memories[0].new_zeros(self.G, d0.output_layer.in_features, width)
        out_b = memories[0].new_full((self.G, 1, width), -math.inf)
        for g, (d, v) in enumerate(zip(decoders, vocab)):
            out_w[g, :, : v - 1] = d.output_layer.weight[: v - 1].t()
            out_w[g, :, width - 1] = d.output_layer.weight[v - 1]
            out_b[g, 0, : v - 1] = d.output_layer.bias[: v - 1]
            out_b[g, 0, width - 1] = d.output_layer.bias[v - 1]
        self.out = (out_w, out_b)
        self.cache: List[List[torch.Tensor]] = [[] for _ in self.layers]  # each layer's [keys, values]
        self.step_no = 0

    @staticmethod
    def _norm(x, p):
        w, b, eps = p
        return torch.addcmul(b, torch.nn.functional.layer_norm(x, x.shape[-1:], eps=eps), w)

    @staticmethod
    def _lin(x, p):
        return torch.baddbmm(p[1], x, p[0])

    def step(self, last: torch.Tensor) -> torch.Tensor:
        """One step: ``last`` [G x R] the hypotheses' last tokens (shared ids, output by output) ->
        log-probabilities ``[G x R, width]`` in the shared index space."""
        G, h, dk = self.G, self.h, self.dk
        ids = last.view(G, -1)
        ids = torch.where(ids == self.eos, self.vocab - 1, ids) + self.offset
        if self.pos.pe.size(1) <= self.step_no:
            self.pos.extend_pe(self.table.new_zeros(1, self.step_no + 1, 1))
        x = self.table[ids] * self.xscale + self.pos.pe[0, self.step_no]  # [G, R, D]
        R = x.shape[1]
        U = R // self.beam
        for p, cache in zip(self.layers, self.cache):
            res = x
            t = self._norm(x, p["norm1"]) if p["pre"] else x
            q, k, v = self._lin(t, p["qkv"]).view(G, R, 3, h, 1, dk).unbind(2)  # [G, R, h, 1, dk] each
            if cache:
                cache[0] = torch.cat([cache[0], k], dim=3)
                cache[1] = torch.cat([cache[1], v], dim=3)
            else:
                cache.extend([k, v])
            scores = torch.matmul(q, cache[0].transpose(-2, -1)) / math.sqrt(dk)  # [G, R, h, 1, L]
            a = torch.matmul(torch.softmax(scores, dim=-1), cache[1]).view(G, R, h * dk)
            x = res + self._lin(a, p["self_out"])
            if not p["pre"]:
                x = self._norm(x, p["norm1"])
            res = x
            t = self._norm(x, p["norm2"]) if p["pre"] else x
            q = self._lin(t, p["src_q"]).view(G, U, self.beam, h, dk).transpose(2, 3)  # [G, U, h, beam, dk]
            scores = (torch.matmul(q, p["mem_k"]) / math.sqrt(dk)).masked_fill(self.mem_pad, self.min)
            a = torch.matmul(torch.softmax(scores, dim=-1), p["mem_v"])  # [G, U, h, beam, dk]
            x = res + self._lin(a.transpose(2, 3).reshape(G, R, h * dk), p["src_out"])
            if not p["pre"]:
                x = self._norm(x, p["norm2"])
            res = x
            t = self._norm(x, p["norm3"]) if p["pre"] else x
            x = res + self._lin(p["act"](self._lin(t, p["w1"])), p["w2"])
            if not p["pre"]:
                x = self._norm(x, p["norm3"])
        if self.after_norm is not None:
            x = self._norm(x, self.after_norm)
        self.step_no += 1
        return torch.log_softmax(self._lin(x, self.out), dim=-1).view(G * R, self.width)

    def reorder(self, rows: torch.Tensor) -> None:
        """Keep the hypotheses ``rows`` (indices into the ``G x R`` hypotheses, each within its output)."""
        for cache in self.cache:
            for j, c in enumerate(cache):
                cache[j] = c.flatten(0, 1)[rows].view(c.shape)
