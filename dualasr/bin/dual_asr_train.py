"""Train (or collect stats for) an SO/DO model with ESPnet's trainer: ``python -m dualasr.bin.dual_asr_train``.

Takes every option of ESPnet's ``asr_train`` that applies (``--config``, ``--ngpu``, ``--resume``,
``--collect_stats``, ``--multiprocessing_distributed``, ...) plus ``--token_list_{surface,meaning}``
and ``--model_conf outputs=[surface,meaning]``. ``--help`` lists them all.
"""

from dualasr.tasks.dual_asr import DualASRTask


def get_parser():
    return DualASRTask.get_parser()


def main(cmd=None):
    DualASRTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
