"""Corpus-specific data preparation, one script per corpus.

Each script runs as ``python local/<corpus>.py --corpus_dir DIR --out_dir data`` and imports as
``local.<corpus>`` (tests, with the repo root on ``sys.path``).
"""
