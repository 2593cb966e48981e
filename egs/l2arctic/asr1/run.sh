#!/usr/bin/env bash
# L2-ARCTIC: non-native English, hand-annotated utterances only. Set L2ARCTIC (db.sh or env).
# surface = the perceived ARPAbet phones of annotation/*.TextGrid (one phone, one token: word
# tokens, scored as PER), canonical = their canonical phones, meaning = transcript/*.txt.
# --split standard (default, the MDD literature's): test NJS TLV TNI TXHC YKWK ZHAA, dev MBMPS THV
# SVBI NCC YDCK YBAA, train the other 12; --split korean: train HJK HKK, dev YDCK, test YKWK.
#   L2ARCTIC=/data/l2arctic ./run.sh
#   L2ARCTIC=/data/l2arctic ./run.sh --local_data_opts "--split korean"
set -euo pipefail
exec ./dual_asr.sh --langs en --lang_suffix false --train_set train --dev_set dev --test_sets test \
  --surface_token_type word "$@"
