"""Surface–meaning divergence: the DO − SO error-rate gap per bin of Levenshtein(surface ref, meaning ref).

    python -m dualasr.bin.analyze_divergence --expdir exp --dumpdir dump/fbank \\
        --lang_set ko=test_ko --lang_set en=test_en [--bins 0,1-2,3-5,6-10,11+] [--n_boot 1000]

Distances are counted in characters (spaces removed for ko) against the CER of each output, and for
en also in words against the WER. SO is ``so_surface`` for the surface output and ``so_meaning`` for
the meaning output; DO is ``--do_model`` (default ``do``). With several seeds (``exp/<model>_<lang>_seed<k>``)
each utterance's errors and reference lengths are summed over the seeds before binning, so a bin's
rate is the seeds' pooled rate and the bootstrap resamples utterances (seeds stay together).

Writes into ``--outdir`` (default ``<expdir>/analysis/divergence``): ``bins.csv`` (lang, output, unit,
metric, bin, n, so_rate, do_rate, delta, ci_low, ci_high), ``spearman.csv`` (lang, output, unit,
metric, n, rho, p_value), ``divergence_<unit>.png`` (DO − SO against the bin, one line per language,
CI bands).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from tqdm import tqdm

from dualasr.analysis.divergence import (
    DEFAULT_BINS, BinResult, Correlation, bin_results, csv_row, join_scores, parse_bins, plot_divergence,
    read_distances, spearman,
)
from dualasr.analysis.layout import SO_MODELS, add_common_args, common_lang_sets, pooled_utt_errors
from dualasr.files import csv_text, write_atomic

# (unit of the distance, metric it is compared with) per language
UNIT_METRICS = {"ko": (("char", "cer"),), "en": (("char", "cer"), ("word", "wer"))}
BIN_HEADER = ["lang", "output", "unit", "metric"] + [f.name for f in fields(BinResult)][2:]
CORR_HEADER = ["lang", "output", "unit", "metric"] + [f.name for f in fields(Correlation)][2:]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "text.{surface,meaning}")
    p.add_argument("--bins", default=DEFAULT_BINS, help="distance bins, e.g. 0,1-2,3-5,6-10,11+")
    p.add_argument("--do_model", default="do")
    p.add_argument("--n_boot", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--outdir", type=Path, default=None)
    a = p.parse_args(argv)
    lang_sets = common_lang_sets(p, a)
    try:
        bins = parse_bins(a.bins)
    except ValueError as e:
        p.error(str(e))
    outdir = a.outdir or a.expdir / "analysis" / "divergence"
    bin_rows, corr_rows, by_unit = [], [], {}
    jobs = [(lang, ts, unit, metric, o) for lang, ts in lang_sets
            for unit, metric in UNIT_METRICS.get(lang, UNIT_METRICS["en"]) for o in ("surface", "meaning")]
    for lang, ts, unit, metric, o in tqdm(jobs, desc="divergence", file=sys.stderr):
        d = read_distances(a.dumpdir / ts, lang, unit)
        so = pooled_utt_errors(a.expdir, SO_MODELS[o], lang, ts, o, metric)
        do = pooled_utt_errors(a.expdir, a.do_model, lang, ts, o, metric)
        rows = join_scores(d, so, do, where=f"{lang}/{ts}/{o}/{metric}")
        res = bin_results(rows, lang, o, bins, a.n_boot, a.seed)
        corr = spearman(rows, lang, o)
        by_unit.setdefault(unit, []).extend(res)
        bin_rows += [[lang, o, unit, metric] + csv_row(r)[2:] for r in res]
        corr_rows.append([lang, o, unit, metric] + csv_row(corr)[2:])
    outdir.mkdir(parents=True, exist_ok=True)
    write_atomic(outdir / "bins.csv", csv_text(BIN_HEADER, bin_rows))
    write_atomic(outdir / "spearman.csv", csv_text(CORR_HEADER, corr_rows))
    for unit, res in by_unit.items():
        metric = "CER" if unit == "char" else "WER"
        plot_divergence(outdir / f"divergence_{unit}.png", res, unit=unit, metric=metric)
    print(f"{outdir}: bins.csv, spearman.csv, {', '.join(f'divergence_{u}.png' for u in by_unit)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
