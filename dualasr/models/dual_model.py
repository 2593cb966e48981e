"""SO and DO models: one shared encoder, one attention decoder and one CTC head per output.

``outputs=[surface]`` or ``[meaning]`` is a single-output (SO) model; ``[surface, meaning]`` is the
dual-output (DO) model. With ``task_branch_layers=k > 0`` the last k encoder blocks are duplicated, one
copy per output, above the shared blocks (``do_branch``).

Variants that reduce the entanglement of the two outputs (``do_<name>`` in conf/model_kinds.yaml; each
is off by default, so a default model computes exactly what it did before):

- ``hier_layer=k`` (``do_hier``): the surface CTC and decoder read the output of encoder block k (-1: the
  middle block) through ESPnet's intermediate-CTC support (``interctc_layer_idx``); meaning reads the
  top. ``hier_self_condition`` feeds the surface CTC posteriors back (``interctc_use_conditioning``).
- ``adapter_layers=k`` (``do_adapter``): the top k blocks stay shared, and after each of them every output
  has its own Houlsby bottleneck adapter (ESPnet's ``Houlsby_Adapter``), used only on that output's path.
- ``pcgrad=true`` (``do_pcgrad``): the model is the plain DO model; DualASRTask trains it with
  :class:`dualasr.train.pcgrad.PCGradTrainer` (gradient surgery on the shared parameters).
- ``adv_private_layers=k`` (``do_adv``): adversarial shared-private multi-task learning (Liu et al.
  2017): k private encoder blocks per output run beside the shared ones on the subsampled input; an
  output reads shared + private features. A task discriminator on the shared features sits behind a
  gradient-reversal layer; an orthogonality penalty ||S^T P_o||_F^2 separates shared and private.
- ``sparse_layers=k`` (``do_sparse``): in the top k blocks each output's weight matrices are the shared
  ones plus a task-specific residual (zero at start) under an L1 penalty; :meth:`residual_sparsity`
  reports how sparse each residual ended up.

Loss = sum_o w_o * (ctc_weight * CTC_o + (1 - ctc_weight) * att_o).

The attention/CTC loss code mirrors ``espnet2.asr.espnet_model.ESPnetASRModel._calc_att_loss`` and
``_calc_ctc_loss`` with ESPnet's own parts (``LabelSmoothingLoss``, ``th_accuracy``, ``ErrorCalculator``,
``CTC``'s layers and loss); that class holds exactly one decoder and one CTC, so it cannot be reused
for two outputs without registering the shared encoder twice. The decoder and CTC targets are built
batched (``_sos_eos``, ``_ctc_forward``: the same tensors as ESPnet's ``add_sos_eos`` and ``CTC.forward``,
without their loop over the utterances, which costs a host sync per utterance on a GPU).
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
from espnet2.asr.preencoder.abs_preencoder import AbsPreEncoder
from espnet2.asr.specaug.abs_specaug import AbsSpecAug
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.layers.houlsby_adapter_layer import Houlsby_Adapter
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel
from espnet.nets.e2e_asr_common import ErrorCalculator
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask, th_accuracy
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
        preencoder: Optional[AbsPreEncoder] = None,
        hier_layer: int = 0,
        hier_self_condition: bool = False,
        adapter_layers: int = 0,
        adapter_bottleneck: int = 32,
        pcgrad: bool = False,
        adv_private_layers: int = 0,
        adv_weight: float = 0.1,
        adv_grl_scale: float = 1.0,
        adv_ortho_weight: float = 0.01,
        sparse_layers: int = 0,
        sparse_l1: float = 1e-4,
        sparse_tol: float = 1e-3,
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
        self.preencoder = preencoder
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
        self.top = None  # top blocks shared by the outputs but run once per output (adapters, residuals)
        self.adapters = None
        self.residuals = None
        self.private = None
        self.discriminator = None
        self.hier_layer = 0
        self.pcgrad = bool(pcgrad)
        self.adv_weight, self.adv_grl_scale, self.adv_ortho_weight = float(adv_weight), float(adv_grl_scale), float(adv_ortho_weight)
        self.sparse_l1, self.sparse_tol = float(sparse_l1), float(sparse_tol)
        variants = {"task_branch_layers": task_branch_layers, "hier_layer": hier_layer, "adapter_layers": adapter_layers,
                    "adv_private_layers": adv_private_layers, "sparse_layers": sparse_layers}
        on = [k for k, v in variants.items() if v]
        if len(on) > 1:
            raise ValueError(f"model_conf: {' and '.join(on)} cannot be combined; set one of them")
        if on and len(outputs) != 2:
            raise ValueError(f"model_conf {on[0]} needs both outputs, got {outputs}")
        if self.pcgrad and len(outputs) != 2:
            raise ValueError(f"model_conf pcgrad needs both outputs, got {outputs}")
        if self.task_branch_layers > 0:
            self._split_encoder(self.task_branch_layers)
        if hier_layer:
            self._set_hier(int(hier_layer), bool(hier_self_condition))
        if adapter_layers:
            self._split_top(int(adapter_layers), "adapter_layers")
            d = encoder.output_size()
            self.adapters = torch.nn.ModuleDict(
                {o: torch.nn.ModuleList(Houlsby_Adapter(d, int(adapter_bottleneck)) for _ in self.top) for o in outputs}
            )
            for ad in self.adapters.values():  # start as the identity (Houlsby et al. 2019: near-identity init)
                for a in ad:
                    torch.nn.init.zeros_(a.houlsby_adapter[-1].weight)
                    torch.nn.init.zeros_(a.houlsby_adapter[-1].bias)
        if sparse_layers:
            self._split_top(int(sparse_layers), "sparse_layers")
            # a residual for every weight matrix of the top blocks (biases and norms stay shared)
            self.residuals = torch.nn.ModuleDict(
                {o: torch.nn.ParameterDict({n.replace(".", "__"): torch.nn.Parameter(torch.zeros_like(p))
                                            for n, p in self.top.named_parameters() if p.dim() == 2})
                 for o in outputs}
            )
        if adv_private_layers:
            self._split_top(0, "adv_private_layers")
            k = int(adv_private_layers)
            blocks = list(self.encoder.encoders)
            if not 0 < k <= len(blocks):
                raise ValueError(f"adv_private_layers={k} must be in [1, num_blocks={len(blocks)}]")
            self.private = torch.nn.ModuleDict(
                {o: torch.nn.ModuleDict({"blocks": torch.nn.ModuleList(copy.deepcopy(blocks[:k])),
                                         "norm": copy.deepcopy(self._after_norm)})
                 for o in outputs}
            )
            d = encoder.output_size()
            self.discriminator = torch.nn.Sequential(
                torch.nn.Linear(d, d), torch.nn.ReLU(), torch.nn.Linear(d, len(outputs))
            )

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

    def _split_top(self, k: int, name: str) -> None:
        """Keep the last k blocks shared but apart (``self.top``), to run them once per output."""
        enc = self.encoder
        for attr in ("embed", "encoders", "after_norm", "normalize_before"):
            if not hasattr(enc, attr):
                raise ValueError(f"{name} needs an encoder with .{attr} (conformer, transformer, "
                                 f"e_branchformer, branchformer); {type(enc).__name__} has none")
        blocks = list(enc.encoders)
        if not 0 <= k < len(blocks):
            raise ValueError(f"{name}={k} must be in [1, num_blocks-1={len(blocks) - 1}]")
        self.top = torch.nn.ModuleList(blocks[len(blocks) - k:])
        self._after_norm = enc.after_norm if enc.normalize_before else torch.nn.Identity()
        enc.encoders = MultiSequential(*blocks[: len(blocks) - k])
        enc.after_norm = torch.nn.Identity()

    def _set_hier(self, k: int, self_condition: bool) -> None:
        """Surface reads block k through ESPnet's intermediate-CTC encoder outputs."""
        enc = self.encoder
        if not hasattr(enc, "interctc_layer_idx"):
            raise ValueError(f"hier_layer needs an encoder with intermediate CTC (conformer, transformer, "
                             f"e_branchformer, ...); {type(enc).__name__} has none")
        n = len(enc.encoders)
        k = n // 2 if k == -1 else k
        if not 0 < k < n:
            raise ValueError(f"hier_layer={k} must be in [1, num_blocks-1={n - 1}] (or -1: the middle block)")
        self.hier_layer = k
        # the same attributes ESPnet's encoder constructor sets from interctc_layer_idx /
        # interctc_use_conditioning, and the conditioning layer ESPnetASRModel adds for them
        enc.interctc_layer_idx = [k]
        enc.interctc_use_conditioning = self_condition
        if self_condition:
            enc.conditioning_layer = torch.nn.Linear(self.vocab_sizes["surface"], enc.output_size())

    def _run_top(self, o, xs, masks):
        """The shared top blocks on output o's path: with o's adapters or o's weight residuals."""
        for i, blk in enumerate(self.top):
            if self.residuals is not None:
                prefix = f"{i}."
                params = {n[len(prefix):]: p + self.residuals[o][n.replace(".", "__")]
                          for n, p in self.top.named_parameters() if n.startswith(prefix) and p.dim() == 2}
                xs, masks = torch.func.functional_call(blk, params, (xs, masks), strict=False)
            else:
                xs, masks = blk(xs, masks)
            if self.adapters is not None:
                if isinstance(xs, tuple):
                    xs = (xs[0] + self.adapters[o][i](xs[0]), xs[1])
                else:
                    xs = xs + self.adapters[o][i](xs)
        return xs, masks

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
        if self.preencoder is not None:
            feats, lens = self.preencoder(feats, lens)
        return feats, lens

    def encode(self, speech: torch.Tensor, speech_lengths: torch.Tensor) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
        """Encode once; return ``{output: (encoder_out, encoder_out_lens)}``.

        Without branches every output gets the same tensor (one encoder pass).
        """
        return {o: v[:2] for o, v in self._encode(speech, speech_lengths).items()}

    def _encode(self, speech, speech_lengths):
        """:meth:`encode`, plus (for ``do_adv``) the shared and private features of each output."""
        feats, lens = self._features(speech, speech_lengths)
        if self.hier_layer:
            (out, inter), out_lens, _ = self.encoder(feats, lens, ctc=self.ctcs["surface"])
            return {"surface": (inter[0][1], out_lens), "meaning": (out, out_lens)}
        if self.branches is None and self.top is None:
            out, out_lens, _ = self.encoder(feats, lens)
            return {o: (out, out_lens) for o in self.outputs}
        xs, masks = self._embed(feats, lens)
        if self.top is not None:
            ys, ymasks = self._run_blocks(self.encoder.encoders, xs, masks)
            result = {}
            if self.private is not None:
                shared = self._after_norm(ys[0] if isinstance(ys, tuple) else ys)
                for o in self.outputs:
                    ps, _ = self._run_blocks(self.private[o]["blocks"], xs, masks)
                    ps = self.private[o]["norm"](ps[0] if isinstance(ps, tuple) else ps)
                    result[o] = (shared + ps, ymasks.squeeze(1).sum(1), shared, ps)
                return result
            for o in self.outputs:
                zs, zmasks = self._run_top(o, ys, ymasks)
                zs = self._after_norm(zs[0] if isinstance(zs, tuple) else zs)
                result[o] = (zs, zmasks.squeeze(1).sum(1))
            return result
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
    # Written here, not ESPnet's add_sos_eos and CTC.forward: both walk the batch one utterance at a
    # time in Python (``y[y != ignore_id]``, ``ys_pad[i, :l]``), each step a host sync on a GPU. With the
    # paper config's batches of ~900 utterances that loop, twice per output, left an H100 idle for
    # most of a bf16 step (torch profiler: 441 ``nonzero`` calls per step). These build the same
    # tensors with a handful of batched operations: ``tests/test_dual_model_batched.py`` checks that
    # they equal ESPnet's, value for value.
    @staticmethod
    def _sos_eos(ys_pad: torch.Tensor, sos: int, eos: int, ignore_id: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """ESPnet's ``add_sos_eos`` (padding at the end of each row, as collated): decoder input
        ``<sos> y`` padded with ``eos``, target ``y <eos>`` padded with ``ignore_id``."""
        lens = (ys_pad != ignore_id).sum(1)
        ys = ys_pad[:, : int(lens.max())] if ys_pad.shape[0] else ys_pad
        ys_in = torch.cat([ys.new_full((ys.shape[0], 1), sos), ys.masked_fill(ys == ignore_id, eos)], dim=1)
        ys_out = torch.cat([ys, ys.new_full((ys.shape[0], 1), ignore_id)], dim=1).scatter(1, lens[:, None], eos)
        return ys_in, ys_out

    @staticmethod
    def _ctc_forward(ctc: CTC, hs_pad: torch.Tensor, hlens: torch.Tensor, ys_pad: torch.Tensor,
                     ys_lens: torch.Tensor) -> torch.Tensor:
        """ESPnet's ``CTC.forward`` for its builtin CTC types, with the targets gathered in one go."""
        if ctc.ctc_type not in ("builtin", "builtin2"):
            return ctc(hs_pad, hlens, ys_pad, ys_lens)
        ys_hat = ctc.ctc_lo(torch.nn.functional.dropout(hs_pad, p=ctc.dropout_rate)).transpose(0, 1)
        within = torch.arange(ys_pad.shape[1], device=ys_pad.device)[None, :] < ys_lens[:, None]
        return ctc.loss_fn(ys_hat, ys_pad[within], hlens, ys_lens).to(device=hs_pad.device, dtype=hs_pad.dtype)

    def _att_loss(self, o, enc_out, enc_lens, ys_pad, ys_lens):
        dec = self.decoders[o]
        sos = eos = self.vocab_sizes[o] - 1
        ys_in, ys_out = self._sos_eos(ys_pad, sos, eos, self.ignore_id)
        dec_out, _ = dec(enc_out, enc_lens, ys_in, ys_lens + 1)
        loss = self.criteria[o](dec_out, ys_out)
        acc = th_accuracy(dec_out.view(-1, self.vocab_sizes[o]), ys_out, ignore_label=self.ignore_id)
        cer = None
        if not self.training and self.error_calculators[o] is not None:
            cer, _ = self.error_calculators[o](dec_out.argmax(dim=-1).cpu(), ys_pad.cpu())
        return loss, acc, cer

    def _ctc_loss(self, o, enc_out, enc_lens, ys_pad, ys_lens):
        loss = self._ctc_forward(self.ctcs[o], enc_out, enc_lens, ys_pad, ys_lens)
        cer = None
        if not self.training and self.error_calculators[o] is not None:
            cer = self.error_calculators[o](self.ctcs[o].argmax(enc_out).data.cpu(), ys_pad.cpu(), is_ctc=True)
        return loss, cer

    def output_losses(self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs):
        """Per-output losses (with graph) and the stats to report; :meth:`forward` weights and sums them."""
        for o in self.outputs:
            if f"text_{o}" not in kwargs:
                raise ValueError(f"model with outputs {self.outputs} needs text_{o} in the batch")
        encoded = self._encode(speech, speech_lengths)
        stats: Dict[str, Optional[torch.Tensor]] = {}
        losses: Dict[str, torch.Tensor] = {}
        for o in self.outputs:
            ys, ys_lens = kwargs[f"text_{o}"], kwargs[f"text_{o}_lengths"]
            ys = ys[:, : ys_lens.max()]
            enc_out, enc_lens = encoded[o][:2]
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
            if self.private is not None:
                adv, ortho = self._adv_terms(o, *encoded[o])
                loss_o = loss_o + self.adv_weight * adv + self.adv_ortho_weight * ortho
                stats[f"loss_adv_{o}"], stats[f"loss_ortho_{o}"] = adv.detach(), ortho.detach()
            if self.residuals is not None:
                l1 = sum(r.abs().sum() for r in self.residuals[o].values())
                loss_o = loss_o + self.sparse_l1 * l1
                stats[f"residual_l1_{o}"] = l1.detach()
            stats[f"loss_{o}"] = loss_o.detach()
            losses[o] = loss_o
        return losses, stats

    def _adv_terms(self, o, _out, lens, shared, private):
        """Adversarial task loss on the shared features (through the gradient-reversal layer) and the
        orthogonality penalty ||S^T P_o||_F^2 (Liu et al. 2017), both over the valid frames."""
        mask = (~make_pad_mask(lens, maxlen=shared.shape[1])).to(shared.dtype).unsqueeze(-1)
        pooled = (grad_reverse(shared, self.adv_grl_scale) * mask).sum(1) / mask.sum(1)
        label = torch.full((shared.shape[0],), self.outputs.index(o), dtype=torch.long, device=shared.device)
        adv = torch.nn.functional.cross_entropy(self.discriminator(pooled), label)
        s, p = shared * mask, private * mask
        ortho = (torch.bmm(s.transpose(1, 2), p) ** 2).sum() / shared.shape[0]
        return adv, ortho

    @torch.no_grad()
    def residual_sparsity(self) -> List[Dict[str, float]]:
        """For ``do_sparse``: per output, the share of residual entries with |r| <= sparse_tol, their L1
        norm and their count (empty for other models)."""
        rows = []
        for o in self.outputs if self.residuals is not None else []:
            flat = torch.cat([r.flatten() for r in self.residuals[o].values()])
            rows.append({"output": o, "entries": int(flat.numel()), "tol": self.sparse_tol,
                         "sparsity": float((flat.abs() <= self.sparse_tol).float().mean()),
                         "l1": float(flat.abs().sum()), "max_abs": float(flat.abs().max())})
        return rows

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


class _GradReverse(torch.autograd.Function):
    """Identity forward, gradient times -scale backward (Ganin & Lempitsky 2015). Written by hand:
    neither torch nor ESPnet ships a gradient-reversal layer."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.scale * grad, None


def grad_reverse(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    return _GradReverse.apply(x, scale)
