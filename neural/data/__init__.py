"""Datasets with ground-truth factors, generated on this machine (no downloads at run time)."""

from .base import FACTOR_KINDS, FactorDataset, SequenceDataset

__all__ = ["FACTOR_KINDS", "FactorDataset", "SequenceDataset"]
