# dualasr: the two commands are `make demo` and `make test`; both install what is missing first.
SHELL := /bin/bash
# Every model kind, the dual-output variants included: `make paper` trains these (--models "$(PAPER_MODELS)").
PAPER_MODELS := so_surface so_meaning do do_branch do_hier do_adapter do_pcgrad do_adv do_sparse
PY := tools/venv/bin/python
DEMO := egs/mini_l2/asr1
PYTEST_ARGS ?=

.PHONY: install demo paper test bench clean-demo

install:
	bash tools/install.sh

# The embedded corpus (ko + en, default size) end to end: data, features, SO/DO training, decoding,
# scoring, analyses and the report. Prints the main table and the report's path.
demo: install
	cd $(DEMO) && ./run.sh --size default --nj 2

# The paper's numbers: every model kind with seeds 1 2 3 (default size, ko + en) into exp_paper, so the
# CKA reference (so_surface seed 1 vs 2), mean ± sd and the paired bootstrap are in exp_paper/report.
# Shares data/ and dump/ with the demo. Not run in CI.
paper: install
	cd $(DEMO) && ./run.sh --size default --nj 2 --seeds "1 2 3" --expdir exp_paper --models "$(PAPER_MODELS)"

# The test suite (unit tests, corpus fixtures, a real one-node Slurm, CPU DDP, tiny recipe runs).
test: install
	bash tools/slurm_up.sh || echo "make test: no Slurm here; the Slurm tests will skip (CI fails on such skips)"
	$(PY) -m pytest tests $(PYTEST_ARGS)

# Speed ratios of SO and DO on the demo's trained models (run `make demo` first).
bench: install
	cd $(DEMO) && ../../../$(PY) -m dualasr.bin.bench --recipe_dir . --lang en
	cd $(DEMO) && ../../../$(PY) -m dualasr.bin.bench --recipe_dir . --lang ko
	cd $(DEMO) && ../../../$(PY) -m dualasr.bin.bench --recipe_dir . --lang en --no_train --decode_modes ctc_rescore --decode_batch_size 16

clean-demo:
	rm -rf $(DEMO)/data $(DEMO)/dump $(DEMO)/exp $(DEMO)/exp_paper $(DEMO)/wav
