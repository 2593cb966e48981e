"""Cross-task decoder analysis: decoder-state CKA (DO vs SO, decoder vs encoder) and decoder swaps.

    python -m dualasr.bin.analyze_cross_decoder --expdir exp --dumpdir dump/fbank --lang_set en=test_en \\
        [--max_utts 100] [--beam_size 1] [--ctc_weight 0.0] [--outdir exp/analysis/cross_decoder]

On the first ``--max_utts`` utterances of each language's test set (first seed of each model):
- decoder-state CKA: the reference tokens of each output go through the DO and the SO decoder of
  that output teacher-forced; every DO decoder block is compared with every SO decoder block, and
  every decoder block of every model with the last encoder layer pooled through that block's
  cross-attention;
- decoder swap: the SO decoder (and its CTC) on the DO encoder, and the DO decoder on the SO
  encoder, next to both unswapped models, decoded with DualSpeech2Text's beam search. A swap whose
  sizes do not match is skipped with a logged reason.

Writes into ``--outdir``: ``decoder_cka.csv`` (lang, output, model_a, model_b, layer_a, layer_b, cka),
``encoder_pooling.csv`` (lang, model, output, layer, cka), ``swap.csv`` (lang, output, encoder,
decoder, metric, n, errors, ref_len, rate), ``swap_hyps/<lang>_<output>_<encoder>+<decoder>.txt``,
``decoder_cka.png`` and ``swap.png``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch
import dualasr.lazy_deps  # noqa: F401,I001  (first: keeps ESPnet's start-up fast and quiet)
from espnet2.text.build_tokenizer import build_tokenizer
from espnet2.text.token_id_converter import TokenIDConverter
from tqdm import tqdm

from dualasr.analysis.cross_decoder import decoder_states, swap_in, swap_problem, text_to_ids
from dualasr.analysis.encoder import cka_matrix
from dualasr.analysis.layout import SO_MODELS, first_model_dir, load_model, load_subset
from dualasr.analysis.layout import add_common_args, common_lang_sets
from dualasr.data.datadir import read_kaldi_map, write_kaldi_map
from dualasr.files import csv_text, write_atomic
from dualasr.report import figures
from dualasr.scoring import metrics_for, score_set

SWAP_HEADER = ["lang", "output", "encoder", "decoder", "metric", "n", "errors", "ref_len", "rate"]



def _decode(expdir, enc_model, dec_model, lang, output, feats, a):
    """Hypotheses of ``output`` with the encoder of enc_model and the decoder+CTC of dec_model (None: skip)."""
    from dualasr.bin.dual_asr_inference import DualSpeech2Text

    model, args = load_model(first_model_dir(expdir, enc_model, lang), a.inference_model)
    if dec_model != enc_model:
        donor, _ = load_model(first_model_dir(expdir, dec_model, lang), a.inference_model)
        problem = swap_problem(model, donor, output)
        if problem:
            logging.warning("%s %s: skip %s decoder on the %s encoder: %s", lang, output, dec_model, enc_model, problem)
            return None
        swap_in(model, donor, output)
    bpemodels = {o: getattr(args, f"bpemodel_{o}", None) for o in model.outputs}
    s2t = DualSpeech2Text(model, token_type=args.token_type, bpemodels=bpemodels, beam_size=a.beam_size,
                          ctc_weight=a.ctc_weight, outputs=[output])
    hyps = {}
    root = logging.getLogger()
    level, _ = root.level, root.setLevel(logging.ERROR)  # the beam search warns on every max-length hypothesis
    for uttid, x in tqdm(feats.items(), desc=f"decode {lang} {output} enc {enc_model} dec {dec_model}",
                         mininterval=5, file=sys.stderr):
        hyps[uttid] = s2t(torch.as_tensor(x))[output]
    root.setLevel(level)
    return hyps


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "feats.scp")
    p.add_argument("--do_model", default="do")
    p.add_argument("--outdir", type=Path, default=None, help="default: <expdir>/analysis/cross_decoder")
    p.add_argument("--max_utts", type=int, default=100)
    p.add_argument("--max_tokens", type=int, default=4000, help="decoder positions kept per layer for CKA")
    p.add_argument("--batch_frames", type=int, default=500)
    p.add_argument("--beam_size", type=int, default=1)
    p.add_argument("--ctc_weight", type=float, default=0.0,
                   help="0 (default): greedy attention decoding, the decoder alone on the foreign encoder. "
                        "Joint CTC decoding of a mismatched pair can run to the maximum length on every "
                        "utterance, and with beam 1 ESPnet's CTC prefix scoring degenerates")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--inference_model", default="valid.acc.ave.pth")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    lang_sets = common_lang_sets(p, a)
    outdir = a.outdir or a.expdir / "analysis" / "cross_decoder"
    (outdir / "swap_hyps").mkdir(parents=True, exist_ok=True)
    dec_rows, pool_rows, swap_rows, series = [], [], [], {}
    for lang, test_set in lang_sets:
        feats = load_subset(a.dumpdir / test_set / "feats.scp", a.max_utts)
        for o in ("surface", "meaning"):
            so, do = SO_MODELS[o], a.do_model
            have = [m for m in (do, so) if list(a.expdir.glob(f"{m}_{lang}*/config.yaml"))]
            if len(have) < 2:
                logging.warning("%s %s: skip: need trained %s and %s", lang, o, do, so)
                continue
            refs_all = read_kaldi_map(a.dumpdir / test_set / f"text.{o}")
            refs = {u: refs_all[u] for u in feats}
            states = {}
            for m in (do, so):
                model, args = load_model(first_model_dir(a.expdir, m, lang), a.inference_model)
                tok = build_tokenizer(token_type=args.token_type, bpemodel=getattr(args, f"bpemodel_{o}", None))
                conv = TokenIDConverter(token_list=model.token_lists[o])
                ids = {u: text_to_ids(t, tok, conv) for u, t in refs.items()}
                states[m] = decoder_states(model, o, feats, ids, a.max_tokens, a.seed, desc=f"teacher-force {m} {o}")
                for i, (h, e) in enumerate(zip(states[m]["layers"], states[m]["pooled"])):
                    c = float(cka_matrix([h], [e], a.batch_frames, a.seed)[0, 0])
                    pool_rows.append([lang, m, o, str(i + 1), f"{c:.4f}"])
                layers = [str(i + 1) for i in range(len(states[m]["layers"]))]
                series[(lang, f"{m} {o} dec vs enc")] = (layers, [float(r[-1]) for r in pool_rows[-len(layers):]])
            if states[do]["tokens"] != states[so]["tokens"]:
                logging.warning("%s %s: skip DO vs SO decoder CKA: the token sequences differ", lang, o)
            else:
                mat = cka_matrix(states[do]["layers"], states[so]["layers"], a.batch_frames, a.seed)
                dec_rows += [[lang, o, do, so, str(i + 1), str(j + 1), f"{mat[i, j]:.4f}"]
                             for i in range(mat.shape[0]) for j in range(mat.shape[1])]
                k = min(mat.shape)
                series[(lang, f"{do} vs {so} dec")] = ([str(i + 1) for i in range(k)], [float(mat[i, i]) for i in range(k)])
            for enc_m, dec_m in ((so, so), (do, do), (do, so), (so, do)):
                hyps = _decode(a.expdir, enc_m, dec_m, lang, o, feats, a)
                if hyps is None:
                    continue
                write_kaldi_map(outdir / "swap_hyps" / f"{lang}_{o}_{enc_m}+{dec_m}.txt", hyps.items())
                for metric in metrics_for(lang):
                    scores = score_set(refs, hyps, lang, metric, where=f"{lang} {o} enc {enc_m} dec {dec_m}")
                    e, n = sum(s.errors for s in scores), sum(s.ref_len for s in scores)
                    rate = 100.0 * e / n if n else float("nan")
                    swap_rows.append([lang, o, enc_m, dec_m, metric, len(scores), e, n, f"{rate:.4f}"])
                print(f"{lang} {o}: encoder {enc_m} + decoder {dec_m}: {swap_rows[-len(metrics_for(lang))][-1]} % "
                      f"{metrics_for(lang)[0]}", file=sys.stderr)
    if not swap_rows and not dec_rows:
        raise SystemExit(f"{a.expdir}: nothing to analyse (need trained {a.do_model}, so_surface, so_meaning)")
    write_atomic(outdir / "decoder_cka.csv",
                 csv_text(["lang", "output", "model_a", "model_b", "layer_a", "layer_b", "cka"], dec_rows))
    write_atomic(outdir / "encoder_pooling.csv", csv_text(["lang", "model", "output", "layer", "cka"], pool_rows))
    write_atomic(outdir / "swap.csv", csv_text(SWAP_HEADER, swap_rows))
    figures.diagonal_lines(outdir / "decoder_cka.png", series,
                           "Decoder CKA (teacher-forced): DO vs SO block i,\nand each block vs the encoder pooled by its cross-attention",
                           ylabel="linear CKA")
    first = {}
    for r in swap_rows:  # one metric per language in the figure: the first of metrics_for(lang)
        if r[4] == metrics_for(r[0])[0]:
            first.setdefault((r[0], r[1], r[2], r[3]), dict(zip(SWAP_HEADER, r)))
    figures.swap_bars(outdir / "swap.png", list(first.values()), "Decoder swap: orange = decoder on another model's encoder")
    print(f"{outdir}: decoder_cka.csv, encoder_pooling.csv, swap.csv, decoder_cka.png, swap.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
