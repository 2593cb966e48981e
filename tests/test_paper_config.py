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


def test_features_without_input_size_are_refused_by_name():
    # a hand-run training on dumped features that forgets --input_size used to fail in the STFT's padding
    args = DualASRTask.get_parser().parse_args(["--config", str(CONF), "--output_dir", "/tmp/unused",
                                                "--normalize", "none", "--model_conf", "outputs=[surface]",
                                                "--train_data_path_and_name_and_type",
                                                "dump/fbank/train/feats.scp,speech,kaldi_ark"])
    args.token_list_surface = ["<blank>", "<unk>", "a", "<sos/eos>"]
    with pytest.raises(RuntimeError, match=r"^dump/fbank/train/feats.scp: features \(kaldi_ark\), but no --input_size"):
        DualASRTask.build_model(args)
