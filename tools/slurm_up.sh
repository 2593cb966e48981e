#!/usr/bin/env bash
# Install what the one-node Slurm test cluster needs (Debian slurm-wlm + munge, and a munge key).
# Idempotent: with everything present it only checks. CI runs it as root before the tests;
# tests/slurm_cluster.py then starts and stops the daemons itself, in a temp dir.
#
#   tools/slurm_up.sh           install / check
#   tools/slurm_up.sh --serve   also start a cluster in the foreground and print its SLURM_CONF,
#                               to try `utils/slurm.sh` by hand; Ctrl-C stops it
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "[slurm_up] $*" >&2; }
PATH=$PATH:/usr/sbin:/sbin

need=()
for exe in sbatch squeue sinfo scancel slurmctld slurmd; do command -v $exe >/dev/null || need+=(slurm-wlm); done
for exe in munged mungekey; do command -v $exe >/dev/null || need+=(munge); done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
  [ "$(id -u)" = 0 ] || { log "ERROR: missing Debian packages: $pkgs; run as root: apt-get install -y $pkgs"; exit 1; }
  log "installing $pkgs with apt-get"
  # shellcheck disable=SC2086
  (apt-get install -y -qq $pkgs >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq $pkgs >/dev/null; }) \
    || { log "ERROR: apt-get could not install $pkgs"; exit 1; }
fi
if [ ! -s /etc/munge/munge.key ]; then
  [ "$(id -u)" = 0 ] || { log "ERROR: no /etc/munge/munge.key; run as root: mungekey --create"; exit 1; }
  log "creating /etc/munge/munge.key"
  runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
fi
log "installed: slurm-wlm $(dpkg-query -W -f='${Version}' slurm-wlm 2>/dev/null || echo '?'), munge key present"

if [ "${1:-}" = --serve ]; then
  py=$root/tools/venv/bin/python
  [ -x "$py" ] || py=python3
  exec "$py" "$root/tests/slurm_cluster.py"
fi
