"""Decode with an SO or DO model: joint CTC/attention beam search per output.

    python -m dualasr.bin.dual_asr_inference --config exp/do_ko/config.yaml \\
        --model_file exp/do_ko/valid.acc.ave.pth --data dump/fbank/test_ko/feats.scp \\
        --output_dir exp/do_ko/decode_test_ko/logdir/output.1 [--key_file keys.1.scp] \\
        [--inference_config conf/decode.yaml] [--outputs surface meaning]

A DO model runs its encoder once per utterance and decodes both outputs from that encoding. The
search is ESPnet's BatchBeamSearch with the output's decoder and a CTC prefix scorer. Hypotheses go
to ``<output_dir>/text.<output>`` (``uttid text`` lines, written atomically at the end).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import unicodedata
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch
import yaml
import dualasr.lazy_deps  # noqa: F401,I001  (first: keeps ESPnet's start-up fast and quiet)
from espnet.nets.batch_beam_search import BatchBeamSearch
from espnet.nets.scorers.ctc import CTCPrefixScorer
from espnet2.text.build_tokenizer import build_tokenizer
from espnet2.text.token_id_converter import TokenIDConverter
from tqdm import tqdm

from dualasr.data.datadir import write_kaldi_map
from dualasr.tasks.dual_asr import DualASRTask


class DualSpeech2Text:
    """Holds a trained model and one beam search per output."""

    def __init__(self, model, token_type: str = "char", bpemodels: Optional[Dict[str, str]] = None,
                 device: str = "cpu", beam_size: int = 4, ctc_weight: float = 0.3, maxlenratio: float = 0.0,
                 minlenratio: float = 0.0, outputs: Optional[Sequence[str]] = None, dtype: str = "float32"):
        self.model = model.eval().to(device=device, dtype=getattr(torch, dtype))
        self.device = device
        self.outputs = list(outputs or model.outputs)
        for o in self.outputs:
            if o not in model.outputs:
                raise ValueError(f"the model has outputs {model.outputs}, not {o}")
        self.maxlenratio, self.minlenratio = maxlenratio, minlenratio
        self.searches: Dict[str, BatchBeamSearch] = {}
        self.converters, self.tokenizers = {}, {}
        for o in self.outputs:
            token_list = model.token_lists[o]
            eos = len(token_list) - 1
            scorers = {"decoder": model.decoders[o], "ctc": CTCPrefixScorer(ctc=model.ctcs[o], eos=eos)}
            weights = {"decoder": 1.0 - ctc_weight, "ctc": ctc_weight}
            search = BatchBeamSearch(
                scorers=scorers, weights=weights, beam_size=beam_size, vocab_size=len(token_list),
                sos=eos, eos=eos, token_list=token_list,
                pre_beam_score_key=None if ctc_weight == 1.0 else "full",
            )
            self.searches[o] = search.to(device=device, dtype=getattr(torch, dtype)).eval()
            self.converters[o] = TokenIDConverter(token_list=token_list)
            self.tokenizers[o] = build_tokenizer(token_type=token_type, bpemodel=(bpemodels or {}).get(o))

    @classmethod
    def from_files(cls, config: str, model_file: str, device: str = "cpu", **kwargs) -> "DualSpeech2Text":
        """Load a trained model (its training config.yaml and a .pth) and set up the searches."""
        model, args = DualASRTask.build_model_from_file(config, model_file, device)
        bpemodels = {o: getattr(args, f"bpemodel_{o}", None) for o in model.outputs}
        return cls(model, token_type=args.token_type, bpemodels=bpemodels, device=device, **kwargs)

    @classmethod
    def from_pretrained(cls, archive: str, device: str = "cpu", **kwargs) -> "DualSpeech2Text":
        """Load a packed model (stage 13's zip, ``dualasr.packed``) from any directory. The decode
        settings stage 8 used are the defaults; ``kwargs`` override them."""
        from dualasr.packed import load

        packed = load(archive)
        s2t = cls.from_files(packed.config, packed.model_file, device=device, **{**packed.decode, **kwargs})
        s2t.packed = packed  # the feature settings and language, for dualasr.bin.transcribe
        return s2t

    @torch.no_grad()
    def __call__(self, speech: torch.Tensor) -> Dict[str, str]:
        """Recognise one utterance (``[frames, dim]`` features or ``[samples]`` audio)."""
        speech = speech.unsqueeze(0).to(self.device)
        lengths = torch.tensor([speech.shape[1]], device=self.device)
        encoded = self.model.encode(speech, lengths)  # once, for every output
        result = {}
        for o in self.outputs:
            enc = encoded[o][0][0]
            hyps = self.searches[o](x=enc, maxlenratio=self.maxlenratio, minlenratio=self.minlenratio)
            ids = [int(i) for i in hyps[0].yseq[1:-1].tolist() if int(i) != 0]
            tokens = self.converters[o].ids2tokens(ids)
            # NFC: a model trained on jamo (--decompose_hangul) gives syllables back; a no-op otherwise
            result[o] = unicodedata.normalize("NFC", self.tokenizers[o].tokens2text(tokens))
        return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="the training config.yaml of the model")
    p.add_argument("--model_file", required=True)
    p.add_argument("--data", required=True, help="feats.scp (kaldi_ark) or wav.scp (sound)")
    p.add_argument("--data_type", default="kaldi_ark", choices=["kaldi_ark", "sound"])
    p.add_argument("--key_file", default=None, help="decode only these utterance ids")
    p.add_argument("--output_dir", required=True, type=Path)
    p.add_argument("--inference_config", default=None, help="yaml: beam_size, ctc_weight, maxlenratio, minlenratio")
    p.add_argument("--outputs", nargs="+", default=None, help="default: every output of the model")
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--beam_size", type=int, default=None)
    p.add_argument("--ctc_weight", type=float, default=None)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    conf = {}
    if a.inference_config:
        conf = yaml.safe_load(open(a.inference_config, encoding="utf-8")) or {}
    for k in ("beam_size", "ctc_weight"):
        if getattr(a, k) is not None:
            conf[k] = getattr(a, k)
    device = "cuda" if a.ngpu > 0 else "cpu"
    s2t = DualSpeech2Text.from_files(a.config, a.model_file, device=device, outputs=a.outputs, **conf)
    loader = DualASRTask.build_streaming_iterator(
        data_path_and_name_and_type=[(a.data, "speech", a.data_type)], preprocess_fn=None,
        collate_fn=DualASRTask.build_collate_fn(argparse.Namespace(), False), key_file=a.key_file,
        batch_size=1, num_workers=0, inference=True, dtype="float32",
    )
    hyps: Dict[str, List] = {o: [] for o in s2t.outputs}
    t0, audio_frames = time.time(), 0
    for keys, batch in tqdm(loader, desc=f"decode {a.output_dir}", mininterval=10, file=sys.stderr):
        speech = batch["speech"][0][: batch["speech_lengths"][0]]
        audio_frames += speech.shape[0]
        for o, text in s2t(speech).items():
            hyps[o].append((keys[0], text))
    a.output_dir.mkdir(parents=True, exist_ok=True)
    for o, rows in hyps.items():
        write_kaldi_map(a.output_dir / f"text.{o}", rows)
    elapsed = time.time() - t0
    n = len(next(iter(hyps.values())))
    rtf = elapsed / max(audio_frames / 100.0, 1e-9) if a.data_type == "kaldi_ark" else float("nan")
    print(f"decoded {n} utterances, outputs {' '.join(s2t.outputs)}, {elapsed:.1f} s, RTF {rtf:.3f}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
