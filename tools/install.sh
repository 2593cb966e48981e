#!/usr/bin/env bash
# Install dualasr's environment: a venv under tools/venv with the pinned stack, the dualasr
# package in editable mode, and espeak-ng from Debian. Idempotent: with everything present it
# only checks and returns in seconds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
venv=$here/venv
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

log() { echo "[install] $*" >&2; }

# 1. espeak-ng (Debian). Root installs it; anyone else is told what is missing.
if ! command -v espeak-ng >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    log "installing espeak-ng with apt-get"
    (apt-get install -y -qq espeak-ng >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq espeak-ng >/dev/null; }) \
      || { log "ERROR: apt-get could not install espeak-ng"; exit 1; }
  else
    log "ERROR: missing Debian package espeak-ng; run as root: apt-get install -y espeak-ng"
    exit 1
  fi
fi

# 2. the venv with the pinned stack. A stamp records the hash of pyproject.toml, so a changed
# dependency list reinstalls and an unchanged one is a no-op.
stamp=$venv/.dualasr-installed
want=$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c "import dualasr, espnet2" 2>/dev/null; then
  log "environment up to date ($venv)"
  exit 0
fi
[ -x "$venv/bin/python" ] || { log "creating $venv"; "$python" -m venv "$venv"; }
pip="$venv/bin/python -m pip --disable-pip-version-check -q"
# torch first, alone: the CUDA build is large, and the pin must win over any range that
# espnet's own requirements would otherwise resolve to.
if ! "$venv/bin/python" -c "import torch, torchaudio; assert torch.__version__.startswith('2.9.1')" 2>/dev/null; then
  log "installing torch 2.9.1 + torchaudio 2.9.1 (about 7 GB, a few minutes)"
  PIP_CONSTRAINT= $pip install torch==2.9.1 'torchaudio==2.9.1' 2>&1 | grep -v "is ignored: it is neither" || true
  "$venv/bin/python" -c "import torch, torchaudio" || { log "ERROR: torch/torchaudio did not install"; exit 1; }
fi
log "installing espnet and the dualasr package (editable)"
PIP_CONSTRAINT= $pip install -e "$root[dev]" 2>&1 | grep -v "is ignored: it is neither" || true
"$venv/bin/python" -c "import dualasr, espnet2, jiwer, kaldiio, sentencepiece, pyroomacoustics" \
  || { log "ERROR: the dualasr package or its dependencies did not install (see pip's messages above)"; exit 1; }
echo "$want" > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
log "done: source tools/activate.sh"
