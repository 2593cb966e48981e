"""Side-by-side speed ratios of SO and DO, measured in one run on the same data.

    cd egs/mini_l2/asr1 && python -m dualasr.bin.bench --recipe_dir . --lang en [--steps 20] [--decode_utts 40] \\
        [--decode_modes beam_search joint_batch ctc_rescore] [--no_train]

Needs a recipe run through the train stage (so_surface, so_meaning and do of ``--lang``); run it from
the recipe dir, since the models' configs name their CMVN stats relative to it. Prints:

(a) DO training time for N steps / (SO-surface + SO-meaning) for the same N steps  (goal <= 0.6)
(b) SO training throughput / ESPnet's own ASRTask model with the identical encoder and decoder (goal >= 0.97),
    and each one's training throughput in audio-seconds per wall-second
(c) DO joint decoding wall time / decoding the same utterances with both SO models  (goal <= 0.55),
    per decode mode (``--decode_modes``; the same mode, beam and batch on both sides), with the
    real-time factor of the DO joint decode (goal <= 0.03) and the CER of each output of every model
    (each fast mode's within 0.2 points of beam_search's), side by side; and the share of encoding in
    the SO decodes, which bounds (c): a DO model that shares only its encoder decodes at
    1 - share / 2 of both SO models' time, so (c) <= 0.55 needs the encoder to be 90 % of a decode,
    or the outputs' searches to share most of their work

(a) and (b) compare each model's fastest of ``--repeats`` timings (the models of a repeat run back to
back, every other repeat in reverse order; load from other processes only adds time, and on these
shared 2 cores it can make one repeat several times slower), printed with the range of the per-repeat
ratios, so one run shows how noisy it was.

On a GPU (``--ngpu 1``; ``make bench-gpu``) the training part builds the models of ``--train_config``
(e.g. conf/train_paper.yaml: its encoder, decoders, SpecAugment and CTC weight, with the trained models'
token lists and CMVN stats), batches the train set with ESPnet's ``NumElementsBatchSampler`` and the
config's ``batch_bins``, and times every model in fp32 and under bf16 autocast (ESPnet's ``--use_amp`` on
a card with bf16), with AdamW and the config's gradient clipping. It prints (a) and (b) per precision, each
model's training throughput in audio-seconds per second (goal: SO >= 3,000 on one H100/H200), bf16 / fp32
(goal >= 1.5) and the peak GPU memory. Decoding then runs on the GPU too (use ``--decode_modes
joint_batch ctc_rescore`` and a large ``--decode_batch_size``; goal: DO RTF <= 0.01).

Training steps are forward + backward + optimizer step on the same fixed batches for every model,
built with each model's own training config; decoding uses the trained models and the recipe's
decode config (its decode_mode replaced by each of ``--decode_modes``). The RTF is decoding seconds
per second of audio (100 feature frames a second). Timings use ``time.perf_counter``; decoding times
are the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import kaldiio
import numpy as np
import torch
import yaml
import dualasr.lazy_deps  # noqa: F401,I001  (first: keeps ESPnet's start-up fast and quiet)
from espnet2.tasks.asr import ASRTask
from espnet2.samplers.num_elements_batch_sampler import NumElementsBatchSampler
from espnet2.train.collate_fn import CommonCollateFn

from dualasr.bin.dual_asr_inference import BATCHED_MODES, DECODE_MODES, DualSpeech2Text, load_decode_config
from dualasr.data.datadir import read_kaldi_map
from dualasr.scoring import error_rate, score_set
from dualasr.tasks.dual_asr import DualASRTask


def load_batches(dump: Path, preprocess, n_batches: int, batch_size: int) -> List[Dict[str, torch.Tensor]]:
    ids = list(read_kaldi_map(dump / "feats.scp"))[: n_batches * batch_size]
    n_batches = len(ids) // batch_size
    if n_batches == 0:
        raise SystemExit(f"{dump}: needs at least {batch_size} utterances (--batch_size), has {len(ids)}")
    return collate_batches(dump, preprocess, [ids[b * batch_size : (b + 1) * batch_size] for b in range(n_batches)])


def collate_batches(dump: Path, preprocess, id_lists: Sequence[Sequence[str]]) -> List[Dict[str, torch.Tensor]]:
    """Each list of utterance ids of ``dump`` as one padded batch, made as ESPnet's trainer makes it."""
    feats = read_kaldi_map(dump / "feats.scp")
    texts = {o: read_kaldi_map(dump / f"text.{o}") for o in ("surface", "meaning")}
    collate = CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)
    batches = []
    for ids in id_lists:
        items = []
        for u in ids:
            data = {"speech": kaldiio.load_mat(feats[u]).astype(np.float32),
                    "text_surface": texts["surface"][u], "text_meaning": texts["meaning"][u]}
            items.append((u, preprocess(u, data)))
        batches.append(collate(items)[1])
    return batches


