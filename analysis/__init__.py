"""analysis: sweeps, paper reproductions, baselines, plots, benchmarks and the ``lingauss`` CLI.

Imports :mod:`lingauss` (and :mod:`neural` where needed); nothing imports it back.
"""

from .protocol import Protocol
from .reproduction import PUBLISHED, Reproduction, reproduce
from .sweeps import sweep
from .table import SweepTable

__all__ = ["PUBLISHED", "Protocol", "Reproduction", "SweepTable", "reproduce", "sweep"]
