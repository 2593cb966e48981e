#!/usr/bin/env bash
# dual_asr.sh: the one staged recipe of dualasr. Every egs/<corpus>/asr1/run.sh calls it.
# Stages (run `--stage N --stop_stage M`; a finished stage is skipped unless --force true):
#   1 data prep       local/data.sh writes data/<set>; each dir is validated
#   2 augmentation    data/<train>_sp (only with --speed_perturb_factors "0.9 1.0 1.1"); with --augment_rir /
#                     --augment_noise or --robust_test_sets: simulated RIRs and recipe-made noises (data/augment/<lang>),
#                     data/<train>[_sp]_aug (each utterance once through ESPnet's rir/noise augmentation), and
#                     data/<test>_noisy, data/<test>_reverb (robustness test sets, decoded and scored like any test set)
#   3 features        fbank (--n_mels, 80), kaldiio ark/scp under dump/fbank/org/<set>, CMVN stats, feats_dim
#   4 filter          drop too-short/too-long utterances -> dump/fbank/<set>
#   5 tokenizers      one token list per output: data/token_list/<lang>/<output>_<token type of the output>
#   6 collect stats   ESPnet collect_stats mode: shape files for batching
#   7 train           each model of --models, e.g. "so_surface so_meaning do do_branch"
#   8 decode          each test set, model and output (a DO model encodes once for both)
#   9 score           CER (and WER for en; PER for phones), MDD on the surface, exp/results.{json,md}; also
#                     each branch alone (CTC greedy, attention greedy decoding) beside the joint decode
#  10 divergence      DO - SO by edit-distance bins (canonical-perceived, or surface-meaning) -> exp/analysis/divergence
#  11 analysis        encoder CKA (exp/analysis/cka), cross-task decoders (exp/analysis/cross_decoder)
#  12 report          tables, figures and README under exp/report
#  13 pack            exp/<model>_<lang>/packed/<model>_<lang>.zip: loads anywhere (dualasr.bin.transcribe)
set -euo pipefail
# The whole script is one block, parsed before it runs: editing it (or a config) during a long run
# cannot change what this run executes.
{

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
# Noise and reverberation (stage 2; dualasr.augment). Training features are dumped once (stage 3), so ESPnet's
# on-the-fly rir_scp / noise_scp augmentation is applied offline: each training utterance goes once through ESPnet's
# CommonPreprocessor with these options, seeded per utterance (one realisation per utterance, not one per epoch).
augment_rir=false      # true: reverberate training utterances with simulated rooms (ESPnet's rir_scp)
augment_noise=false    # true: add coloured noise / babble of other training speakers (ESPnet's noise_scp)
rir_apply_prob=0.5     # ESPnet's rir_apply_prob: share of training utterances reverberated
noise_apply_prob=0.5   # ESPnet's noise_apply_prob: share of training utterances given noise
noise_db_range=5_20    # ESPnet's noise_db_range: SNR in dB, LOW_HIGH (uniform) or one value
augment_copies=1       # augmented realisations of each training utterance (each its own draw; ids aug<k>-<uttid>)
augment_keep_clean=false # true: the clean training utterances stay beside the augmented ones (more data an epoch)
augment_seed=""        # seed of the RIRs, noises and per-utterance draws (default: --seed)
robust_test_sets=false # true: every test set also gets <test>_noisy and <test>_reverb (test-only noises and rooms)
robust_snr=10          # SNR (dB) of the _noisy test sets
fs=16000
n_mels=80             # fbank bins (stage 3); training takes them as --input_size (dump/fbank/<set>/feats_dim)
min_frames=20          # filter: 0.2 s
max_frames=3000        # filter: 30 s
token_type=char        # char | bpe | unigram | word (whitespace-separated tokens)
surface_token_type=""  # token type of the surface output (default: --token_type); word: space-separated phones
meaning_token_type=""  # token type of the meaning output (default: --token_type)
hangul=jamo            # Korean tokens: jamo (Unicode NFD; hypotheses recomposed) | syllable
vocab_size=100         # bpe/unigram
models="so_surface so_meaning do do_branch"
train_config=""        # override: one yaml for every model
train_args=""          # extra arguments for dualasr.bin.dual_asr_train
lang_train_args=""     # per-language extra arguments, e.g. "ko:--max_epoch 3,en:--max_epoch 7"
ngpu=0                 # GPUs per node; > 1 on one node: ESPnet's trainer runs one DDP process per GPU
train_threads=$(nproc)  # CPU threads of one training job (torch intra-op; the launcher sets OMP_NUM_THREADS)
train_jobs=1           # training jobs run at a time. On a CPU, several 1-thread jobs use the cores better than one
                       # job on all of them (demo, 2 cores: two 1-thread jobs 36.5 s per epoch each, one 2-thread
                       # job 27 s: 1.48x the epochs per second). auto: nproc / train_threads on the CPU, 1 with
                       # GPUs or several nodes (one job at a time on the cards).
num_nodes=1            # > 1: train on several Slurm nodes (cmd_backend=slurm), ranks started by srun
nproc_per_node=""      # srun ranks per node (default: ngpu, 1 on the CPU); when set, srun is used on one node too
dist_backend=""        # torch.distributed backend (default: nccl with GPUs, gloo on the CPU)
inference_config=decode.yaml  # stage 8: a path (with a /) is used as given; a bare name is looked up in conf/
inference_args=""
inference_model=valid.acc.ave.pth
seeds=""               # e.g. "1 2 3": train every model once per seed (default: --seed alone)
shared_init=false      # true: every model kind starts from the weights of --seed (default: each (kind, seed) its own)
reference_seed=""      # e.g. 2: train so_surface once more with this seed (exp/so_surface_<lang>_refseed<k>), the CKA reference
datadir=data
dumpdir=dump
expdir=exp
mdd_lexicon=""         # stage 9: WORD PHONE... lexicon for prompt-free MDD on a phone surface
divergence_bins="0,1-2,3-5,6-10,11+"  # stage 10: edit-distance bins
analysis_max_utts=200  # stage 11: test utterances for the encoder CKA (speaker-balanced, as swap_max_utts)
swap_max_utts=100      # stage 11: test utterances for the decoder-state CKA and the decoder swap
subset_seed=0          # stage 11: seed of the speaker-balanced analysis subsets

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
# decode_conf -> the decode config: --inference_config as given when it is a path (has a /), else conf_path NAME
decode_conf() {
  case "$inference_config" in
    */*) [ -f "$inference_config" ] || { log "--inference_config $inference_config: no such file"; exit 1; }
         echo "$inference_config" ;;
    *) conf_path "$inference_config" ;;
  esac
}
# done markers: a stage marks its work done only after it finished
is_done() { [ "$force" != true ] && [ -f "$1" ]; }
# mark_params MARKER WANT: record WANT in MARKER (written to a temporary name, then renamed: never half-written)
mark_params() { mkdir -p "$(dirname "$1")"; echo "$2" > "$1.tmp" && mv "$1.tmp" "$1"; }
mark_done() { mark_params "$1" "$(date)"; }
run_stage() {  # run_stage N name: true when stage N is selected
  if [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; then log "Stage $1: $2"; return 0; fi
  return 1
}
augmenting() { [ "$augment_rir" = true ] || [ "$augment_noise" = true ]; }
# train_name LANG: the training set (<train>[_sp][_aug]); train_name_clean LANG: before the augmentation
train_name_clean() { if [ -n "$speed_perturb_factors" ]; then echo "$(set_name "$train_set" "$1")_sp"; else set_name "$train_set" "$1"; fi; }
train_name() { if augmenting; then echo "$(train_name_clean "$1")_aug"; else train_name_clean "$1"; fi; }
# Korean is tokenized as jamo (--hangul jamo, the default) or as syllables (--hangul syllable)
jamo() { [ "$1" = ko ] && [ "$hangul" = jamo ]; }  # jamo LANG
ttype_of() {  # ttype_of OUTPUT: the token type of that output
  local v; eval "v=\${${1}_token_type}"; echo "${v:-$token_type}"
}
tokens_of() {  # tokens_of LANG OUTPUT: the token list dir
  if jamo "$1"; then echo "$datadir/token_list/$1/${2}_$(ttype_of "$2")_jamo"; else echo "$datadir/token_list/$1/${2}_$(ttype_of "$2")"; fi
}
ttype_args() {  # ttype_args [SED]: --surface_token_type X --meaning_token_type Y (unigram read as bpe with SED)
  local o; for o in surface meaning; do echo "--${o}_token_type $(ttype_of "$o" | sed "${1:-}")"; done
}
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
  want="langs=$langs size=$size seed=$seed local_data_opts=$local_data_opts"
  if is_done "$marker" && [ "$(cat "$marker")" != "$want" ]; then
    log "$datadir was prepared with '$(cat "$marker")', not '$want': remove $datadir $dumpdir $expdir (make clean-demo) or pass --force true"
    exit 1
  fi
  if is_done "$marker"; then log "data prep already done ($marker)"; else
    local/data.sh --langs "$langs" --size "$size" --seed "$seed" --nj "$nj" $local_data_opts
    dirs=()
    for l in $langs; do
      for s in "$train_set" "$dev_set" $test_sets; do dirs+=("$datadir/$(set_name "$s" "$l")"); done
    done
    utils/validate_data_dir.sh --sample-rate "$fs" $(printf '%s\n' "${dirs[@]}" | sort -u)
    mkdir -p "$(dirname "$marker")"; echo "$want" > "$marker"
  fi
fi

# the robustness test sets follow the test sets they are made from (stage 1 validated only the corpus' own)
clean_test_sets=$test_sets
if [ "$robust_test_sets" = true ]; then
  for t in $clean_test_sets; do [ "$t" = "$dev_set" ] || test_sets+=" ${t}_noisy ${t}_reverb"; done
fi
aseed=${augment_seed:-$seed}
# params_done MARKER WANT: true when MARKER records WANT; stops when it records other parameters
params_done() {
  if is_done "$1" && [ "$(cat "$1")" != "$2" ]; then
    log "$1 was made with '$(cat "$1")', not '$2': remove it and what was made from it, or pass --force true"; exit 1
  fi
  is_done "$1"
}

if run_stage 2 "augmentation: speed perturbation (${speed_perturb_factors:-none}), rir $augment_rir, noise $augment_noise, robustness test sets $robust_test_sets"; then
  if [ -n "$speed_perturb_factors" ]; then
    for l in $langs; do
      src=$datadir/$(set_name "$train_set" "$l")
      python -m dualasr.bin.speed_perturb --src "$src" --dst "${src}_sp" --factors $speed_perturb_factors
    done
  fi
  if augmenting || [ "$robust_test_sets" = true ]; then
    for l in $langs; do
      adir=$datadir/augment/$l; made=(); wants=()
      # simulated RIRs and noises: a train pool and a disjoint test pool (babble from the training speakers)
      want="seed=$aseed fs=$fs train=$(set_name "$train_set" "$l")"
      if params_done "$datadir/.done/augment_assets_$l" "$want"; then log "RIRs and noises of $l already made ($adir)"; else
        rm -rf "$adir"
        python -m dualasr.bin.augment assets --train "$datadir/$(set_name "$train_set" "$l")" --out "$adir" --seed "$aseed" --fs "$fs"
        mark_params "$datadir/.done/augment_assets_$l" "$want"
      fi
      if augmenting; then
        src=$datadir/$(train_name_clean "$l"); dst=$datadir/$(train_name "$l"); aug_args=()
        [ "$augment_rir" != true ] || aug_args+=(--rir_scp "$adir/train/rirs.scp" --rir_apply_prob "$rir_apply_prob")
        [ "$augment_noise" != true ] || aug_args+=(--noise_scp "$adir/train/noises.scp" --noise_apply_prob "$noise_apply_prob" --noise_db_range "$noise_db_range")
        [ "$augment_copies" = 1 ] || aug_args+=(--copies "$augment_copies")
        [ "$augment_keep_clean" != true ] || aug_args+=(--keep_clean)
        want="seed=$aseed ${aug_args[*]}"
        if params_done "$datadir/.done/aug_$(basename "$dst")" "$want"; then log "$dst already made"; else
          rm -rf "$dst"
          python -m dualasr.bin.augment apply --src "$src" --dst "$dst" --seed "$aseed" --purpose train --fs "$fs" "${aug_args[@]}"
          made+=("$dst"); wants+=("$want")
        fi
      fi
      if [ "$robust_test_sets" = true ]; then
        for t in $clean_test_sets; do
          [ "$t" != "$dev_set" ] || continue
          src=$datadir/$(set_name "$t" "$l")
          for kind in noisy reverb; do
            dst=$datadir/$(set_name "${t}_$kind" "$l")
            if [ $kind = noisy ]; then args=(--noise_scp "$adir/test/noises.scp" --noise_db_range "$robust_snr");
            else args=(--rir_scp "$adir/test/rirs.scp"); fi
            want="seed=$aseed ${args[*]}"
            if params_done "$datadir/.done/aug_$(basename "$dst")" "$want"; then log "$dst already made"; continue; fi
            rm -rf "$dst"
            python -m dualasr.bin.augment apply --src "$src" --dst "$dst" --seed "$aseed" --purpose "test_$kind" --fs "$fs" "${args[@]}"
            made+=("$dst"); wants+=("$want")
          done
        done
      fi
      [ ${#made[@]} -eq 0 ] || utils/validate_data_dir.sh --sample-rate "$fs" "${made[@]}"
      for i in "${!made[@]}"; do  # marked done only once validated
        mark_params "$datadir/.done/aug_$(basename "${made[i]}")" "${wants[i]}"
      done
    done
  fi
fi

if run_stage 3 "features: ${n_mels}-dim fbank + CMVN stats into $dumpdir/fbank/org"; then
  todo=()
  for l in $langs; do
    for s in $(all_sets "$l"); do
      if is_done "$dumpdir/.done/feats_$s"; then
        have=$(cat "$dumpdir/fbank/org/$s/feats_dim" 2>/dev/null || echo "unknown (no feats_dim)")
        if [ "$have" != "$n_mels" ]; then
          log "$dumpdir/fbank/org/$s: features of dimension $have, not --n_mels $n_mels: remove $dumpdir and $expdir, or pass --force true"
          exit 1
        fi
        log "features of $s already done"
      else todo+=("$s"); fi
    done
  done
  if [ ${#todo[@]} -gt 0 ]; then
    # refuse to start when the features cannot fit (durations x 100 frames/s x n_mels x 4 bytes + a margin)
    python -m dualasr.bin.make_fbank --check_space "${todo[@]/#/$datadir/}" --out "$dumpdir" --n_mels "$n_mels"
    for s in "${todo[@]}"; do rm -rf "$dumpdir/fbank/org/$s"; mkdir -p "$dumpdir/fbank/org/$s"; done
    logdir=$dumpdir/fbank/org/log; mkdir -p "$logdir"
    # one job array for every set: job J takes every nj-th utterance of each set
    ${train_cmd} JOB=1:"$nj" "$logdir/fbank.JOB.log" python -m dualasr.bin.make_fbank \
      --data "${todo[@]/#/$datadir/}" --out "${todo[@]/#/$dumpdir/fbank/org/}" --nj "$nj" --job JOB --fs "$fs" --n_mels "$n_mels"
    python -m dualasr.bin.make_fbank --out "${todo[@]/#/$dumpdir/fbank/org/}" --nj "$nj" --merge
    for s in "${todo[@]}"; do
      for f in wav.scp utt2spk spk2utt text.surface text.meaning; do cp "$datadir/$s/$f" "$dumpdir/fbank/org/$s/$f"; done
      for f in text.canonical augmentation.json; do  # (the latter: how stage 2 made the audio, for the report)
        if [ -f "$datadir/$s/$f" ]; then cp "$datadir/$s/$f" "$dumpdir/fbank/org/$s/"; fi
      done
      mark_done "$dumpdir/.done/feats_$s"
    done
  fi
fi

if run_stage 4 "filter too-short (<$min_frames frames) and too-long (>$max_frames) utterances, and texts of more tokens than frames"; then
  for l in $langs; do
    for s in $(all_sets "$l"); do
      if is_done "$dumpdir/.done/filter_$s"; then log "filter of $s already done"; continue; fi
      if is_test_set "$s" "$l"; then
        # test sets are scored whole: never filtered (feats.scp points into fbank/org: no ark copies)
        rm -rf "$dumpdir/fbank/$s"; mkdir -p "$dumpdir/fbank/$s"
        find "$dumpdir/fbank/org/$s" -maxdepth 1 -type f ! -name '*.ark' -exec cp {} "$dumpdir/fbank/$s/" \;
      else
        python -m dualasr.bin.filter_data --src "$dumpdir/fbank/org/$s" --dst "$dumpdir/fbank/$s" \
          --min_frames "$min_frames" --max_frames "$max_frames" $(ttype_args) $(jamo "$l" && echo --decompose_hangul)
      fi
      mark_done "$dumpdir/.done/filter_$s"
    done
  done
fi

if run_stage 5 "tokenizers (surface $(ttype_of surface), meaning $(ttype_of meaning)): one token list per output"; then
  for l in $langs; do
    for o in surface meaning; do
      tdir=$(tokens_of "$l" "$o")
      if is_done "$datadir/.done/tokens_$(basename "$tdir")_$l"; then log "token list $tdir already done"; continue; fi
      python -m dualasr.bin.make_tokens --text "$dumpdir/fbank/$(train_name "$l")/text.$o" \
        --token_type "$(ttype_of "$o")" --vocab_size "$vocab_size" --out "$tdir" $(jamo "$l" && echo --decompose_hangul)
      mark_done "$datadir/.done/tokens_$(basename "$tdir")_$l"
    done
  done
fi

# ---- model stages ----
seed_list=${seeds:-$seed}
# A model's config.yaml records the paths it was given (CMVN stats, token lists, bpe models, data): they
# are passed absolute, so the model loads from any directory (analyses, report, inference).
abs() { case $1 in /*) echo "$1";; *) echo "$PWD/$1";; esac; }
# exp_name MODEL LANG SEED: one dir per trained model
exp_name() {
  if [ -n "$seeds" ]; then echo "${1}_$2_seed$3"; else echo "${1}_$2"; fi
}
lang_args() {  # lang_args LANG: the part of --lang_train_args for LANG
  local item IFS=','
  for item in $lang_train_args; do [ "${item%%:*}" = "$1" ] && echo "${item#*:}"; done; return 0
}
train_yaml() { if [ -n "$train_config" ]; then echo "$train_config"; else conf_path "train_${size}.yaml"; fi; }
# train_opt LANG KEY DEFAULT: a training option as the training gets it: the last --KEY of --train_args and
# --lang_train_args for LANG, else the config's top-level KEY, else DEFAULT (ESPnet's)
train_opt() {
  local v; v=$(echo " $train_args $(lang_args "$1") " | sed -n "s/.* --$2[ =]\([^ ]*\).*/\1/p")
  [ -n "$v" ] || v=$(sed -n "s/^$2: *\([^ #]*\).*/\1/p" "$(train_yaml)")
  echo "${v:-$3}"
}
# data_args PREFIX SET LANG OUTPUTS...: --{train,valid}_data_path_and_name_and_type for features + texts
data_args() {
  local prefix=$1 d; d=$(abs "$dumpdir/fbank/$2"); shift 3; local o
  echo "--${prefix}_data_path_and_name_and_type $d/feats.scp,speech,kaldi_ark"
  for o in "$@"; do echo "--${prefix}_data_path_and_name_and_type $d/text.$o,text_$o,text"; done
}
token_args() {  # token_args LANG OUTPUTS...: token lists (+ sentencepiece models, + jamo) of those outputs
  local l=$1 o; shift
  for o in "$@"; do
    echo "--token_list_$o $(abs "$(tokens_of "$l" "$o")")/tokens.txt"
    case "$(ttype_of "$o")" in bpe|unigram) echo "--bpemodel_$o $(abs "$(tokens_of "$l" "$o")")/bpe.model";; esac
  done
  if jamo "$l"; then echo "--decompose_hangul true"; fi
}

