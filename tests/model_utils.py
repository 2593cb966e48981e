"""Build small DualASRModels through DualASRTask's own argument parsing, for the tests."""

from __future__ import annotations

import torch

from dualasr.tasks.dual_asr import DualASRTask

SURFACE_TOKENS = ["<blank>", "<unk>", "a", "b", "c", "d", "<space>", "<sos/eos>"]
MEANING_TOKENS = ["<blank>", "<unk>", "x", "y", "z", "<space>", "<sos/eos>"]


def build_model(outputs=("surface", "meaning"), branch=0, num_blocks=2, seed=0, normalize_stats=None, model_conf=()):
    """``model_conf``: extra ``key=value`` model options (a variant's knobs, as in conf/model_kinds.yaml)."""
    torch.manual_seed(seed)
    return DualASRTask.build_model(build_args(outputs, branch, num_blocks, normalize_stats, model_conf))


def build_args(outputs=("surface", "meaning"), branch=0, num_blocks=2, normalize_stats=None, model_conf=()):
    """The parsed training arguments of :func:`build_model` (what a config.yaml holds)."""
    parser = DualASRTask.get_parser()
    args = parser.parse_args(
        [
            "--output_dir", "/tmp/unused", "--input_size", "20",
            "--encoder", "conformer",
            "--encoder_conf", f"{{output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: {num_blocks}, "
            "input_layer: conv2d, rel_pos_type: latest, pos_enc_layer_type: rel_pos, "
            "selfattention_layer_type: rel_selfattn, cnn_module_kernel: 3, macaron_style: true, use_cnn_module: true}",
            "--decoder", "transformer", "--decoder_conf", "{attention_heads: 2, linear_units: 32, num_blocks: 1}",
            "--model_conf", f"outputs=[{','.join(outputs)}]",
            "--model_conf", f"task_branch_layers={branch}",
            "--model_conf", "ctc_weight=0.3",
        ] + [x for kv in model_conf for x in ("--model_conf", kv)] + (["--normalize", "global_mvn", "--normalize_conf", f"stats_file={normalize_stats}"] if normalize_stats else [])
    )
    args.token_list_surface = SURFACE_TOKENS
    args.token_list_meaning = MEANING_TOKENS
    return args


def batch(seed=0, n=3, frames=40):
    g = torch.Generator().manual_seed(seed)
    speech = torch.randn(n, frames, 20, generator=g)
    lens = torch.tensor([frames, frames - 5, frames - 9])[:n]
    out = {"speech": speech, "speech_lengths": lens}
    for o, v in (("surface", len(SURFACE_TOKENS)), ("meaning", len(MEANING_TOKENS))):
        ys = torch.randint(2, v - 1, (n, 4), generator=g)
        ylens = torch.tensor([4, 3, 2])[:n]
        ys[1, 3:] = -1
        ys[2, 2:] = -1
        out[f"text_{o}"], out[f"text_{o}_lengths"] = ys, ylens
    return out
