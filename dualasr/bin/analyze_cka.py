"""Encoder representation similarity: linear CKA between every encoder layer of two models.

    python -m dualasr.bin.analyze_cka --expdir exp --dumpdir dump/fbank --lang_set en=test_en \\
        [--lang_set ko=test_ko] [--max_utts 200] [--max_frames 4000] [--outdir exp/analysis/cka]

Pairs: so_surface–so_meaning, do–so_surface, do–so_meaning (a pair whose model is missing is skipped
with a log line), and the reference for "same task": two so_surface models trained with different
seeds (``layout.reference_dirs``: the two lowest of ``--seeds``, else the first and
``so_surface_<lang>_refseed<k>`` of ``--reference_seed``), named ``reference`` in the outputs. Layers:
the input to the first encoder block (``in``), then every block's output. The models run on a
speaker-balanced subset of ``--max_utts`` utterances of each language's test set (``--subset_seed``,
the same for every model); the first seed of each model is used. Writes into ``--outdir``:
``<lang>/<a>__<b>.csv`` (lang, model_a, model_b, layer_a, layer_b, cka), ``<lang>/<a>__<b>.png``
(heatmap), ``diagonal.csv`` (layer i vs layer i of every pair), ``diagonal.png`` and
``reference.csv`` (lang, dir_a, seed_a, init_seed_a, dir_b, seed_b, init_seed_b: where the reference
comes from).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dualasr.analysis.layout import add_common_args

from dualasr.files import csv_text, write_atomic

PAIRS = (("so_surface", "so_meaning"), ("do", "so_surface"), ("do", "so_meaning"))
DIAGONAL_HEADER = ["lang", "model_a", "model_b", "layer", "cka"]
REFERENCE = "reference"  # model_b of the reference pair: the second so_surface model
REFERENCE_HEADER = ["lang", "dir_a", "seed_a", "init_seed_a", "dir_b", "seed_b", "init_seed_b"]



def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "feats.scp")
    p.add_argument("--outdir", type=Path, default=None, help="default: <expdir>/analysis/cka")
    p.add_argument("--max_utts", type=int, default=200)
    p.add_argument("--max_frames", type=int, default=4000, help="frames kept per layer (spread over utterances)")
    p.add_argument("--batch_frames", type=int, default=500, help="CKA minibatch size (memory bound)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--subset_seed", type=int, default=0, help="seed of the speaker-balanced utterance subset")
    p.add_argument("--inference_model", default="valid.acc.ave.pth")
    a = p.parse_args(argv)
    # the heavy imports after the arguments: --help answers at once
    from dualasr.analysis.encoder import check_paired, cka_matrix, encoder_layers
    from dualasr.analysis.layout import REFERENCE_MODEL, first_model_dir, layer_names, load_model, load_subset
    from dualasr.analysis.layout import common_lang_sets, reference_dirs, train_config
    from dualasr.report import figures

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    lang_sets = common_lang_sets(p, a)
    outdir = a.outdir or a.expdir / "analysis" / "cka"
    diagonal, series, ref_rows = [], {}, []
    for lang, test_set in lang_sets:
        feats = load_subset(a.dumpdir / test_set / "feats.scp", a.max_utts, a.subset_seed)
        models, cache = {}, {}
        ref = reference_dirs(a.expdir, lang)
        dirs = {REFERENCE: ref[1]} if ref else {}
        pairs = list(PAIRS)
        if ref:
            pairs.insert(0, (REFERENCE_MODEL, REFERENCE))
            confs = [train_config(d) for d in ref]
            ref_rows.append([lang, str(ref[0]), confs[0].get("seed"), confs[0].get("init_seed"),
                             str(ref[1]), confs[1].get("seed"), confs[1].get("init_seed")])
            if ref[0] != first_model_dir(a.expdir, REFERENCE_MODEL, lang):
                raise SystemExit(f"{ref[0]}: the reference should start from the analysed {REFERENCE_MODEL}")
        else:
            logging.warning("%s: no CKA reference: need a second %s (--seeds with two seeds, or --reference_seed)",
                            lang, REFERENCE_MODEL)

        def layers_of(m, branch=None):
            """Encoder layers of model m (for a model with branches: those of ``branch``), computed once."""
            if m not in models:
                d = dirs.get(m) or first_model_dir(a.expdir, m, lang)
                models[m] = load_model(d, a.inference_model)[0]
            key = (m, branch if models[m].branches is not None else None)
            if key not in cache:
                cache[key] = encoder_layers(models[m], feats, a.max_frames, a.seed, output=key[1],
                                            desc=f"encode {m}_{lang}")
            return cache[key]

        for model_a, model_b in pairs:
            missing = [m for m in (model_a, model_b)
                       if m not in dirs and not list(a.expdir.glob(f"{m}_{lang}*/config.yaml"))]
            if missing:
                logging.info("%s: skip %s vs %s: no trained %s", lang, model_a, model_b, " ".join(missing))
                continue
            # a DO model with branches follows the branch of the output the SO model was trained for
            la = layers_of(model_a, model_b.replace("so_", "") if model_b != REFERENCE else None)
            lb = layers_of(model_b)
            check_paired(la["frames"], lb["frames"], f"{model_a}_{lang}", f"{model_b}_{lang}")
            m = cka_matrix(la["layers"], lb["layers"], a.batch_frames, a.seed)
            names_a, names_b = layer_names(m.shape[0]), layer_names(m.shape[1])
            rows = [(lang, model_a, model_b, names_a[i], names_b[j], f"{m[i, j]:.4f}")
                    for i in range(m.shape[0]) for j in range(m.shape[1])]
            (outdir / lang).mkdir(parents=True, exist_ok=True)
            stem = outdir / lang / f"{model_a}__{model_b}"
            write_atomic(stem.with_suffix(".csv"), csv_text(["lang", "model_a", "model_b", "layer_a", "layer_b", "cka"], rows))
            n = sum(la["frames"].values())
            figures.cka_heatmap(stem.with_suffix(".png"), m, names_a, names_b, model_a, model_b,
                                f"{lang}: linear CKA, {model_a} vs {model_b}\n({len(feats)} utterances, {n} frames)")
            k = min(m.shape)
            diagonal += [(lang, model_a, model_b, names_a[i], f"{m[i, i]:.4f}") for i in range(k)]
            name = f"reference: {model_a} seed A vs seed B" if model_b == REFERENCE else f"{model_a}–{model_b}"
            series[(lang, name)] = (names_a[:k], [float(m[i, i]) for i in range(k)])
            print(f"{lang} {model_a} vs {model_b}: last layers CKA {m[-1, -1]:.3f} -> {stem}.png", file=sys.stderr)
    if not diagonal:
        raise SystemExit(f"{a.expdir}: no pair of trained models to compare (need so_surface, so_meaning, do)")
    outdir.mkdir(parents=True, exist_ok=True)
    write_atomic(outdir / "diagonal.csv", csv_text(DIAGONAL_HEADER, diagonal))
    write_atomic(outdir / "reference.csv", csv_text(REFERENCE_HEADER, ref_rows))
    figures.diagonal_lines(outdir / "diagonal.png", series, "Encoder CKA, layer i vs layer i\n"
                           "(dashed: the reference, two so_surface models from different seeds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
