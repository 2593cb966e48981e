"""Kaldi-style data directories: reading, writing (atomically) and validating."""
