#!/usr/bin/env bash
# The embedded synthetic L2 corpus, Korean and English. Sizes: --size tiny | small | default.
#   ./run.sh                                   # everything, default size
#   ./run.sh --size tiny --stop_stage 5        # data, features, filter, tokenizers
# Korean is tokenized as jamo (the template's --hangul jamo) and gets 5 epochs here;
# English spelling takes the config's max_epoch (7 at the default size): both fit make demo in 30 min.
set -euo pipefail
./dual_asr.sh --langs "ko en" --lang_suffix true --train_set train --dev_set dev --test_sets test \
  --size default --lang_train_args "ko:--max_epoch 5" "$@"
