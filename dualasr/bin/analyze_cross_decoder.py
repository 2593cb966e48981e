"""Cross-task decoder analysis: decoder-state CKA, teacher-forced decoders on every encoder, decoder swaps.

    python -m dualasr.bin.analyze_cross_decoder --expdir exp --dumpdir dump/fbank --lang_set en=test_en \\
        [--max_utts 100] [--subset_seed 0] [--inference_config conf/decode.yaml] [--beam_size N] \\
        [--ctc_weight W] [--outdir exp/analysis/cross_decoder]

On a speaker-balanced subset of ``--max_utts`` utterances of each language's test set (the same for
every model; ``layout.load_subset``), first seed of each model:

- decoder-state CKA: the reference tokens of each output go through the DO and the SO decoder of
  that output teacher-forced; every DO decoder block is compared with every SO decoder block, and
  every decoder block of every model with the last encoder layer pooled through that block's
  cross-attention;
- teacher-forced scores, no decoding: every decoder of an output (the SO model's and the DO model's)
  on every encoder (so_surface, so_meaning, DO; a DO model with branches gives that output's
  branch), fed the reference: token accuracy (%) and cross-entropy (nats per token);
- decoder swap: the SO decoder on the DO encoder and the DO decoder on the SO encoder, next to both
  unswapped models, decoded exactly as stage 8 decodes (``DualSpeech2Text`` with ``--inference_config``
  and the same ``--beam_size``/``--ctc_weight`` overrides). A swapped pair takes the donor's CTC head
  with its decoder: everything after the encoder is the donor's. An unswapped pair is the stage-8
  model itself: its hypotheses are compared with stage 8's (``same_as_stage8``, a warning when they
  differ). A swap whose sizes do not match is skipped with a logged reason.

Writes into ``--outdir``: ``decoder_cka.csv`` (lang, output, model_a, model_b, layer_a, layer_b, cka),
``encoder_pooling.csv`` (lang, model, output, layer, cka), ``teacher_forced.csv`` (lang, output,
encoder, decoder, n_utts, n_tokens, acc, ce), ``swap.csv`` (lang, output, encoder, decoder, metric,
n, errors, ref_len, rate, same_as_stage8, seconds),
``swap_hyps/<lang>_<output>_<encoder>+<decoder>.txt``, ``decoder_cka.png``, ``teacher_forced.png``
and ``swap.png``.
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
import time
from pathlib import Path

import torch
import dualasr.lazy_deps  # noqa: F401,I001  (first: keeps ESPnet's start-up fast and quiet)

from dualasr.analysis.cross_decoder import decoder_problem, decoder_states, encoder_output, reference_ids
from dualasr.analysis.cross_decoder import swap_in, swap_problem, teacher_forced
from dualasr.analysis.encoder import cka_matrix
from dualasr.analysis.layout import SO_MODELS, first_model_dir, load_model, load_subset
from dualasr.analysis.layout import add_common_args, add_model_args, common_lang_sets
from dualasr.data.datadir import read_kaldi_map, write_kaldi_map
from dualasr.files import csv_text, write_atomic
from dualasr.report import figures
from dualasr.scoring import metrics_for, score_set

SWAP_HEADER = ["lang", "output", "encoder", "decoder", "metric", "n", "errors", "ref_len", "rate",
               "same_as_stage8", "seconds"]
TF_HEADER = ["lang", "output", "encoder", "decoder", "n_utts", "n_tokens", "acc", "ce"]
ENCODER_MODELS = ("so_surface", "so_meaning")  # + the DO model


def decode_conf(a) -> dict:
    """The DualSpeech2Text options of stage 8: ``--inference_config`` with the CLI overrides."""
    from dualasr.bin.dual_asr_inference import load_decode_config  # stage 8's reader: unknown keys are errors

    conf = load_decode_config(a.inference_config)
    for k in ("beam_size", "ctc_weight"):
        if getattr(a, k) is not None:
            conf[k] = getattr(a, k)
    return conf


def _decode(models, enc_model, dec_model, output, feats, conf, desc):
    """Hypotheses of ``output`` with the encoder of enc_model and the decoder+CTC of dec_model (None: skip)."""
    from dualasr.bin.dual_asr_inference import DualSpeech2Text
    from dualasr.tasks.dual_asr import output_token_types

    model, args = models[enc_model]
    if dec_model != enc_model:
        donor = models[dec_model][0]
        problem = swap_problem(model, donor, output)
        if problem:
            logging.warning("%s: skip: %s", desc, problem)
            return None
        model = copy.deepcopy(model)
        swap_in(model, donor, output)
    bpemodels = {o: getattr(args, f"bpemodel_{o}", None) for o in model.outputs}
    s2t = DualSpeech2Text(model, token_type=output_token_types(args, model.outputs), bpemodels=bpemodels,
                          outputs=[output], **conf)
    root = logging.getLogger()
    level, _ = root.level, root.setLevel(logging.ERROR)  # ESPnet's beam search logs every hypothesis
    try:
        return {k: h[output] for k, h in s2t.decode_many(feats, desc=desc).items()}
    finally:
        root.setLevel(level)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "feats.scp")
    p.add_argument("--do_model", default="do")
    p.add_argument("--outdir", type=Path, default=None, help="default: <expdir>/analysis/cross_decoder")
    p.add_argument("--max_utts", type=int, default=100)
    p.add_argument("--subset_seed", type=int, default=0, help="seed of the speaker-balanced utterance subset")
    p.add_argument("--max_tokens", type=int, default=4000, help="decoder positions kept per layer for CKA")
    p.add_argument("--batch_frames", type=int, default=500)
    p.add_argument("--inference_config", default=None,
                   help="stage 8's decode yaml (beam_size, ctc_weight, maxlenratio, minlenratio)")
    p.add_argument("--beam_size", type=int, default=None, help="override, as for dualasr.bin.dual_asr_inference")
    p.add_argument("--ctc_weight", type=float, default=None, help="override, as for dualasr.bin.dual_asr_inference")
    p.add_argument("--seed", type=int, default=0)
    add_model_args(p)
    a = p.parse_args(argv)
    torch.set_num_threads(a.num_threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    lang_sets = common_lang_sets(p, a)
    conf = decode_conf(a)
    outdir = a.outdir or a.expdir / "analysis" / "cross_decoder"
    (outdir / "swap_hyps").mkdir(parents=True, exist_ok=True)
    from dualasr.tasks.dual_asr import output_token_types

    dec_rows, pool_rows, swap_rows, tf_rows, series, first_metric = [], [], [], [], {}, {}
    for lang, test_set in lang_sets:
        feats = load_subset(a.dumpdir / test_set / "feats.scp", a.max_utts, a.subset_seed)
        trained = [m for m in (*ENCODER_MODELS, a.do_model) if list(a.expdir.glob(f"{m}_{lang}*/config.yaml"))]
        models = {m: load_model(first_model_dir(a.expdir, m, lang), a.inference_model) for m in trained}
        for o in ("surface", "meaning"):
            so, do = SO_MODELS[o], a.do_model
            if so not in models or do not in models:
                logging.warning("%s %s: skip: need trained %s and %s", lang, o, do, so)
                continue
            refs_all = read_kaldi_map(a.dumpdir / test_set / f"text.{o}")
            refs = {u: refs_all[u] for u in feats}
            ids = {m: reference_ids(models[m][1], o, refs) for m in (do, so)}
            if ids[do] != ids[so]:
                raise SystemExit(f"{lang} {o}: {do} and {so} tokenize the references differently (token lists differ)")
            ids = ids[so]
            metrics = metrics_for(lang, output_token_types(models[so][1])[o], o)  # PER for phone (word) tokens
            first_metric[(lang, o)] = metrics[0]
            # decoder-state CKA
            states = {}
            for m in (do, so):
                states[m] = decoder_states(models[m][0], o, feats, ids, a.max_tokens, a.seed, desc=f"teacher-force {m} {o}")
                for i, (h, e) in enumerate(zip(states[m]["layers"], states[m]["pooled"])):
                    c = float(cka_matrix([h], [e], a.batch_frames, a.seed)[0, 0])
                    pool_rows.append([lang, m, o, str(i + 1), f"{c:.4f}"])
                layers = [str(i + 1) for i in range(len(states[m]["layers"]))]
                series[(lang, f"{m} {o} dec vs enc")] = (layers, [float(r[-1]) for r in pool_rows[-len(layers):]])
            mat = cka_matrix(states[do]["layers"], states[so]["layers"], a.batch_frames, a.seed)
            dec_rows += [[lang, o, do, so, str(i + 1), str(j + 1), f"{mat[i, j]:.4f}"]
                         for i in range(mat.shape[0]) for j in range(mat.shape[1])]
            k = min(mat.shape)
            series[(lang, f"{do} vs {so} dec")] = ([str(i + 1) for i in range(k)], [float(mat[i, i]) for i in range(k)])
            # teacher-forced: every decoder of output o on every encoder
            with torch.no_grad():
                for enc_m in models:
                    encoded = {u: encoder_output(models[enc_m][0], x, o) for u, x in feats.items()}
                    for dec_m in (so, do):
                        problem = decoder_problem(models[enc_m][0], models[dec_m][0], o)
                        if problem:
                            logging.warning("%s %s: skip teacher-forced %s decoder on the %s encoder: %s",
                                            lang, o, dec_m, enc_m, problem)
                            continue
                        dec_model = models[dec_m][0]
                        r = teacher_forced(dec_model.decoders[o], encoded, ids, dec_model.vocab_sizes[o] - 1)
                        tf_rows.append([lang, o, enc_m, dec_m, len(encoded), r["n"], f"{r['acc']:.4f}", f"{r['ce']:.4f}"])
                        print(f"{lang} {o}: teacher-forced {dec_m} decoder on the {enc_m} encoder: "
                              f"accuracy {r['acc']:.2f} %, cross-entropy {r['ce']:.3f}", file=sys.stderr)
            # decoder swap, decoded as stage 8 decodes
            for enc_m, dec_m in ((so, so), (do, do), (do, so), (so, do)):
                desc = f"{lang} {o}: encoder {enc_m} + decoder {dec_m}"
                t0 = time.time()
                hyps = _decode(models, enc_m, dec_m, o, feats, conf, desc)
                if hyps is None:
                    continue
                seconds = time.time() - t0
                same = ""
                if enc_m == dec_m:
                    stage8 = read_kaldi_map(first_model_dir(a.expdir, enc_m, lang) / f"decode_{test_set}" / f"text.{o}")
                    same = sum(stage8.get(u) == h for u, h in hyps.items())
                    if same != len(hyps):
                        logging.warning("%s: %d of %d hypotheses differ from stage 8's (another decode config?)",
                                        desc, len(hyps) - same, len(hyps))
                write_kaldi_map(outdir / "swap_hyps" / f"{lang}_{o}_{enc_m}+{dec_m}.txt", hyps.items())
                for metric in metrics:
                    scores = score_set(refs, hyps, lang, metric, where=desc)
                    e, n = sum(s.errors for s in scores), sum(s.ref_len for s in scores)
                    rate = 100.0 * e / n if n else float("nan")
                    swap_rows.append([lang, o, enc_m, dec_m, metric, len(scores), e, n, f"{rate:.4f}", same,
                                      f"{seconds:.1f}"])
                print(f"{desc}: {swap_rows[-len(metrics)][8]} % {metrics[0]} ({seconds:.1f} s)",
                      file=sys.stderr)
    if not swap_rows and not dec_rows:
        raise SystemExit(f"{a.expdir}: nothing to analyse (need trained {a.do_model}, so_surface, so_meaning)")
    write_atomic(outdir / "decoder_cka.csv",
                 csv_text(["lang", "output", "model_a", "model_b", "layer_a", "layer_b", "cka"], dec_rows))
    write_atomic(outdir / "encoder_pooling.csv", csv_text(["lang", "model", "output", "layer", "cka"], pool_rows))
    write_atomic(outdir / "teacher_forced.csv", csv_text(TF_HEADER, tf_rows))
    write_atomic(outdir / "swap.csv", csv_text(SWAP_HEADER, swap_rows))
    figures.diagonal_lines(outdir / "decoder_cka.png", series,
                           "Decoder CKA (teacher-forced): DO vs SO block i,\nand each block vs the encoder pooled by its cross-attention",
                           ylabel="linear CKA")
    figures.swap_bars(outdir / "teacher_forced.png", [dict(zip(TF_HEADER, r), rate=r[6], metric="token accuracy")
                                                     for r in tf_rows],
                      "Teacher-forced token accuracy (%): orange = decoder on another model's encoder",
                      ylabel="token accuracy (%)")
    first = {}
    for r in swap_rows:  # one metric per language and output in the figure: the first of metrics_for
        if r[4] == first_metric[(r[0], r[1])]:
            first.setdefault((r[0], r[1], r[2], r[3]), dict(zip(SWAP_HEADER, r)))
    figures.swap_bars(outdir / "swap.png", list(first.values()), "Decoder swap: orange = decoder on another model's encoder")
    print(f"{outdir}: decoder_cka.csv, encoder_pooling.csv, teacher_forced.csv, swap.csv, decoder_cka.png, "
          "teacher_forced.png, swap.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
