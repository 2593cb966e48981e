#!/usr/bin/env bash
# AI Hub Korean learners' English -> data/{train,dev,test} (local/aihub_l2en.py). The test speakers
# are drawn with --split_seed (fixed, so the test set does not move with the training --seed).
set -euo pipefail
langs=en; size=tiny; seed=1; nj=2   # passed by dual_asr.sh; size and seed do not change the data
test_spk_frac=0.05
split_seed=0
fields=""                           # the JSON field adapter; default conf/aihub_l2en_fields.yaml (recipe, then repo)
. ./path.sh
. ./db.sh
. utils/parse_options.sh
err() { echo "$0: error: $*" >&2; exit 1; }
[ "$langs" = en ] || err "AI Hub Korean learners' English is English only (--langs en), got --langs '$langs'"
[ -n "$AIHUB_L2EN" ] || err "AIHUB_L2EN is not set: put the corpus root in db.sh or export AIHUB_L2EN=/path/to/corpus"
[ -d "$AIHUB_L2EN" ] || err "AIHUB_L2EN=$AIHUB_L2EN: no such directory"
if [ -z "$fields" ]; then
  if [ -f conf/aihub_l2en_fields.yaml ]; then fields=conf/aihub_l2en_fields.yaml
  else fields=$DUALASR_ROOT/conf/aihub_l2en_fields.yaml; fi
fi

python "$DUALASR_ROOT/local/aihub_l2en.py" --corpus_dir "$AIHUB_L2EN" --out_dir data --nj "$nj" \
  --test_spk_frac "$test_spk_frac" --seed "$split_seed" --fields "$fields"
