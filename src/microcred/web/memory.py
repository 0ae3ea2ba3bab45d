"""The garbage collector in a serving process.

Everything made while the process starts (imported modules, settings, the app and its routes)
lives as long as the process, yet every full collection walks it again: with a page of 200
credentials, those pauses were most of the backpack's slow answers (bench/bench_backpack.py: p95
270 ms, median 77 ms; 92 ms p95 without them). Frozen, it is left out of every collection, and
reference counting still frees what requests make.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_objects"]


def freeze_startup_objects() -> None:
    """Call once, when the process has built its app and before it serves."""
    gc.collect()
    gc.freeze()
