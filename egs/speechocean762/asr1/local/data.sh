#!/usr/bin/env bash
# speechocean762 -> data/train and data/test (local/speechocean762.py), then a speaker-disjoint
# split of data/train into data/train_nodev and data/dev (--dev_spk_frac of the speakers, drawn
# with --split_seed; fixed, so it does not move with the training --seed).
set -euo pipefail
langs=en; size=tiny; seed=1; nj=2   # passed by dual_asr.sh; size and seed do not change the data
dev_spk_frac=0.1
split_seed=0
. ./path.sh
. ./db.sh
. utils/parse_options.sh
err() { echo "$0: error: $*" >&2; exit 1; }
[ "$langs" = en ] || err "speechocean762 is English only (--langs en), got --langs '$langs'"
[ -n "$SPEECHOCEAN762" ] || err "SPEECHOCEAN762 is not set: put the corpus root in db.sh or export SPEECHOCEAN762=/path/to/speechocean762"
[ -d "$SPEECHOCEAN762" ] || err "SPEECHOCEAN762=$SPEECHOCEAN762: no such directory"

python "$DUALASR_ROOT/local/speechocean762.py" --corpus_dir "$SPEECHOCEAN762" --out_dir data --nj "$nj"
utils/validate_data_dir.sh --sample-rate 16000 data/train   # dual_asr.sh validates the sets it uses
python -m dualasr.bin.subset_data_dir --src data/train --dst_a data/train_nodev --dst_b data/dev \
  --spk_frac "$dev_spk_frac" --seed "$split_seed"
