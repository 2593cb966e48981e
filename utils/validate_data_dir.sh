#!/usr/bin/env bash
# Validate dual-transcription data dirs (wav.scp, utt2spk, spk2utt, text.surface, text.meaning).
# Usage: utils/validate_data_dir.sh [--no-audio] [--sample-rate 16000] data/train [data/dev ...]
exec python -m dualasr.bin.validate_data_dir "$@"
