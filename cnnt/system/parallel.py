"""Spread independent work over the machine's cores (parsing entries, rendering pages), and do one
piece of work in a worker while the caller goes on (`Later`: the open-data files).

Workers are forked, so they share the already-loaded vocabularies, templates and catalogue
without pickling them; where fork is unavailable, or the work is small, it runs in-process. A
worker that dies leaves its work to the caller, in a pool (`_watched`) as in a `Later`.
"""
from __future__ import annotations

import ctypes
import gc
import multiprocessing
import multiprocessing.pool
import multiprocessing.process
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Generic, TypeVar

from ..content.errors import counted

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_WORKER = 200
BATCH_GC_THRESHOLDS = (50_000, 50, 1000)  # see `batch_memory`
STALL_SECONDS = 60.0  # a `Later` worker that uses no CPU time for this long is taken to be stuck
EXIT_SECONDS = 5.0  # how long a `Later` worker that has sent its result is given to exit


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# More workers than this a core gain nothing on work that keeps a core busy, and each one forked
# shares (and copies, as it touches it) the build's memory: `--jobs 1000` forked 438 workers for the
# sample's 438 pages (7.2 s against 2.3 s), and would have forked 1,000 of a 400 MB build at 10k.
WORKERS_PER_CORE = 2


def most_jobs() -> int:
    """The most worker processes a pool is given, whatever `jobs` asks."""
    return default_jobs() * WORKERS_PER_CORE


@contextmanager
def batch_memory():
    """Tune the garbage collector for a build: it allocates hundreds of thousands of small,
    long-lived objects, and frequent full collections (which rescan all of them) cost about a
    quarter of the load stage at 10k products. Cycles are still collected, just less often.
    The preview holds its whole site between edits: there, with the default thresholds, full
    collections took 0.6 to 1.4 s of each rename at 10k products."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


_LIBC: Any = None


def give_back_memory() -> None:
    """Hand the free memory inside the C allocator's heap back to the system (glibc's `malloc_trim`),
    where there is that allocator. Python frees most objects into holes of the heap, which it keeps:
    a build that has let go of what it held keeps counting it, and workers forked from it start
    with it."""
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else False
    trim = getattr(_LIBC, "malloc_trim", None) if _LIBC else None
    if trim is not None:
        trim(0)


def chunks(total: int, jobs: int | None = None) -> list[range]:
    """Split `range(total)` into pieces small enough to keep every worker busy to the end."""
    jobs = min(jobs or default_jobs(), most_jobs())
    size = max(1, min(200, total // (jobs * 8) or 1))
    return [range(start, min(start + size, total)) for start in range(0, total, size)]


@contextmanager
def worker_pool(jobs: int) -> Iterator[multiprocessing.pool.Pool | None]:
    """Forked workers when `jobs` > 1 and the platform can fork, else None (work in-process).

    Objects alive before the fork are frozen out of collection, so workers never rescan (and
    thereby copy) the parent's whole heap page by page. At most `most_jobs()`."""
    jobs = min(jobs, most_jobs())
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield pool
    finally:
        gc.unfreeze()


def imap_unordered(function: Callable[[T], R], items: Sequence[T], jobs: int | None = None) -> Iterator[R]:
    """Results of `function` over `items` as they come, from worker processes when that pays."""
    with imap_started(function, items, jobs) as results:
        yield from results


@contextmanager
def imap_started(function: Callable[[T], R], items: Sequence[T], jobs: int | None = None) -> Iterator[Iterator[R]]:
    """`imap_unordered`, the workers at work from the start of the block while the caller does
    something else; the results, read within it, come as they are done. In-process (one job), the
    work is done as they are read."""
    with worker_pool(min(jobs or default_jobs(), len(items))) as pool:
        yield _watched(pool, function, items) if pool else map(function, items)


