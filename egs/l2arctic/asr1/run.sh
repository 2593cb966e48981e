#!/usr/bin/env bash
# L2-ARCTIC: non-native English, hand-annotated utterances only. Set L2ARCTIC (db.sh or env).
# surface = the perceived ARPAbet phones of annotation/*.TextGrid, meaning = transcript/*.txt.
# --split korean (default): train HJK HKK, dev YDCK, test YKWK; --split all: all 24 speakers.
#   L2ARCTIC=/data/l2arctic ./run.sh
#   L2ARCTIC=/data/l2arctic ./run.sh --local_data_opts "--split all"
set -euo pipefail
./dual_asr.sh --langs en --lang_suffix false --train_set train --dev_set dev --test_sets test \
  --local_data_opts "--split korean" "$@"
