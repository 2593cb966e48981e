#!/usr/bin/env bash
# Distributed training under Slurm: start NPROC processes on every node of the current Slurm job
# with srun, each running COMMAND as one rank of one torch.distributed group.
#   utils/srun_ddp.sh NPROC COMMAND ...
# Runs inside a job submitted by utils/slurm.sh (dual_asr.sh stage 7 with --num_nodes K or
# --nproc_per_node P, cmd_backend=slurm). Each srun task maps Slurm's ids onto the env:// variables
# that ESPnet's trainer reads in its external-launcher mode (--multiprocessing_distributed false):
#   RANK=SLURM_PROCID  WORLD_SIZE=SLURM_NTASKS  LOCAL_RANK=SLURM_LOCALID (the GPU of the rank)
#   MASTER_ADDR=the job's first node  MASTER_PORT=20000 + job id mod 20000 (either may be preset)
# srun --label prefixes each output line with the rank ("0: ...", "1: ...").
# Why not ESPnet's --dist_launcher slurm: it needs one task per node (ESPnet then spawns one process per
# GPU itself), so it cannot run more than one rank per node on the CPU, which is how the tests run it.
set -euo pipefail
if [ -z "${DUALASR_SRUN_RANK:-}" ]; then
  [ $# -ge 2 ] || { echo "usage: $0 NPROC COMMAND ..." >&2; exit 1; }
  [ -n "${SLURM_JOB_ID:-}" ] || { echo "$0: not inside a Slurm job; distributed training over srun needs cmd_backend=slurm" >&2; exit 1; }
  nproc=$1; shift
  [[ "$nproc" =~ ^[1-9][0-9]*$ ]] || { echo "$0: NPROC must be a positive integer, got '$nproc'" >&2; exit 1; }
  # split the CPUs the job has per node among the node's processes (at least one each)
  cpus=$(( ${SLURM_CPUS_PER_TASK:-$nproc} / nproc )); [ "$cpus" -ge 1 ] || cpus=1
  export DUALASR_SRUN_RANK=1
  exec srun --nodes "${SLURM_JOB_NUM_NODES:-1}" --ntasks-per-node "$nproc" --cpus-per-task "$cpus" \
    --kill-on-bad-exit=1 --label --export=ALL "$0" "$@"
fi
export RANK=$SLURM_PROCID WORLD_SIZE=$SLURM_NTASKS LOCAL_RANK=$SLURM_LOCALID
export MASTER_ADDR=${MASTER_ADDR:-$(scontrol show hostnames "${SLURM_STEP_NODELIST:-$SLURM_JOB_NODELIST}" | head -n 1)}
export MASTER_PORT=${MASTER_PORT:-$(( 20000 + SLURM_JOB_ID % 20000 ))}
exec "$@"
