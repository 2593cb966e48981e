# Job launchers of every parallel stage. One variable switches them all:
#   cmd_backend=local   run on this machine (utils/run.sh, Kaldi run.pl style)
#   cmd_backend=slurm   submit array jobs with sbatch (utils/slurm.sh, options mapped by conf/slurm.conf)
cmd_backend=${cmd_backend:-local}
case "$cmd_backend" in
  local)
    train_cmd="utils/run.sh"
    cuda_cmd="utils/run.sh"
    decode_cmd="utils/run.sh" ;;
  slurm)
    # the config: --config FILE, else $DUALASR_SLURM_CONFIG, else ./conf/slurm.conf, else the repo's conf/slurm.conf
    train_cmd="utils/slurm.sh"
    cuda_cmd="utils/slurm.sh"
    decode_cmd="utils/slurm.sh" ;;
  *) echo "cmd.sh: unknown cmd_backend=$cmd_backend (local or slurm)" >&2; return 1 ;;
esac
