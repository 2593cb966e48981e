#!/usr/bin/env bash
# dual_asr.sh: the one staged recipe of dualasr. Every egs/<corpus>/asr1/run.sh calls it.
# Stages (run `--stage N --stop_stage M`; a finished stage is skipped unless --force true):
#   1 data prep       local/data.sh writes data/<set>; each dir is validated
#   2 speed perturb   data/<train>_sp (only with --speed_perturb_factors "0.9 1.0 1.1")
#   3 features        80-dim fbank, kaldiio ark/scp under dump/fbank/org/<set>, CMVN stats
#   4 filter          drop too-short/too-long utterances -> dump/fbank/<set>
#   5 tokenizers      one token list per output: data/token_list/<lang>/<output>_<token_type>
#   6 collect stats   ESPnet collect_stats mode: shape files for batching
#   7 train           each model of --models, e.g. "so_surface so_meaning do do_branch"
#   8 decode          each test set, model and output (a DO model encodes once for both)
#   9 score           CER (and WER for en), per-utterance alignments, exp/results.{json,md}
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*" >&2; }

# ---- options (each can be given as --name value) ----
stage=1
stop_stage=100
force=false            # re-run stages already marked done
langs="en"             # languages this corpus has
lang_suffix=false      # true: data sets are <set>_<lang> (one corpus holding several languages)
train_set=train
dev_set=dev
test_sets=test
nj=2                   # parallel jobs for data prep, features and decoding
size=tiny              # tiny | small | default: picks the model configs (and the data size, if the corpus has sizes)
seed=1
local_data_opts=""     # passed through to local/data.sh
speed_perturb_factors=""
fs=16000
min_frames=20          # filter: 0.2 s
max_frames=3000        # filter: 30 s
token_type=char        # char | bpe | unigram
vocab_size=100         # bpe/unigram
models="so_surface so_meaning do do_branch"
train_config=""        # override: one yaml for every model
train_args=""          # extra arguments for dualasr.bin.dual_asr_train
ngpu=0
num_nodes=1
inference_config=conf/decode.yaml
inference_args=""
inference_model=valid.acc.ave.pth
seeds=""               # e.g. "1 2 3": train every model once per seed (default: --seed alone)
datadir=data
dumpdir=dump
expdir=exp

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh
[ $# -eq 0 ] || { log "unexpected arguments: $*"; exit 1; }

# ---- helpers ----
# set_name SET LANG -> the data dir name of SET for LANG
set_name() { if [ "$lang_suffix" = true ]; then echo "$1_$2"; else echo "$1"; fi; }
# conf_path NAME -> the recipe's own conf/NAME if it has one, else the shared one
conf_path() {
  if [ -f "conf/$1" ]; then echo "conf/$1"; elif [ -f "$DUALASR_ROOT/conf/$1" ]; then echo "$DUALASR_ROOT/conf/$1";
  else log "no config $1 in conf/ or $DUALASR_ROOT/conf/"; exit 1; fi
}
# done markers: a stage marks its work done only after it finished
is_done() { [ "$force" != true ] && [ -f "$1" ]; }
mark_done() { mkdir -p "$(dirname "$1")"; date > "$1"; }
run_stage() {  # run_stage N name: true when stage N is selected
  if [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; then log "Stage $1: $2"; return 0; fi
  return 1
}
train_name() { if [ -n "$speed_perturb_factors" ]; then echo "$(set_name "$train_set" "$1")_sp"; else set_name "$train_set" "$1"; fi; }
is_test_set() {  # is_test_set SET LANG
  local t; for t in $test_sets; do [ "$(set_name "$t" "$2")" = "$1" ] && [ "$t" != "$dev_set" ] && return 0; done; return 1
}
all_sets() {  # all_sets LANG: train (perhaps _sp), dev and test sets of LANG
  local l=$1 s; echo "$(train_name "$l")"
  echo "$(set_name "$dev_set" "$l")"
  for s in $test_sets; do echo "$(set_name "$s" "$l")"; done | grep -vx "$(set_name "$dev_set" "$l")" || true
}

if run_stage 1 "data preparation: local/data.sh, then validation"; then
  marker=$datadir/.done/prep
  if is_done "$marker"; then log "data prep already done ($marker)"; else
    local/data.sh --langs "$langs" --size "$size" --seed "$seed" --nj "$nj" $local_data_opts
    dirs=()
    for l in $langs; do
      for s in "$train_set" "$dev_set" $test_sets; do dirs+=("$datadir/$(set_name "$s" "$l")"); done
    done
    utils/validate_data_dir.sh --sample-rate "$fs" $(printf '%s\n' "${dirs[@]}" | sort -u)
    mark_done "$marker"
  fi
fi

if run_stage 2 "speed perturbation (${speed_perturb_factors:-none})"; then
  if [ -n "$speed_perturb_factors" ]; then
    for l in $langs; do
      src=$datadir/$(set_name "$train_set" "$l")
      python -m dualasr.bin.speed_perturb --src "$src" --dst "${src}_sp" --factors $speed_perturb_factors
    done
  fi
fi

if run_stage 3 "features: 80-dim fbank + CMVN stats into $dumpdir/fbank/org"; then
  for l in $langs; do
    for s in $(all_sets "$l"); do
      out=$dumpdir/fbank/org/$s
      if is_done "$dumpdir/.done/feats_$s"; then log "features of $s already done"; continue; fi
      rm -rf "$out"; mkdir -p "$out/log"
      ${train_cmd} JOB=1:"$nj" "$out/log/fbank.JOB.log" \
        python -m dualasr.bin.make_fbank --data "$datadir/$s" --out "$out" --nj "$nj" --job JOB --fs "$fs"
      python -m dualasr.bin.make_fbank --out "$out" --nj "$nj" --merge
      for f in wav.scp utt2spk spk2utt text.surface text.meaning; do cp "$datadir/$s/$f" "$out/$f"; done
      mark_done "$dumpdir/.done/feats_$s"
    done
  done
fi

if run_stage 4 "filter too-short (<$min_frames frames) and too-long (>$max_frames) utterances"; then
  for l in $langs; do
    for s in $(all_sets "$l"); do
      if is_done "$dumpdir/.done/filter_$s"; then log "filter of $s already done"; continue; fi
      if is_test_set "$s" "$l"; then
        # test sets are scored whole: never filtered
        rm -rf "$dumpdir/fbank/$s"; cp -r "$dumpdir/fbank/org/$s" "$dumpdir/fbank/$s"; rm -rf "$dumpdir/fbank/$s/log"
      else
        python -m dualasr.bin.filter_data --src "$dumpdir/fbank/org/$s" --dst "$dumpdir/fbank/$s" \
          --min_frames "$min_frames" --max_frames "$max_frames"
      fi
      mark_done "$dumpdir/.done/filter_$s"
    done
  done
fi

if run_stage 5 "tokenizers ($token_type): one token list per output"; then
  for l in $langs; do
    for o in surface meaning; do
      tdir=$datadir/token_list/$l/${o}_${token_type}
      if is_done "$datadir/.done/tokens_${l}_${o}_${token_type}"; then log "token list $tdir already done"; continue; fi
      python -m dualasr.bin.make_tokens --text "$dumpdir/fbank/$(train_name "$l")/text.$o" \
        --token_type "$token_type" --vocab_size "$vocab_size" --out "$tdir"
      mark_done "$datadir/.done/tokens_${l}_${o}_${token_type}"
    done
  done
fi

log "Finished stages ${stage}-${stop_stage}"
