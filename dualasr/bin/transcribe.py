"""Transcribe audio files with a packed model: surface, meaning and pronunciation feedback.

    python -m dualasr.bin.transcribe --model exp/do_ko/packed/do_ko.zip a.wav b.flac
    python -m dualasr.bin.transcribe --model do_en.zip --prompt "the cat sat" --format json a.wav

Each file is read at any sample rate (resampled to the model's) and any channel count (downmixed,
with a warning), and turned into features by the function training used
(``dualasr.bin.make_fbank.fbank``). The model gives the two transcripts:

- surface: what the learner said (their pronunciation),
- meaning: what they meant.

Feedback aligns the surface with the canonical form of the meaning (``dualasr.align.canonical``;
``--prompt`` replaces the meaning when the learner read a known text), word by word in English and
syllable by syllable in Korean (``dualasr.align.align``). Each difference is ``substitute``,
``delete`` or ``insert``. Each surface unit carries start/end times in seconds from CTC forced
alignment of the surface hypothesis on the surface CTC posteriors.

Formats: ``text`` (a terminal view: mispronounced spans in [brackets]), ``json`` (schema in the
README, "Use a trained model"), ``tsv`` (one line per file). A file that cannot be read, or that is
too short for the encoder, gets a one-line error on stderr (and an ``error`` record in json); the
others are still transcribed and the exit status is 1.

Python:  ``Transcriber("do_ko.zip")("a.wav", prompt=None) -> dict`` (the json record of one file);
``Transcriber(...).transcribe_many(["a.wav", ...])`` yields ``(record, error)`` per file, decoded in batches
(the decode settings' ``batch_size``) as the command does.
"""

# torch/espnet are imported inside functions: `--help` must not wait for them.
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

log = logging.getLogger("dualasr.transcribe")


class TranscribeError(Exception):
    """A file that cannot be transcribed: the message names the file and what is wrong."""


def units(text: str, lang: str) -> List[str]:
    """The feedback units of a text: words (en) or Hangul syllables, spaces left out (ko)."""
    if lang == "ko":
        return [c for c in unicodedata.normalize("NFC", text) if not c.isspace()]
    return text.split()


def unit_spans(text: str, lang: str) -> List[Tuple[int, int]]:
    """[start, end) of each unit of ``units(text, lang)`` over the text's non-space characters."""
    spans, pos = [], 0
    for u in units(text, lang):
        spans.append((pos, pos + len(u)))
        pos += len(u)
    return spans


def char_times(token_texts: Sequence[str], token_times: Sequence[Tuple[float, float]], text: str,
               nfd: bool) -> List[Optional[Tuple[float, float]]]:
    """Times of each non-space character of the NFC ``text`` from the aligned tokens.

    ``token_texts`` are the surface tokens as text (``<space>``/``▁`` already spaces); with ``nfd``
    they are jamo, so a syllable spans the tokens of its jamo. A character gets the start of its
    first token and the end of its last one."""
    # per non-space character of the token stream (NFD when nfd), the index of its token
    owner = [i for i, t in enumerate(token_texts) for c in t if not c.isspace()]
    out, k = [], 0
    for c in unicodedata.normalize("NFC", text):
        if c.isspace():
            continue
        n = len(unicodedata.normalize("NFD", c)) if nfd else 1
        toks = owner[k:k + n]
        k += n
        out.append((token_times[toks[0]][0], token_times[toks[-1]][1]) if len(toks) == n and toks else None)
    return out


def group_times(text: str, lang: str, chars: Sequence[Optional[Tuple[float, float]]]) -> List[Dict[str, Any]]:
    """``{"text", "start", "end"}`` for each unit of the text, from per-character times."""
    out = []
    for u, (a, b) in zip(units(text, lang), unit_spans(text, lang)):
        ts = [t for t in chars[a:b] if t is not None]
        out.append({"text": u, "start": round(ts[0][0], 2) if ts else None,
                    "end": round(ts[-1][1], 2) if ts else None})
    return out


