"""Cross-task decoder analysis: teacher-forced decoder states, and decoders swapped between encoders.

Decoder states: the reference tokens of an output go through a decoder teacher-forced (``<sos>`` +
tokens). Forward hooks on the decoder's blocks (ESPnet ``TransformerDecoder.decoders``) collect each
block's output, and each block's cross-attention weights (``src_attn.attn``, kept by ESPnet's
``MultiHeadedAttention`` after a forward) pool the last encoder layer over source positions:
``pooled_l = mean_heads(attn_l) @ encoder_out``. So every token position has, per block, a decoder
state and an attention-pooled encoder state; CKA compares them across rows of paired positions.

Teacher-forced scores (:func:`teacher_forced`): a decoder on an encoder's output, fed the reference
(``<sos>`` + tokens), predicts tokens + ``<eos>``; token accuracy (argmax = reference) and
cross-entropy (nats per token, no label smoothing) need no decoding, so they measure how well a
decoder reads an encoder, its own or a foreign one.

Decoder swap: the ``decoders[o]`` and ``ctcs[o]`` weights of a donor model are loaded into a target
model (in place, so a :class:`~dualasr.bin.dual_asr_inference.DualSpeech2Text` built on the target
decodes with them): the whole output head (decoder and CTC) is the donor's, only the encoder is the
target's. It needs equal encoder output sizes, equal token lists and identically shaped decoder/CTC
parameters; :func:`swap_problem` says why a swap is not possible.
"""

from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional

import numpy as np
import torch
from tqdm import tqdm

from dualasr.analysis.encoder import frame_choice


def reference_ids(args, output: str, refs: Mapping[str, str]) -> Dict[str, List[int]]:
    """Token ids of the reference texts of ``output``, through the training preprocessor of a model
    (its train args ``args``), so tokenization (bpe, jamo decomposition) is exactly training's."""
    from dualasr.tasks.dual_asr import DualASRTask

    pre = DualASRTask.build_preprocess_fn(args, train=False)
    name = f"text_{output}"
    return {u: [int(i) for i in pre(u, {name: t})[name]] for u, t in refs.items()}


def encoder_output(model, speech: torch.Tensor, output: str):
    """``(enc [1, T, D], enc_lens)`` of one utterance ``speech`` [frames, dim] for ``output``: the
    branch of that output if the model has it, else its only output's (an SO model of the other output)."""
    x = torch.as_tensor(speech).unsqueeze(0)
    encoded = model.encode(x, torch.tensor([x.shape[1]]))
    return encoded[output] if output in encoded else encoded[model.outputs[0]]


def decoder_problem(enc_model, dec_model, output: str) -> Optional[str]:
    """Why the ``output`` decoder of ``dec_model`` cannot read ``enc_model``'s encoder (None: it can)."""
    if output not in dec_model.outputs:
        return f"the decoder model has no {output} output (outputs {dec_model.outputs})"
    ea, da = enc_model.encoder.output_size(), dec_model.encoder.output_size()
    if ea != da:
        return f"encoder output sizes differ: {ea} (encoder model) vs {da} (decoder model)"
    return None


@torch.no_grad()
def teacher_forced(decoder, encoded: Mapping[str, tuple], token_ids: Mapping[str, List[int]],
                   sos_eos: int) -> Dict[str, float]:
    """Token accuracy and cross-entropy of ``decoder`` teacher-forced on precomputed encoder outputs.

    ``encoded[uttid] = (enc [1, T, D], enc_lens)``; ``token_ids[uttid]`` the reference ids. Every
    utterance predicts its tokens and ``<eos>`` from ``<sos>`` + tokens. Returns ``{"n": tokens,
    "correct": ..., "nll": summed nats, "acc": %, "ce": nats per token}``.
    """
    n = correct = 0
    nll = 0.0
    for uttid, (enc, enc_lens) in encoded.items():
        ids = list(token_ids[uttid])
        ys_in = torch.tensor([[sos_eos] + ids], dtype=torch.long)
        target = torch.tensor([ids + [sos_eos]], dtype=torch.long)
        logits, _ = decoder(enc, enc_lens, ys_in, torch.tensor([ys_in.shape[1]]))
        logp = torch.log_softmax(logits.float(), dim=-1)[0]
        nll -= float(logp.gather(1, target[0].unsqueeze(1)).sum())
        correct += int((logp.argmax(-1) == target[0]).sum())
        n += target.shape[1]
    if not n:
        raise ValueError("teacher_forced: no utterances given")
    return {"n": n, "correct": correct, "nll": nll, "acc": 100.0 * correct / n, "ce": nll / n}