# feats_dim SET: the dimension of the features of a dumped set (stage 3 writes it, stage 4 keeps it)
feats_dim() {
  [ -s "$dumpdir/fbank/$1/feats_dim" ] || { log "$dumpdir/fbank/$1/feats_dim: missing; run stages 3-4 (features, filter)"; exit 1; }
  cat "$dumpdir/fbank/$1/feats_dim"
}

if run_stage 6 "collect stats (ESPnet collect_stats mode): shape files for batching"; then
  for l in $langs; do
    out=$expdir/stats_$l
    if is_done "$expdir/.done/stats_$l"; then log "stats of $l already done"; continue; fi
    tr=$(train_name "$l"); dv=$(set_name "$dev_set" "$l"); dim=$(feats_dim "$tr") || exit 1
    rm -rf "$out"; mkdir -p "$out/log"
    ${train_cmd} "$out/log/stats.log" python -m dualasr.bin.dual_asr_train --collect_stats true \
      --config "$(train_yaml)" --normalize none --token_type "$(echo $token_type | sed 's/unigram/bpe/')" $(ttype_args s/unigram/bpe/) \
      $(token_args "$l" surface meaning) \
      $(data_args train "$tr" "$l" surface meaning) $(data_args valid "$dv" "$l" surface meaning) \
      --train_shape_file "$dumpdir/fbank/$tr/feats_shape" --valid_shape_file "$dumpdir/fbank/$dv/feats_shape" \
      --input_size "$dim" --output_dir "$out"
    mark_done "$expdir/.done/stats_$l"
  done