def bucketed_ids(dump: Path, shape_dir: Path, batch_bins: int, n_batches: int) -> List[List[str]]:
    """``n_batches`` of the batches ESPnet's trainer makes of ``dump`` with ``batch_type: numel`` and
    ``batch_bins`` (length-sorted buckets), picked evenly from the shortest to the longest utterances."""
    keep = set(read_kaldi_map(dump / "feats.scp"))
    with tempfile.TemporaryDirectory() as tmp:
        shape_files = []
        for name in ("speech_shape", "text_surface_shape", "text_meaning_shape"):
            src = shape_dir / name
            if not src.is_file():
                raise SystemExit(f"{src}: missing; run the recipe's stage 6 (collect stats) first")
            lines = [ln for ln in src.read_text(encoding="utf-8").splitlines() if ln.split(maxsplit=1)[0] in keep]
            if not lines:
                raise SystemExit(f"{src}: names none of the utterances of {dump / 'feats.scp'}")
            (Path(tmp) / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
            shape_files.append(str(Path(tmp) / name))
        # drop_last: whole batches only (the trainer keeps the last, smaller one; it would skew a timing)
        batches = [list(b) for b in NumElementsBatchSampler(batch_bins, shape_files, sort_batch="ascending",
                                                            drop_last=True)]
    if len(batches) <= n_batches:
        return batches
    return [batches[round(i * (len(batches) - 1) / max(n_batches - 1, 1))] for i in range(n_batches)]


# training timings: each repeat runs the models in this order (every other repeat in reverse)
TRAIN_ORDER = ("so_surface", "espnet", "so_meaning", "do")


def spread(ratios: List[float]) -> str:
    """The range of per-repeat ratios, so that one run shows how far noise moves its median."""
    return f"repeats {min(ratios):.3f}-{max(ratios):.3f}" if len(ratios) > 1 else "1 repeat"


def time_training(model, batches, keys, steps: int, amp: Optional[torch.dtype] = None,
                  grad_clip: float = 0.0, optim: str = "adam", optim_conf: Optional[dict] = None) -> float:
    """Seconds for ``steps`` training steps (forward, backward, optimizer step) after one untimed step;
    ``amp``: autocast dtype (forward under autocast, backward outside it, as ESPnet's trainer does)."""
    model.train()
    device = next(model.parameters()).device
    # the training config's optimizer and its settings (e.g. fused: true), as ESPnet's trainer builds it
    opt = (torch.optim.AdamW if optim == "adamw" else torch.optim.Adam)(model.parameters(), **(optim_conf or {"lr": 1e-4}))
    autocast = (lambda: torch.autocast(device.type, dtype=amp)) if amp is not None else contextlib.nullcontext

    def step(i: int) -> None:
        batch = {k: batches[i % len(batches)][k] for k in keys}
        with autocast():
            loss = model(**batch)[0]
        loss.backward()
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)

    step(0)  # warm-up step, not timed (first calls allocate, and build the optimizer's state)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    sync()
    return time.perf_counter() - t0


# the keys of a training config that make a model's architecture (``--train_config``)
ARCH_KEYS = ("frontend", "frontend_conf", "specaug", "specaug_conf", "preencoder", "preencoder_conf", "encoder",
             "encoder_conf", "decoder", "decoder_conf", "ctc_conf")


