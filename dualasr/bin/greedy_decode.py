"""Each branch alone: CTC-only greedy and attention-only greedy decoding, beside stage 8's joint search.

    python -m dualasr.bin.greedy_decode --model_dir exp/do_ko [--model_dir exp/so_surface_ko ...] \\
        --data dump/fbank/test_ko/feats.scp [--inference_config conf/decode.yaml] [--inference_model valid.acc.ave.pth]

For every model dir and output, writes ``<model_dir>/decode_<set>/<mode>/text.<output>`` (``<set>`` is
the name of the dir holding ``--data``), for two modes:

- ``ctc_greedy``: the output's CTC head alone, best path (argmax per frame, repeats merged, blanks
  dropped);
- ``att_greedy``: the output's attention decoder alone, ESPnet's beam search with beam 1 and CTC
  weight 0, with the maxlenratio/minlenratio of ``--inference_config`` (``DualSpeech2Text``'s
  ``joint_batch`` mode: that search, batched over utterances sorted by length).

Stage 9 scores them (``dualasr.bin.score --decode ctc_greedy``) into exp/results.{json,md}, so a
reader can see whether each branch learned on its own. One process decodes many models (the
imports cost more than the tiny models' decoding).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List

from dualasr.analysis.layout import add_model_args

if TYPE_CHECKING:
    import torch


MODES = ("ctc_greedy", "att_greedy")


def ctc_best_path(ctc, enc: torch.Tensor) -> List[int]:
    """Token ids of the CTC best path of one utterance's encoder output ``enc`` [T, D] (blank id 0).
    ESPnet's CTC.argmax gives the frame labels; merging repeats and dropping blanks is two lines."""
    frames = ctc.argmax(enc.unsqueeze(0))[0].tolist()
    return [int(k) for k, _ in itertools.groupby(frames) if k != 0]


def greedy_decode(model, args, feats: Dict[str, object], maxlenratio: float = 0.0, minlenratio: float = 0.0,
                  desc: str = "greedy", batch_size: int = 16) -> Dict[str, Dict[str, Dict[str, str]]]:
    """``{mode: {output: {uttid: text}}}`` of ``model`` (its train args ``args``) on ``feats``."""
    import torch
    from tqdm import tqdm

    from dualasr.bin.dual_asr_inference import DualSpeech2Text
    from dualasr.tasks.dual_asr import output_token_types

    bpemodels = {o: getattr(args, f"bpemodel_{o}", None) for o in model.outputs}
    att = DualSpeech2Text(model, token_type=output_token_types(args, model.outputs), bpemodels=bpemodels, beam_size=1,
                          ctc_weight=0.0, maxlenratio=maxlenratio, minlenratio=minlenratio, decode_mode="joint_batch",
                          batch_size=batch_size)
    # (feats' order; "" stays for an utterance too short for the encoder, which encode_each warns about)
    out = {m: {o: {k: "" for k in feats} for o in model.outputs} for m in MODES}
    with torch.no_grad():
        for part in tqdm(att.batches(feats), desc=desc, mininterval=10, file=sys.stderr):
            encoded = att.encode_each([torch.as_tensor(feats[k]) for k in part], keys=part)  # once for both modes
            ok = [(k, e) for k, e in zip(part, encoded) if e is not None]
            for (k, e), hyp in zip(ok, att.decode_encoded([e for _, e in ok])):
                for o in model.outputs:
                    out["ctc_greedy"][o][k] = att.text(o, ctc_best_path(model.ctcs[o], e[o]))
                    out["att_greedy"][o][k] = hyp[o]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", type=Path, action="append", required=True)
    p.add_argument("--data", type=Path, required=True, help="feats.scp of a test set")
    p.add_argument("--inference_config", default=None, help="yaml: maxlenratio, minlenratio (beam and CTC weight ignored)")
    add_model_args(p)
    a = p.parse_args(argv)
    # heavy imports after the arguments: --help answers at once
    import kaldiio
    import numpy as np
    import torch

    from dualasr.analysis.layout import load_model
    from dualasr.bin.dual_asr_inference import load_decode_config
    from dualasr.data.datadir import write_kaldi_map

    torch.set_num_threads(a.num_threads)

    conf = {}
    if a.inference_config:
        conf = load_decode_config(a.inference_config)  # stage 8's reader: unknown keys are errors
    if not a.data.is_file():
        raise SystemExit(f"{a.data}: missing; run the feature stages (3-4) first")
    reader = kaldiio.load_scp(str(a.data))
    feats = {k: np.array(reader[k], dtype=np.float32) for k in reader.keys()}
    test_set = a.data.parent.name
    for d in a.model_dir:
        model, args = load_model(d, a.inference_model)
        hyps = greedy_decode(model, args, feats, float(conf.get("maxlenratio", 0.0)),
                             float(conf.get("minlenratio", 0.0)), desc=f"greedy {d.name} {test_set}")
        for mode, per_output in hyps.items():
            (d / f"decode_{test_set}" / mode).mkdir(parents=True, exist_ok=True)
            for o, h in per_output.items():
                write_kaldi_map(d / f"decode_{test_set}" / mode / f"text.{o}", h.items())
        print(f"{d}/decode_{test_set}: {' '.join(MODES)} of {' '.join(model.outputs)} ({len(feats)} utterances)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
