"""Side-by-side speed ratios of SO and DO, measured in one run on the same data.

    cd egs/mini_l2/asr1 && python -m dualasr.bin.bench --recipe_dir . --lang en [--steps 20] [--decode_utts 40]

Needs a recipe run through the train stage (so_surface, so_meaning and do of ``--lang``); run it from
the recipe dir, since the models' configs name their CMVN stats relative to it. Prints:

(a) DO training time for N steps / (SO-surface + SO-meaning) for the same N steps  (goal <= 0.6)
(b) SO training throughput / ESPnet's own ASRTask model with the identical encoder and decoder (goal >= 0.97),
    and each one's training throughput in audio-seconds per wall-second
(c) DO joint decoding wall time / decoding the same utterances with both SO models  (goal <= 0.6)

Training steps are forward + backward + optimizer step on the same fixed batches for every model,
built with each model's own training config; decoding uses the trained models and the recipe's
decode config. Timings use ``time.perf_counter`` and the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

import kaldiio
import numpy as np
import torch
import yaml
import dualasr.lazy_deps  # noqa: F401,I001  (first: keeps ESPnet's start-up fast and quiet)
from espnet2.tasks.asr import ASRTask
from espnet2.train.collate_fn import CommonCollateFn

from dualasr.bin.dual_asr_inference import DualSpeech2Text
from dualasr.data.datadir import read_kaldi_map
from dualasr.tasks.dual_asr import DualASRTask


def load_batches(dump: Path, preprocess, n_batches: int, batch_size: int) -> List[Dict[str, torch.Tensor]]:
    feats = read_kaldi_map(dump / "feats.scp")
    texts = {o: read_kaldi_map(dump / f"text.{o}") for o in ("surface", "meaning")}
    ids = list(feats)[: n_batches * batch_size]
    n_batches = len(ids) // batch_size
    if n_batches == 0:
        raise SystemExit(f"{dump}: needs at least {batch_size} utterances (--batch_size), has {len(ids)}")
    collate = CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)
    batches = []
    for b in range(n_batches):
        items = []
        for u in ids[b * batch_size : (b + 1) * batch_size]:
            data = {"speech": kaldiio.load_mat(feats[u]).astype(np.float32),
                    "text_surface": texts["surface"][u], "text_meaning": texts["meaning"][u]}
            items.append((u, preprocess(u, data)))
        batches.append(collate(items)[1])
    return batches


def time_training(model, batches, keys, steps: int) -> float:
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    batch0 = {k: batches[0][k] for k in keys}
    loss = model(**batch0)[0]  # warm-up step, not timed
    loss.backward()
    opt.zero_grad()
    t0 = time.perf_counter()
    for i in range(steps):
        batch = {k: batches[i % len(batches)][k] for k in keys}
        loss = model(**batch)[0]
        loss.backward()
        opt.step()
        opt.zero_grad()
    return time.perf_counter() - t0


def build_dual(config: Path):
    """A freshly initialised model (and its args) from a trained model's config.yaml."""
    return DualASRTask.build_model_from_file(config, None, "cpu")


