"""Spread independent work over the machine's cores (parsing entries, rendering pages).

Workers are forked, so they share the already-loaded vocabularies, templates and catalogue
without pickling them; where fork is unavailable, or the work is small, it runs in-process.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_WORKER = 200


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_chunks(function: Callable[[T], R], items: Sequence[T], jobs: int | None = None) -> list[R]:
    """`[function(item) for item in items]`, in order, using up to `jobs` processes."""
    jobs = jobs or default_jobs()
    jobs = min(jobs, len(items) // MIN_ITEMS_PER_WORKER)
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return pool.map(function, items, chunksize=max(1, len(items) // (jobs * 8)))
