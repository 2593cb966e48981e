#!/usr/bin/env bash
# AI Hub foreign speakers' Korean speech (외국인 한국어 발화 음성). Set AIHUB_L2KO (db.sh or env).
# surface = transcription.ReadingLabelText (what was heard), meaning = transcription.Reading (the
# script); answer items (AnswerLabelText only) are left out. Validation -> dev; Training -> train
# minus a speaker-disjoint test set (5 % of its speakers, --local_data_opts "--test_spk_frac 0.1").
#   AIHUB_L2KO=/data/aihub_l2ko ./run.sh
set -euo pipefail
exec ./dual_asr.sh --langs ko --lang_suffix false --train_set train --dev_set dev --test_sets test "$@"