def build_espnet_twin(so_args, output: str):
    """ESPnet's ASRTask model with the encoder, decoder and loss settings of an SO model."""
    ns = ASRTask.get_parser().parse_args(["--output_dir", "/tmp/unused", "--token_list", "/dev/null"])
    for k in ("input_size", "encoder", "encoder_conf", "decoder", "decoder_conf", "normalize", "normalize_conf",
              "specaug", "specaug_conf", "frontend", "frontend_conf", "ctc_conf"):
        setattr(ns, k, getattr(so_args, k))
    ns.token_list = list(getattr(so_args, f"token_list_{output}"))
    mc = dict(so_args.model_conf)
    ns.model_conf = {"ctc_weight": mc.get("ctc_weight", 0.3), "lsm_weight": mc.get("lsm_weight", 0.1)}
    return ASRTask.build_model(ns)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipe_dir", type=Path, required=True)
    p.add_argument("--lang", default="en")
    p.add_argument("--test_set", default=None, help="default: test_<lang>, else test")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--decode_utts", type=int, default=40)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: as set by OMP_NUM_THREADS)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    exp, dump = a.recipe_dir / "exp", a.recipe_dir / "dump" / "fbank"
    dirs = {m: exp / f"{m}_{a.lang}" for m in ("so_surface", "so_meaning", "do")}
    for m, d in dirs.items():
        if not (d / "config.yaml").is_file():
            raise SystemExit(f"{d}/config.yaml: missing; train {m} for {a.lang} first (run.sh --stop_stage 7)")
    test = a.test_set or (f"test_{a.lang}" if (dump / f"test_{a.lang}").is_dir() else "test")

    torch.manual_seed(0)
    models, margs = {}, {}
    for m, d in dirs.items():
        models[m], margs[m] = build_dual(d / "config.yaml")
    preprocess = DualASRTask.build_preprocess_fn(margs["do"], train=True)
    batches = load_batches(dump / f"train_{a.lang}" if (dump / f"train_{a.lang}").is_dir() else dump / "train",
                           preprocess, n_batches=4, batch_size=a.batch_size)
    espnet = build_espnet_twin(margs["so_surface"], "surface")

    keys = {"so_surface": ["speech", "speech_lengths", "text_surface", "text_surface_lengths"],
            "so_meaning": ["speech", "speech_lengths", "text_meaning", "text_meaning_lengths"],
            "do": ["speech", "speech_lengths", "text_surface", "text_surface_lengths",
                   "text_meaning", "text_meaning_lengths"]}
    espnet_keys = ["speech", "speech_lengths", "text", "text_lengths"]
    esp_batches = [{"speech": b["speech"], "speech_lengths": b["speech_lengths"], "text": b["text_surface"],
                    "text_lengths": b["text_surface_lengths"]} for b in batches]
    times: Dict[str, List[float]] = {k: [] for k in ("so_surface", "so_meaning", "do", "espnet")}
    for r in range(a.repeats):  # interleaved, so that machine noise hits every model alike
        for m in ("so_surface", "so_meaning", "do"):
            times[m].append(time_training(models[m], batches, keys[m], a.steps))
        times["espnet"].append(time_training(espnet, esp_batches, espnet_keys, a.steps))
        print(f"repeat {r + 1}/{a.repeats}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()),
              file=sys.stderr)
    med = {k: statistics.median(v) for k, v in times.items()}
    # audio in the timed steps: fbank frames (10 ms hop, dualasr.bin.make_fbank) of the batches stepped through
    audio_s = sum(int(batches[i % len(batches)]["speech_lengths"].sum()) for i in range(a.steps)) * 0.010
    ratio_a = med["do"] / (med["so_surface"] + med["so_meaning"])
    ratio_b = med["espnet"] / med["so_surface"]  # throughput ratio = inverse time ratio

    feats = read_kaldi_map(dump / test / "feats.scp")
    utts = [torch.from_numpy(kaldiio.load_mat(feats[u]).astype(np.float32)) for u in list(feats)[: a.decode_utts]]
    dconf_path = next((c for c in (a.recipe_dir / "conf/decode.yaml", Path(__file__).parents[2] / "conf/decode.yaml")
                       if c.is_file()), None)
    dconf = yaml.safe_load(open(dconf_path, encoding="utf-8")) if dconf_path else {}
    dec = {m: DualSpeech2Text.from_files(str(d / "config.yaml"), str(d / "valid.acc.ave.pth"), **dconf)
           for m, d in dirs.items()}
    dtimes: Dict[str, List[float]] = {"do": [], "so": []}
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for x in utts:
            dec["do"](x)
        dtimes["do"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for x in utts:
            dec["so_surface"](x)
            dec["so_meaning"](x)
        dtimes["so"].append(time.perf_counter() - t0)
    ratio_c = statistics.median(dtimes["do"]) / statistics.median(dtimes["so"])

    print(f"bench: lang {a.lang}, {a.steps} training steps of batch {a.batch_size} from the train set, "
          f"{len(utts)} utterances decoded, median of {a.repeats}, {torch.get_num_threads()} threads")
    print(f"(a) DO train time / (SO-surface + SO-meaning): {ratio_a:.3f}   (goal <= 0.6; "
          f"DO {med['do']:.2f}s, SO {med['so_surface']:.2f}s + {med['so_meaning']:.2f}s)")
    print(f"(b) SO throughput / ESPnet ASRTask model:      {ratio_b:.3f}   (goal >= 0.97; "
          f"SO {med['so_surface']:.2f}s, ESPnet {med['espnet']:.2f}s)")
    print(f"    training throughput, audio-s per wall-s:    SO {audio_s / med['so_surface']:.1f}, "
          f"ESPnet {audio_s / med['espnet']:.1f}, DO {audio_s / med['do']:.1f}   ({audio_s:.1f} s of audio)")
    print(f"(c) DO joint decode / both SO decodes:         {ratio_c:.3f}   (goal <= 0.6; "
          f"DO {statistics.median(dtimes['do']):.2f}s, SO {statistics.median(dtimes['so']):.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
