#!/usr/bin/env bash
# AI Hub foreign speakers' Korean -> data/{train,dev,test} (local/aihub_l2ko.py). The test speakers
# are drawn with --split_seed (fixed, so the test set does not move with the training --seed).
set -euo pipefail
langs=ko; size=tiny; seed=1; nj=2   # passed by dual_asr.sh; size and seed do not change the data
test_spk_frac=0.05
split_seed=0
. ./path.sh
. ./db.sh
. utils/parse_options.sh
err() { echo "$0: error: $*" >&2; exit 1; }
[ "$langs" = ko ] || err "AI Hub foreign speakers' Korean is Korean only (--langs ko), got --langs '$langs'"
[ -n "$AIHUB_L2KO" ] || err "AIHUB_L2KO is not set: put the corpus root in db.sh or export AIHUB_L2KO=/path/to/corpus"
[ -d "$AIHUB_L2KO" ] || err "AIHUB_L2KO=$AIHUB_L2KO: no such directory"

python "$DUALASR_ROOT/local/aihub_l2ko.py" --corpus_dir "$AIHUB_L2KO" --out_dir data --nj "$nj" \
  --test_spk_frac "$test_spk_frac" --seed "$split_seed"
