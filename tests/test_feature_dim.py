"""The features' dimension (``--n_mels``, stage 3): make_fbank writes it (``feats_dim``, ESPnet's asr.sh
convention), training takes it from there as ``--input_size``, and a dump made with other bins is refused
rather than mixed with the new ones."""

from __future__ import annotations

import os
import subprocess

import kaldiio
import numpy as np
import pytest

from dualasr.bin import make_fbank
from dualasr.data.datadir import read_kaldi_map, write_kaldi_map
from tiny_recipe import BASE_ARGS, copy_recipe


def test_make_fbank_writes_n_mels_bins_and_feats_dim(tiny_recipe, tmp_path, monkeypatch):
    monkeypatch.chdir(tiny_recipe)  # wav.scp names its wavs relative to the recipe dir
    wavs = read_kaldi_map(tiny_recipe / "data" / "dev_en" / "wav.scp")
    data = tmp_path / "data"
    data.mkdir()
    write_kaldi_map(data / "wav.scp", list(wavs.items())[:3])
    out = tmp_path / "dump"
    make_fbank.main(["--data", str(data), "--out", str(out), "--nj", "1", "--job", "1", "--n_mels", "24"])
    make_fbank.main(["--out", str(out), "--nj", "1", "--merge"])
    assert (out / "feats_dim").read_text() == "24\n"
    for u, spec in read_kaldi_map(out / "feats.scp").items():
        assert kaldiio.load_mat(spec).shape[1] == 24
        assert read_kaldi_map(out / "feats_shape")[u].endswith(",24")
    assert np.load(out / "cmvn.npz")["sum"].shape == (24,)
    with pytest.raises(SystemExit):
        make_fbank.main(["--out", str(out), "--n_mels", "0", "--merge"])


def test_stage_3_refuses_a_dump_of_other_bins(tiny_recipe, tmp_path):
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    # the tiny run made 40-bin features (run.sh --n_mels 40); asking for 80 must not reuse or mix them
    proc = subprocess.run(["./run.sh", *BASE_ARGS, "--stage", "3", "--stop_stage", "3", "--n_mels", "80"], cwd=rdir,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert proc.returncode != 0
    assert "dump/fbank/org/train_en: features of dimension 40, not --n_mels 80" in proc.stdout, proc.stdout[-2000:]
