"""Log-mel filterbank features (``--n_mels``, 80 by default) into kaldiio ark/scp, plus CMVN statistics.

One job of ``--nj``: ``python -m dualasr.bin.make_fbank --data data/train_ko --out dump/fbank/org/train_ko
--nj 4 --job 2`` handles every 4th utterance starting at the 2nd and writes ``feats.2.{ark,scp}``,
``feats_shape.2`` (``uttid frames,n_mels``) and ``stats.2.npz`` (``feats.scp`` holds absolute ark paths).
``--data`` and ``--out`` take several dirs, pairwise: one job array then serves every set (the
feature stage runs one array for all its sets, so each process pays Python's start-up once).
``--merge`` then joins the pieces of each ``--out`` into
``feats.scp``, ``feats_shape`` and ``cmvn.npz`` (the ``count/sum/sum_square`` format that ESPnet's
``GlobalMVN`` reads) and ``feats_dim`` (the feature dimension, as ESPnet's asr.sh writes it: the recipe
passes it to training as ``--input_size``), each written atomically, and removes the per-job scp/shape/stats files.

Features follow Kaldi's fbank (torchaudio.compliance.kaldi): 25 ms windows, 10 ms hop, no dither.
An ``utt2speed`` file in the data dir (written by the speed-perturbation stage) resamples the audio so
that it plays ``factor`` times faster. Audio with several channels is downmixed (the channel mean).

``--check_space data/train_ko data/dev_ko ...`` (the feature stage runs it first) refuses, naming both
numbers, when the filesystem of ``--out`` has less free space than the features of those dirs will take:
their durations (read from the audio headers) x 100 frames/s x n_mels x 4 bytes, plus a margin.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from dualasr.data.datadir import read_kaldi_map
from dualasr.files import write_atomic

N_MELS = 80  # the default; a recipe may choose another (dual_asr.sh --n_mels)


def fbank_conf(n_mels: int = N_MELS) -> dict:
    """The fbank settings (torchaudio.compliance.kaldi.fbank keywords) of every feature this project
    computes, with ``n_mels`` bins; a packed model records them (stage 13), and `transcribe` checks them
    against these."""
    return dict(num_mel_bins=int(n_mels), frame_length=25.0, frame_shift=10.0, dither=0.0, energy_floor=0.0)


# ark bytes per value (float32) and per utterance (key, binary-matrix header); margin on the total
VALUE_BYTES = 4
UTT_BYTES = 64
MARGIN = 0.05
MARGIN_BYTES = 64 * 2**20


def estimate_feature_bytes(data_dirs, n_mels: int = N_MELS) -> tuple[int, int, float]:
    """(bytes, utterances, hours) of the fbank features of these data dirs, from the audio headers."""
    from dualasr.data.validate import audio_info

    total, n, seconds = 0, 0, 0.0
    for d in map(Path, data_dirs):
        speeds = {}
        if (d / "utt2speed").is_file():
            speeds = {k: float(v) for k, v in read_kaldi_map(d / "utt2speed").items()}
        for uttid, spec in read_kaldi_map(d / "wav.scp").items():
            try:
                dur = audio_info(spec).duration / speeds.get(uttid, 1.0)
            except Exception as e:
                raise SystemExit(f"{d / 'wav.scp'}: {uttid}: cannot read audio {spec!r}: {e}") from None
            total += (int(dur * 100) + 1) * n_mels * VALUE_BYTES + UTT_BYTES
            n += 1
            seconds += dur
    return int(total * (1 + MARGIN)) + MARGIN_BYTES, n, seconds / 3600


def free_bytes(path: Path) -> int:
    """Free space (for this user) of the filesystem that holds ``path`` or, if missing, its parent."""
    path = Path(os.path.abspath(path))
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def check_space(data_dirs, out: Path, n_mels: int = N_MELS) -> None:
    need, n, hours = estimate_feature_bytes(data_dirs, n_mels)
    free = free_bytes(out)
    gib = lambda b: f"{b / 2**30:.2f} GiB"  # noqa: E731
    if free < need:
        raise SystemExit(
            f"{out}: {free} bytes ({gib(free)}) free, but the features of {n} utterances ({hours:.2f} h) need "
            f"about {need} bytes ({gib(need)}: 100 frames/s x {n_mels} x {VALUE_BYTES} bytes, + {MARGIN:.0%} + "
            f"{MARGIN_BYTES // 2**20} MiB); free space or point --dumpdir elsewhere")
    print(f"{out}: {free} bytes ({gib(free)}) free; the features of {n} utterances need about {need} ({gib(need)})",
          file=sys.stderr)


def load_audio(spec: str, path_for_errors: str, uttid: str) -> tuple[np.ndarray, int]:
    try:
        if spec.rstrip().endswith("|"):
            data = subprocess.run(spec.rstrip()[:-1], shell=True, capture_output=True, check=True).stdout
            wav, sr = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        else:
            wav, sr = soundfile.read(spec, dtype="float32", always_2d=True)
    except Exception as e:
        raise SystemExit(f"{path_for_errors}: {uttid}: cannot read audio {spec!r}: {e}") from None
    return wav.mean(axis=1), sr


def fbank(wav: np.ndarray, sr: int, fs: int, speed: float = 1.0, n_mels: int = N_MELS) -> np.ndarray:
    import torch  # here, not at the top: --check_space and --merge need no torch
    import torchaudio

    x = torch.from_numpy(wav).unsqueeze(0)
    # Speed perturbation as in Kaldi's sox `speed`: treat the samples as if recorded at sr*speed.
    src = int(round(sr * speed))
    if src != fs:
        x = torchaudio.functional.resample(x, src, fs)
    feats = torchaudio.compliance.kaldi.fbank(x * 32768.0, sample_frequency=fs, **fbank_conf(n_mels))
    return feats.numpy().astype(np.float32)


def run_job(data: Path, out: Path, nj: int, job: int, fs: int, n_mels: int = N_MELS) -> None:
    import kaldiio
    from tqdm import tqdm

    wavs = read_kaldi_map(data / "wav.scp")
    speeds = {}
    if (data / "utt2speed").is_file():
        speeds = {k: float(v) for k, v in read_kaldi_map(data / "utt2speed").items()}
    ids = list(wavs)[job - 1 :: nj]
    out.mkdir(parents=True, exist_ok=True)
    count, s1, s2 = 0, np.zeros(n_mels), np.zeros(n_mels)
    # feats.scp gets the ark's absolute path (as Kaldi's make_fbank.sh does), so the features read
    # from any working directory: analyses, the report, inference.
    ark, scp = Path(os.path.abspath(out / f"feats.{job}.ark")), out / f"feats.{job}.scp"
    shapes = []
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}.tmp") as writer:
        for uttid in tqdm(ids, desc=f"fbank {data.name} job {job}/{nj}", mininterval=5, file=sys.stderr):
            wav, sr = load_audio(wavs[uttid], str(data / "wav.scp"), uttid)
            feats = fbank(wav, sr, fs, speeds.get(uttid, 1.0), n_mels)
            if feats.shape[0] == 0:
                raise SystemExit(f"{data / 'wav.scp'}: {uttid}: audio shorter than one 25 ms frame")
            writer(uttid, feats)
            shapes.append((uttid, f"{feats.shape[0]},{n_mels}"))
            count += feats.shape[0]
            s1 += feats.sum(0)
            s2 += (feats.astype(np.float64) ** 2).sum(0)
    Path(f"{scp}.tmp").replace(scp)
    write_atomic(out / f"feats_shape.{job}", "".join(f"{k} {v}\n" for k, v in shapes))
    tmp = out / f".stats.{job}.tmp.npz"
    np.savez(tmp, count=count, sum=s1, sum_square=s2)
    tmp.replace(out / f"stats.{job}.npz")


def merge(out: Path, nj: int) -> None:
    scp_lines, shape_lines = [], []
    count, s1, s2 = 0, 0.0, 0.0
    for job in range(1, nj + 1):
        for name in (f"feats.{job}.scp", f"feats_shape.{job}", f"stats.{job}.npz"):
            if not (out / name).is_file():
                raise SystemExit(f"{out / name}: missing; job {job} of {nj} did not finish")
        scp_lines += (out / f"feats.{job}.scp").read_text(encoding="utf-8").splitlines(keepends=True)
        shape_lines += (out / f"feats_shape.{job}").read_text(encoding="utf-8").splitlines(keepends=True)
        st = np.load(out / f"stats.{job}.npz")
        count += int(st["count"])
        s1 += st["sum"]
        s2 += st["sum_square"]
    key = lambda line: line.split(" ", 1)[0].encode("utf-8")  # noqa: E731
    write_atomic(out / "feats.scp", "".join(sorted(scp_lines, key=key)))
    write_atomic(out / "feats_shape", "".join(sorted(shape_lines, key=key)))
    tmp = out / ".cmvn.tmp.npz"
    np.savez(tmp, count=count, sum=s1, sum_square=s2)
    tmp.replace(out / "cmvn.npz")
    write_atomic(out / "feats_dim", f"{len(s1)}\n")
    for job in range(1, nj + 1):
        for name in (f"feats.{job}.scp", f"feats_shape.{job}", f"stats.{job}.npz"):
            (out / name).unlink()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, nargs="+", help="Kaldi-style data dirs (reads wav.scp)")
    p.add_argument("--out", type=Path, nargs="+", required=True, help="one output dir per --data dir")
    p.add_argument("--nj", type=int, default=1)
    p.add_argument("--job", type=int, default=1)
    p.add_argument("--fs", type=int, default=16000, help="sample rate the features assume")
    p.add_argument("--n_mels", type=int, default=N_MELS, help="mel bins per frame (the features' dimension)")
    p.add_argument("--merge", action="store_true", help="join the per-job outputs")
    p.add_argument("--check_space", nargs="+", type=Path, metavar="DATA",
                   help="only check that --out has room for the features of these data dirs")
    a = p.parse_args(argv)
    if a.n_mels < 1:
        p.error(f"--n_mels {a.n_mels}: must be at least 1")
    if a.check_space:
        if len(a.out) != 1:
            p.error("--check_space takes one --out (the dump dir)")
        check_space(a.check_space, a.out[0], a.n_mels)
    elif a.merge:
        for out in a.out:
            merge(out, a.nj)
    else:
        if a.data is None or len(a.data) != len(a.out):
            p.error(f"--data needs one dir per --out dir ({len(a.out)})")
        for data, out in zip(a.data, a.out):
            run_job(data, out, a.nj, a.job, a.fs, a.n_mels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
