"""Work done in forked workers (cnnt/system/parallel.py): a `Later` worker or a pool that is stuck is ended and
its work done by the caller; one that is busy, however long, is waited for."""
from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from cnnt.system import parallel

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods()
                                or not os.path.exists(f"/proc/{os.getpid()}/stat"),
                                reason="workers are forked, and their CPU time read from /proc")


def result_within(later: parallel.Later, seconds: float) -> tuple:
    """`later.result()`, failing the test if it has not come within `seconds` (rather than hanging)."""
    found: list = []
    waiter = threading.Thread(target=lambda: found.append(later.result()), daemon=True)
    waiter.start()
    waiter.join(seconds)
    assert found, f"no result within {seconds} s: the caller waits for a stuck worker"
    return found[0]


def test_a_worker_stuck_on_a_lock_another_thread_held_is_ended_and_the_work_done_by_the_caller():
    """As in the preview: a thread (its server, say) holds a lock when the worker is forked. The
    worker's copy of the lock stays held for ever, as the thread that held it is not in the worker."""
    lock, held, release = threading.Lock(), threading.Event(), threading.Event()

    def holder() -> None:
        with lock:
            held.set()
            release.wait()

    def doubled(number: int) -> tuple[int, int]:
        with lock:
            return number * 2, os.getpid()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait()
    later = parallel.Later(doubled, 21, stall=1.0)
    later.start(2)
    release.set()
    thread.join()
    assert result_within(later, 60) == (42, os.getpid()), "worked out by the caller"
    assert not multiprocessing.active_children(), "the stuck worker is ended"


def test_a_busy_worker_is_waited_for_however_long_it_takes():
    def doubled_slowly(number: int) -> tuple[int, int]:
        end = time.process_time() + 3 * 2.0  # three times as long as a worker may stall, all of it working
        while time.process_time() < end:
            pass
        return number * 2, os.getpid()

    later = parallel.Later(doubled_slowly, 21, stall=2.0)
    later.start(2)
    value, maker = result_within(later, 120)
    assert value == 42 and maker != os.getpid(), "made by the worker"
    assert not multiprocessing.active_children()


def test_a_worker_that_sleeps_past_the_stall_is_taken_for_stuck():
    parent = os.getpid()

    def doubled(number: int) -> tuple[int, int]:
        if os.getpid() != parent:
            time.sleep(600)  # no CPU time used: a worker waiting for ever looks like this
        return number * 2, os.getpid()

    later = parallel.Later(doubled, 21, stall=1.0)
    later.start(2)
    assert result_within(later, 60) == (42, parent)
    assert not multiprocessing.active_children()


def test_a_worker_that_does_not_exit_after_its_result_is_ended():
    """A child forked while another thread held stderr's lock hangs flushing it on its way out; here,
    a thread of the worker's own that never ends keeps it from exiting."""
    parent = os.getpid()

    def doubled(number: int) -> tuple[int, int]:
        if os.getpid() != parent:
            threading.Thread(target=time.sleep, args=(600,)).start()  # joined on exit: for ever
        return number * 2, os.getpid()

    later = parallel.Later(doubled, 21, stall=1.0)
    later.start(2)
    value, maker = result_within(later, 60)
    assert value == 42 and maker != parent, "the worker's result is used"
    assert not multiprocessing.active_children(), "and the worker ended"


def within(seconds: float, work):
    """`work()`, failing the test if it has not returned within `seconds` (rather than hanging)."""
    found: list = []
    waiter = threading.Thread(target=lambda: found.append(work()), daemon=True)
    waiter.start()
    waiter.join(seconds)
    assert found, f"no result within {seconds} s: the caller waits for stuck workers"
    return found[0]


# Pools pickle their function by name: these live at the module's top.
LOCK = threading.Lock()
PARENT = os.getpid()


def doubled_unless_three(number: int) -> tuple[int, int]:
    if number == 3:
        with LOCK:  # in a worker forked while another thread held it: held for ever
            pass
    return number * 2, os.getpid()


def doubled_here_only(number: int) -> tuple[int, int]:
    if os.getpid() != PARENT:
        time.sleep(600)  # no CPU time used: workers waiting for ever look like this
    return number * 2, os.getpid()


def doubled_slowly(number: int) -> tuple[int, int]:
    end = time.process_time() + 1.5  # longer than a worker may stall, all of it working
    while time.process_time() < end:
        pass
    return number * 2, os.getpid()


def test_pool_workers_stuck_on_a_lock_are_ended_and_their_items_done_by_the_caller():
    """The pools that render pages, sign them and draw link previews, as the preview forks them while
    its server thread holds a lock: the items a stuck worker had are worked out by the caller, the
    others keep the workers' results, and no worker is left."""
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with LOCK:
            held.set()
            release.wait()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait()
    try:
        coming = parallel.imap_unordered(doubled_unless_three, range(8), 2, stall=1.0)
        results = [within(60, lambda: next(coming))]  # the workers were forked while the lock was held
    finally:
        release.set()  # the thread lets go of it: here, not in the workers
        thread.join()
    results += within(60, lambda: list(coming))
    assert sorted(value for value, _ in results) == [number * 2 for number in range(8)]
    makers = {value // 2: maker for value, maker in results}
    assert makers[3] == PARENT and any(maker != PARENT for maker in makers.values())
    assert not multiprocessing.active_children(), "the stuck workers are ended"


def test_a_stuck_map_is_worked_out_by_the_caller_in_order(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 2)
    results = within(60, lambda: parallel.map_chunks(doubled_here_only, list(range(10)), 2, stall=1.0))
    assert results == [(number * 2, PARENT) for number in range(10)]
    assert not multiprocessing.active_children()


def test_busy_pool_workers_are_waited_for_however_long_they_take(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 2)
    results = within(120, lambda: parallel.map_chunks(doubled_slowly, [1, 2, 3, 4], 2, stall=1.0))
    assert [value for value, _ in results] == [2, 4, 6, 8] and all(maker != PARENT for _, maker in results)
    found = within(120, lambda: list(parallel.imap_unordered(doubled_slowly, [1, 2, 3, 4], 2, stall=1.0)))
    assert sorted(value for value, _ in found) == [2, 4, 6, 8] and all(maker != PARENT for _, maker in found)
    assert not multiprocessing.active_children()