def map_chunks(function: Callable[[T], R], items: Sequence[T], jobs: int | None = None) -> list[R]:
    """`[function(item) for item in items]`, in order, using up to `jobs` processes (each task a
    run of items: one item each, passing the tasks and their answers would cost more)."""
    jobs = _workers_for(len(items), jobs)
    with worker_pool(jobs) as pool:
        if pool is None:
            return [function(item) for item in items]
        size = max(1, len(items) // (jobs * 8))
        runs = [list(items[start:start + size]) for start in range(0, len(items), size)]
        done = dict(_watched(pool, _run_of, [(function, run) for run in runs], indexed=True))
        return [result for index in range(len(runs)) for result in done[index]]


def _run_of(job: tuple[Callable[[T], R], list[T]]) -> list[R]:
    function, run = job
    return [function(item) for item in run]


POLL_SECONDS = 1.0  # how often a pool's caller, waiting for results, looks whether a worker has died


def _watched(pool: multiprocessing.pool.Pool, function: Callable[[T], R], items: Sequence[T],
             indexed: bool = False) -> Iterator[Any]:
    """`pool.imap_unordered(function, items)`, but a worker that dies (the kernel ends one when
    memory runs out) does not leave the caller waiting for ever for the task it had: the pool would
    start another worker and never send that task again. The caller then ends the pool, says so,
    and does every task not yet done itself. `indexed`: (index of the item, result) pairs. The tasks
    are handed to the pool at once, not when the first result is asked for (see `imap_started`)."""
    results = pool.imap_unordered(_indexed, [(function, index, item) for index, item in enumerate(items)])
    return _gathered(pool, results, function, items, indexed)


def _gathered(pool: multiprocessing.pool.Pool, results: multiprocessing.pool.IMapIterator,
              function: Callable[[T], R], items: Sequence[T], indexed: bool) -> Iterator[Any]:
    left = set(range(len(items)))
    workers = set(pool._pool)  # type: ignore[attr-defined]  # the pool's processes (it replaces dead ones)
    while left:
        try:
            index, result = results.next(timeout=POLL_SECONDS)
        except multiprocessing.TimeoutError:
            workers.update(pool._pool)  # type: ignore[attr-defined]
            dead = [worker for worker in workers if worker.exitcode not in (None, 0)]
            if dead:
                pool.terminate()
                _say_worker_died(dead[0].exitcode, len(left))
                break
            continue
        left.discard(index)
        yield (index, result) if indexed else result
    for index in sorted(left):
        yield (index, function(items[index])) if indexed else function(items[index])


def _indexed(job: tuple[Callable[[T], R], int, T]) -> tuple[int, R]:
    function, index, item = job
    return index, function(item)


def _say_worker_died(exitcode: int | None, left: int) -> None:
    signal = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
    print(f"cảnh báo · warning: một tiến trình phụ đã dừng đột ngột ({signal}; có thể do hết bộ nhớ), "
          f"{left} phần việc còn lại được làm trong tiến trình chính | a worker process ended unexpectedly "
          f"({signal}; perhaps out of memory): {counted(left, 'task')} left, done in the main process", file=sys.stderr)


def imap_runs(function: Callable[[list[T]], R], items: Sequence[T], jobs: int | None = None) -> Iterator[R]:
    """`function` of each run of `items` (see `chunks`), the results as they come, from as many
    processes as `map_chunks` would use: for answers that are large, used one by one rather than
    all held at once (the QR codes of a first build)."""
    runs = [list(items[run.start:run.stop]) for run in chunks(len(items), jobs)]
    yield from imap_unordered(function, runs, max(1, _workers_for(len(items), jobs)))


def _workers_for(count: int, jobs: int | None) -> int:
    """Processes for `count` items: none beside the caller's when there are too few to pay for them."""
    return min(jobs or default_jobs(), most_jobs(), count // MIN_ITEMS_PER_WORKER)


class Later(Generic[R]):
    """`function(*args)`, worked out in a forked worker while the caller goes on (once `start`ed), or
    in-process when first asked for. A worker that fails, dies or is stuck leaves the work to the
    caller, so its error, if it has one, is raised where the caller's own would be. Used as a
    context, it ends the worker on the way out.

    Stuck: a child forked while another thread of the caller held a lock (the preview forks from a
    process that also runs its server and watcher) can wait for that lock for ever, as no thread of
    its own will release it. A worker that has used no CPU time for `stall` seconds is ended."""

    def __init__(self, function: Callable[..., R], *args: Any, stall: float = STALL_SECONDS) -> None:
        self._function, self._args, self._stall = function, args, stall
        self._worker: multiprocessing.process.BaseProcess | None = None
        self._pipe: Any = None  # the parent's end of a multiprocessing Pipe, while a worker runs
        self._done: list[R] = []

    def start(self, jobs: int | None = None) -> bool:
        """Fork the worker, if `jobs` allows a second process and the platform can fork; say whether it
        did. Objects alive before the fork are frozen out of its collections (see `worker_pool`)."""
        if (jobs or default_jobs()) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return False
        context = multiprocessing.get_context("fork")
        self._pipe, child_end = context.Pipe(duplex=False)
        gc.freeze()
        try:
            self._worker = context.Process(target=_work_later, args=(child_end, self._function, self._args),
                                           daemon=True)
            self._worker.start()
        finally:
            gc.unfreeze()
        child_end.close()
        return True

    def result(self) -> R:
        if not self._done:
            sent = self._received()
            self._done.append(sent[0] if sent else self._function(*self._args))
        return self._done[0]

    def _received(self) -> tuple[R] | None:
        """The worker's result, None if it has none to give (not started, failed, died or stuck)."""
        if self._worker is None:
            return None
        if not self._heard_from():
            self.stop()
            return None
        try:  # (read as it comes: see `_work_later`)
            with open(self._pipe.fileno(), "rb", closefd=False) as stream:
                sent: tuple[R] | None = pickle.load(stream)
        except Exception:  # it died without a word, or part way through its answer
            sent = None
        self.stop(finished=True)
        return sent if isinstance(sent, tuple) and len(sent) == 1 else None

    def _heard_from(self) -> bool:
        """Wait until the worker sends its result or ends; False if it is stuck (see the class)."""
        assert self._worker is not None and self._worker.pid is not None, "started"
        pid, used = self._worker.pid, _cpu_ticks(self._worker.pid)
        since = time.monotonic()
        while not self._pipe.poll(min(1.0, self._stall)):
            now_used = _cpu_ticks(pid)
            if now_used is None or now_used != used:  # working (or this system cannot say)
                used, since = now_used, time.monotonic()
            elif time.monotonic() - since >= self._stall:
                return False
        return True

    def stop(self, finished: bool = False) -> None:
        """End the worker, if there is one: give it a moment to exit when it has `finished` (sent its
        result), else end it where it is. (It may not exit by itself: a child forked while another
        thread held the lock of stderr hangs when it flushes it on its way out.)"""
        if self._worker is None:
            return
        if finished:
            self._worker.join(EXIT_SECONDS)
        if self._worker.is_alive():
            self._worker.terminate()
        self._worker.join()
        self._pipe.close()
        self._worker = None

    def __enter__(self) -> Later[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _cpu_ticks(pid: int) -> int | None:
    """The CPU time a process has used, in clock ticks (Linux's /proc); None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            fields = stream.read().rpartition(b")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime and stime, the 14th and 15th fields
    except (OSError, ValueError, IndexError):
        return None


def _work_later(pipe: Any, function: Callable[..., R], args: tuple) -> None:
    try:
        sent: tuple[R] | None = (function(*args),)
    except BaseException:  # the caller works it out again, and raises the error itself
        sent = None
    # Pickled into the pipe as it goes, a frame at a time: `Connection.send` pickles the whole answer
    # into one bytes object first, and the search data's is some 35 MB at 50,000 products, sent by the
    # worker that is the largest process of a build after an edit.
    with suppress(OSError), open(pipe.fileno(), "wb", closefd=False) as stream:  # (OSError: the caller has gone)
        pickle.dump(sent, stream, pickle.HIGHEST_PROTOCOL)