def build_dual(config: Path, arch: Optional[dict] = None, device: str = "cpu"):
    """A freshly initialised model (and its args) from a trained model's config.yaml; with ``arch`` (a
    training config), that config's architecture, CTC weight and label smoothing in place of its own."""
    if arch is None:
        return DualASRTask.build_model_from_file(config, None, device)
    with open(config, encoding="utf-8") as f:
        conf = yaml.safe_load(f)
    conf.update({k: arch[k] for k in ARCH_KEYS if k in arch})
    conf["model_conf"] = {**conf.get("model_conf", {}),
                          **{k: v for k, v in arch.get("model_conf", {}).items() if k in ("ctc_weight", "lsm_weight")}}
    args = argparse.Namespace(**conf)  # as build_model_from_file reads a config.yaml
    return DualASRTask.build_model(args).to(device), args


def build_espnet_twin(so_args, output: str):
    """ESPnet's ASRTask model with the encoder, decoder and loss settings of an SO model."""
    ns = ASRTask.get_parser().parse_args(["--output_dir", "/tmp/unused", "--token_list", "/dev/null"])
    for k in ("input_size", "encoder", "encoder_conf", "decoder", "decoder_conf", "normalize", "normalize_conf",
              "specaug", "specaug_conf", "frontend", "frontend_conf", "ctc_conf", "preencoder", "preencoder_conf"):
        # a config.yaml written before the pre-encoder option lacks its keys: ESPnet's defaults then
        setattr(ns, k, getattr(so_args, k, getattr(ns, k)))
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
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--decode_utts", type=int, default=0, help="test utterances to decode (default 0: all)")
    p.add_argument("--decode_modes", nargs="+", default=list(DECODE_MODES), choices=DECODE_MODES)
    p.add_argument("--inference_config", type=Path, default=None,
                   help="default: the recipe's conf/decode.yaml, else the shared one")
    p.add_argument("--no_train", action="store_true", help="skip (a) and (b)")
    p.add_argument("--no_decode", action="store_true", help="skip (c)")
    p.add_argument("--decode_batch_size", type=int, default=None,
                   help="utterances per joint_batch / ctc_rescore batch (default: the decode config's batch_size)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: as set by OMP_NUM_THREADS)")
    p.add_argument("--ngpu", type=int, default=0, choices=(0, 1), help="1: train and decode on the GPU (see above)")
    p.add_argument("--train_config", type=Path, default=None,
                   help="time models of this training config's architecture (e.g. conf/train_paper.yaml) "
                        "in place of the trained models' own")
    p.add_argument("--batch_bins", type=int, default=None,
                   help="batch as the trainer does, by feature numbers per batch (default on a GPU: the "
                        "--train_config's batch_bins; on the CPU: --batch_size utterances)")
    p.add_argument("--train_batches", type=int, default=3,
                   help="with batch_bins: the distinct batches the steps cycle through")
    p.add_argument("--bf16", choices=("auto", "yes", "no"), default="auto",
                   help="also time training under bf16 autocast (auto: on a GPU)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    exp, dump = a.recipe_dir / "exp", a.recipe_dir / "dump" / "fbank"
    dirs = {m: exp / f"{m}_{a.lang}" for m in ("so_surface", "so_meaning", "do")}
    for m, d in dirs.items():
        if not (d / "config.yaml").is_file():
            raise SystemExit(f"{d}/config.yaml: missing; train {m} for {a.lang} first (run.sh --stop_stage 7)")
    test = a.test_set or (f"test_{a.lang}" if (dump / f"test_{a.lang}").is_dir() else "test")

    device = "cuda" if a.ngpu > 0 else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--ngpu 1: torch sees no GPU here (torch.cuda.is_available() is False)")
    where = (f"GPU {torch.cuda.get_device_name(0)}" if device == "cuda" else f"{torch.get_num_threads()} threads")
    bench_line = f"bench: lang {a.lang}, {where}, {a.repeats} repeats (training: the fastest, decoding: the median)"
    lines = []
    if not a.no_train:
        train_dump = dump / f"train_{a.lang}" if (dump / f"train_{a.lang}").is_dir() else dump / "train"
        tconf = None
        if a.train_config:
            with open(a.train_config, encoding="utf-8") as f:
                tconf = yaml.safe_load(f)
        torch.manual_seed(0)
        models, margs = {}, {}
        for m, d in dirs.items():
            models[m], margs[m] = build_dual(d / "config.yaml", tconf, device)
        preprocess = DualASRTask.build_preprocess_fn(margs["do"], train=True)
        # on a GPU, or with --batch_bins: as the trainer batches, length-sorted buckets of batch_bins numbers
        bins = a.batch_bins or (int((tconf or vars(margs["do"])).get("batch_bins") or 0) if device == "cuda" else 0)
        if device == "cuda" and not bins:
            raise SystemExit("--ngpu 1: give --batch_bins, or a --train_config with batch_bins")
        if bins:
            shape_dir = a.recipe_dir / "exp" / f"stats_{a.lang}" / "train"
            batches = collate_batches(train_dump, preprocess, bucketed_ids(train_dump, shape_dir, bins, a.train_batches))
            bench_line += f", {a.steps} training steps over {len(batches)} batches of batch_bins {bins}"
        else:
            batches = load_batches(train_dump, preprocess, n_batches=4, batch_size=a.batch_size)
            bench_line += f", {a.steps} training steps of batch {a.batch_size} from the train set"
        batches = [{k: v.to(device) for k, v in b.items()} for b in batches]
        espnet = build_espnet_twin(margs["so_surface"], "surface").to(device)
        params = {m: sum(p.numel() for p in models[m].parameters()) / 1e6 for m in models}
        bench_line += (f"; models {a.train_config or 'as trained'} (SO {params['so_surface']:.1f} M, "
                       f"DO {params['do']:.1f} M parameters)")

        keys = {"so_surface": ["speech", "speech_lengths", "text_surface", "text_surface_lengths"],
                "so_meaning": ["speech", "speech_lengths", "text_meaning", "text_meaning_lengths"],
                "do": ["speech", "speech_lengths", "text_surface", "text_surface_lengths",
                       "text_meaning", "text_meaning_lengths"]}
        espnet_keys = ["speech", "speech_lengths", "text", "text_lengths"]
        esp_batches = [{"speech": b["speech"], "speech_lengths": b["speech_lengths"], "text": b["text_surface"],
                        "text_lengths": b["text_surface_lengths"]} for b in batches]
        runs = {"so_surface": (models["so_surface"], batches, keys["so_surface"]),
                "so_meaning": (models["so_meaning"], batches, keys["so_meaning"]),
                "do": (models["do"], batches, keys["do"]), "espnet": (espnet, esp_batches, espnet_keys)}
        # audio in the timed steps: fbank frames (10 ms hop, dualasr.bin.make_fbank) of the batches stepped through
        train_audio_s = sum(int(batches[i % len(batches)]["speech_lengths"].sum()) for i in range(a.steps)) * 0.010
        # the precisions: fp32, and on a GPU bf16 autocast (what ESPnet's --use_amp picks on a bf16 card)
        precisions = {"fp32": None}
        if a.bf16 == "yes" or (a.bf16 == "auto" and device == "cuda"):
            precisions["bf16"] = torch.bfloat16
        tc = tconf or {}
        grad_clip, optim, optim_conf = float(tc.get("grad_clip", 0.0)), tc.get("optim", "adam"), tc.get("optim_conf")
        through: Dict[str, Dict[str, float]] = {}
        for prec, amp in precisions.items():
            times: Dict[str, List[float]] = {k: [] for k in TRAIN_ORDER}
            peak: Dict[str, float] = {}
            for r in range(a.repeats):
                # interleaved, every other repeat in reverse order, so that machine load (these 2 cores are
                # shared) and its drift hit every model alike; so_surface and ESPnet's model run side by side
                for m in TRAIN_ORDER if r % 2 == 0 else TRAIN_ORDER[::-1]:
                    if device == "cuda":
                        torch.cuda.reset_peak_memory_stats()
                    try:
                        times[m].append(time_training(*runs[m], a.steps, amp=amp, grad_clip=grad_clip, optim=optim,
                                                      optim_conf=optim_conf))
                    except torch.cuda.OutOfMemoryError:
                        raise SystemExit(f"{m} ({prec}): out of GPU memory with batch_bins {bins}; give a smaller "
                                         f"--batch_bins (peak so far {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB)")
                    if device == "cuda":
                        peak[m] = max(peak.get(m, 0.0), torch.cuda.max_memory_allocated() / 2**30)
                print(f"[{prec}] repeat {r + 1}/{a.repeats}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()),
                      file=sys.stderr, flush=True)
            # the fastest repeat of each model: other processes on these cores only ever add time (a starved
            # thread stalls the other at every operation: a repeat can take 10x as long), so the minimum is
            # the estimate of a model's own speed; the range of per-repeat ratios shows how noisy the run was
            best = {k: min(v) for k, v in times.items()}
            ratios_a = [d / (s + m) for d, s, m in zip(times["do"], times["so_surface"], times["so_meaning"])]
            ratios_b = [e / s for e, s in zip(times["espnet"], times["so_surface"])]  # throughput = inverse time
            ratio_a = best["do"] / (best["so_surface"] + best["so_meaning"])
            ratio_b = best["espnet"] / best["so_surface"]
            tag = f"[{prec}] " if len(precisions) > 1 else ""
            goal_a = "0.55" if device == "cuda" else "0.6"
            lines.append(f"(a) {tag}DO train time / (SO-surface + SO-meaning): {ratio_a:.3f}   (goal <= {goal_a}; "
                         f"{spread(ratios_a)}; fastest DO {best['do']:.2f}s, SO {best['so_surface']:.2f}s + "
                         f"{best['so_meaning']:.2f}s)")
            lines.append(f"(b) {tag}SO throughput / ESPnet ASRTask model:      {ratio_b:.3f}   (goal >= 0.97; "
                         f"{spread(ratios_b)}; fastest SO {best['so_surface']:.2f}s, ESPnet {best['espnet']:.2f}s)")
            through[prec] = {k: train_audio_s / v for k, v in best.items()}
            t = through[prec]
            goal_so = "   (goal: SO >= 3000 on one H100/H200)" if device == "cuda" else ""
            lines.append(f"    {tag}training throughput, audio-s per wall-s: SO {t['so_surface']:.1f} (meaning "
                         f"{t['so_meaning']:.1f}), ESPnet {t['espnet']:.1f}, DO {t['do']:.1f}   "
                         f"({train_audio_s:.1f} s of audio){goal_so}")
            if peak:
                lines.append(f"    {tag}peak GPU memory, GiB: " + ", ".join(f"{k} {v:.1f}" for k, v in peak.items()))
        if "bf16" in through:
            lines.append("    bf16 / fp32 training throughput: " + ", ".join(
                f"{k} {through['bf16'][k] / through['fp32'][k]:.2f}" for k in TRAIN_ORDER) + "   (goal >= 1.5)")
        del models, runs, espnet, batches, esp_batches
        if device == "cuda":
            torch.cuda.empty_cache()

    if a.no_decode:
        print(bench_line)
        print("\n".join(lines))
        return 0
    feats = read_kaldi_map(dump / test / "feats.scp")
    ids = list(feats)[: a.decode_utts] if a.decode_utts > 0 else list(feats)
    utts = [torch.from_numpy(kaldiio.load_mat(feats[u]).astype(np.float32)) for u in ids]
    audio_s = sum(x.shape[0] for x in utts) / 100.0
    refs = {o: {u: t for u, t in read_kaldi_map(dump / test / f"text.{o}").items() if u in set(ids)}
            for o in ("surface", "meaning")}
    dconf_path = a.inference_config or next(
        (c for c in (a.recipe_dir / "conf/decode.yaml", Path(__file__).parents[2] / "conf/decode.yaml") if c.is_file()),
        None)
    dconf = load_decode_config(str(dconf_path) if dconf_path else None)
    if a.decode_batch_size:
        dconf["batch_size"] = a.decode_batch_size
    batch_size = int(dconf.get("batch_size", 16))
    bench_line += (f"; {len(utts)} test utterances ({audio_s:.0f} s) decoded, beam {dconf.get('beam_size', 4)}, "
                   f"joint_batch and ctc_rescore batches of {batch_size}")
    order = sorted(range(len(utts)), key=lambda i: -utts[i].shape[0])  # the warm-up's batch: the longest

    def decode(s2t) -> List[Dict[str, str]]:
        return list(s2t.decode_many(dict(zip(ids, utts))).values())

    def cer(hyps: List[Dict[str, str]], o: str) -> float:
        return error_rate(score_set(refs[o], {u: h[o] for u, h in zip(ids, hyps)}, a.lang, "cer"))

    results = {}
    for mode in a.decode_modes:
        conf = {**dconf, "decode_mode": mode}
        dec = {m: DualSpeech2Text.from_files(str(d / "config.yaml"), str(d / "valid.acc.ave.pth"), device=device,
                                             **conf)
               for m, d in dirs.items()}
        for s2t in dec.values():  # warm-up, not timed (first calls allocate)
            s2t.decode_batch([utts[j] for j in order[:batch_size]] if mode in BATCHED_MODES else [utts[order[-1]]])
        dtimes: Dict[str, List[float]] = {"do": [], "so": []}
        hyps: Dict[str, List[Dict[str, str]]] = {}
        for _ in range(a.repeats):  # interleaved, so that machine noise hits both alike
            t0 = time.perf_counter()
            hyps["do"] = decode(dec["do"])
            dtimes["do"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hyps["so_surface"] = decode(dec["so_surface"])
            hyps["so_meaning"] = decode(dec["so_meaning"])
            dtimes["so"].append(time.perf_counter() - t0)
        do_s, so_s = statistics.median(dtimes["do"]), statistics.median(dtimes["so"])
        results[mode] = {"do_s": do_s, "so_s": so_s, "cer": {
            "do": (cer(hyps["do"], "surface"), cer(hyps["do"], "meaning")),
            "so": (cer(hyps["so_surface"], "surface"), cer(hyps["so_meaning"], "meaning"))}}

    # What a DO model shares with the SO models is the encoder (and, in the batched modes, the search's
    # per-step overhead): a DO model that shared only the encoder would take both SO decodes' time minus
    # one encoding, so (c) = 1 - (both SO encodings / both SO decodes) / 2. Each utterance is encoded
    # alone, as every decode mode encodes it.
    def encode_all(s2t) -> None:
        with torch.no_grad():
            for x in utts:
                s2t.model.encode(x[None].to(device), torch.tensor([x.shape[0]], device=device))
        if device == "cuda":
            torch.cuda.synchronize()

    enc_times = []
    for _ in range(a.repeats if results else 0):
        t0 = time.perf_counter()
        encode_all(dec["so_surface"])
        encode_all(dec["so_meaning"])
        enc_times.append(time.perf_counter() - t0)
    enc_s = statistics.median(enc_times) if enc_times else None

    print(bench_line)
    for line in lines:
        print(line)
    for mode, r in results.items():
        print(f"(c) [{mode:11s}] DO joint decode / both SO decodes: {r['do_s'] / r['so_s']:.3f}   (goal <= 0.55; "
              f"DO {r['do_s']:.2f}s, SO {r['so_s']:.2f}s)   DO RTF {r['do_s'] / audio_s:.4f} (goal <= 0.03), "
              f"SO RTF {r['so_s'] / audio_s:.4f}" + ("   (goal on one GPU: DO RTF <= 0.01)" if device == "cuda" else ""))
    for mode, r in results.items():
        share = enc_s / r["so_s"]
        print(f"    [{mode:11s}] encoding is {share:.2f} of both SO decodes ({enc_s:.2f}s of {r['so_s']:.2f}s): a DO model "
              f"sharing only its encoder would give (c) = 1 - {share:.2f} / 2 = {1 - share / 2:.3f}")
    for mode, r in results.items():
        (ds, dm), (ss, sm) = r["cer"]["do"], r["cer"]["so"]
        print(f"    [{mode:11s}] CER surface / meaning: DO {ds:.2f} / {dm:.2f}   SO {ss:.2f} / {sm:.2f}")
    if len(results) > 1 and "beam_search" in results:
        ref = results["beam_search"]
        for mode, r in results.items():
            if mode == "beam_search":
                continue
            d = [r["cer"][k][i] - ref["cer"][k][i] for k in ("do", "so") for i in (0, 1)]
            print(f"    [{mode:11s}] vs beam_search: DO decode time {r['do_s'] / ref['do_s']:.3f}x, "
                  f"DO {r['do_s'] / ref['so_s']:.3f}x of both SO beam searches; CER change DO {d[0]:+.2f} / "
                  f"{d[1]:+.2f}, SO {d[2]:+.2f} / {d[3]:+.2f} (goal within 0.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
