#!/usr/bin/env bash
# Slurm job launcher, Kaldi slurm.pl style:
#   utils/slurm.sh [--config conf/slurm.conf] [--num_threads N --mem X --gpu N --time T --max_jobs_run K] \
#       JOB=1:N log/x.JOB.log command ...
# Submits one sbatch array job and waits for it; see dualasr/slurm.py.
exec python -m dualasr.launcher --backend slurm "$@"
