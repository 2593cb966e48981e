"""PCGrad (Yu et al. 2020, "Gradient surgery for multi-task learning") inside ESPnet's trainer.

:class:`PCGradTrainer` is ESPnet's :class:`~espnet2.train.trainer.Trainer` with one change: during
training the model is wrapped in :class:`PCGradModel`. For each batch it takes one backward pass per
output (``torch.autograd.grad`` of each output's weighted loss), and on the parameters that both
outputs reach (the shared encoder, frontend, normalisation) it projects each output's gradient onto
the normal plane of the other's when the two conflict (negative dot product). It returns a linear
surrogate loss whose gradient is exactly the combined (projected) gradient, so everything the trainer
does after ``loss.backward()`` (gradient accumulation, AMP scaling, clipping, the optimizer and
scheduler steps, reporting) is ESPnet's own. Validation and every other path are untouched.

PCGrad itself is written by hand (no maintained PyTorch package ships it).
"""

from __future__ import annotations

from typing import List, Sequence

import torch
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.trainer import Trainer


def pcgrad(grads: Sequence[torch.Tensor]) -> List[torch.Tensor]:
    """Project each flat gradient onto the normal plane of every other one it conflicts with.

    Yu et al.'s Algorithm 1 with a fixed order: g_i^PC starts as g_i and, for each j != i, when
    g_i^PC . g_j < 0 it becomes g_i^PC - (g_i^PC . g_j) / |g_j|^2 g_j (g_j the original gradient).
    """
    out = []
    for i, gi in enumerate(grads):
        g = gi.clone()
        for j, gj in enumerate(grads):
            if i == j:
                continue
            dot = torch.dot(g, gj)
            if dot < 0:
                g = g - dot / gj.dot(gj).clamp_min(1e-20) * gj
        out.append(g)
    return out


class PCGradModel(torch.nn.Module):
    """Training-time wrapper of a DualASRModel: forward computes the per-output gradients, combines
    them with PCGrad and returns ``(surrogate, stats, weight)`` as ESPnet's trainer expects."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.last_conflict = None  # whether the latest batch's shared gradients conflicted

    def forward(self, **batch):
        model = self.model
        losses, stats = model.output_losses(**batch)
        params = [p for p in model.parameters() if p.requires_grad]
        per_output = []
        for k, o in enumerate(model.outputs):
            per_output.append(torch.autograd.grad(model.output_weights[o] * losses[o], params,
                                                  retain_graph=k + 1 < len(model.outputs), allow_unused=True))
        # shared: reached by every output's loss
        shared = [i for i in range(len(params)) if all(g[i] is not None for g in per_output)]
        flat = [torch.cat([g[i].flatten() for i in shared]) for g in per_output]
        self.last_conflict = bool(torch.dot(flat[0], flat[1]) < 0) if len(flat) == 2 else None
        combined = sum(pcgrad(flat))
        grads = [None] * len(params)
        offset = 0
        for i in shared:
            n = params[i].numel()
            grads[i] = combined[offset: offset + n].view_as(params[i])
            offset += n
        for i in range(len(params)):
            if grads[i] is None:
                parts = [g[i] for g in per_output if g[i] is not None]
                grads[i] = sum(parts) if parts else None
        speech = batch["speech"]
        # d(surrogate)/d(p) = grads[p]: the trainer's backward() sets exactly the PCGrad gradient
        surrogate = sum((p * g.detach()).sum() for p, g in zip(params, grads) if g is not None)
        total = sum(model.output_weights[o] * losses[o].detach() for o in model.outputs)
        stats["loss"] = total
        accs = [stats[f"acc_{o}"] for o in model.outputs if stats.get(f"acc_{o}") is not None]
        stats["acc"] = sum(accs) / len(accs) if accs else None
        stats["pcgrad_conflict"] = torch.tensor(float(self.last_conflict)) if self.last_conflict is not None else None
        # the surrogate's value is not the loss: report the real one, back-propagate the surrogate
        surrogate = surrogate - surrogate.detach() + total
        return force_gatherable((surrogate, stats, speech.shape[0]), surrogate.device)


class PCGradTrainer(Trainer):
    """ESPnet's Trainer, training through :class:`PCGradModel` (selected by DualASRTask for
    ``model_conf.pcgrad: true``). One process only: the surrogate loss bypasses DDP's gradient hooks."""

    @classmethod
    def train_one_epoch(cls, model, iterator, optimizers, schedulers, scaler, reporter, summary_writer,
                        options, distributed_option):
        if distributed_option.distributed or isinstance(model, torch.nn.DataParallel):
            raise RuntimeError("pcgrad: training with PCGrad runs in one process (no DDP/DataParallel)")
        return super().train_one_epoch(PCGradModel(model), iterator, optimizers, schedulers, scaler, reporter,
                                       summary_writer, options, distributed_option)
