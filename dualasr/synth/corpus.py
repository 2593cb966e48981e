"""Build the embedded corpus: plan utterances, render them with espeak-ng, write the data dirs.

The plan (sentences, speakers, error rates, surface texts) comes from one ``random.Random`` seeded
by language and seed, so a seed fixes every text; espeak-ng and the resampler are deterministic,
so it fixes the wavs too. Workers only render audio. Data dir files are written after all audio.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import soundfile as sf
from rapidfuzz.distance import Levenshtein
from tqdm import tqdm

from dualasr.align import canonical
from dualasr.data.datadir import Utterance, write_data_dir, write_kaldi_map
from dualasr.files import write_atomic, write_wav_atomic
from dualasr.synth.rules_en import surface_en
from dualasr.synth.rules_ko import surface_ko
from dualasr.synth.sentences import sample_sentences

try:  # soxr is the better resampler; scipy is the fallback the brief allows
    import soxr
except ImportError:  # pragma: no cover - soxr is in the venv
    soxr = None

LANGS = ("ko", "en")
SETS = ("train", "dev", "test")
SAMPLE_RATE = 16000
BASE_VOICE = {"ko": "ko", "en": "en-us"}
SURFACE = {"ko": surface_ko, "en": surface_en}
# espeak-ng voice variants (files under espeak-ng-data/voices/!v); names hold no '-'.
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "klatt",
            "klatt2", "klatt3", "klatt4", "adam", "andy", "annie", "david", "john", "linda", "max", "steph"]
# words per minute (-s): brisk, to keep utterances short. English is spelled in letters, and a CTC
# model with 4x subsampling emits at most 25 tokens/s, so English stays below ~21 letters/s.
SPEEDS = {"ko": (180, 200, 220, 240), "en": (150, 165, 180, 195)}
TRAIL_S = 0.15  # silence kept after the last sound (espeak-ng pads up to 0.5 s)
PITCHES = (30, 40, 50, 60, 70)  # 0-99 (-p)


@dataclass(frozen=True)
class SizeSpec:
    """Sentences per set, voices (speakers) per set, and how many train voices say each train sentence."""

    sentences: Tuple[int, int, int]
    speakers: Tuple[int, int, int]
    train_repeats: int = 2


SIZES = {
    "tiny": SizeSpec((30, 10, 10), (6, 2, 2)),
    "small": SizeSpec((300, 60, 60), (20, 4, 4)),
    "default": SizeSpec((1100, 150, 200), (40, 6, 6)),
}
# The test set is stratified by the distance the divergence analysis bins on (:func:`perceived_distance`):
# an equal share of its utterances in each of these bins (the analysis' default bins), so that every
# bin can be compared. Train and
# dev keep the natural mix of :func:`draw_rate`.
TEST_BINS = ((0, 0), (1, 2), (3, 5), (6, 10), (11, None))
TEST_POOL = 4  # test sentences drawn per test utterance; those no bin needs are left unused
TRIES = 30  # error-rate draws per (sentence, bin) before the next sentence is tried


@dataclass(frozen=True)
class PlannedUtt:
    """One utterance to render: who says what, and the meaning it stands for."""

    uttid: str
    spk: str
    voice: str
    speed: int
    pitch: int
    surface: str
    meaning: str
    rate: float


def distance(lang: str, surface: str, meaning: str) -> int:
    """Character edit distance between surface and meaning (Korean: spaces removed).

    >>> distance("ko", "학꾜 에", "학교에"), distance("en", "i sink so", "i think so")
    (1, 2)
    """
    if lang == "ko":
        surface, meaning = surface.replace(" ", ""), meaning.replace(" ", "")
    return Levenshtein.distance(surface, meaning)


def perceived_distance(lang: str, surface: str, meaning: str) -> int:
    """The divergence analysis' canonical-perceived distance: the surface against the meaning's
    canonical pronunciation (Korean: the standard-pronunciation rules, spaces removed; English: the
    spelling), in characters. Stage 1 writes that canonical form as ``text.canonical``, so stage 10
    bins every test utterance by this number.

    >>> perceived_distance("ko", "학꾜 에", "학교에"), perceived_distance("en", "i sink so", "i think so")
    (0, 2)
    """
    from dualasr.analysis.divergence import distance as divergence_distance  # numpy only; keeps the CLI light

    return divergence_distance(surface, canonical(meaning, lang), lang, "char")


def draw_rate(rng: random.Random) -> float:
    """Per-utterance learner error rate: one in eight utterances is error-free, the rest spread
    over (0, 1) with a long tail towards 1 (Beta(1.1, 1.6)), so distances run from 0 to above 10."""
    return 0.0 if rng.random() < 0.125 else rng.betavariate(1.1, 1.6)


def speakers(lang: str) -> List[Tuple[str, str, int, int]]:
    """All (speaker id, espeak voice, speed, pitch) of a language, e.g. ``ko-m3-s145-p40``."""
    return [(f"{lang}-{v}-s{s}-p{p}", f"{BASE_VOICE[lang]}+{v}", s, p)
            for v in VARIANTS for s in SPEEDS[lang] for p in PITCHES]


def _in_bin(d: int, lo: int, hi: int | None) -> bool:
    return d >= lo and (hi is None or d <= hi)


def stratified_texts(lang: str, sentences: List[str], n: int, rng: random.Random) -> List[Tuple[int, str, float]]:
    """``n`` (sentence index, surface, rate) with an equal share (± 1) in each of :data:`TEST_BINS`.

    For each wanted bin, the unused sentences are tried in order, each with up to :data:`TRIES` error
    rates (0 first, then uniform in (0, 1]), until the surface lands in the bin. Sentences whose
    error-free surface is already farther than the bin's end are skipped (learner errors rarely
    bring a surface closer). A ValueError says which bin no sentence could reach.
    """
    wanted = [TEST_BINS[i % len(TEST_BINS)] for i in range(n)]
    rng.shuffle(wanted)
    base = [perceived_distance(lang, SURFACE[lang](m, 0.0, random.Random(0)), m) for m in sentences]  # error-free
    used = set()
    out = []
    for lo, hi in wanted:
        for index, meaning in enumerate(sentences):
            if index in used or (hi is not None and base[index] > hi):
                continue
            hit = None
            for t in range(TRIES):
                rate = 0.0 if t == 0 else 1.0 - rng.random()
                surface = SURFACE[lang](meaning, rate, rng)
                if _in_bin(perceived_distance(lang, surface, meaning), lo, hi):
                    hit = (index, surface, rate)
                    break
            if hit:
                used.add(index)
                out.append(hit)
                break
        else:
            raise ValueError(f"{lang}: no test sentence left reaches distance {lo}-{hi if hi is not None else ''}"
                             f" ({len(sentences)} drawn for {n} test utterances)")
    return out


def plan_corpus(lang: str, size: str, seed: int) -> Dict[str, List[PlannedUtt]]:
    """Utterances of each set. Sets share no sentence and no speaker; the test set is stratified
    by distance (:func:`stratified_texts`)."""
    spec = SIZES[size]
    rng = random.Random(f"dualasr-synth-{lang}-{seed}")
    n_train, n_dev, n_test = spec.sentences
    sentences = sample_sentences(lang, n_train + n_dev + TEST_POOL * n_test, rng)
    voices = speakers(lang)
    rng.shuffle(voices)
    plan: Dict[str, List[PlannedUtt]] = {}
    first_sent = first_spk = 0
    for name, n_sent, n_spk in zip(SETS, spec.sentences, spec.speakers):
        pool = voices[first_spk:first_spk + n_spk]
        repeats = spec.train_repeats if name == "train" else 1
        if name == "test":
            texts = [(first_sent + i, surface, rate) for i, surface, rate
                     in stratified_texts(lang, sentences[first_sent:], n_sent, rng)]
        else:
            texts = []
            for index in range(first_sent, first_sent + n_sent):
                for _ in range(repeats):
                    rate = draw_rate(rng)
                    texts.append((index, SURFACE[lang](sentences[index], rate, rng), rate))
        order: List[Tuple[str, str, int, int]] = []
        utts = []
        for index, surface, rate in texts:
            if not order:  # deal voices evenly: each sentence gets `repeats` distinct ones
                order = pool[:]
                rng.shuffle(order)
            spk, voice, speed, pitch = order.pop()
            utts.append(PlannedUtt(f"{spk}-{index:05d}", spk, voice, speed, pitch, surface,
                                   sentences[index], round(rate, 4)))
        plan[name] = utts
        first_sent += n_sent
        first_spk += n_spk
    return plan


def _resample(x: np.ndarray, sr: int) -> np.ndarray:
    if sr == SAMPLE_RATE:
        return x
    if soxr is not None:
        return soxr.resample(x, sr, SAMPLE_RATE)
    from math import gcd

    from scipy.signal import resample_poly
    g = gcd(sr, SAMPLE_RATE)
    return resample_poly(x, SAMPLE_RATE // g, sr // g)


def render(job: Tuple[str, PlannedUtt, str, bool]) -> Tuple[str, int]:
    """Speak one utterance's surface text into a 16 kHz mono 16-bit wav; return (uttid, samples).

    An existing wav is kept when ``reuse`` is set (the caller checked it was made from the same
    input). Both the espeak-ng output and the final wav go through temporary names.
    """
    espeak, utt, wav, reuse = job
    if reuse and os.path.exists(wav):
        return utt.uttid, sf.info(wav).frames
    raw = f"{wav}.espeak{os.getpid()}.wav"
    try:
        proc = subprocess.run([espeak, "-v", utt.voice, "-s", str(utt.speed), "-p", str(utt.pitch),
                               "-w", raw, "--stdin"], input=utt.surface.encode("utf-8"), capture_output=True)
        if proc.returncode != 0 or not os.path.exists(raw):
            msg = " ".join(proc.stderr.decode("utf-8", "replace").split()) or "no message"
            raise RuntimeError(f"espeak-ng failed on utterance {utt.uttid} (voice {utt.voice}, "
                               f"exit status {proc.returncode}): {msg}")
        x, sr = sf.read(raw, dtype="float32")
        if x.ndim > 1:
            x = x.mean(axis=1)
        y = np.clip(_resample(x, sr), -1.0, 1.0)
        loud = np.flatnonzero(np.abs(y) > 0.005)
        if len(loud):
            y = y[: loud[-1] + 1 + int(TRAIL_S * SAMPLE_RATE)]
        write_wav_atomic(wav, y, SAMPLE_RATE)
        return utt.uttid, len(y)
    finally:
        if os.path.exists(raw):
            os.remove(raw)


def _job_input(utt: PlannedUtt) -> str:
    """Everything that decides a wav's content (for safe reuse of earlier wavs)."""
    return f"{utt.voice} -s {utt.speed} -p {utt.pitch} | {utt.surface}"