fi

if run_stage 7 "train: $models (size $size, seeds ${seed_list})"; then
  # Distributed training goes through ESPnet's own code. One node: --multiprocessing_distributed true
  # (ESPnet spawns one process per GPU when ngpu > 1). Several nodes (or nproc_per_node set): the Slurm
  # job spans num_nodes nodes and utils/srun_ddp.sh starts the ranks in ESPnet's external-launcher mode.
  [ -n "$dist_backend" ] || if [ "$ngpu" -gt 0 ]; then dist_backend=nccl; else dist_backend=gloo; fi
  dist_args=(--ngpu "$ngpu" --multiprocessing_distributed true --dist_backend "$dist_backend")
  train_launch=(--num_threads "$train_threads"); train_prefix=()
  if [ "$num_nodes" -gt 1 ] || [ -n "$nproc_per_node" ]; then
    [ "${cmd_backend:-}" = slurm ] || { log "--num_nodes $num_nodes / --nproc_per_node '$nproc_per_node': needs cmd_backend=slurm"; exit 1; }
    nproc=${nproc_per_node:-$(( ngpu > 0 ? ngpu : 1 ))}
    train_launch=(--num_nodes "$num_nodes" --num_threads "$nproc"); train_prefix=(utils/srun_ddp.sh "$nproc")
    dist_args=(--ngpu "$(( ngpu > 0 ? 1 : 0 ))" --multiprocessing_distributed false --dist_backend "$dist_backend")
    log "distributed training: $num_nodes node(s) x $nproc rank(s), backend $dist_backend"
  fi
  # (model, seed, dir) to train: every model of --models per seed, and the CKA reference (--reference_seed)
  jobs=()
  for m in $models; do for s in $seed_list; do jobs+=("$m $s"); done; done
  [ -z "$reference_seed" ] || jobs+=("so_surface $reference_seed ref")
  job_dir() {  # job_dir LANG MODEL SEED REF
    if [ -n "$4" ]; then echo "$expdir/so_surface_${1}_refseed$3"; else echo "$expdir/$(exp_name "$2" "$1" "$3")"; fi
  }
  # Progress: beside each job, dualasr.bin.train_progress reads its train.log and prints an estimate of
  # the stage's remaining time (measured on the job's first steps), then a progress line a minute.
  epochs_of() { train_opt "$1" max_epoch 1; }  # epochs_of LANG
  frames_of() { awk -F'[ ,]' '{s += $2} END {print s + 0}' "$expdir/stats_$1/train/speech_shape"; }
  epochs_done() {  # epochs_done DIR: epochs a stopped job finished (ESPnet's latest.pth -> <N>epoch.pth), else 0
    local t; t=$(readlink "$1/latest.pth" 2>/dev/null || true); t=${t%epoch.pth}
    if [[ $t =~ ^[0-9]+$ ]]; then echo "$t"; else echo 0; fi
  }
  if [ "$train_jobs" = auto ]; then
    train_jobs=1
    [ "$ngpu" -gt 0 ] || [ "$num_nodes" -gt 1 ] || [ "$(( $(nproc) / train_threads ))" -lt 1 ] || \
      train_jobs=$(( $(nproc) / train_threads ))
  fi
  # queue: "cost lang model seed outputs epochs_left [ref]" of every job not yet trained, in training order.
  # Side by side (--train_jobs > 1) the longest jobs go first, so that the lanes end together: the cost is
  # the training frames x the epochs still to train (a stopped job resumes), a two-output model counted as
  # 1.4 SO models (as train_progress counts them). In the demo's first order (ko, then en) one lane ended
  # 2 min after the other.
  queue=(); pending=()  # pending: lang:outputs:epochs_left of each queued job, for the estimate
  for l in $langs; do
    for job in "${jobs[@]}"; do
      read -r m s ref <<< "$job"
      dir=$(job_dir "$l" "$m" "$s" "$ref")
      if is_done "$dir/.done_train"; then log "$dir already trained"; continue; fi
      n_out=$(eval "$(python -m dualasr.bin.model_kind "$(conf_path model_kinds.yaml)" "$m" --seed "$s" --shared_init "$shared_init")"; set -- $outputs; echo $#)
      left=$(( $(epochs_of "$l") - $(epochs_done "$dir") )); [ "$left" -ge 0 ] || left=0
      queue+=("$(( $(frames_of "$l") * left * (n_out > 1 ? 14 : 10) )) $l $m $s $n_out $left $ref")
    done
  done
  if [ "$train_jobs" -gt 1 ] && [ "${#queue[@]}" -gt 1 ]; then
    mapfile -t queue < <(printf '%s\n' "${queue[@]}" | sort -s -k1,1nr)
  fi
  for q in "${queue[@]}"; do read -r _ l m s n_out left ref <<< "$q"; pending+=("$l:$n_out:$left"); done
  [ "$train_jobs" -le 1 ] || [ "${#queue[@]}" -le 1 ] || log "training order, longest first: $(for q in "${queue[@]}"; do
    read -r _ l m s _ _ ref <<< "$q"; printf '%s ' "$(basename "$(job_dir "$l" "$m" "$s" "$ref")")"; done)"
  # train_one LANG TRAIN_SET DEV_SET MODEL SEED DIR [LATER...]: one training job, marked done when it finished
  # (uses outputs, model_conf_args and init_args as set for MODEL: a background job keeps its own copy)
  train_one() {
    local l=$1 tr=$2 dv=$3 m=$4 s=$5 dir=$6 shapes o progress_pid dim norm_args=(); shift 6
    dim=$(feats_dim "$tr") || exit 1
    # only global_mvn reads stage 3's CMVN stats, as in ESPnet's asr.sh (UtteranceMVN takes no stats_file)
    [ "$(train_opt "$l" normalize utterance_mvn)" != global_mvn ] || norm_args=(--normalize_conf stats_file="$(abs "$dumpdir/fbank/$tr/cmvn.npz")")
    local later=("$@")
    mkdir -p "$dir"
    shapes=""
    for o in speech $(for x in $outputs; do echo "text_$x"; done); do
      shapes+=" --train_shape_file $(abs "$expdir/stats_$l/train/${o}_shape") --valid_shape_file $(abs "$expdir/stats_$l/valid/${o}_shape")"
    done
    # a kill while ESPnet wrote its end-of-epoch files leaves them unreadable: repair before --resume
    [ ! -f "$dir/checkpoint.pth" ] || python -m dualasr.bin.repair_checkpoint "$dir"
    log "training $dir (outputs: $outputs; log: $dir/train.log)"
    [ "$(epochs_done "$dir")" = 0 ] || log "$dir: resuming after epoch $(epochs_done "$dir") of $(epochs_of "$l")"
    set -- $outputs
    python -m dualasr.bin.train_progress --dir "$dir" --pid $$ --frames "$(frames_of "$l")" --outputs $# --parallel "$train_jobs" \
      --later "${later[@]}" &
    progress_pid=$!
    # shellcheck disable=SC2086
    ${cuda_cmd} --gpu "$ngpu" "${train_launch[@]}" "$dir/train.log" "${train_prefix[@]}" python -m dualasr.bin.dual_asr_train \
      --config "$(train_yaml)" "${model_conf_args[@]}" --input_size "$dim" \
      "${norm_args[@]}" --token_type "$(echo $token_type | sed 's/unigram/bpe/')" $(ttype_args s/unigram/bpe/) $(token_args "$l" $outputs) \
      $(data_args train "$tr" "$l" $outputs) $(data_args valid "$dv" "$l" $outputs) $shapes \
      --seed "$s" "${init_args[@]}" "${dist_args[@]}" --resume true --output_dir "$dir" $train_args $(lang_args "$l")
    kill "$progress_pid" 2>/dev/null || true; wait "$progress_pid" 2>/dev/null || true
    [ -f "$dir/$inference_model" ] || { log "$dir/$inference_model missing after training"; exit 1; }
    mark_done "$dir/.done_train"
  }
  # reap_train_jobs: forget the background training jobs that ended, counting the failed ones
  reap_train_jobs() {
    local k pids=() dirs=()
    for k in "${!train_pids[@]}"; do
      if kill -0 "${train_pids[$k]}" 2>/dev/null; then pids+=("${train_pids[$k]}"); dirs+=("${train_dirs[$k]}"); continue; fi
      wait "${train_pids[$k]}" || { log "${train_dirs[$k]}: training failed"; train_failed=$(( train_failed + 1 )); }
    done
    train_pids=("${pids[@]}"); train_dirs=("${dirs[@]}")
  }
  train_pids=(); train_dirs=(); train_failed=0
  # kill_tree PID: TERM to a background job and everything it started. A TERM (or INT) sent to this script
  # alone would leave its background training jobs running: the traps below pass it on. (They stay in this
  # script's process group, so a signal to the group reaches them as well.)
  kill_tree() { local c; for c in $(pgrep -P "$1" || true); do kill_tree "$c"; done; kill -TERM "$1" 2>/dev/null || true; }
  stop_train_jobs() { local p; for p in "${train_pids[@]}"; do kill_tree "$p"; done; exit "$1"; }
  if [ "$train_jobs" -gt 1 ]; then
    trap 'stop_train_jobs 130' INT
    trap 'stop_train_jobs 143' TERM
    log "training $train_jobs jobs at a time ($train_threads thread(s) each)"
  fi
  for job_index in "${!queue[@]}"; do
    read -r _ l m s _ _ ref <<< "${queue[$job_index]}"
    tr=$(train_name "$l"); dv=$(set_name "$dev_set" "$l")
    # initial weights: from an init seed derived from (kind, seed), unless --shared_init true
    eval "$(python -m dualasr.bin.model_kind "$(conf_path model_kinds.yaml)" "$m" --seed "$s" --shared_init "$shared_init")"
    dir=$(job_dir "$l" "$m" "$s" "$ref")
    later=(); for j in "${pending[@]:$(( job_index + 1 ))}"; do
      IFS=: read -r jl jo je <<< "$j"; later+=("$jl:$jo:$(frames_of "$jl"):$je")
    done
    if [ "$train_jobs" -gt 1 ]; then
      while [ "${#train_pids[@]}" -ge "$train_jobs" ]; do reap_train_jobs; sleep 2; done
      train_one "$l" "$tr" "$dv" "$m" "$s" "$dir" "${later[@]}" &
      train_pids+=("$!"); train_dirs+=("$dir")
    else
      train_one "$l" "$tr" "$dv" "$m" "$s" "$dir" "${later[@]}"
    fi
  done
  while [ "${#train_pids[@]}" -gt 0 ]; do reap_train_jobs; sleep 2; done
  trap - INT TERM
  [ "$train_failed" = 0 ] || { log "training failed: $train_failed job(s) (see their train.log)"; exit 1; }
