# Sourced by every recipe (egs/<corpus>/asr1/path.sh links here): the repo root and the venv.
# readlink -f: a recipe dir elsewhere whose path.sh links here still finds the repo.
DUALASR_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
export DUALASR_ROOT
if [ ! -x "$DUALASR_ROOT/tools/venv/bin/python" ]; then
  echo "path.sh: $DUALASR_ROOT/tools/venv is missing; run: make -C $DUALASR_ROOT install" >&2
  return 1 2>/dev/null || exit 1
fi
export PATH="$DUALASR_ROOT/tools/venv/bin:$PATH"
# This checkout's dualasr wins over whatever the venv has installed (e.g. another work tree's).
export PYTHONPATH="$DUALASR_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUTF8=1 PYTHONIOENCODING=UTF-8
export LC_ALL=C.UTF-8
