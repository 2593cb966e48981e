"""Independent initialisation: each (model kind, seed) draws its own initial weights (DualASRTask
--init_seed, derived by dualasr.bin.model_kind), and --shared_init true gives today's shared ones."""

from pathlib import Path

import torch
from espnet2.torch_utils.set_all_random_seed import set_all_random_seed

from dualasr.bin import model_kind
from dualasr.tasks.dual_asr import DualASRTask
from model_utils import MEANING_TOKENS, SURFACE_TOKENS

KINDS_YAML = str(Path(__file__).resolve().parents[1] / "conf" / "model_kinds.yaml")
KINDS = {"so_surface": ["surface"], "so_meaning": ["meaning"], "do": ["surface", "meaning"]}


def _build(kind, seed, shared_init):
    """A model as stage 7 builds it: ESPnet's main_worker seeds everything from --seed, then builds."""
    init = model_kind.init_seed(kind, seed) if not shared_init else None
    args = DualASRTask.get_parser().parse_args([
        "--output_dir", "/tmp/unused", "--input_size", "20", "--seed", str(seed),
        "--encoder", "transformer", "--encoder_conf", "{output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: 1}",
        "--decoder", "transformer", "--decoder_conf", "{attention_heads: 2, linear_units: 32, num_blocks: 1}",
        "--model_conf", f"outputs=[{','.join(KINDS[kind])}]",
    ] + ([] if init is None else ["--init_seed", str(init)]))
    args.token_list_surface, args.token_list_meaning = SURFACE_TOKENS, MEANING_TOKENS
    set_all_random_seed(args.seed)
    model = DualASRTask.build_model(args)
    return model, torch.rand(3)  # the draw after building: training's randomness


def _encoder(model):
    return {k: v.clone() for k, v in model.encoder.state_dict().items()}


def _equal(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_model_kinds_start_from_different_weights_unless_shared():
    indep = {k: _build(k, 1, shared_init=False) for k in KINDS}
    shared = {k: _build(k, 1, shared_init=True) for k in KINDS}
    enc = {k: _encoder(m) for k, (m, _) in indep.items()}
    assert not _equal(enc["so_surface"], enc["do"])
    assert not _equal(enc["so_meaning"], enc["do"])
    assert not _equal(enc["so_surface"], enc["so_meaning"])
    s_enc = {k: _encoder(m) for k, (m, _) in shared.items()}
    assert _equal(s_enc["so_surface"], s_enc["do"]) and _equal(s_enc["so_meaning"], s_enc["do"])
    # so_surface keeps ESPnet's behaviour (weights from --seed) in both modes: the ASRTask invariant
    assert _equal(enc["so_surface"], s_enc["so_surface"])
    # training's randomness after the build still comes from --seed alone, whatever the init seed
    assert torch.equal(indep["do"][1], indep["so_meaning"][1])
    # a different seed of one kind is another start
    assert not _equal(enc["do"], _encoder(_build("do", 2, shared_init=False)[0]))


def test_init_seed_is_recorded_and_printed(capsys):
    assert model_kind.init_seed("so_surface", 3) is None
    assert model_kind.init_seed("do", 1) != model_kind.init_seed("do", 2) != model_kind.init_seed("so_meaning", 2)
    assert model_kind.init_seed("do", 1) == model_kind.init_seed("do", 1)
    model_kind.main([KINDS_YAML, "do", "--seed", "1"])
    assert f"init_args=(--init_seed {model_kind.init_seed('do', 1)})" in capsys.readouterr().out
    model_kind.main([KINDS_YAML, "do", "--seed", "1", "--shared_init", "true"])
    assert capsys.readouterr().out.rstrip().endswith("init_args=()")