def feedback(surface: str, canonical_text: str, lang: str,
             surface_units: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Align the canonical units (expected) with the surface units (heard), one record per step:
    ``op`` (equal/substitute/delete/insert), ``expected``, ``heard``, and the heard unit's times."""
    from dualasr.align import align

    heard = units(surface, lang)
    assert len(heard) == len(surface_units)
    out = []
    for p in align(units(canonical_text, lang), heard):
        t = surface_units[p.hyp_index] if p.hyp_index is not None else {}
        out.append({"op": p.op, "expected": p.ref, "heard": p.hyp, "start": t.get("start"), "end": t.get("end")})
    return out


def read_audio(path: Union[str, Path]) -> Tuple["Any", int, int]:
    """(mono float32 samples, sample rate, channels) of an audio file (soundfile: wav, flac, ogg, ...)."""
    import soundfile

    try:
        wav, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:
        raise TranscribeError(f"{path}: cannot read audio: {' '.join(str(e).split())}") from None
    channels = wav.shape[1]
    if channels > 1:
        log.warning("%s: %d channels, downmixed to mono", path, channels)
    # the downmix of dualasr.bin.make_fbank.load_audio (training data): the mean of the channels
    return wav.mean(axis=1), sr, channels


class Transcriber:
    """A packed model, ready to transcribe files or arrays.

    >>> t = Transcriber("exp/do_ko/packed/do_ko.zip")      # doctest: +SKIP
    >>> t("a.wav")["surface"], t("a.wav", prompt="같이 먹었어요")["feedback"]  # doctest: +SKIP
    """

    def __init__(self, model: Union[str, Path], device: str = "cpu", **decode_kwargs):
        # ESPnet prints notices to stdout on import (no flash_attn): keep stdout for the transcripts
        with contextlib.redirect_stdout(sys.stderr):
            self._load(model, device, **decode_kwargs)

    def _load(self, model: Union[str, Path], device: str, **decode_kwargs):
        import yaml
        from espnet2.text.build_tokenizer import build_tokenizer
        from espnet2.text.token_id_converter import TokenIDConverter

        from dualasr.bin.dual_asr_inference import DualSpeech2Text
        from dualasr.bin.make_fbank import N_MELS, fbank_conf

        self.model_path = str(model)
        self.s2t = DualSpeech2Text.from_pretrained(str(model), device=device, **decode_kwargs)
        feats = self.s2t.packed.features
        self.n_mels = (feats.get("fbank") or {}).get("num_mel_bins")
        if not isinstance(self.n_mels, int) or feats["fbank"] != fbank_conf(self.n_mels):
            raise SystemExit(f"{model}: trained with fbank settings {feats.get('fbank')}, but this dualasr computes "
                             f"{fbank_conf(self.n_mels if isinstance(self.n_mels, int) else N_MELS)}: use the dualasr "
                             f"version the model was trained with")
        self.fs, self.lang = int(feats["fs"]), feats["lang"]
        self.nfd = bool(feats.get("decompose_hangul"))
        self.device = device
        model_ = self.s2t.model
        self.outputs = list(model_.outputs)
        if "surface" in self.outputs:
            conf = yaml.safe_load(Path(self.s2t.packed.config).read_text(encoding="utf-8"))
            self.tokenizer = build_tokenizer(token_type=conf["token_type"], bpemodel=conf.get("bpemodel_surface"))
            self.converter = TokenIDConverter(token_list=model_.token_lists["surface"])

    def features(self, wav, sr: int):
        """Features exactly as in training (``make_fbank.fbank``, resampling to the model's rate)."""
        import torch

        from dualasr.bin.make_fbank import fbank

        return torch.from_numpy(fbank(wav, sr, self.fs, n_mels=self.n_mels))

    def surface_times(self, feats, enc, surface: str) -> List[Dict[str, Any]]:
        """Times of each surface unit: CTC forced alignment (torchaudio) of the surface hypothesis on
        the surface CTC posteriors of ``enc``, the surface encoder frames [T, D] of ``feats``."""
        import torch
        import torchaudio.functional as F

        text = unicodedata.normalize("NFD", surface) if self.nfd else surface
        tokens = self.tokenizer.text2tokens(text)
        ids = self.converter.tokens2ids(tokens)
        spaced = [t.replace("<space>", " ").replace("\u2581", " ") for t in tokens]
        keep = [i for i, t in enumerate(spaced) if t.strip()]  # spaces carry no letters to time
        nochars = [None] * len(units(surface, self.lang))
        if not keep:
            return group_times(surface, self.lang, nochars)
        with torch.no_grad():
            logp = self.s2t.model.ctcs["surface"].log_softmax(enc[None]).float().cpu()
        # encoder frames -> seconds: input frames per encoder frame (subsampling) x the fbank frame shift
        sec_per_frame = feats.shape[0] / logp.shape[1] * self.s2t.packed.features["fbank"]["frame_shift"] / 1000
        targets = torch.tensor([ids], dtype=torch.int32)
        try:
            with warnings.catch_warnings():  # torchaudio 2.9 marks it deprecated; it is still there and right
                warnings.simplefilter("ignore", UserWarning)
                labels, scores = F.forced_align(logp, targets, blank=0)
        except RuntimeError as e:  # more tokens than frames: no times, the transcript still stands
            log.warning("surface %r: no forced alignment (%s)", surface, " ".join(str(e).split())[:200])
            return group_times(surface, self.lang, nochars)
        spans = F.merge_tokens(labels[0], scores[0].exp())
        assert len(spans) == len(ids), (len(spans), len(ids))
        times = [(s.start * sec_per_frame, s.end * sec_per_frame) for s in spans]
        chars = char_times([spaced[i] for i in keep], [times[i] for i in keep], surface, self.nfd)
        return group_times(surface, self.lang, chars)

    def __call__(self, audio: Union[str, Path, Tuple[Any, int]], prompt: Optional[str] = None,
                 name: Optional[str] = None) -> Dict[str, Any]:
        """Transcribe a file (or a ``(samples, sample_rate)`` pair); returns the json record."""
        rec, err = next(self._records([self._prepare(audio, name)], prompt))
        if err is not None:
            raise err
        return rec

    def transcribe_many(self, audio: Sequence[Union[str, Path]], prompt: Optional[str] = None
                        ) -> Iterator[Tuple[Dict[str, Any], Optional[TranscribeError]]]:
        """``(record, error)`` of each file, in their order: the files are decoded in batches of the decode
        settings' ``batch_size`` (``joint_batch``: the hypotheses of one file at a time, several times
        faster). A file that cannot be transcribed gives ``({"file", "error"}, the error)``."""
        step = self.s2t.batch_step
        for i in range(0, len(audio), step):
            part = []
            for a in audio[i : i + step]:
                try:
                    part.append((a, self._prepare(a), None))
                except TranscribeError as e:
                    part.append((a, None, e))
            records = self._records([item for _, item, _ in part if item is not None], prompt)
            for a, item, err in part:
                yield ({"file": str(a), "error": str(err)}, err) if err is not None else next(records)

    def _records(self, items: Sequence[Tuple[Any, ...]], prompt: Optional[str]
                 ) -> Iterator[Tuple[Dict[str, Any], Optional[TranscribeError]]]:
        """``(record, error)`` of prepared files (:meth:`_prepare`): each encoded once, for the hypotheses
        and for the surface times, and decoded together."""
        encoded = self.s2t.encode_each([item[1] for item in items], keys=[item[0] for item in items])
        hyps = iter(self.s2t.decode_encoded([e for e in encoded if e is not None]))
        for item, enc in zip(items, encoded):
            if enc is None:  # (the frame count passed _prepare's check; encode_each has warned)
                err = TranscribeError(f"{item[0]}: too short for the encoder")
                yield {"file": item[0], "error": str(err)}, err
            else:
                yield self._record(*item, enc, next(hyps), prompt), None

    def _prepare(self, audio: Union[str, Path, Tuple[Any, int]], name: Optional[str] = None) -> Tuple[Any, ...]:
        """``(name, features, duration, sample rate, channels)`` of a file or a ``(samples, rate)`` pair;
        a TranscribeError (naming it) when it cannot be read or is too short for the encoder."""
        if isinstance(audio, (str, Path)):
            name = name or str(audio)
            wav, sr, channels = read_audio(audio)
        else:
            wav, sr = audio
            name, channels = name or "<array>", 1
        duration = len(wav) / sr
        feats = self.features(wav, sr)
        if feats.shape[0] == 0:
            raise TranscribeError(f"{name}: too short ({duration:.3f} s): not one 25 ms frame")
        if feats.shape[0] < self.s2t.min_frames:  # decoding would give empty hypotheses (stage 8 warns)
            raise TranscribeError(f"{name}: too short ({duration:.3f} s, {feats.shape[0]} frames): "
                                  f"the encoder needs at least {self.s2t.min_frames} frames")
        return name, feats, duration, sr, channels

    def _record(self, name: str, feats, duration: float, sr: int, channels: int, enc: Dict[str, Any],
                hyp: Dict[str, str], prompt: Optional[str]) -> Dict[str, Any]:
        """The json record of a decoded file: transcripts, canonical form, feedback with times."""
        from dualasr.align import canonical

        surface, meaning = hyp.get("surface"), hyp.get("meaning")
        rec: Dict[str, Any] = {"file": name, "duration": round(duration, 3), "sample_rate": sr,
                               "channels": channels, "lang": self.lang, "surface": surface, "meaning": meaning}
        source = "prompt" if prompt is not None else ("meaning" if meaning is not None else None)
        canon = canonical(self.normalize(prompt) if prompt is not None else meaning, self.lang) if source else None
        rec["canonical"] = {"source": source, "text": canon}
        rec["unit"] = "syllable" if self.lang == "ko" else "word"
        if surface is not None:
            unit_times = self.surface_times(feats, enc["surface"], surface)
            rec["words"] = self._words(surface, unit_times)
            rec["units"] = unit_times
            rec["feedback"] = feedback(surface, canon, self.lang, unit_times) if canon is not None else []
        else:
            rec["words"], rec["units"], rec["feedback"] = [], [], []
        rec["mispronounced"] = sum(f["op"] != "equal" for f in rec["feedback"])
        return rec

    def _words(self, surface: str, unit_times: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Space-separated words of the surface with times (in Korean: the span of their syllables)."""
        if self.lang != "ko":
            return unit_times
        out, k = [], 0
        for w in surface.split():
            syl = unit_times[k:k + len(w)]
            k += len(w)
            starts = [s["start"] for s in syl if s["start"] is not None]
            ends = [s["end"] for s in syl if s["end"] is not None]
            out.append({"text": w, "start": starts[0] if starts else None, "end": ends[-1] if ends else None})
        return out

    def normalize(self, text: str) -> str:
        """A prompt in the model's text conventions (dualasr.text.normalize of the language)."""
        from dualasr.text.normalize import normalize_en, normalize_ko

        return normalize_ko(text) if self.lang == "ko" else normalize_en(text)


# ---- output formats ----
_MARK = {"substitute": "[{expected}→{heard}]", "delete": "[-{expected}]", "insert": "[+{heard}]"}


def _t(x: Optional[float]) -> str:
    return "?" if x is None else f"{x:.2f}"


def format_text(rec: Dict[str, Any], color: bool = False) -> str:
    """A terminal view: the transcripts, the feedback line with mispronounced spans in brackets,
    and one line per difference with its times."""
    if "error" in rec:
        return f"== {rec['file']}\nerror      {rec['error']}\n"
    sep = "" if rec["unit"] == "syllable" else " "
    red, end = ("\033[1;31m", "\033[0m") if color else ("", "")
    marked = []
    for f in rec["feedback"]:
        marked.append(f["heard"] if f["op"] == "equal" else red + _MARK[f["op"]].format(**f) + end)
    lines = [f"== {rec['file']} ({rec['duration']:.2f} s)",
             f"surface    {rec['surface'] if rec['surface'] is not None else '-'}",
             f"meaning    {rec['meaning'] if rec['meaning'] is not None else '-'}"]
    if rec["canonical"]["text"] is not None:
        lines.append(f"canonical  {rec['canonical']['text']}   (from the {rec['canonical']['source']})")
        lines.append(f"feedback   {sep.join(marked)}   ({rec['mispronounced']} of {len(rec['feedback'])} "
                     f"{rec['unit']}s differ)")
        for f in rec["feedback"]:
            if f["op"] != "equal":
                lines.append(f"  {f['op']:<10} {f['expected'] or '-'} → {f['heard'] or '-'}   "
                             f"{_t(f['start'])}–{_t(f['end'])} s")
    lines.append("words      " + " ".join(f"{w['text']}@{_t(w['start'])}–{_t(w['end'])}" for w in rec["words"]))
    return "\n".join(lines) + "\n"


TSV_HEADER = "file\tsurface\tmeaning\tcanonical\tmispronounced\tdifferences\terror"


def format_tsv(rec: Dict[str, Any]) -> str:
    """One line per file; ``differences`` is ``op:expected>heard@start-end`` joined by spaces."""
    clean = lambda s: "" if s is None else " ".join(str(s).split())  # noqa: E731
    if "error" in rec:
        return "\t".join([clean(rec["file"]), "", "", "", "", "", clean(rec["error"])]) + "\n"
    diffs = " ".join(f"{f['op']}:{f['expected'] or ''}>{f['heard'] or ''}@{_t(f['start'])}-{_t(f['end'])}"
                     for f in rec["feedback"] if f["op"] != "equal")
    return "\t".join([clean(rec["file"]), clean(rec["surface"]), clean(rec["meaning"]),
                      clean(rec["canonical"]["text"]), str(rec["mispronounced"]), diffs, ""]) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a packed model (stage 13: exp/<model>_<lang>/packed/*.zip)")
    p.add_argument("audio", nargs="+", help="audio files (wav, flac, ogg, ...: whatever libsndfile reads)")
    p.add_argument("--prompt", default=None, help="the text the learner read: the canonical source instead "
                   "of the meaning hypothesis")
    p.add_argument("--format", default="text", choices=["text", "json", "tsv"])
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--beam_size", type=int, default=None, help="default: the packed decode settings (with "
                   "ctc_rescore, the n-best is their rescore_nbest where set)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    kwargs = {"beam_size": a.beam_size} if a.beam_size is not None else {}
    try:
        tr = Transcriber(a.model, device="cuda" if a.ngpu > 0 else "cpu", **kwargs)
    except FileNotFoundError as e:
        print(f"transcribe: {e}", file=sys.stderr)
        return 2
    records, failed = [], 0
    color = a.format == "text" and sys.stdout.isatty()
    if a.format == "tsv":
        sys.stdout.write(TSV_HEADER + "\n")
    for rec, err in tr.transcribe_many(a.audio, prompt=a.prompt):
        if err is not None:
            failed += 1
            print(f"transcribe: {err}", file=sys.stderr)
        if a.format == "json":
            records.append(rec)
        else:
            sys.stdout.write(format_text(rec, color) if a.format == "text" else format_tsv(rec))
            sys.stdout.flush()
    if a.format == "json":
        json.dump({"model": a.model, "lang": tr.lang, "results": records}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
