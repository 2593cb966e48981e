"""Noise and reverberation: the recipe's own RIRs and noises, and data dirs passed through ESPnet's
augmentation (stage 2; ``python -m dualasr.bin.augment``).

**Why offline.** ESPnet applies ``rir_scp`` / ``noise_scp`` (``espnet2.train.preprocessor.
CommonPreprocessor``) to the waveform each time a training batch is read. dualasr trains on fbank
features dumped once by stage 3 (kaldiio ark/scp + global CMVN), so the waveform is gone by training
time. The augmentation therefore runs before the dump, Kaldi style: each training utterance is passed
once through a ``CommonPreprocessor`` built with ESPnet's own options (``rir_scp``, ``rir_apply_prob``,
``noise_scp``, ``noise_apply_prob``, ``noise_db_range``) and written as a new wav of a new data dir
(``<train>_aug``), one augmented realisation per utterance, so an epoch costs what it did. The cost:
every epoch sees the same realisation, where ESPnet's on-the-fly mode draws a new room, noise and SNR
per utterance and epoch (less variety for the same number of utterances). Each utterance's draw is
seeded from (seed, purpose, utterance id), so the dump is the same on every run.

**Assets** (``make_assets``), all from fixed seeds, into ``<out>/{train,test}/``:

- ``rirs/*.wav`` + ``rirs.scp``: room impulse responses simulated with pyroomacoustics' image
  source method (``ShoeBox``): room length 3-10 m, width 3-8 m, height 2.4-4 m (``ROOM_RANGES``), one
  energy absorption for every wall drawn from 0.15-0.6 (``ABSORPTION``), source-microphone distance
  0.5-3 m (``DISTANCE``), both at least 0.3 m from every wall; ``rooms.tsv`` lists each room and
  its RT60 as pyroomacoustics measures it.
- ``noises/*.wav`` + ``noises.scp``: coloured noise (white, pink, brown) and babble, the sum of 3-6
  talkers, each a chain of TRAINING utterances of one speaker (never a dev or test speaker).

The ``test`` pool (for the robustness test sets ``<test>_noisy`` and ``<test>_reverb``) shares nothing
with the ``train`` pool: other random streams (so other rooms and other noise samples), and babble from
the other half of the training speakers.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from dualasr.data.datadir import Utterance, read_data_dir, read_kaldi_map, write_data_dir, write_kaldi_map
from dualasr.files import write_atomic, write_wav_atomic

ROOM_RANGES = ((3.0, 10.0), (3.0, 8.0), (2.4, 4.0))  # length, width, height (m)
ABSORPTION = (0.15, 0.6)   # energy absorption of the walls, floor and ceiling
DISTANCE = (0.5, 3.0)      # source-microphone distance (m)
WALL_MARGIN = 0.3          # source and microphone keep this far from every wall (m)
MAX_ORDER = 20             # image-source reflection order
NOISE_SECONDS = 10.0       # length of each noise file; ESPnet takes a random stretch of it per utterance
COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectrum ~ 1 / f^exponent
BABBLE_TALKERS = (3, 6)
POOLS = ("train", "test")
# Pool sizes (per pool: RIRs, noises of each colour, babble noises)
SIZES = {"train": dict(rirs=40, colour=3, babble=6), "test": dict(rirs=10, colour=1, babble=3)}
RECORD = "augmentation.json"  # written into each augmented data dir: its parameters (``describe``)


def _rng(seed: int, pool: str, what: str) -> np.random.Generator:
    # one independent stream per (seed, pool, kind of asset): the test pool never reuses a train draw
    return np.random.default_rng([seed, POOLS.index(pool), sum(ord(c) << (8 * i) for i, c in enumerate(what))])


def simulate_rir(rng: np.random.Generator, fs: int) -> tuple[np.ndarray, dict]:
    """One RIR of a random shoebox room (ranges above), and the room's parameters."""
    import pyroomacoustics as pra

    dims = np.array([rng.uniform(lo, hi) for lo, hi in ROOM_RANGES])
    absorption = rng.uniform(*ABSORPTION)
    lo, hi = np.full(3, WALL_MARGIN), dims - WALL_MARGIN
    while True:  # a microphone, then a source at the drawn distance, both inside the margins
        mic = rng.uniform(lo, hi)
        dist = rng.uniform(*DISTANCE)
        v = rng.normal(size=3)
        src = mic + dist * v / np.linalg.norm(v)
        if np.all(src >= lo) and np.all(src <= hi):
            break
    room = pra.ShoeBox(dims, fs=fs, materials=pra.Material(absorption), max_order=MAX_ORDER, air_absorption=False)
    room.add_source(src)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    rt60 = float(pra.experimental.measure_rt60(rir, fs=fs, decay_db=30))  # T30, extrapolated to 60 dB
    rir = rir / np.max(np.abs(rir))
    params = dict(length=f"{dims[0]:.2f}", width=f"{dims[1]:.2f}", height=f"{dims[2]:.2f}",
                  absorption=f"{absorption:.3f}", distance=f"{dist:.2f}", rt60=f"{rt60:.3f}")
    return rir, params