@torch.no_grad()
def decoder_states(
    model,
    output: str,
    feats: Mapping[str, np.ndarray],
    token_ids: Mapping[str, List[int]],
    max_tokens: int = 4000,
    seed: int = 0,
    desc: str = "decoder states",
) -> Dict[str, object]:
    """Teacher-forced states of ``model.decoders[output]`` on every utterance of ``feats``.

    ``token_ids[uttid]`` are the reference token ids (no sos/eos). Returns ``{"layers": [L arrays
    [n, d]], "pooled": [L arrays [n, d_enc]], "tokens": {uttid: kept positions}}``; the kept positions
    of an utterance are a seeded choice of at most ``ceil(max_tokens / n_utts)`` of its
    ``len(ids) + 1`` decoder inputs, the same for any model given the same ids.
    """
    decoder = model.decoders[output]
    blocks = list(getattr(decoder, "decoders", []))
    if not blocks or not all(hasattr(b, "src_attn") for b in blocks):
        raise ValueError(f"decoder {type(decoder).__name__} has no .decoders blocks with src_attn "
                         "(a transformer-style decoder is needed)")
    sos = model.vocab_sizes[output] - 1
    per_utt = max(1, math.ceil(max_tokens / max(1, len(feats))))
    outs: List[torch.Tensor] = []
    hooks = [b.register_forward_hook(lambda _m, _i, out: outs.append(out[0].detach())) for b in blocks]
    layers: List[List[np.ndarray]] = [[] for _ in blocks]
    pooled: List[List[np.ndarray]] = [[] for _ in blocks]
    kept: Dict[str, int] = {}
    try:
        for index, (uttid, x) in enumerate(tqdm(feats.items(), desc=desc, mininterval=5, leave=False)):
            if uttid not in token_ids:
                raise ValueError(f"utterance {uttid}: no reference tokens for the {output} output")
            speech = torch.as_tensor(x).unsqueeze(0)
            enc, enc_lens = model.encode(speech, torch.tensor([speech.shape[1]]))[output]
            ys = torch.tensor([[sos] + list(token_ids[uttid])], dtype=torch.long)
            outs.clear()
            decoder(enc, enc_lens, ys, torch.tensor([ys.shape[1]]))
            pick = frame_choice(ys.shape[1], per_utt, seed, index)
            kept[uttid] = len(pick)
            for i, (b, h) in enumerate(zip(blocks, outs)):
                attn = b.src_attn.attn[0].mean(dim=0)  # [T, S]
                layers[i].append(h[0, pick].to(torch.float64).numpy())
                pooled[i].append((attn @ enc[0])[pick].to(torch.float64).numpy())
    finally:
        for h in hooks:
            h.remove()
    if not kept:
        raise ValueError("decoder_states: no utterances given")
    return {"layers": [np.concatenate(r) for r in layers], "pooled": [np.concatenate(r) for r in pooled],
            "tokens": kept}


def swap_problem(target, donor, output: str) -> Optional[str]:
    """Why the ``output`` decoder and CTC of ``donor`` cannot run on ``target``'s encoder (None: they can)."""
    for name, m in (("target", target), ("donor", donor)):
        if output not in m.outputs:
            return f"the {name} model has no {output} output (outputs {m.outputs})"
    ta, da = target.encoder.output_size(), donor.encoder.output_size()
    if ta != da:
        return f"encoder output sizes differ: {ta} (target) vs {da} (donor)"
    if target.token_lists[output] != donor.token_lists[output]:
        return f"the {output} token lists differ"
    ts, ds = target.state_dict(), donor.state_dict()
    for prefix in (f"decoders.{output}.", f"ctcs.{output}."):
        tk = {k: v.shape for k, v in ts.items() if k.startswith(prefix)}
        dk = {k: v.shape for k, v in ds.items() if k.startswith(prefix)}
        if tk != dk:
            diff = sorted(set(tk.items()) ^ set(dk.items()))
            return f"{prefix[:-1]} parameters differ in name or shape (first: {diff[0][0]})"
    return None


def swap_in(target, donor, output: str) -> None:
    """Copy the ``output`` decoder and CTC weights of ``donor`` into ``target`` (in place)."""
    problem = swap_problem(target, donor, output)
    if problem:
        raise ValueError(f"cannot swap the {output} decoder: {problem}")
    prefixes = (f"decoders.{output}.", f"ctcs.{output}.")
    state = {k: v for k, v in donor.state_dict().items() if k.startswith(prefixes)}
    missing, unexpected = target.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