fi

if run_stage 8 "decode: each test set, model and output"; then
  decode_ngpu=$(( ngpu > 0 ? 1 : 0 ))  # one GPU per decoding job, whatever training used
  decode_conf=$(decode_conf)
  log "decode config: $decode_conf"
  # what a decode was made with: a decode of other settings is not taken as done (params_done says what to do).
  # The settings, not the file's bytes: a comment added to the config leaves finished decodes done.
  decode_want="decode settings $(python -m dualasr.bin.dual_asr_inference --print_settings --inference_config "$decode_conf"), model $inference_model${inference_args:+, args $inference_args}"
  for l in $langs; do
    for m in $models; do
      for s in $seed_list; do
        dir=$expdir/$(exp_name "$m" "$l" "$s")
        for t in $test_sets; do
          ts=$(set_name "$t" "$l"); ddir=$dir/decode_$ts
          if params_done "$ddir/.done_decode" "$decode_want"; then log "$ddir already decoded"; continue; fi
          # a decode left by a killed run resumes: each job skips the utterances it already wrote
          # (--force true starts over)
          if [ "$force" = true ]; then rm -rf "$ddir"; fi
          mkdir -p "$ddir/logdir"
          n=$(wc -l < "$dumpdir/fbank/$ts/feats.scp"); j=$(( nj < n ? nj : n ))
          for i in $(seq "$j"); do
            awk -v n="$j" -v i="$i" '(NR - 1) % n == i - 1 {print $1}' "$dumpdir/fbank/$ts/feats.scp" > "$ddir/logdir/keys.$i"
          done
          ${decode_cmd} --gpu "$decode_ngpu" JOB=1:"$j" "$ddir/logdir/decode.JOB.log" python -m dualasr.bin.dual_asr_inference \
            --config "$dir/config.yaml" --model_file "$dir/$inference_model" --ngpu "$decode_ngpu" \
            --inference_config "$decode_conf" $inference_args \
            --data "$dumpdir/fbank/$ts/feats.scp" --key_file "$ddir/logdir/keys.JOB" --output_dir "$ddir/logdir/output.JOB"
          # merge only when every job finished (each marks its output dir .done at its end)
          for i in $(seq "$j"); do
            [ -f "$ddir/logdir/output.$i/.done" ] || { log "$ddir: decode job $i did not finish (see $ddir/logdir/decode.$i.log)"; exit 1; }
          done
          for o in surface meaning; do
            [ -f "$ddir/logdir/output.1/text.$o" ] || continue
            cat $(seq -f "$ddir/logdir/output.%g/text.$o" "$j") | LC_ALL=C sort > "$ddir/.text.$o.tmp" && mv "$ddir/.text.$o.tmp" "$ddir/text.$o"
          done
          mark_params "$ddir/.done_decode" "$decode_want"
        done
      done
    done
  done
