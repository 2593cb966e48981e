"""Dual-output (surface + meaning) ASR models on ESPnet parts."""

from dualasr.models.dual_model import DualASRModel

__all__ = ["DualASRModel"]
