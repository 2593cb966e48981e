#!/usr/bin/env bash
# speechocean762: non-native English (Mandarin L1), CC BY 4.0. Set SPEECHOCEAN762 (db.sh or env).
# surface = canonical ARPAbet phones with scores.json's mispronunciations applied (canonical phones
# of text-phone without it), one phone one token (word tokens, scored as PER); canonical = the
# phones of resource/text-phone; meaning = the prompt text. The corpus has no dev set: local/data.sh
# splits 10 % of the train speakers off as data/dev, and the models train on data/train_nodev.
#   SPEECHOCEAN762=/data/speechocean762 ./run.sh --size tiny --nj 2
set -euo pipefail
exec ./dual_asr.sh --langs en --lang_suffix false --train_set train_nodev --dev_set dev --test_sets test \
  --surface_token_type word --mdd_lexicon data/local/lexicon.txt "$@"
