#!/usr/bin/env bash
# The embedded synthetic L2 corpus, Korean and English. Sizes: --size tiny | small | default.
#   ./run.sh                                   # everything, default size
#   ./run.sh --size tiny --stop_stage 5        # data, features, filter, tokenizers
set -euo pipefail
./dual_asr.sh --langs "ko en" --lang_suffix true --train_set train --dev_set dev --test_sets test \
  --size default "$@"
