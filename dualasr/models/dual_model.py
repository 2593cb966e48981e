"""SO and DO models: one shared encoder, one attention decoder and one CTC head per output.

``outputs=[surface]`` or ``[meaning]`` is a single-output (SO) model; ``[surface, meaning]`` is the
dual-output (DO) model. With ``task_branch_layers=k > 0`` the last k encoder blocks are duplicated, one
copy per output, above the shared blocks (``do_branch``).

Loss = sum_o w_o * (ctc_weight * CTC_o + (1 - ctc_weight) * att_o).

The attention/CTC loss code mirrors ``espnet2.asr.espnet_model.ESPnetASRModel._calc_att_loss`` and
``_calc_ctc_loss`` with ESPnet's own parts (``add_sos_eos``, ``LabelSmoothingLoss``, ``th_accuracy``,
``ErrorCalculator``, ``CTC``); that class holds exactly one decoder and one CTC, so it cannot be reused
for two outputs without registering the shared encoder twice.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import dualasr.lazy_deps  # noqa: F401,I001  (first: keeps ESPnet's start-up fast and quiet)
from espnet2.asr.ctc import CTC
from espnet2.asr.decoder.abs_decoder import AbsDecoder
from espnet2.asr.encoder.abs_encoder import AbsEncoder
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.asr.specaug.abs_specaug import AbsSpecAug
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel
from espnet.nets.e2e_asr_common import ErrorCalculator
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask, th_accuracy
from espnet.nets.pytorch_backend.transformer.add_sos_eos import add_sos_eos
from espnet.nets.pytorch_backend.transformer.label_smoothing_loss import LabelSmoothingLoss
from espnet.nets.pytorch_backend.transformer.repeat import MultiSequential
from espnet.nets.pytorch_backend.transformer.subsampling import (
    Conv2dSubsampling,
    Conv2dSubsampling1,
    Conv2dSubsampling2,
    Conv2dSubsampling6,
    Conv2dSubsampling8,
)

from dualasr import OUTPUTS

# the encoder input layers that take (x, mask), as in ESPnet's ConformerEncoder.forward
_SUBSAMPLERS = (Conv2dSubsampling, Conv2dSubsampling1, Conv2dSubsampling2, Conv2dSubsampling6, Conv2dSubsampling8)


class DualASRModel(AbsESPnetModel):
    """Encoder shared by the outputs, plus per-output decoder and CTC (and optional branch blocks)."""

    def __init__(
        self,
        outputs: Sequence[str],
        token_lists: Dict[str, List[str]],
        frontend: Optional[AbsFrontend],
        specaug: Optional[AbsSpecAug],
        normalize: Optional[AbsNormalize],
        encoder: AbsEncoder,
        decoders: Dict[str, AbsDecoder],
        ctcs: Dict[str, CTC],
        output_weights: Optional[Dict[str, float]] = None,
        ctc_weight: float = 0.3,
        lsm_weight: float = 0.1,
        length_normalized_loss: bool = False,
        task_branch_layers: int = 0,
        report_cer: bool = True,
        report_wer: bool = False,
        sym_space: str = "<space>",
        sym_blank: str = "<blank>",
        ignore_id: int = -1,
    ):
        super().__init__()
        outputs = list(outputs)
        if not outputs or any(o not in OUTPUTS for o in outputs) or len(set(outputs)) != len(outputs):
            raise ValueError(f"outputs must be a non-empty subset of {OUTPUTS}, got {outputs}")
        if not 0.0 <= ctc_weight <= 1.0:
            raise ValueError(f"ctc_weight must be in [0, 1], got {ctc_weight}")
        self.outputs = outputs
        self.token_lists = {o: list(token_lists[o]) for o in outputs}
        self.vocab_sizes = {o: len(self.token_lists[o]) for o in outputs}
        weights = dict(output_weights or {})
        self.output_weights = {o: float(weights.get(o, 1.0)) for o in outputs}
        self.ctc_weight = ctc_weight
        self.ignore_id = ignore_id
        self.frontend = frontend
        self.specaug = specaug
        self.normalize = normalize
        self.encoder = encoder
        self.decoders = torch.nn.ModuleDict({o: decoders[o] for o in outputs})
        self.ctcs = torch.nn.ModuleDict({o: ctcs[o] for o in outputs})
        self.criteria = torch.nn.ModuleDict(
            {
                o: LabelSmoothingLoss(
                    size=self.vocab_sizes[o], padding_idx=ignore_id, smoothing=lsm_weight,
                    normalize_length=length_normalized_loss,
                )
                for o in outputs
            }
        )
        self.error_calculators = {
            o: ErrorCalculator(self.token_lists[o], sym_space, sym_blank, report_cer, report_wer)
            if (report_cer or report_wer) else None
            for o in outputs
        }
        self.task_branch_layers = int(task_branch_layers)
        self.branches = None
        if self.task_branch_layers > 0:
            self._split_encoder(self.task_branch_layers)

    # ---- encoder -------------------------------------------------------------------------
    def _split_encoder(self, k: int) -> None:
        """Move the last k blocks (and the final norm) of the encoder into one copy per output."""
        enc = self.encoder
        for attr in ("embed", "encoders", "after_norm", "normalize_before"):
            if not hasattr(enc, attr):
                raise ValueError(
                    f"task_branch_layers needs an encoder with .{attr} (conformer, transformer, "
                    f"e_branchformer, branchformer); {type(enc).__name__} has none"
                )
        blocks = list(enc.encoders)
        if not 0 < k < len(blocks):
            raise ValueError(f"task_branch_layers={k} must be in [1, num_blocks-1={len(blocks) - 1}]")
        shared, top = blocks[: len(blocks) - k], blocks[len(blocks) - k :]
        self.branches = torch.nn.ModuleDict(
            {
                o: torch.nn.ModuleDict(
                    {"blocks": torch.nn.ModuleList(copy.deepcopy(top)),
                     "norm": copy.deepcopy(enc.after_norm)}
                )
                for o in self.outputs
            }
        )
        enc.encoders = MultiSequential(*shared)
        enc.after_norm = torch.nn.Identity()

    def _embed(self, feats, feats_lengths):
        enc = self.encoder
        masks = (~make_pad_mask(feats_lengths)[:, None, :]).to(feats.device)
        if isinstance(enc.embed, _SUBSAMPLERS):
            xs, masks = enc.embed(feats, masks)
        else:
            xs = enc.embed(feats)
        return xs, masks

    @staticmethod
    def _run_blocks(blocks, xs, masks):
        for blk in blocks:
            xs, masks = blk(xs, masks)
        return xs, masks

    def _features(self, speech, speech_lengths):
        speech = speech[:, : speech_lengths.max()]
        if self.frontend is not None:
            feats, lens = self.frontend(speech, speech_lengths)
        else:
            # a copy: ESPnet's GlobalMVN normalises in place, and these are the caller's features
            feats, lens = speech.clone(), speech_lengths
        if self.specaug is not None and self.training:
            feats, lens = self.specaug(feats, lens)
        if self.normalize is not None:
            feats, lens = self.normalize(feats, lens)
        return feats, lens

    def encode(self, speech: torch.Tensor, speech_lengths: torch.Tensor) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
        """Encode once; return ``{output: (encoder_out, encoder_out_lens)}``.

        Without branches every output gets the same tensor (one encoder pass).
        """
        feats, lens = self._features(speech, speech_lengths)
        if self.branches is None:
            out, out_lens, _ = self.encoder(feats, lens)
            return {o: (out, out_lens) for o in self.outputs}
        xs, masks = self._embed(feats, lens)
        xs, masks = self._run_blocks(self.encoder.encoders, xs, masks)
        result = {}
        for o in self.outputs:
            ys, ymasks = self._run_blocks(self.branches[o]["blocks"], xs, masks)
            if isinstance(ys, tuple):
                ys = ys[0]
            if self.encoder.normalize_before:
                ys = self.branches[o]["norm"](ys)
            result[o] = (ys, ymasks.squeeze(1).sum(1))
        return result

    @contextmanager
    def capture_encoder_layers(self):
        """Collect the input of the first encoder block and the output of every block.

        Yields a dict filled during the next :meth:`encode`: ``{"shared": [h0, h1, ...],
        "<output>": [branch block outputs]}``, each ``[batch, frames, dim]``.
        """
        store: Dict[str, List[torch.Tensor]] = {"shared": []}
        hooks = []

        def grab(key):
            def hook(_module, inputs, output):
                x = output[0] if isinstance(output, tuple) else output
                x = x[0] if isinstance(x, tuple) else x
                store.setdefault(key, []).append(x.detach())
            return hook

        def grab_input(_module, inputs):
            x = inputs[0]
            x = x[0] if isinstance(x, tuple) else x
            store["shared"].append(x.detach())

        blocks = list(self.encoder.encoders)
        hooks.append(blocks[0].register_forward_pre_hook(grab_input))
        for blk in blocks:
            hooks.append(blk.register_forward_hook(grab("shared")))
        if self.branches is not None:
            for o in self.outputs:
                for blk in self.branches[o]["blocks"]:
                    hooks.append(blk.register_forward_hook(grab(o)))
        try:
            yield store
        finally:
            for h in hooks:
                h.remove()

    # ---- losses --------------------------------------------------------------------------
    def _att_loss(self, o, enc_out, enc_lens, ys_pad, ys_lens):
        dec = self.decoders[o]
        sos = eos = self.vocab_sizes[o] - 1
        ys_in, ys_out = add_sos_eos(ys_pad, sos, eos, self.ignore_id)
        dec_out, _ = dec(enc_out, enc_lens, ys_in, ys_lens + 1)
        loss = self.criteria[o](dec_out, ys_out)
        acc = th_accuracy(dec_out.view(-1, self.vocab_sizes[o]), ys_out, ignore_label=self.ignore_id)
        cer = None
        if not self.training and self.error_calculators[o] is not None:
            cer, _ = self.error_calculators[o](dec_out.argmax(dim=-1).cpu(), ys_pad.cpu())
        return loss, acc, cer

    def _ctc_loss(self, o, enc_out, enc_lens, ys_pad, ys_lens):
        loss = self.ctcs[o](enc_out, enc_lens, ys_pad, ys_lens)
        cer = None
        if not self.training and self.error_calculators[o] is not None:
            cer = self.error_calculators[o](self.ctcs[o].argmax(enc_out).data.cpu(), ys_pad.cpu(), is_ctc=True)
        return loss, cer

    def output_losses(self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs):
        """Per-output losses (with graph) and the stats to report; :meth:`forward` weights and sums them."""
        for o in self.outputs:
            if f"text_{o}" not in kwargs:
                raise ValueError(f"model with outputs {self.outputs} needs text_{o} in the batch")
        encoded = self.encode(speech, speech_lengths)
        stats: Dict[str, Optional[torch.Tensor]] = {}
        losses: Dict[str, torch.Tensor] = {}
        for o in self.outputs:
            ys, ys_lens = kwargs[f"text_{o}"], kwargs[f"text_{o}_lengths"]
            ys = ys[:, : ys_lens.max()]
            enc_out, enc_lens = encoded[o]
            loss_o = 0.0
            if self.ctc_weight > 0:
                l_ctc, cer_ctc = self._ctc_loss(o, enc_out, enc_lens, ys, ys_lens)
                loss_o = loss_o + self.ctc_weight * l_ctc
                stats[f"loss_ctc_{o}"] = l_ctc.detach()
                stats[f"cer_ctc_{o}"] = cer_ctc
            if self.ctc_weight < 1:
                l_att, acc, cer = self._att_loss(o, enc_out, enc_lens, ys, ys_lens)
                loss_o = loss_o + (1 - self.ctc_weight) * l_att
                stats[f"loss_att_{o}"] = l_att.detach()
                stats[f"acc_{o}"] = acc
                stats[f"cer_{o}"] = cer
            stats[f"loss_{o}"] = loss_o.detach()
            losses[o] = loss_o
        return losses, stats

    def forward(self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs):
        losses, stats = self.output_losses(speech, speech_lengths, **kwargs)
        total = sum(self.output_weights[o] * losses[o] for o in self.outputs)
        stats["loss"] = total.detach()
        # ESPnet's best-model selection reads "acc": here the mean over the outputs
        accs = [stats[f"acc_{o}"] for o in self.outputs if stats.get(f"acc_{o}") is not None]
        stats["acc"] = sum(accs) / len(accs) if accs else None
        return force_gatherable((total, stats, speech.shape[0]), total.device)

    def collect_feats(self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs):
        speech = speech[:, : speech_lengths.max()]
        if self.frontend is not None:
            feats, lens = self.frontend(speech, speech_lengths)
        else:
            feats, lens = speech, speech_lengths
        return {"feats": feats, "feats_lengths": lens}
