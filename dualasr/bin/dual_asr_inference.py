"""Decode with an SO or DO model, each output's hypothesis from its own decoder and CTC head.

    python -m dualasr.bin.dual_asr_inference --config exp/do_ko/config.yaml \\
        --model_file exp/do_ko/valid.acc.ave.pth --data dump/fbank/test_ko/feats.scp \\
        --output_dir exp/do_ko/decode_test_ko/logdir/output.1 [--key_file keys.1.scp] \\
        [--inference_config conf/decode.yaml] [--outputs surface meaning] [--decode_mode ctc_rescore]

Decode modes (``decode_mode`` in the decode config, or ``--decode_mode``):

- ``beam_search``: ESPnet's ``BatchBeamSearch`` per output and per utterance, joint CTC/attention
  (the decoder and ESPnet's CTC prefix scorer). The reference for accuracy.
- ``joint_batch``: the same joint search, batched (:meth:`DualSpeech2Text._lockstep_search`): each
  utterance encoded on its own, then every utterance of the batch and every output searched in
  lockstep, label by label. Its hypotheses are ``beam_search``'s (the tests check it; on the demo's six
  models all 200 test utterances of each came out identical), several times faster.
- ``ctc_rescore``: utterances in batches sorted by length, each encoded on its own; a CTC prefix
  beam search of every utterance and every output in lockstep (one set of tensor operations per
  frame), then the n-best of each output rescored by its attention decoder in one batched pass
  (``(1 - ctc_weight) * attention + ctc_weight * CTC + length_bonus * tokens``, WeNet's
  ``attention_rescoring`` plus ESPnet's length bonus). The CTC search keeps ``rescore_nbest``
  prefixes (default ``beam_size``). With ``rescore_margin`` set, only the prefixes whose CTC
  log-probability is within that margin of the best one are candidates (fewer decoder positions;
  an utterance with one such prefix needs none).

  Why an n-best wider than ``beam_search``'s beam, and a length bonus (measured on the previous en demo
  models, 60 test utterances, DO model; ``beam_search`` CER surface 9.75, meaning 12.22): with
  n-best 4 and no bonus, ``ctc_rescore`` gave 9.52 / 13.81. In 39 (surface) and 42 (meaning) of the
  60 utterances the two modes differed; ``beam_search``'s hypothesis had the higher joint score in
  37 of each, and it was missing from the CTC 4-best in 38 and 40 of them (from the 16-best in 24
  and 33): a candidate-set problem, not a ranking one. Exact CTC scores (every path, in place of the
  pruned prefix search's) did not change the CERs. A wider n-best alone closed little (16-best:
  9.30 / 13.23), and a local search that maximised the joint score beyond ``beam_search``'s own
  found higher-scoring but shorter, worse meaning hypotheses: the summed log-probabilities favour
  deletions (the hypotheses were 2.2-2.7 characters shorter than the references on average), which
  ``beam_search`` partly escapes by pruning label by label with CTC prefix scores, and whole-
  hypothesis rescoring does not. With a length bonus of 1 per token, the 16-best and a margin of 2:
  8.07 / 12.38 (ko DO 6.52 / 11.64 against 8.95 / 14.32; en so_meaning 11.96 against 12.54). On the
  other 140 en test utterances, not used to pick these settings: DO beam_search 5.65 / 9.04, 4-best
  without bonus 6.15 / 9.38, these settings 4.86 / 8.37; so_meaning 8.75, 9.06, 7.67. The bonus value
  was picked on these models, whose decoders are weak; stronger ones may want another.

  ``attention_candidate: [meaning]`` (or both outputs) adds each named output's attention-only greedy
  hypothesis to its candidates, scored as they are (its exact CTC log-likelihood). On the demo's models
  (200 test utterances, 20 ms frames, CER surface / meaning; ko with spaces) it closed part of the meaning
  gap to ``beam_search``, at about 1.5x the decoding time: en DO 2.96 / 5.05 -> 2.83 / 4.66 (beam_search
  2.88 / 4.56), en so_meaning 3.91 -> 3.72 (3.14), ko DO 3.28 / 9.47 -> 3.19 / 9.35 (3.39 / 7.73), ko
  so_meaning 6.93 -> 6.61 (6.23); make bench (en, batch 1): DO RTF 0.0185 -> 0.0284, ratio (c) 0.595 ->
  0.681. Off by default. Where neither the CTC n-best nor the greedy hypothesis holds the right meaning
  (ko DO), only the label-synchronous joint search finds it.

A DO model runs its encoder once and decodes both outputs from that encoding. Hypotheses are
appended to ``<output_dir>/text.<output>`` (``uttid text`` lines) and flushed as they are produced;
a re-run with the same ``--output_dir`` skips the utterances already written, so a killed job
resumes. ``<output_dir>/.done`` marks a finished job. An utterance too short for the encoder gets an
empty hypothesis and a warning naming it.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys
import time
import unicodedata
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import torch
import yaml
import dualasr.lazy_deps  # noqa: F401,I001  (first: keeps ESPnet's start-up fast and quiet)
from espnet.nets.batch_beam_search import BatchBeamSearch
from espnet.nets.ctc_prefix_score import CTCPrefixScoreTH
from espnet.nets.e2e_asr_common import end_detect
from espnet.nets.pytorch_backend.nets_utils import pad_list
from espnet.nets.pytorch_backend.transformer.subsampling import TooShortUttError, check_short_utt
from espnet.nets.scorers.ctc import CTCPrefixScorer
from espnet2.text.build_tokenizer import build_tokenizer
from espnet2.text.token_id_converter import TokenIDConverter
from tqdm import tqdm

from dualasr.data.datadir import read_kaldi_map
from dualasr.files import write_atomic
from dualasr.models.stacked_decoders import StackedDecoders, stackable
from dualasr.tasks.dual_asr import DualASRTask, output_token_types

DECODE_MODES = ("beam_search", "joint_batch", "ctc_rescore")
BATCHED_MODES = ("joint_batch", "ctc_rescore")  # decode_batch takes several utterances at once
NEG_INF = float("-inf")
log = logging.getLogger("dualasr.inference")


def ctc_prefix_beam_search(logp: torch.Tensor, lengths: torch.Tensor, beam: int, blank: int = 0
                           ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CTC prefix beam search of many streams at once (a stream: one utterance's CTC of one output).

    ``logp``: ``[streams, frames, vocab]`` CTC log-probabilities (a token a stream must not emit at
    -inf), ``lengths``: ``[streams]`` frames. Returns the ``beam`` best prefixes of each stream:
    tokens ``[streams, beam, frames]`` (valid up to their length), lengths ``[streams, beam]`` and
    CTC log-probabilities ``[streams, beam]`` (-inf for an empty slot).

    Written here because no library runs it batched over streams: WeNet's and ESPnet's are Python
    loops per utterance, and ``CTCPrefixScoreTH`` scores label-synchronous extensions (T frames per
    token). This one walks the frames once, each frame a handful of tensor operations over every
    stream, beam slot and candidate token. Per frame, each prefix either stays (a blank, or a
    repeat of its last token) or grows by one of the ``beam`` most probable non-blank tokens; a grown
    prefix equal to one already in the beam is merged into it (their probabilities add).
    """
    n, t_max, v = logp.shape
    dev = logp.device
    k = min(beam, v - 1)
    pref = torch.zeros(n, beam, max(t_max, 1), dtype=torch.long, device=dev)
    plen = torch.zeros(n, beam, dtype=torch.long, device=dev)
    last = torch.full((n, beam), -1, dtype=torch.long, device=dev)
    pb = torch.full((n, beam), NEG_INF, device=dev, dtype=logp.dtype)
    pb[:, 0] = 0.0
    pnb = torch.full_like(pb, NEG_INF)
    valid = torch.zeros(n, beam, dtype=torch.bool, device=dev)
    valid[:, 0] = True
    pos = torch.arange(pref.shape[2], device=dev)
    for t in range(t_max):
        lp = logp[:, t]
        nonblank = lp.clone()
        nonblank[:, blank] = NEG_INF
        top_lp, top_id = nonblank.topk(k, dim=-1)  # [n, k]
        tot = torch.logaddexp(pb, pnb)
        lp_last = torch.where(last >= 0, lp.gather(1, last.clamp(min=0)), torch.full_like(pb, NEG_INF))
        stay_pb = tot + lp[:, blank : blank + 1]
        stay_pnb = pnb + lp_last
        # parent[s, i, j]: prefix j is prefix i grown by one token (j's last one)
        within_i = pos[None, :, None] < plen[:, None, :]  # [n, L, i]
        same_prefix = ((pref[:, :, None, :] == pref[:, None, :, :]) | ~within_i.transpose(1, 2)[:, :, None, :]).all(-1)
        parent = same_prefix & (plen[:, None, :] == plen[:, :, None] + 1) & valid[:, :, None] & valid[:, None, :]
        repeat = last[:, None, :] == last[:, :, None]  # j's last token is also i's last: needs a blank between
        grow_into = torch.where(repeat, pb[:, :, None], tot[:, :, None]) + lp_last[:, None, :]
        grow_into = torch.where(parent, grow_into, torch.full_like(grow_into, NEG_INF))
        stay_pnb = torch.logaddexp(stay_pnb, torch.logsumexp(grow_into, dim=1))
        stay = torch.where(valid, torch.logaddexp(stay_pb, stay_pnb), torch.full_like(pb, NEG_INF))
        # grown prefixes [n, i, k]; one already in the beam (merged above) is dropped
        grow = torch.where(top_id[:, None, :] == last[:, :, None], pb[:, :, None], tot[:, :, None]) + top_lp[:, None, :]
        dup = (parent[:, :, :, None] & (last[:, None, :, None] == top_id[:, None, None, :])).any(2)
        grow = torch.where(dup | ~valid[:, :, None], torch.full_like(grow, NEG_INF), grow)
        best, idx = torch.cat([stay, grow.reshape(n, beam * k)], dim=1).topk(beam, dim=1)
        grown = idx >= beam
        src = torch.where(grown, (idx - beam).clamp(min=0) // k, idx)
        tok = torch.where(grown, top_id.gather(1, (idx - beam).clamp(min=0) % k), torch.full_like(idx, -1))
        new_pref = pref.gather(1, src[:, :, None].expand(-1, -1, pref.shape[2])).clone()
        new_plen = plen.gather(1, src)
        at = new_plen.clamp(max=pref.shape[2] - 1)[:, :, None]
        new_pref.scatter_(2, at, torch.where(grown[:, :, None], tok[:, :, None], new_pref.gather(2, at)))
        new_state = (
            new_pref,
            new_plen + grown.long(),
            torch.where(grown, tok, last.gather(1, src)),
            torch.where(grown, torch.full_like(best, NEG_INF), stay_pb.gather(1, src)),
            torch.where(grown, best, stay_pnb.gather(1, src)),
            torch.isfinite(best),
        )
        active = t < lengths  # [n]: streams whose utterance still has this frame
        old = (pref, plen, last, pb, pnb, valid)
        pref, plen, last, pb, pnb, valid = (
            torch.where(active.view(-1, *([1] * (new.dim() - 1))), new, o) for new, o in zip(new_state, old)
        )
    score = torch.where(valid, torch.logaddexp(pb, pnb), torch.full_like(pb, NEG_INF))
    return pref, plen, score


class _BatchedCTCPrefixScore(CTCPrefixScoreTH):
    """ESPnet's ``CTCPrefixScoreTH`` (label-synchronous CTC prefix scores of many hypotheses of many
    utterances at once), with its Python loops done as tensor operations.

    Written here because those loops dominate when a batch holds hundreds of hypotheses: three run
    once per hypothesis (``log_phi``, ``log_psi`` and the ``<eos>`` scores), and one runs once per frame
    at every output token (the forward recursion, :meth:`_forward`). The arithmetic is ESPnet's (no
    windowing: ``margin`` 0, as ``CTCPrefixScorer`` uses). ``y``: the prefixes as one ``[hypotheses,
    length]`` tensor (``<sos>`` first).
    """

    @staticmethod
    def _forward(r_start: torch.Tensor, log_phi: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """ESPnet's frame loop, ``r[t, 0] = logaddexp(r[t-1, 0], log_phi[t-1]) + x[0, t]`` and ``r[t, 1] =
        logaddexp(r[t-1, 0], r[t-1, 1]) + x[1, t]`` for the frames ``t`` after ``r_start`` (``r`` at the
        frame before the first; ``log_phi`` at the frames before each), in closed form: two
        ``logcumsumexp`` scans instead of one Python step per frame.

        With ``S[t]`` the running sum of ``x[0]`` (``S`` = 0 before the first frame), ``r[t, 0] - S[t]`` is
        the log of a running sum: ``logcumsumexp`` of ``r_start[0]`` followed by ``log_phi[t-1] - S[t-1]``;
        ``r[t, 1]`` likewise with ``x[1]`` and ``r[t-1, 0]``. The sums run in float64: ``S`` reaches
        -1e10 per padded frame (ESPnet's logzero) and ``r - S`` must not lose the valid frames' digits.
        Results match the loop to float32 rounding (``tests/test_inference.py``)."""
        dt = r_start.dtype
        r_start, log_phi, x = r_start.double(), log_phi.double(), x.double()
        zero = torch.zeros_like(x[:, :1])
        s = torch.cumsum(x, 1)  # [2, frames, ...]
        s_prev = torch.cat([zero, s[:, :-1]], 1)
        r0 = s[0] + torch.logcumsumexp(torch.cat([r_start[0][None], log_phi - s_prev[0]]), 0)[1:]
        r0_prev = torch.cat([r_start[0][None], r0[:-1]])
        r1 = s[1] + torch.logcumsumexp(torch.cat([r_start[1][None], r0_prev - s_prev[1]]), 0)[1:]
        return torch.stack([r0, r1], 1).to(dt)

    def __call__(self, y, state, scoring_ids=None, att_w=None):
        output_length = y.shape[1] - 1  # without <sos>
        n_bh = y.shape[0]
        n_hyps = n_bh // self.batch
        rows = torch.arange(n_bh, device=self.device)
        self.scoring_num = scoring_ids.size(-1) if scoring_ids is not None else 0
        if state is None:
            r_prev = torch.full((self.input_length, 2, self.batch, n_hyps), self.logzero, dtype=self.dtype,
                                device=self.device)
            r_prev[:, 1] = torch.cumsum(self.x[0, :, :, self.blank], 0).unsqueeze(2)
            r_prev = r_prev.view(-1, 2, n_bh)
            s_prev = 0.0
        else:
            r_prev, s_prev = state[0], state[1]
        if self.scoring_num > 0:
            snum = self.scoring_num
            scoring_idmap = torch.full((n_bh, self.odim), -1, dtype=torch.long, device=self.device)
            scoring_idmap[rows[:, None], scoring_ids] = torch.arange(snum, device=self.device)
            scoring_idx = (scoring_ids + self.idx_bo.repeat(1, n_hyps).view(-1, 1)).view(-1)
            x_ = torch.index_select(self.x.view(2, -1, self.batch * self.odim), 2, scoring_idx).view(2, -1, n_bh, snum)
            pos = scoring_idmap[rows, y[:, -1]]
        else:
            scoring_idmap, snum = None, self.odim
            x_ = self.x.unsqueeze(3).repeat(1, 1, 1, n_hyps, 1).view(2, -1, n_bh, snum)
            pos = y[:, -1]
        r = torch.full((self.input_length, 2, n_bh, snum), self.logzero, dtype=self.dtype, device=self.device)
        if output_length == 0:
            r[0, 0] = x_[0, 0]
        r_sum = torch.logsumexp(r_prev, 1)
        log_phi = r_sum.unsqueeze(2).repeat(1, 1, snum)
        hit = pos >= 0  # the last label is among the scored ones: its prefix needs a blank first
        log_phi[:, rows[hit], pos[hit]] = r_prev[:, 1, rows[hit]]
        start, end = max(output_length, 1), self.input_length
        if start < end:
            r[start:] = self._forward(r[start - 1], log_phi[start - 1 : end - 1], x_[:, start:end])
        log_phi_x = torch.cat((log_phi[0].unsqueeze(0), log_phi[:-1]), dim=0) + x_[0]
        log_psi_ = torch.logsumexp(torch.cat((log_phi_x[start:end], r[start - 1, 0].unsqueeze(0)), dim=0), dim=0)
        if scoring_ids is not None:
            log_psi = torch.full((n_bh, self.odim), self.logzero, dtype=self.dtype, device=self.device)
            log_psi.scatter_(1, scoring_ids, log_psi_)
        else:
            log_psi = log_psi_
        log_psi[:, self.eos] = r_sum[self.end_frames[rows // n_hyps], rows]
        if self.eos != self.blank:
            log_psi[:, self.blank] = self.logzero
        return log_psi - s_prev, (r, log_psi, 0, 0, scoring_idmap)


class DualSpeech2Text:
    """Holds a trained model and decodes every output of it (see the module doc for the modes)."""

    def __init__(self, model, token_type: str | Dict[str, str] = "char", bpemodels: Optional[Dict[str, str]] = None,
                 device: str = "cpu", beam_size: int = 4, ctc_weight: float = 0.3, maxlenratio: float = 0.0,
                 minlenratio: float = 0.0, outputs: Optional[Sequence[str]] = None, dtype: str = "float32",
                 decode_mode: str = "beam_search", rescore_margin: Optional[float] = None, batch_size: int = 16,
                 rescore_nbest: Optional[int] = None, length_bonus: float = 0.0,
                 attention_candidate: Optional[Sequence[str]] = None):
        if decode_mode not in DECODE_MODES:
            raise ValueError(f"decode_mode {decode_mode!r}: not one of {', '.join(DECODE_MODES)}")
        self.model = model.eval().to(device=device, dtype=getattr(torch, dtype))
        self.device = device
        self.decode_mode = decode_mode
        self.beam_size, self.ctc_weight, self.rescore_margin = beam_size, ctc_weight, rescore_margin
        # ctc_rescore: prefixes the CTC search keeps (the candidates), and a score per hypothesis token
        self.rescore_nbest, self.length_bonus = int(rescore_nbest or beam_size), float(length_bonus)
        # ctc_rescore: outputs whose attention-only greedy hypothesis joins the CTC n-best as a candidate
        self.attention_candidate = set(attention_candidate or ())
        self.batch_size = batch_size  # utterances per decode_batch call in main (ctc_rescore)
        self.outputs = list(outputs or model.outputs)
        for o in self.outputs:
            if o not in model.outputs:
                raise ValueError(f"the model has outputs {model.outputs}, not {o}")
        self.maxlenratio, self.minlenratio = maxlenratio, minlenratio
        self.searches: Dict[str, BatchBeamSearch] = {}
        self.converters, self.tokenizers = {}, {}
        for o in self.outputs:
            token_list = model.token_lists[o]
            eos = len(token_list) - 1
            if decode_mode == "beam_search":
                scorers = {"decoder": model.decoders[o], "ctc": CTCPrefixScorer(ctc=model.ctcs[o], eos=eos)}
                weights = {"decoder": 1.0 - ctc_weight, "ctc": ctc_weight}
                search = BatchBeamSearch(
                    scorers=scorers, weights=weights, beam_size=beam_size, vocab_size=len(token_list),
                    sos=eos, eos=eos, token_list=token_list,
                    pre_beam_score_key=None if ctc_weight == 1.0 else "full",
                )
                self.searches[o] = search.to(device=device, dtype=getattr(torch, dtype)).eval()
            self.converters[o] = TokenIDConverter(token_list=token_list)
            # token_type: one for every output, or one per output ({"surface": "word", ...})
            ttype = token_type[o] if isinstance(token_type, dict) else token_type
            self.tokenizers[o] = build_tokenizer(token_type=ttype, bpemodel=(bpemodels or {}).get(o))
        embed = getattr(getattr(model, "encoder", None), "embed", None)
        self.min_frames = max(check_short_utt(embed, 0)[1], 1) if embed is not None else 1

    @classmethod
    def from_files(cls, config: str, model_file: str, device: str = "cpu", **kwargs) -> "DualSpeech2Text":
        """Load a trained model (its training config.yaml and a .pth) and set up the searches."""
        model, args = DualASRTask.build_model_from_file(config, model_file, device)
        bpemodels = {o: getattr(args, f"bpemodel_{o}", None) for o in model.outputs}
        return cls(model, token_type=output_token_types(args, model.outputs), bpemodels=bpemodels, device=device,
                   **kwargs)

    @classmethod
    def from_pretrained(cls, archive: str, device: str = "cpu", **kwargs) -> "DualSpeech2Text":
        """Load a packed model (stage 13's zip, ``dualasr.packed``) from any directory. The decode
        settings stage 8 used are the defaults; ``kwargs`` override them."""
        from dualasr.packed import load

        packed = load(archive)
        s2t = cls.from_files(packed.config, packed.model_file, device=device, **{**packed.decode, **kwargs})
        s2t.packed = packed  # the feature settings and language, for dualasr.bin.transcribe
        return s2t

    def text(self, o: str, ids: Sequence[int]) -> str:
        """Output ``o``'s text of token ids (blanks dropped)."""
        tokens = self.converters[o].ids2tokens([int(i) for i in ids if int(i) != 0])
        # NFC: a model trained on jamo (--decompose_hangul) gives syllables back; a no-op otherwise
        return unicodedata.normalize("NFC", self.tokenizers[o].tokens2text(tokens))

    @torch.no_grad()
    def __call__(self, speech: torch.Tensor) -> Dict[str, str]:
        """Recognise one utterance (``[frames, dim]`` features or ``[samples]`` audio)."""
        return self.decode_batch([speech])[0]

    @torch.no_grad()
    def decode_batch(self, speeches: Sequence[torch.Tensor], keys: Optional[Sequence[str]] = None
                     ) -> List[Dict[str, str]]:
        """Recognise utterances (each ``[frames, dim]`` or ``[samples]``): ``[{output: text}]`` in their order.

        One too short for the encoder gets empty hypotheses and a warning naming it (``keys``, else
        its index). Each utterance is encoded alone (:meth:`encode_each`); ``beam_search`` then searches
        one utterance at a time, ``joint_batch`` and ``ctc_rescore`` all of them as one batch (callers sort
        by length and cap the batch size, as :func:`main` does).
        """
        keys = list(keys) if keys is not None else [f"utterance {i}" for i in range(len(speeches))]
        results: List[Dict[str, str]] = [{o: "" for o in self.outputs} for _ in speeches]
        todo = []
        for i, x in enumerate(speeches):
            if x.shape[0] < self.min_frames:
                log.warning("%s: %d frames, too short for the encoder (needs %d): empty hypothesis",
                            keys[i], x.shape[0], self.min_frames)
            else:
                todo.append(i)
        encoded = self.encode_each([speeches[i] for i in todo], [keys[i] for i in todo])
        ok = [(i, e) for i, e in zip(todo, encoded) if e is not None]  # None: too short (warned)
        for (i, _), r in zip(ok, self.decode_encoded([e for _, e in ok])):
            results[i] = r
        return results

    @property
    def batch_step(self) -> int:
        """Utterances per :meth:`decode_batch` call: ``batch_size`` (``beam_search``: one)."""
        return self.batch_size if self.decode_mode in BATCHED_MODES else 1

    def batches(self, feats: Dict[str, Sequence]) -> List[List[str]]:
        """The keys of ``{key: features}``, longest first, in batches of :attr:`batch_step` similar lengths."""
        step = self.batch_step
        keys = sorted(feats, key=lambda k: -len(feats[k]))
        return [keys[i : i + step] for i in range(0, len(keys), step)]

    def decode_many(self, feats: Dict[str, torch.Tensor], desc: Optional[str] = None) -> Dict[str, Dict[str, str]]:
        """``{key: {output: text}}`` of many utterances (``{key: features}``, in that order), decoded in
        :meth:`batches`; ``desc``: a progress bar."""
        out: Dict[str, Dict[str, str]] = {}
        for part in tqdm(self.batches(feats), desc=desc, disable=desc is None, mininterval=5, file=sys.stderr):
            out.update(zip(part, self.decode_batch([torch.as_tensor(feats[k]) for k in part], keys=part)))
        return {k: out[k] for k in feats}

    @torch.no_grad()
    def decode_encoded(self, encoded: Sequence[Dict[str, torch.Tensor]]) -> List[Dict[str, str]]:
        """Hypotheses of utterances already encoded (:meth:`encode_each`), in the decode mode."""
        if not encoded:
            return []
        if self.decode_mode == "joint_batch":
            return self._joint_batch(encoded)
        if self.decode_mode == "ctc_rescore":
            return self._ctc_rescore(encoded)
        return [self._beam_search(e) for e in encoded]

    def _beam_search(self, encoded: Dict[str, torch.Tensor]) -> Dict[str, str]:
        result = {}
        for o in self.outputs:
            hyps = self.searches[o](x=encoded[o], maxlenratio=self.maxlenratio, minlenratio=self.minlenratio)
            # without <sos/eos>: at maxlen ESPnet appends one to a hypothesis that may have chosen it already
            eos = len(self.model.token_lists[o]) - 1
            result[o] = self.text(o, [t for t in hyps[0].yseq[1:-1].tolist() if t != eos])
        return result

    @torch.no_grad()
    def encode_each(self, speeches: Sequence[torch.Tensor], keys: Sequence[str]
                     ) -> List[Optional[Dict[str, torch.Tensor]]]:
        """Each utterance encoded on its own, once for every output: ``{output: [T, D]}`` (None, with a
        warning naming it, for one too short for the encoder). Every decode mode starts here. Alone, so
        that no hypothesis depends on its batch-mates: in a padded batch the conformer's convolution module lets the padding into the last
        frames (ctc_rescore's ko CER went from 3.1 to 10.0 in batches of 16 when it encoded batches)."""
        out: List[Optional[Dict[str, torch.Tensor]]] = []
        for u, x in enumerate(speeches):
            x = x.to(self.device)[None]
            try:
                enc = self.model.encode(x, torch.tensor([x.shape[1]], device=self.device))
            except TooShortUttError as e:
                log.warning("%s: too short for the encoder (%s): empty hypothesis", keys[u], e)
                out.append(None)
                continue
            out.append({o: enc[o][0][0] for o in self.outputs})
        return out

    def _joint_batch(self, encoded: Sequence[Dict[str, torch.Tensor]]) -> List[Dict[str, str]]:
        """``joint_batch``: one lockstep search of every utterance (``{output: encoder frames}``) and output."""
        streams = [(o, u, e[o]) for o in self.outputs for u, e in enumerate(encoded)]  # each output's together
        results: List[Dict[str, str]] = [{} for _ in encoded]
        for (o, u, _), ids in zip(streams, self._lockstep_search([(o, e) for o, _, e in streams])):
            results[u][o] = self.text(o, ids)
        return results

    def _lockstep_search(self, streams: Sequence[Tuple[str, torch.Tensor]], beam: Optional[int] = None,
                         ctc_weight: Optional[float] = None) -> List[List[int]]:
        """ESPnet's joint CTC/attention beam search (``BatchBeamSearch`` with the decoder and
        ``CTCPrefixScorer``, as ``beam_search`` runs it) of many streams at once, a stream being one
        output of one utterance: ``(output, encoder frames [T, D])``. Returns each stream's best token ids.

        Every step scores all streams' hypotheses together: one step of all outputs' decoders
        (:class:`~dualasr.models.stacked_decoders.StackedDecoders`, the decoders' weights stacked; other
        decoder kinds: ESPnet's ``forward_one_step`` with its cache, once per output) and one CTC prefix
        scorer for every stream (:class:`_BatchedCTCPrefixScore`). The outputs' vocabularies share one index
        space: each output's ``<sos/eos>`` moves to the last index of the widest vocabulary, the ids
        between are never scored. The rest is ESPnet's: pre-beam of ``1.5 x beam`` tokens by the
        weighted decoder score, ``beam`` hypotheses kept per stream from all of its hypotheses'
        extensions, a hypothesis ending at ``<eos>`` (all of them at the stream's maxlen), ESPnet's
        ``end_detect`` with maxlenratio 0, the best ended hypothesis by score. Written here because
        ESPnet's beam search decodes one utterance of one output at a time. ``beam`` and ``ctc_weight``
        default to the decoder's (``beam=1, ctc_weight=0``: attention-only greedy decoding).
        """
        from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

        dev = self.device
        beam = self.beam_size if beam is None else beam
        w = self.ctc_weight if ctc_weight is None else ctc_weight
        vocab = {o: len(self.model.token_lists[o]) for o, _ in streams}
        width = max(vocab.values())
        eos = width - 1  # the shared <sos/eos> index
        use_att, use_ctc = w < 1.0, w > 0.0
        pre_beam = int(1.5 * beam)  # ESPnet's pre_beam_ratio
        do_pre_beam = use_att and use_ctc and pre_beam < min(vocab.values())
        frames = [int(e.shape[0]) for _, e in streams]
        maxlen = [f if self.maxlenratio == 0 else -int(self.maxlenratio) if self.maxlenratio < 0
                  else max(1, int(self.maxlenratio * f)) for f in frames]
        minlen = [-int(self.minlenratio) if self.minlenratio < 0 else int(self.minlenratio * f) for f in frames]

        groups: Dict[str, slice] = {}  # each output's streams, contiguous
        for i, (o, _) in enumerate(streams):
            groups[o] = slice(groups[o].start if o in groups else i, i + 1)
        if any(s_o != o for o, sl in groups.items() for s_o, _ in streams[sl]):
            raise ValueError("the streams of each output must be contiguous")
        lens = torch.tensor(frames, device=dev)
        enc = pad_list([e for _, e in streams], 0.0)
        ctc = None
        if use_ctc:
            x = torch.cat([self._to_shared(o, self.model.ctcs[o].log_softmax(enc[groups[o]]), width, -1e10)
                           for o in groups])
            ctc = _BatchedCTCPrefixScore(x, lens, 0, eos)
        parts = []  # (outputs, their rows, StackedDecoders or None: ESPnet's forward_one_step, one output at a time)
        if use_att:
            utt_mask = (~make_pad_mask(lens, maxlen=enc.shape[1]))[:, None, :].to(dev)
            together = len({sl.stop - sl.start for sl in groups.values()}) == 1  # stacked: as many streams each
            whole = together and stackable([self.model.decoders[o] for o in groups])
            sets = [list(groups)] if whole else [[o] for o in groups]
            for outs in sets:
                decs = [self.model.decoders[o] for o in outs]
                rows = slice(groups[outs[0]].start * beam, groups[outs[-1]].stop * beam)
                parts.append((outs, rows, StackedDecoders(decs, [enc[groups[o]] for o in outs],
                                                          [utt_mask[groups[o]] for o in outs], beam,
                                                          [vocab[o] for o in outs], width)
                              if whole or stackable(decs) else None))
        memory = memory_mask = None
        if any(st is None for _, _, st in parts):  # ESPnet's decoder step wants each hypothesis' encoding
            memory = enc.repeat_interleave(beam, dim=0)
            memory_mask = (~make_pad_mask(lens.repeat_interleave(beam), maxlen=enc.shape[1]))[:, None, :].to(dev)
        return self._lockstep_steps(streams, vocab, width, memory, memory_mask, ctc, parts, maxlen, minlen,
                                    enc.dtype, pre_beam if do_pre_beam else 0, beam, w)

    def _lockstep_steps(self, streams, vocab, width, memory, memory_mask, ctc, parts, maxlen, minlen,
                        dtype, pre_beam, beam, w) -> List[List[int]]:
        """The steps of :meth:`_lockstep_search` (its setup done)."""
        from espnet.nets.pytorch_backend.transformer.mask import subsequent_mask

        dev, n, eos = self.device, len(streams), width - 1
        use_att, use_ctc = w < 1.0, w > 0.0
        yseq = torch.full((n, beam, 1), eos, dtype=torch.long, device=dev)
        score = torch.full((n, beam), NEG_INF, device=dev, dtype=dtype)
        score[:, 0] = 0.0  # one running hypothesis (<sos>) to start with
        ctc_state = None
        caches: Dict[str, Optional[List[torch.Tensor]]] = {}  # ESPnet's decoder caches (unstacked parts)
        ended: List[List[dict]] = [[] for _ in range(n)]
        running = [True] * n
        offs = torch.arange(n, device=dev)[:, None] * beam
        for i in range(max(maxlen)):
            ys = yseq.view(n * beam, -1)
            weighted = torch.zeros(n * beam, width, device=dev, dtype=dtype)
            if use_att:
                att = torch.empty_like(weighted)
                for outs, rows, stacked in parts:
                    if stacked is not None:
                        att[rows] = stacked.step(ys[rows, -1])
                        continue
                    o = outs[0]
                    own = torch.where(ys[rows] == eos, vocab[o] - 1, ys[rows])
                    lp, caches[o] = self.model.decoders[o].forward_one_step(
                        own, subsequent_mask(i + 1, device=dev).unsqueeze(0), memory[rows], memory_mask[rows],
                        cache=caches.get(o))
                    att[rows] = self._to_shared(o, lp, width, NEG_INF)
                weighted += (1.0 - w) * att
            if use_ctc:
                part_ids = torch.topk(weighted, pre_beam, dim=-1)[1] if pre_beam else None
                ctc_scores, ctc_full = ctc(ys, ctc_state, part_ids)
                weighted += w * ctc_scores
            weighted += score.view(-1, 1)
            weighted = torch.where(torch.isfinite(score).view(-1, 1), weighted, torch.full_like(weighted, NEG_INF))
            score, best = weighted.view(n, beam * width).topk(beam, dim=1)
            prev, token = best // width, best % width
            flat = (offs + prev).view(-1)
            yseq = torch.cat([ys[flat].view(n, beam, -1), token[:, :, None]], dim=2)
            if use_att:
                for outs, rows, stacked in parts:
                    pick = flat[rows] - rows.start
                    if stacked is not None:
                        stacked.reorder(pick)
                    else:
                        caches[outs[0]] = [c[pick] for c in caches[outs[0]]]
            if use_ctc:
                ctc_state = ctc.index_select_state(ctc_full, best)
            # ended: <eos> chosen, or every running hypothesis at the stream's maxlen (ESPnet's post_process)
            last = torch.tensor([i == m - 1 for m in maxlen], device=dev)[:, None]
            done = torch.isfinite(score) & ((token == eos) | last) & torch.tensor(running, device=dev)[:, None]
            for s, b in done.nonzero().tolist():
                if i >= minlen[s]:
                    seq = yseq[s, b].tolist() + ([eos] if int(token[s, b]) != eos else [])
                    ended[s].append({"score": float(score[s, b]), "yseq": seq})
            score = torch.where(done, torch.full_like(score, NEG_INF), score)
            alive = torch.isfinite(score).any(1).tolist()
            for s in range(n):
                if running[s] and (not alive[s] or (self.maxlenratio == 0.0 and end_detect(ended[s], i))):
                    running[s] = False
            if not any(running):
                break
            score = torch.where(torch.tensor(running, device=dev)[:, None], score, torch.full_like(score, NEG_INF))
        best_ids = []
        for s, (o, _) in enumerate(streams):
            top = max(ended[s], key=lambda h: h["score"]) if ended[s] else {"yseq": [eos, eos]}
            best_ids.append([t for t in top["yseq"][1:] if t != eos])
        return best_ids

    def _to_shared(self, o: str, scores: torch.Tensor, width: int, fill: float) -> torch.Tensor:
        """Scores over output ``o``'s vocabulary in the lockstep search's shared index space (its
        ``<sos/eos>`` last, ``fill`` for the ids it does not have)."""
        v = len(self.model.token_lists[o])
        out = scores.new_full((*scores.shape[:-1], width), fill)
        out[..., : v - 1] = scores[..., : v - 1]
        out[..., width - 1] = scores[..., v - 1]
        return out

    def _ctc_rescore(self, each: Sequence[Dict[str, torch.Tensor]]) -> List[Dict[str, str]]:
        """``ctc_rescore`` of utterances encoded one by one (``{output: encoder frames}``), padded into a batch."""
        b = len(each)
        encoded, logps, enc_lens = {}, [], []
        for o in self.outputs:
            enc = pad_list([e[o] for e in each], 0.0)
            elens = torch.tensor([e[o].shape[0] for e in each], device=self.device)
            encoded[o] = (enc, elens)
            lp = self.model.ctcs[o].log_softmax(enc)
            lp[:, :, len(self.model.token_lists[o]) - 1] = NEG_INF  # <sos/eos> is no CTC output
            logps.append(lp)
            enc_lens.append(elens)
        vmax = max(lp.shape[2] for lp in logps)
        # every output's streams in one search: vocabularies padded with -inf (never chosen)
        logp = torch.cat([torch.nn.functional.pad(lp, (0, vmax - lp.shape[2]), value=NEG_INF) for lp in logps])
        beam = self.rescore_nbest
        pref, plen, ctc_score = ctc_prefix_beam_search(logp, torch.cat(enc_lens), beam)
        results: List[Dict[str, str]] = [{} for _ in range(b)]
        for n, o in enumerate(self.outputs):
            sl = slice(n * b, (n + 1) * b)
            p, pl, cs = pref[sl].flatten(0, 1), plen[sl].flatten(), ctc_score[sl].flatten()
            # candidates: the prefixes within rescore_margin of their utterance's best CTC score
            cand = torch.isfinite(cs).view(b, beam)
            if self.rescore_margin is not None:
                cand &= cs.view(b, beam) >= cs.view(b, beam).max(1, keepdim=True).values - self.rescore_margin
            cand = cand.flatten()
            score = torch.where(cand, self.ctc_weight * cs + self.length_bonus * pl, torch.full_like(cs, NEG_INF))
            extra = o in self.attention_candidate and self.ctc_weight < 1.0
            if self.ctc_weight < 1.0:
                # the decoder scores the candidates of utterances with more than one (a lone one wins anyway,
                # unless an attention candidate competes with it)
                rescore = cand if extra else cand & (cand.view(b, beam).sum(1) > 1).repeat_interleave(beam)
                idx = rescore.nonzero().squeeze(1)
                if len(idx):
                    att = self._attention_scores(o, encoded[o], idx // beam, p[idx], pl[idx])
                    score[idx] += (1.0 - self.ctc_weight) * att
            best_score, best = score.view(b, beam).max(dim=1)
            texts = []
            for u in range(b):
                j = u * beam + int(best[u])
                texts.append(p[j, : int(pl[j])].tolist())
            if extra:
                # the attention decoder's own greedy hypothesis, scored as the others (exact CTC score)
                for u, (ids, sc) in enumerate(zip(*self._attention_candidates(o, encoded[o], logps[n]))):
                    if sc > best_score[u]:
                        texts[u] = ids
            for u in range(b):
                results[u][o] = self.text(o, texts[u])
        return results

    def _attention_candidates(self, o: str, encoded, logp: torch.Tensor) -> Tuple[List[List[int]], List[float]]:
        """Each utterance's attention-only greedy hypothesis of output ``o`` (the lockstep search with beam
        1 and CTC weight 0, ESPnet's beam search with those settings) and its joint score (``ctc_weight``
        x its CTC log-likelihood + the rest x its attention log-probability + the length bonus), as the
        CTC candidates are scored."""
        enc, elens = encoded
        b = enc.shape[0]
        hyps = self._lockstep_search([(o, enc[u, : int(elens[u])]) for u in range(b)], beam=1, ctc_weight=0.0)
        plen = torch.tensor([len(h) for h in hyps], device=enc.device)
        pref = pad_list([torch.tensor(h, dtype=torch.long) for h in hyps], 0).to(enc.device) if int(plen.max()) \
            else torch.zeros(b, 1, dtype=torch.long, device=enc.device)
        ctc = -torch.nn.functional.ctc_loss(
            logp.transpose(0, 1).float().clamp(min=-1e4), pref, elens, plen, blank=0, reduction="none",
            zero_infinity=False)
        att = self._attention_scores(o, encoded, torch.arange(b, device=enc.device), pref, plen)
        score = self.ctc_weight * ctc + (1.0 - self.ctc_weight) * att + self.length_bonus * plen
        return hyps, score.tolist()

    def _attention_scores(self, o: str, encoded, utt: torch.Tensor, pref: torch.Tensor, plen: torch.Tensor
                          ) -> torch.Tensor:
        """log P(prefix, <eos> | encoding) under output ``o``'s decoder, prefix ``i`` of utterance ``utt[i]``."""
        enc, elens = encoded
        eos = len(self.model.token_lists[o]) - 1
        lmax = int(plen.max()) + 1
        steps = torch.arange(lmax, device=self.device)
        tokens = pref[:, : lmax - 1] if lmax > 1 else pref[:, :0]
        ys_in = torch.cat([torch.full_like(plen[:, None], eos), tokens], dim=1)
        ys_in = torch.where(steps[None, :] <= plen[:, None], ys_in, torch.full_like(ys_in, eos))
        ys_out = torch.cat([tokens, torch.full_like(plen[:, None], eos)], dim=1)
        ys_out = ys_out.scatter(1, plen[:, None], eos)
        logits, _ = self.model.decoders[o](enc[utt], elens[utt], ys_in, plen + 1)
        tok_lp = torch.log_softmax(logits, dim=-1).gather(2, ys_out[:, :, None]).squeeze(2)
        return torch.where(steps[None, :] <= plen[:, None], tok_lp, torch.zeros_like(tok_lp)).sum(1)


# decode-config keys: DualSpeech2Text's settings
DECODE_KEYS = tuple(k for k in inspect.signature(DualSpeech2Text.__init__).parameters
                    if k not in ("self", "model", "token_type", "bpemodels", "device", "outputs"))


def load_decode_config(path: Optional[str]) -> Dict:
    """The decode config as a dict; an unknown key or a bad file is a one-line error (SystemExit)."""
    if not path:
        return {}
    try:
        conf = yaml.safe_load(open(path, encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise SystemExit(f"{path}: cannot read the decode config: {str(e).splitlines()[0]}")
    if not isinstance(conf, dict):
        raise SystemExit(f"{path}: the decode config must be a mapping of keys to values")
    for k in conf:
        if k not in DECODE_KEYS:
            raise SystemExit(f"{path}: unknown key {k!r} in the decode config (known: {', '.join(DECODE_KEYS)})")
    return conf


def decode_settings(path: Optional[str]) -> str:
    """The decode config's settings as one line of JSON (keys sorted): what stage 8 records in a decode's
    ``.done_decode``, so that a comment or the key order in the file does not make a finished decode stale."""
    return json.dumps(load_decode_config(path), sort_keys=True, ensure_ascii=False)


def resume(output_dir: Path, outputs: Sequence[str], wanted: Optional[Set[str]]) -> Set[str]:
    """Keep the hypotheses already written for every output (of the utterances still wanted).

    Rewrites each ``text.<output>`` with those lines only (a line cut by a kill, or an utterance
    written for one output and not the other, is dropped) and returns their keys.
    """
    rows: Dict[str, Dict[str, str]] = {}
    for o in outputs:
        f = output_dir / f"text.{o}"
        rows[o] = {}
        if f.is_file():
            for line in f.read_text(encoding="utf-8").splitlines(keepends=True):
                if line.endswith("\n"):
                    key = line.split(" ", 1)[0].rstrip("\n")
                    rows[o][key] = line
    done = set.intersection(*(set(r) for r in rows.values())) if rows else set()
    if wanted is not None:
        done &= wanted
    for o in outputs:
        write_atomic(output_dir / f"text.{o}", "".join(line for k, line in rows[o].items() if k in done))
    return done


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="the training config.yaml of the model (required to decode)")
    p.add_argument("--model_file", help="required to decode")
    p.add_argument("--data", help="feats.scp (kaldi_ark) or wav.scp (sound) (required to decode)")
    p.add_argument("--data_type", default="kaldi_ark", choices=["kaldi_ark", "sound"])
    p.add_argument("--key_file", default=None, help="decode only these utterance ids")
    p.add_argument("--output_dir", type=Path, help="required to decode")
    p.add_argument("--inference_config", default=None, help=f"yaml with keys among: {', '.join(DECODE_KEYS)}")
    p.add_argument("--outputs", nargs="+", default=None, help="default: every output of the model")
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--beam_size", type=int, default=None)
    p.add_argument("--ctc_weight", type=float, default=None)
    p.add_argument("--decode_mode", default=None, choices=DECODE_MODES, help="default: the config's, else beam_search")
    p.add_argument("--batch_size", type=int, default=None, help="utterances per batch in joint_batch and ctc_rescore")
    p.add_argument("--print_settings", action="store_true",
                   help="print the settings of --inference_config as one line of JSON and exit (stage 8 records them)")
    a = p.parse_args(argv)
    if a.print_settings:
        print(decode_settings(a.inference_config))
        return 0
    missing = [f"--{k}" for k in ("config", "model_file", "data", "output_dir") if getattr(a, k) is None]
    if missing:
        p.error(f"decoding needs {', '.join(missing)}")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    conf = load_decode_config(a.inference_config)
    for k in ("beam_size", "ctc_weight", "decode_mode", "batch_size"):
        if getattr(a, k) is not None:
            conf[k] = getattr(a, k)
    device = "cuda" if a.ngpu > 0 else "cpu"
    s2t = DualSpeech2Text.from_files(a.config, a.model_file, device=device, outputs=a.outputs, **conf)

    a.output_dir.mkdir(parents=True, exist_ok=True)
    (a.output_dir / ".done").unlink(missing_ok=True)
    wanted = set(read_kaldi_map(a.key_file)) if a.key_file else set(read_kaldi_map(a.data))
    done = resume(a.output_dir, s2t.outputs, wanted)
    if done:
        print(f"{a.output_dir}: {len(done)} utterances already decoded, resuming", file=sys.stderr)
    loader = DualASRTask.build_streaming_iterator(
        data_path_and_name_and_type=[(a.data, "speech", a.data_type)], preprocess_fn=None,
        collate_fn=DualASRTask.build_collate_fn(argparse.Namespace(), False), key_file=a.key_file,
        batch_size=1, num_workers=0, inference=True, dtype="float32",
    )
    files = {o: open(a.output_dir / f"text.{o}", "a", encoding="utf-8") for o in s2t.outputs}
    t0, audio_frames, n = time.time(), 0, 0
    # a chunk of utterances is read, sorted by length and decoded in batches (beam_search: one by one)
    chunk: Dict[str, torch.Tensor] = {}
    chunk_size = s2t.batch_step * 8

    def flush_chunk():
        nonlocal n, audio_frames
        for part in s2t.batches(chunk):
            hyps = s2t.decode_batch([chunk[k] for k in part], keys=part)
            for key, hyp in zip(part, hyps):
                for o in s2t.outputs:
                    files[o].write(f"{key} {hyp[o]}\n")
                audio_frames += chunk[key].shape[0]
                n += 1
            for f in files.values():  # as they are produced: a killed job keeps what it wrote
                f.flush()
        chunk.clear()

    try:
        for keys, batch in tqdm(loader, desc=f"decode {a.output_dir}", mininterval=10, file=sys.stderr):
            if keys[0] in done:
                continue
            chunk[keys[0]] = batch["speech"][0][: batch["speech_lengths"][0]]
            if len(chunk) >= chunk_size:
                flush_chunk()
        flush_chunk()
    finally:
        for f in files.values():
            f.close()
    (a.output_dir / ".done").write_text(f"{len(done) + n}\n")
    elapsed = time.time() - t0
    rtf = elapsed / max(audio_frames / 100.0, 1e-9) if a.data_type == "kaldi_ark" else float("nan")
    print(f"decoded {n} utterances ({s2t.decode_mode}), outputs {' '.join(s2t.outputs)}, {elapsed:.1f} s, "
          f"RTF {rtf:.3f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