def coloured_noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Gaussian noise whose power spectrum falls as 1 / f^exponent (0 white, 1 pink, 2 brown), unit RMS.
    By hand (spectral shaping of white noise, a few lines): no library of the stack makes coloured noise."""
    spec = np.fft.rfft(rng.normal(size=n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    x = np.fft.irfft(spec / f ** (exponent / 2), n)
    return x / np.sqrt(np.mean(x ** 2))


def _load(spec: str, where: str, uttid: str) -> tuple[np.ndarray, int]:
    from dualasr.bin.make_fbank import load_audio

    return load_audio(spec, where, uttid)


def babble(rng: np.random.Generator, utts_by_spk: Dict[str, List[Utterance]], n: int, fs: int,
           where: str) -> np.ndarray:
    """The sum of 3-6 talkers (distinct speakers where there are enough), each a chain of that speaker's
    utterances (each at unit RMS) filling ``n`` samples from a random start; unit RMS."""
    spks = sorted(utts_by_spk)
    k = int(rng.integers(BABBLE_TALKERS[0], BABBLE_TALKERS[1] + 1))
    talkers = rng.choice(spks, size=k, replace=len(spks) < k)
    out = np.zeros(n)
    for spk in talkers:
        utts = utts_by_spk[spk]
        chain, have = [], 0
        while have < n:
            u = utts[int(rng.integers(len(utts)))]
            x, sr = _load(u.wav, where, u.uttid)
            if sr != fs:
                raise SystemExit(f"{where}: {u.uttid}: sample rate {sr}, not {fs}")
            x = x.astype(np.float64) / max(np.sqrt(np.mean(x.astype(np.float64) ** 2)), 1e-8)
            chain.append(x)
            have += len(x)
        x = np.concatenate(chain)
        start = int(rng.integers(0, len(x) - n + 1))
        out += x[start:start + n]
    return out / max(np.sqrt(np.mean(out ** 2)), 1e-8)


def split_speakers(train: Sequence[Utterance], seed: int,
                   where: str = "the training set") -> Dict[str, Dict[str, List[Utterance]]]:
    """The training speakers in two disjoint halves (seeded): babble of the train pool, of the test pool."""
    by_spk: Dict[str, List[Utterance]] = {}
    for u in train:
        by_spk.setdefault(u.spk, []).append(u)
    spks = sorted(by_spk)
    if len(spks) < 2:
        raise SystemExit(f"{where}: babble needs at least 2 training speakers (one per pool), found {len(spks)}")
    order = np.random.default_rng([seed, 7]).permutation(len(spks))
    half = len(spks) // 2
    return {"train": {spks[i]: by_spk[spks[i]] for i in order[half:]},
            "test": {spks[i]: by_spk[spks[i]] for i in order[:half]}}


def make_assets(out: Path, train_dir: Path, seed: int, fs: int, pools: Sequence[str] = POOLS) -> None:
    """Write ``<out>/<pool>/{rirs,noises}/*.wav``, ``rirs.scp``, ``noises.scp``, ``rooms.tsv``,
    ``noises.tsv`` for each pool (see the module docstring)."""
    out = Path(out).absolute()
    halves = split_speakers(read_data_dir(train_dir), seed, str(Path(train_dir) / "utt2spk"))
    for pool in pools:
        pdir = out / pool
        (pdir / "rirs").mkdir(parents=True, exist_ok=True)
        (pdir / "noises").mkdir(parents=True, exist_ok=True)
        size = SIZES[pool]
        rng = _rng(seed, pool, "rir")
        rirs, rooms = [], []
        for i in range(size["rirs"]):
            rir, params = simulate_rir(rng, fs)
            name = f"{pool}-room{i:03d}"
            # 24-bit PCM: a float wav gets libsndfile's PEAK chunk, which holds the time of writing
            write_wav_atomic(pdir / "rirs" / f"{name}.wav", rir, fs, subtype="PCM_24")
            rirs.append((name, str(pdir / "rirs" / f"{name}.wav")))
            rooms.append({"id": name, **params})
        n = int(NOISE_SECONDS * fs)
        noises, info = [], []
        for colour, exponent in COLOURS.items():
            rng = _rng(seed, pool, colour)
            for i in range(size["colour"]):
                name = f"{pool}-{colour}{i:02d}"
                x = 0.1 * coloured_noise(rng, n, exponent)
                write_wav_atomic(pdir / "noises" / f"{name}.wav", x, fs)
                noises.append((name, str(pdir / "noises" / f"{name}.wav")))
                info.append({"id": name, "kind": colour, "speakers": ""})
        rng = _rng(seed, pool, "babble")
        spks = halves[pool]
        for i in range(size["babble"]):
            name = f"{pool}-babble{i:02d}"
            x = 0.1 * babble(rng, spks, n, fs, str(Path(train_dir) / "wav.scp"))
            write_wav_atomic(pdir / "noises" / f"{name}.wav", x, fs)
            noises.append((name, str(pdir / "noises" / f"{name}.wav")))
            info.append({"id": name, "kind": "babble", "speakers": " ".join(sorted(spks))})
        write_kaldi_map(pdir / "rirs.scp", rirs)
        write_kaldi_map(pdir / "noises.scp", noises)
        write_atomic(pdir / "rooms.tsv", _tsv(rooms))
        write_atomic(pdir / "noises.tsv", _tsv(info))


def describe(rec: dict) -> str:
    """A data dir's augmentation record (``RECORD``) in words, e.g. "reverberation with probability 0.5 and
    noise with probability 0.5 at 5-20 dB SNR, one realisation of each utterance"."""
    parts = []
    if rec.get("rir_scp"):
        parts.append(f"reverberation with probability {rec['rir_apply_prob']:g}")
    if rec.get("noise_scp"):
        snr = "–".join(str(rec["noise_db_range"]).split("_"))
        parts.append(f"noise with probability {rec['noise_apply_prob']:g} at {snr} dB SNR")
    n = int(rec.get("copies", 1))
    copies = "one realisation" if n == 1 else f"{n} realisations"
    clean = ", beside the clean utterance" if rec.get("keep_clean") else ""
    return f"{' and '.join(parts) or 'nothing'}, {copies} of each utterance{clean}"


def _tsv(rows: List[dict]) -> str:
    return "".join("\t".join(r) + "\n" for r in [list(rows[0])] + [[str(v) for v in r.values()] for r in rows])


def utt_seed(seed: int, purpose: str, uttid: str) -> int:
    """The seed of one utterance's draw: the same on every run and every machine (not Python's hash)."""
    return int.from_bytes(hashlib.sha256(f"{seed}\t{purpose}\t{uttid}".encode()).digest()[:4], "little")


def preprocessor(rir_scp: Optional[Path], rir_apply_prob: float, noise_scp: Optional[Path],
                 noise_apply_prob: float, noise_db_range: str):
    """ESPnet's CommonPreprocessor with its augmentation options (``train=True`` is ESPnet's switch that
    loads rir_scp / noise_scp: the robustness test sets go through it too, with probability 1)."""
    import dualasr.lazy_deps  # noqa: F401  (before any ESPnet module)
    from espnet2.train.preprocessor import CommonPreprocessor

    return CommonPreprocessor(train=True, rir_scp=str(rir_scp) if rir_scp else None, rir_apply_prob=rir_apply_prob,
                              noise_scp=str(noise_scp) if noise_scp else None, noise_apply_prob=noise_apply_prob,
                              noise_db_range=noise_db_range)


def augment_dir(src: Path, dst: Path, seed: int, purpose: str, rir_scp: Optional[Path] = None,
                rir_apply_prob: float = 1.0, noise_scp: Optional[Path] = None, noise_apply_prob: float = 1.0,
                noise_db_range: str = "10", fs: int = 16000, copies: int = 1, keep_clean: bool = False) -> int:
    """Write ``dst``: the data dir ``src`` with each utterance's audio passed through ESPnet's
    augmentation (written to ``dst/wav/<uttid>.wav``); texts, speakers and ``utt2speed`` carried over.
    Returns the number of utterances.

    ``copies`` realisations of each utterance (copy k draws with purpose ``<purpose>`` for k = 1, else
    ``<purpose><k>``), and with ``keep_clean`` the clean utterance beside them. With more than one
    utterance per source utterance, the augmented ones are named Kaldi style, as speed perturbation's
    are: ``aug<k>-<uttid>``, speaker ``aug<k>-<spk>``; the clean one keeps its id."""
    if not rir_scp and not noise_scp:
        raise SystemExit(f"augment: {src} -> {dst}: neither an RIR list nor a noise list to apply")
    if copies < 1:
        raise SystemExit(f"augment: {src} -> {dst}: {copies} augmented copies asked for, at least 1 is needed")
    for scp in (rir_scp, noise_scp):
        if scp and not Path(scp).is_file():
            raise SystemExit(f"augment: {scp}: no such file")
    prep = preprocessor(rir_scp, rir_apply_prob, noise_scp, noise_apply_prob, noise_db_range)
    src, dst = Path(src), Path(dst)
    wavdir = (dst / "wav").absolute()
    wavdir.mkdir(parents=True, exist_ok=True)
    out, ids = [], {}  # ids: new id -> source id (for utt2speed)
    renamed = copies > 1 or keep_clean
    state = np.random.get_state()
    try:
        for u in read_data_dir(src):
            x, sr = _load(u.wav, str(src / "wav.scp"), u.uttid)
            if sr != fs:
                raise SystemExit(f"{src / 'wav.scp'}: {u.uttid}: sample rate {sr}, not {fs}")
            if keep_clean:
                out.append(u)
                ids[u.uttid] = u.uttid
            for k in range(1, copies + 1):
                # ESPnet draws from numpy's global generator: seeded per utterance, so each draw depends
                # only on (seed, purpose, copy, utterance id), not on the order or the other utterances
                np.random.seed(utt_seed(seed, purpose if k == 1 else f"{purpose}{k}", u.uttid))
                y = prep(u.uttid, {"speech": x.astype(np.float64)})["speech"]
                y = np.asarray(y, dtype=np.float64).reshape(-1)  # (time,) or (time, 1) -> mono
                pre = f"aug{k}-" if renamed else ""
                path = wavdir / f"{pre}{u.uttid}.wav"
                write_wav_atomic(path, y, fs)
                out.append(Utterance(pre + u.uttid, str(path), pre + u.spk, u.surface, u.meaning, u.canonical))
                ids[pre + u.uttid] = u.uttid
    finally:
        np.random.set_state(state)
    write_data_dir(dst, out)
    # how the audio was made, carried with the features (stages 3-4) to the report (training_audio)
    write_atomic(dst / RECORD, json.dumps({
        "seed": seed, "purpose": purpose, "rir_scp": str(rir_scp) if rir_scp else None,
        "rir_apply_prob": rir_apply_prob if rir_scp else 0.0, "noise_scp": str(noise_scp) if noise_scp else None,
        "noise_apply_prob": noise_apply_prob if noise_scp else 0.0, "noise_db_range": noise_db_range if noise_scp else None,
        "copies": copies, "keep_clean": keep_clean}, indent=1) + "\n")
    if (src / "utt2speed").is_file():
        speed = read_kaldi_map(src / "utt2speed")
        write_kaldi_map(dst / "utt2speed", [(new, speed[old]) for new, old in ids.items() if old in speed])
    return len(out)
