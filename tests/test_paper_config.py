"""conf/train_paper.yaml (the GPU config, not trained here) parses through DualASRTask and builds a model
of the paper's size: about 30 M parameters with one output, 40 M with two."""

from pathlib import Path

import pytest
import yaml

from dualasr.tasks.dual_asr import DualASRTask

CONF = Path(__file__).resolve().parents[1] / "conf" / "train_paper.yaml"


@pytest.mark.parametrize("outputs,low,high", [("surface", 25e6, 35e6), ("surface,meaning", 35e6, 48e6)])
def test_paper_config_builds_at_paper_scale(outputs, low, high):
    cfg = yaml.safe_load(CONF.read_text(encoding="utf-8"))
    assert cfg["optim"] == "adamw" and cfg["batch_type"] == "numel" and cfg["batch_bins"] >= 1_000_000
    args = DualASRTask.get_parser().parse_args(["--config", str(CONF), "--output_dir", "/tmp/unused",
                                                "--normalize", "none", "--model_conf", f"outputs=[{outputs}]",
                                                "--input_size", "80"])  # the recipe passes feats_dim
    tokens = ["<blank>", "<unk>"] + [chr(97 + i) for i in range(26)] + ["<space>", "<sos/eos>"]
    args.token_list_surface = args.token_list_meaning = tokens
    model = DualASRTask.build_model(args)
    n = sum(p.numel() for p in model.parameters())
    assert low <= n <= high, n
    assert len(model.encoder.encoders) == 12 and model.encoder.output_size() == 256
