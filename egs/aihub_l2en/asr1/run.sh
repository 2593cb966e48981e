#!/usr/bin/env bash
# AI Hub Korean learners' English for education (교육용 한국인의 영어 음성). Set AIHUB_L2EN (db.sh or env).
# The label JSON is read through a field adapter: conf/aihub_l2en_fields.yaml here if present,
# else the repo's conf/aihub_l2en_fields.yaml (by default surface = transcription.PronunciationLabel,
# meaning = transcription.Reading). Validation -> dev; Training -> train minus a speaker-disjoint
# test set (5 % of its speakers).
#   AIHUB_L2EN=/data/aihub_l2en ./run.sh
set -euo pipefail
exec ./dual_asr.sh --langs en --lang_suffix false --train_set train --dev_set dev --test_sets test "$@"
