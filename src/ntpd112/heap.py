"""The garbage collector's view of a started process."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Keep what start-up built (modules, classes, SQLAlchemy's mappings and compiled statements, Pydantic's
    validators: some 140,000 objects) out of every later full collection. Otherwise each full collection walks them
    all: 80-280 ms on this machine, landing inside whatever request allocated last (the wallboard's read every eighth
    time or so, found with gc.callbacks; docs/BENCHMARKS.md). Collected first so that no garbage is frozen with
    them; what start-up built and later drops is not collected again, a price start-up objects rarely pay."""
    gc.collect()
    gc.freeze()
