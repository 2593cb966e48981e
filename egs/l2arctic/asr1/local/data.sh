#!/usr/bin/env bash
# L2-ARCTIC -> data/{train,dev,test} (local/l2arctic.py); the 44.1 kHz audio is resampled once to
# 16 kHz under data/local/wav_l2arctic.
set -euo pipefail
langs=en; size=tiny; seed=1; nj=2   # passed by dual_asr.sh; size and seed do not change the data
split=standard                      # standard (the MDD literature's) | korean (speaker-disjoint; see local/l2arctic.py)
. ./path.sh
. ./db.sh
. utils/parse_options.sh
err() { echo "$0: error: $*" >&2; exit 1; }
[ "$langs" = en ] || err "L2-ARCTIC is English only (--langs en), got --langs '$langs'"
[ -n "$L2ARCTIC" ] || err "L2ARCTIC is not set: put the corpus root in db.sh or export L2ARCTIC=/path/to/l2arctic"
[ -d "$L2ARCTIC" ] || err "L2ARCTIC=$L2ARCTIC: no such directory"

python "$DUALASR_ROOT/local/l2arctic.py" --corpus_dir "$L2ARCTIC" --out_dir data --nj "$nj" --split "$split"