fi

if run_stage 9 "score: CER (WER for en, PER for phone tokens) per output, joint and each branch alone, MDD on the surface; exp/results.{json,md}"; then
  if [ -n "$mdd_lexicon" ] && [ ! -f "$mdd_lexicon" ]; then log "--mdd_lexicon $mdd_lexicon: no such file; no prompt-free MDD on phones"; fi
  for l in $langs; do
    # CTC-only and attention-only greedy decoding, one process per test set: the clean test sets only (the
    # branch table's; the robustness sets are scored by the joint decoding alone)
    for t in $clean_test_sets; do
      ts=$(set_name "$t" "$l"); todo=()
      for m in $models; do for s in $seed_list; do
        dir=$expdir/$(exp_name "$m" "$l" "$s")
        is_done "$dir/decode_$ts/.done_greedy" || todo+=(--model_dir "$dir")
      done; done
      [ ${#todo[@]} -gt 0 ] || { log "greedy decoding of $ts already done"; continue; }
      ${decode_cmd} "$expdir/greedy_$ts.log" python -m dualasr.bin.greedy_decode "${todo[@]}" \
        --data "$dumpdir/fbank/$ts/feats.scp" --inference_config "$(decode_conf)" \
        --inference_model "$inference_model"
      for ((i = 1; i < ${#todo[@]}; i += 2)); do mark_done "${todo[i]}/decode_$ts/.done_greedy"; done
    done
  done
  for l in $langs; do
    for m in $models; do
      for s in $seed_list; do
        dir=$expdir/$(exp_name "$m" "$l" "$s")
        for t in $test_sets; do
          ts=$(set_name "$t" "$l")
          modes="joint"; case " $clean_test_sets " in *" $t "*) modes="joint ctc_greedy att_greedy";; esac
          for mode in $modes; do
            if [ "$mode" = joint ]; then d=$dir/decode_$ts; else d=$dir/decode_$ts/$mode; fi
            python -m dualasr.bin.score --ref_dir "$dumpdir/fbank/$ts" --decode_dir "$d" --decode "$mode" \
              --lang "$l" --model "$m" $( [ -n "$seeds" ] && echo "--seed $s" ) $(ttype_args) \
              $( [ -f "$mdd_lexicon" ] && echo "--lexicon $mdd_lexicon" )
          done
        done
      done
    done
  done
  python -m dualasr.bin.results --expdir "$expdir"
  cat "$expdir/results.md"
fi

# ---- analysis stages: per language, on the first test set; they need so_surface, so_meaning and do ----
lang_set_args() { local l; for l in $langs; do echo "--lang_set $l=$(set_name "${test_sets%% *}" "$l")"; done; }
analysis_models_trained() {
  local m; for m in so_surface so_meaning do; do
    case " $models " in *" $m "*) ;; *) log "skipped: --models lacks $m (the analyses compare so_surface, so_meaning, do)"; return 1;; esac
  done
}

if run_stage 10 "divergence: DO - SO by edit distance in the surface's units (canonical-perceived or surface-meaning; $divergence_bins)"; then
  if is_done "$expdir/.done/divergence"; then log "divergence already done ($expdir/analysis/divergence)"
  elif analysis_models_trained; then
    python -m dualasr.bin.analyze_divergence --expdir "$expdir" --dumpdir "$dumpdir/fbank" $(lang_set_args) \
      --bins "$divergence_bins" --surface_token_type "$(ttype_of surface)" --outdir "$expdir/analysis/divergence"
    mark_done "$expdir/.done/divergence"
  fi
  for m in $models; do  # every other dual model (do_branch, do_hier, ...): its own bins, for the variants figure
    case $m in do_*) ;; *) continue;; esac
    if is_done "$expdir/.done/divergence_$m" || ! analysis_models_trained; then continue; fi
    python -m dualasr.bin.analyze_divergence --expdir "$expdir" --dumpdir "$dumpdir/fbank" $(lang_set_args) \
      --bins "$divergence_bins" --do_model "$m" --outdir "$expdir/analysis/divergence/models/$m"
    mark_done "$expdir/.done/divergence_$m"
  done
