#!/usr/bin/env bash
# KsponSpeech: native Korean conversation with a dual transcription. Set KSPONSPEECH (db.sh or env).
# (X)/(Y) in a .trn line: surface = Y (pronunciation), meaning = X (spelling); tags stripped alike.
# Sets: scripts/train.trn -> train, dev.trn -> dev, eval_clean/eval_other.trn -> test_clean/test_other.
#   KSPONSPEECH=/data/KsponSpeech ./run.sh
set -euo pipefail
exec ./dual_asr.sh --langs ko --lang_suffix false --train_set train --dev_set dev \
  --test_sets "test_clean test_other" "$@"
