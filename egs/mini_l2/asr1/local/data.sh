#!/usr/bin/env bash
# Generate the embedded corpus: data/{train,dev,test}_<lang> for each language, audio under wav/.
set -euo pipefail
langs="ko en"; size=default; seed=1; nj=2
. ./path.sh
. utils/parse_options.sh
for lang in $langs; do
  python -m dualasr.bin.synth --lang "$lang" --size "$size" --seed "$seed" --nj "$nj" --datadir data --wavdir wav
done