fi

if run_stage 11 "analysis: encoder CKA and cross-task decoders"; then
  if is_done "$expdir/.done/cka"; then log "encoder CKA already done ($expdir/analysis/cka)"
  elif analysis_models_trained; then
    python -m dualasr.bin.analyze_cka --expdir "$expdir" --dumpdir "$dumpdir/fbank" $(lang_set_args) \
      --max_utts "$analysis_max_utts" --subset_seed "$subset_seed" --inference_model "$inference_model" \
      --outdir "$expdir/analysis/cka"
    mark_done "$expdir/.done/cka"
  fi
  if is_done "$expdir/.done/cross_decoder"; then log "cross-decoder analysis already done ($expdir/analysis/cross_decoder)"
  elif analysis_models_trained; then
    python -m dualasr.bin.analyze_cross_decoder --expdir "$expdir" --dumpdir "$dumpdir/fbank" $(lang_set_args) \
      --max_utts "$swap_max_utts" --subset_seed "$subset_seed" --inference_model "$inference_model" \
      --inference_config "$(decode_conf)" $inference_args \
      --outdir "$expdir/analysis/cross_decoder"
    mark_done "$expdir/.done/cross_decoder"
  fi
fi

if run_stage 12 "report: tables, figures and README under $expdir/report"; then
  if is_done "$expdir/.done/report"; then
    log "report already done ($expdir/report/README.md)"
    awk '/^## /{n++} n==1' "$expdir/report/tables.md"; echo "Report: $expdir/report/README.md"
  else
    python -m dualasr.bin.report --expdir "$expdir" $(lang_set_args) --outdir "$expdir/report"
    mark_done "$expdir/.done/report"
  fi
fi

if run_stage 13 "pack: each model into $expdir/<model>_<lang>/packed/<model>_<lang>.zip"; then
  for l in $langs; do
    dirs=()
    for m in $models; do
      for s in $seed_list; do
        dir=$expdir/$(exp_name "$m" "$l" "$s")
        if is_done "$dir/.done_pack"; then log "$dir/packed already packed"; else dirs+=("$dir"); fi
      done
    done
    [ ${#dirs[@]} -gt 0 ] || continue
    python -m dualasr.bin.pack_model --lang "$l" --fs "$fs" --model_file "$inference_model" \
      --inference_config "$(decode_conf)" "${dirs[@]}"
    for dir in "${dirs[@]}"; do mark_done "$dir/.done_pack"; done
  done
fi

log "Finished stages ${stage}-${stop_stage}"
exit 0
}
