#!/usr/bin/env bash
# KsponSpeech -> data/{train,dev,test_clean,test_other} (local/ksponspeech.py); the .pcm audio is
# converted once to 16 kHz wav under data/local/wav_ksponspeech.
set -euo pipefail
langs=ko; size=tiny; seed=1; nj=2   # passed by dual_asr.sh; size and seed do not change the data
skip_bad_lines=false                # true: drop (and count) .trn lines that do not parse
. ./path.sh
. ./db.sh
. utils/parse_options.sh
err() { echo "$0: error: $*" >&2; exit 1; }
[ "$langs" = ko ] || err "KsponSpeech is Korean only (--langs ko), got --langs '$langs'"
[ -n "$KSPONSPEECH" ] || err "KSPONSPEECH is not set: put the corpus root in db.sh or export KSPONSPEECH=/path/to/KsponSpeech"
[ -d "$KSPONSPEECH" ] || err "KSPONSPEECH=$KSPONSPEECH: no such directory"
opts=()
if [ "$skip_bad_lines" = true ]; then opts+=(--skip_bad_lines); fi

python "$DUALASR_ROOT/local/ksponspeech.py" --corpus_dir "$KSPONSPEECH" --out_dir data --nj "$nj" "${opts[@]}"
