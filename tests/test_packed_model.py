"""Stage 13's packed models, loaded away from the recipe: `transcribe` on the tiny run's test wavs
gives stage 8's hypotheses, with feedback and times, and reads nothing under the recipe dir."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import soundfile
import yaml

from dualasr.data.datadir import read_kaldi_map
from mini_l2_run import REPO

pytestmark = pytest.mark.slow
N_UTTS = 3

# Runs in a fresh interpreter in a temp dir; an audit hook records every file opened under the
# recipe dir (argv[1]), so the test sees whether the packed model still needs the recipe tree.
SCRIPT = r"""
import contextlib, json, os, sys
recipe = os.path.realpath(sys.argv[1])
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        p = os.path.realpath(os.fsdecode(args[0]))
        if p == recipe or p.startswith(recipe + os.sep):
            opened.append(p)
sys.addaudithook(hook)
from dualasr.bin.transcribe import main
codes = {}
for fmt, extra in (("json", []), ("text", ["--prompt", sys.argv[2]]), ("tsv", [])):
    with open(f"out.{fmt}", "w") as f, contextlib.redirect_stdout(f):
        codes[fmt] = main(["--model", "model.zip", "--format", fmt, *extra, *sys.argv[3:]])
json.dump({"codes": codes, "opened": opened}, open("audit.json", "w"))
"""


@pytest.mark.parametrize("lang", ("ko", "en"))
def test_packed_model_transcribes_like_stage_8_elsewhere(mini_l2_tiny, lang, tmp_path):
    rdir = mini_l2_tiny
    archive = rdir / "exp" / f"do_{lang}" / "packed" / f"do_{lang}.zip"
    assert archive.is_file(), "stage 13 did not pack do"
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        conf = yaml.safe_load(z.read("config.yaml"))
        feats = yaml.safe_load(z.read("features.yaml"))
    assert {"meta.yaml", "config.yaml", "model.pth", "decode.yaml", "features.yaml"} <= names
    stats = conf["normalize_conf"]["stats_file"]
    assert stats in names and not stats.startswith("/"), "CMVN stats must be a member, named relative to the zip"
    assert feats == {"fs": 16000, "fbank": feats["fbank"], "lang": lang, "decompose_hangul": lang == "ko"}
    # the recipe's features: 40 bins (egs/mini_l2/asr1/run.sh --n_mels 40), as the model's input_size
    assert feats["fbank"]["num_mel_bins"] == 40 == conf["input_size"] and feats["fbank"]["frame_shift"] == 10.0

    # the test wavs, a stereo copy, a too-short file and a missing one, all outside the recipe dir
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(archive, work / "model.zip")
    wavs = read_kaldi_map(rdir / "data" / f"test_{lang}" / "wav.scp")
    utts = sorted(wavs)[:N_UTTS]
    files = []
    for u in utts:
        src = rdir / wavs[u] if not wavs[u].startswith("/") else wavs[u]
        shutil.copy(src, work / f"{u}.wav")
        files.append(f"{u}.wav")
    audio, sr = soundfile.read(work / files[0], dtype="float32")
    soundfile.write(work / "stereo.wav", np.stack([audio, audio], axis=1), sr, subtype="FLOAT")
    soundfile.write(work / "short.wav", np.zeros(int(0.04 * sr), dtype="float32"), sr)
    args = [*files, "stereo.wav", "short.wav", "missing.wav"]
    prompt = read_kaldi_map(rdir / "data" / f"test_{lang}" / "text.meaning")[utts[0]]
    env = {**os.environ, "DUALASR_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(rdir), prompt, *args], cwd=work,
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    audit = json.loads((work / "audit.json").read_text())
    assert audit["opened"] == [], f"read from the recipe dir: {audit['opened'][:5]}"
    assert audit["codes"] == {"json": 1, "text": 1, "tsv": 1}, "a failed file must give a non-zero exit"

    # hypotheses equal stage 8's, for the copies and for the stereo downmix
    decode = rdir / "exp" / f"do_{lang}" / f"decode_test_{lang}"
    want = {o: read_kaldi_map(decode / f"text.{o}") for o in ("surface", "meaning")}
    out = json.loads((work / "out.json").read_text())
    recs = {r["file"]: r for r in out["results"]}
    for u in utts:
        for o in ("surface", "meaning"):
            assert recs[f"{u}.wav"][o] == want[o].get(u, ""), (u, o)
    assert recs["stereo.wav"]["surface"] == recs[files[0]]["surface"] and recs["stereo.wav"]["channels"] == 2
    assert "stereo.wav: 2 channels, downmixed to mono" in res.stderr

    # one-line errors for the bad files, the others transcribed
    for bad, what in (("short.wav", "too short"), ("missing.wav", "cannot read audio")):
        assert what in recs[bad]["error"] and recs[bad]["error"].startswith(bad)
        lines = [ln for ln in res.stderr.splitlines() if ln.startswith(f"transcribe: {bad}")]
        assert len(lines) == 3, res.stderr  # once per format

    # feedback: the surface against the canonical meaning, typed, with times inside the audio
    from dualasr.align import canonical

    for f in files:
        r = recs[f]
        assert r["canonical"] == {"source": "meaning", "text": canonical(r["meaning"], lang)}
        heard = [x["heard"] for x in r["feedback"] if x["heard"] is not None]
        expected = [x["expected"] for x in r["feedback"] if x["expected"] is not None]
        unit = (lambda s: s.split()) if lang == "en" else (lambda s: [c for c in s if not c.isspace()])
        assert heard == unit(r["surface"]) and expected == unit(r["canonical"]["text"])
        assert r["mispronounced"] == sum(x["op"] != "equal" for x in r["feedback"])
        timed = [w for w in r["units"] if w["start"] is not None]
        assert timed or not unit(r["surface"]), f"{f}: no unit got a time"  # (a tiny model may hear nothing)
        for a, b in zip(timed, timed[1:]):
            assert a["start"] < a["end"] <= b["start"] < b["end"] <= r["duration"] + 0.05
    text = (work / "out.text").read_text()
    assert f"canonical  {canonical(prompt, lang)}   (from the prompt)" in text
    tsv = (work / "out.tsv").read_text().splitlines()
    assert tsv[0].startswith("file\tsurface\tmeaning") and len(tsv) == 1 + len(args)