def synthesize(utts: List[PlannedUtt], outdir: Path, espeak: str, nj: int, desc: str) -> Dict[str, int]:
    """Render ``utts`` into ``outdir``; return samples per utterance id.

    ``outdir/synth_manifest.json`` records each wav's input once all are written; a later run reuses
    a wav only when the manifest shows the same input, so a changed seed never keeps stale audio.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    manifest_path = outdir / "synth_manifest.json"
    old = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    jobs = [(espeak, u, str(outdir / f"{u.uttid}.wav"), old.get(u.uttid) == _job_input(u)) for u in utts]
    samples: Dict[str, int] = {}
    with Pool(nj) as pool:
        for uttid, n in tqdm(pool.imap_unordered(render, jobs, chunksize=8), total=len(jobs),
                             desc=desc, file=sys.stderr, leave=False):
            samples[uttid] = n
    old.update({u.uttid: _job_input(u) for u in utts})
    write_atomic(manifest_path, json.dumps(old, ensure_ascii=False, sort_keys=True, indent=0) + "\n")
    return samples


def divergence_histogram(lang: str, utts: List[PlannedUtt]) -> Dict[int, int]:
    """Count of utterances per surface-meaning edit distance, every distance 0..max listed."""
    dists = [distance(lang, u.surface, u.meaning) for u in utts]
    return {d: dists.count(d) for d in range(max(dists, default=0) + 1)}


def write_histogram(path: Path, lang: str, hist: Dict[int, int]) -> None:
    """``divergence_hist.txt``: a header comment, then ``distance count`` lines."""
    unit = "characters, spaces removed" if lang == "ko" else "characters"
    lines = [f"# Levenshtein distance between text.surface and text.meaning ({unit}); distance count\n"]
    lines += [f"{d} {c}\n" for d, c in sorted(hist.items())]
    write_atomic(path, "".join(lines))


def find_espeak(espeak: str) -> str:
    """Path of the espeak-ng binary, or a ValueError that says what is missing."""
    path = shutil.which(espeak)
    if path is None:
        raise ValueError(f"espeak-ng not found: {espeak!r} (install it, e.g. apt-get install espeak-ng)")
    return path


def build(lang: str, size: str, seed: int, nj: int, datadir: Path | str, wavdir: Path | str,
          espeak: str = "espeak-ng") -> List[str]:
    """Generate ``<datadir>/{train,dev,test}_<lang>`` and their wavs; return one summary line per set."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (choose from {', '.join(LANGS)})")
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r} (choose from {', '.join(SIZES)})")
    if nj < 1:
        raise ValueError(f"--nj must be at least 1, got {nj}")
    espeak = find_espeak(espeak)
    datadir, wavdir = Path(datadir), Path(wavdir).resolve()
    plan = plan_corpus(lang, size, seed)
    samples = {name: synthesize(utts, wavdir / f"{name}_{lang}", espeak, nj, f"{name}_{lang}")
               for name, utts in plan.items()}
    summary = []
    for name, utts in plan.items():  # data dir files last, once every wav exists
        out = datadir / f"{name}_{lang}"
        # text.canonical: the surface with no learner error (ko: the standard pronunciation of the
        # meaning; en: its spelling), the reference of mispronunciation detection
        write_data_dir(out, [Utterance(u.uttid, str(wavdir / f"{name}_{lang}" / f"{u.uttid}.wav"), u.spk,
                                       u.surface, u.meaning, canonical(u.meaning, lang)) for u in utts])
        write_kaldi_map(out / "utt2dur", [(u.uttid, f"{samples[name][u.uttid] / SAMPLE_RATE:.3f}") for u in utts])
        write_kaldi_map(out / "utt2error_rate", [(u.uttid, f"{u.rate:.4f}") for u in utts])
        hist = divergence_histogram(lang, utts)
        write_histogram(out / "divergence_hist.txt", lang, hist)
        hours = sum(samples[name].values()) / SAMPLE_RATE / 3600
        differing = 100 * sum(c for d, c in hist.items() if d > 0) / max(len(utts), 1)
        summary.append(f"{name}_{lang}: {len(utts)} utts, {len({u.spk for u in utts})} speakers, "
                       f"{hours:.3f} h, {differing:.1f}% differing, max distance {max(hist)}")
    return summary
