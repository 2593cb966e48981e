"""so_surface *is* ESPnet's ASR model: a few steps of ESPnet's own ``espnet2.bin.asr_train``
(ESPnetASRModel through ASRTask) and of ``dualasr.bin.dual_asr_train`` with ``outputs=[surface]``,
same config, data and seed, end with identical parameters and identical greedy hypotheses.

Both trainings run for real (ESPnet's trainer, 1 epoch of a few iterations) on the prepared tiny
English data of the suite's shared run. A change to DualASRModel, DualASRTask or the trainer path
that breaks this must say why: the paper's SO baseline is ESPnet's model.
"""

from __future__ import annotations

import os
import subprocess
import sys

import kaldiio
import pytest
import torch

from tiny_recipe import REPO

pytestmark = pytest.mark.slow

SEED = 7


def _train(rdir, out, module, data_args, extra):
    d = rdir / "dump" / "fbank"
    stats = rdir / "exp" / "stats_en"
    cmd = [sys.executable, "-m", module, "--config", str(REPO / "conf" / "train_tiny.yaml"),
           "--normalize_conf", f"stats_file={d / 'train_en' / 'cmvn.npz'}", "--token_type", "char",
           "--input_size", (d / "train_en" / "feats_dim").read_text().strip(),
           "--seed", str(SEED), "--ngpu", "0", "--max_epoch", "1", "--num_iters_per_epoch", "4",
           "--num_workers", "0", "--output_dir", str(out), *data_args, *extra]
    for kind in ("train", "valid"):
        for shape in ("speech_shape", "text_surface_shape"):
            cmd += [f"--{kind}_shape_file", str(stats / kind / shape)]
    res = subprocess.run(cmd, cwd=rdir, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)})
    assert res.returncode == 0, f"{module} failed:\n{res.stderr[-3000:]}"
    return torch.load(out / "1epoch.pth", map_location="cpu")


def _data(rdir, text_name):
    d = rdir / "dump" / "fbank"
    args = []
    for kind, s in (("train", "train_en"), ("valid", "dev_en")):
        args += [f"--{kind}_data_path_and_name_and_type", f"{d / s / 'feats.scp'},speech,kaldi_ark",
                 f"--{kind}_data_path_and_name_and_type", f"{d / s / 'text.surface'},{text_name},text"]
    return args


# ESPnet's linear pre-encoder (the recipe's 40 fbank bins to 20 before the conformer's subsampling; tried for the
# demo, see conf/train_default.yaml): the same options must give the same model
PREENCODER = ["--preencoder", "linear", "--preencoder_conf", "input_size=40", "--preencoder_conf", "output_size=20"]


@pytest.mark.parametrize("extra", [[], PREENCODER], ids=["tiny_config", "linear_preencoder"])
def test_so_surface_trains_exactly_as_espnet_asr(tiny_recipe, tmp_path, monkeypatch, extra):
    tokens = tiny_recipe / "data" / "token_list" / "en" / "surface_char" / "tokens.txt"
    espnet = _train(tiny_recipe, tmp_path / "espnet", "espnet2.bin.asr_train", _data(tiny_recipe, "text"),
                    ["--token_list", str(tokens), *extra])
    dual = _train(tiny_recipe, tmp_path / "dual", "dualasr.bin.dual_asr_train",
                  _data(tiny_recipe, "text_surface"),
                  ["--token_list_surface", str(tokens), "--model_conf", "outputs=[surface]", *extra])
    if extra:
        assert "preencoder.linear_out.weight" in dual

    # DualASRModel keeps one decoder and one CTC head per output; ESPnet has one of each
    renamed = {k.replace("decoders.surface.", "decoder.").replace("ctcs.surface.", "ctc."): v
               for k, v in dual.items()}
    assert set(renamed) == set(espnet), sorted(set(renamed) ^ set(espnet))[:10]
    moved = [k for k in espnet if not torch.equal(espnet[k], renamed[k])]
    assert not moved, f"parameters differ after training: {moved[:5]}"
    # greedy CTC hypotheses of both models, each through its own code
    from espnet2.tasks.asr import ASRTask
    from espnet2.torch_utils.set_all_random_seed import set_all_random_seed

    from dualasr.tasks.dual_asr import DualASRTask

    # the few steps did move the weights away from the seeded initial ones (else the check is empty)
    set_all_random_seed(SEED)
    fresh, _ = DualASRTask.build_model_from_file(tmp_path / "dual" / "config.yaml", None)
    assert any(not torch.equal(v, dual[k]) for k, v in fresh.state_dict().items() if v.is_floating_point())

    e_model, _ = ASRTask.build_model_from_file(tmp_path / "espnet" / "config.yaml", tmp_path / "espnet" / "1epoch.pth")
    d_model, _ = DualASRTask.build_model_from_file(tmp_path / "dual" / "config.yaml", tmp_path / "dual" / "1epoch.pth")
    e_model.eval(), d_model.eval()
    monkeypatch.chdir(tiny_recipe)  # feats.scp names its arks relative to the recipe dir
    feats = kaldiio.load_scp(str(tiny_recipe / "dump" / "fbank" / "test_en" / "feats.scp"))
    with torch.no_grad():
        for key in sorted(feats)[:5]:
            x = torch.tensor(feats[key], dtype=torch.float32)[None]
            n = torch.tensor([x.shape[1]])
            e_out, e_lens = e_model.encode(x.clone(), n)  # ESPnet's GlobalMVN normalises its input in place
            (d_out, d_lens), = d_model.encode(x.clone(), n).values()
            e_ids = e_model.ctc.argmax(e_out)[0, : e_lens[0]].tolist()
            d_ids = d_model.ctcs["surface"].argmax(d_out)[0, : d_lens[0]].tolist()
            assert torch.equal(e_out, d_out) and torch.equal(e_lens, d_lens), key
            assert torch.equal(e_model.ctc.log_softmax(e_out), d_model.ctcs["surface"].log_softmax(d_out)), key
            assert e_ids == d_ids, key
