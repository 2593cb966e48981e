# dualasr: the two commands are `make demo` and `make test`; both install what is missing first.
SHELL := /bin/bash
# Every model kind, the dual-output variants included: `make paper` trains these (--models "$(PAPER_MODELS)").
PAPER_MODELS := so_surface so_meaning do do_branch do_hier do_adapter do_pcgrad do_adv do_sparse
PY := tools/venv/bin/python
DEMO := egs/mini_l2/asr1
PYTEST_ARGS ?=

.PHONY: install demo demo-aug paper variants test bench bench-gpu clean-demo

install:
	bash tools/install.sh

# The embedded corpus (ko + en, default size) end to end: data, features, SO/DO training, decoding,
# scoring, analyses and the report. Prints the main table and the report's path.
# The demo trains the paper's three kinds; `make variants` adds do_branch and the other variants.
DEMO_MODELS := so_surface so_meaning do
demo: install
	cd $(DEMO) && ./run.sh --size default --nj 2 --models "$(DEMO_MODELS)"

# The demo's models trained on noise- and reverberation-augmented audio (stage 2: simulated rooms and
# recipe-made noises), into exp_aug; the same data, test sets (clean, _noisy, _reverb), config and seed as
# make demo, which shares data/ and dump/ with it. Each epoch holds every clean training utterance and one
# augmented copy of it (reverberated and/or given noise, with probability 0.8 each): twice the demo's
# utterances an epoch, so half the demo's epochs (ko 9 -> 5, en 11 -> 6) keep about its number of
# training steps (its training ran 1.3 x the demo's on one machine: README, "Results"). Its report is
# copied to docs/demo_aug.
demo-aug: install
	cd $(DEMO) && ./run.sh --size default --nj 2 --models "$(DEMO_MODELS)" --expdir exp_aug \
	  --augment_rir true --augment_noise true --rir_apply_prob 0.8 --noise_apply_prob 0.8 \
	  --augment_keep_clean true --lang_train_args "ko:--max_epoch 5,en:--max_epoch 6"
	rm -rf docs/demo_aug.tmp && cp -r $(DEMO)/exp_aug/report docs/demo_aug.tmp && rm -rf docs/demo_aug && \
	  mv docs/demo_aug.tmp docs/demo_aug

# The paper's numbers: every model kind with seeds 1 2 3 (default size, ko + en) into exp_paper, so the
# CKA reference (so_surface seed 1 vs 2), mean ± sd and the paired bootstrap are in exp_paper/report.
# Shares data/ and dump/ with the demo. Not run in CI.
paper: install
	cd $(DEMO) && ./run.sh --size default --nj 2 --seeds "1 2 3" --expdir exp_paper --models "$(PAPER_MODELS)"

# Every dual-output variant at the demo's size, in English, beside the demo's own SO and DO models
# (copied from exp/: the same data, config and seed, so they are not trained twice) in exp_variants;
# its report is copied to docs/variants. Run `make demo` first.
VARIANT_LANG := en
variants: install
	@for m in $(DEMO_MODELS); do test -f $(DEMO)/exp/$${m}_$(VARIANT_LANG)/.done_train || \
	  { echo "make variants: $(DEMO)/exp/$${m}_$(VARIANT_LANG) is not trained: run make demo first" >&2; exit 1; }; done
	mkdir -p $(DEMO)/exp_variants
	for d in stats_$(VARIANT_LANG) $(foreach m,$(DEMO_MODELS),$(m)_$(VARIANT_LANG)); do \
	  test -e $(DEMO)/exp_variants/$$d || cp -a $(DEMO)/exp/$$d $(DEMO)/exp_variants/$$d; done
	cd $(DEMO) && ./run.sh --size default --nj 2 --langs $(VARIANT_LANG) --stage 7 --expdir exp_variants \
	  --models "$(PAPER_MODELS)"
	rm -rf docs/variants.tmp && cp -r $(DEMO)/exp_variants/report docs/variants.tmp && rm -rf docs/variants && \
	  mv docs/variants.tmp docs/variants

# The test suite (unit tests, corpus fixtures, a real one-node Slurm, CPU DDP, tiny recipe runs).
test: install
	bash tools/slurm_up.sh || echo "make test: no Slurm here; the Slurm tests will skip (CI fails on such skips)"
	$(PY) -m pytest tests $(PYTEST_ARGS)

# Speed ratios of SO and DO on the demo's trained models (run `make demo` first).
bench: install
	cd $(DEMO) && ../../../$(PY) -m dualasr.bin.bench --recipe_dir . --lang en
	cd $(DEMO) && ../../../$(PY) -m dualasr.bin.bench --recipe_dir . --lang ko
	cd $(DEMO) && ../../../$(PY) -m dualasr.bin.bench --recipe_dir . --lang en --no_train --decode_modes joint_batch ctc_rescore --decode_batch_size 1

# on one GPU, after make demo: paper-scale training throughput (fp32, bf16), and batched joint decoding
bench-gpu: install
	cd $(DEMO) && ../../../$(PY) -m dualasr.bin.bench --recipe_dir . --lang en --ngpu 1 \
	  --train_config ../../../conf/train_paper.yaml --steps 6 --repeats 2 --train_batches 2 \
	  --decode_modes joint_batch ctc_rescore --decode_batch_size 200

clean-demo:
	rm -rf $(DEMO)/data $(DEMO)/dump $(DEMO)/exp $(DEMO)/exp_aug $(DEMO)/exp_paper $(DEMO)/exp_variants $(DEMO)/wav
