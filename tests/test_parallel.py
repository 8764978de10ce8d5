"""Work done in forked workers (cnnt/system/parallel.py): a `Later` worker that is stuck is ended and
its work done by the caller; one that is busy, however long, is waited for."""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
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


def _own_pid(_: int) -> int:
    time.sleep(0.001)  # long enough for every worker of the pool to be handed some
    return os.getpid()


def test_a_pool_never_has_more_than_two_workers_a_core(monkeypatch):
    """`--jobs 1000` forked a worker for each of the sample's 438 pages (7.2 s against 2.3 s), and
    would have forked 1,000 of a 400 MB build at 10k products."""
    monkeypatch.setattr(parallel, "default_jobs", lambda: 1)  # a one-core machine: at most two
    pids = set(parallel.imap_unordered(_own_pid, range(400), 1000))
    assert len(pids) == 2 and os.getpid() not in pids
    assert all(len(run) > 1 for run in parallel.chunks(400, 1000))  # runs sized for two workers, not 1,000


_PARENT = os.getpid()


def _dies_in_a_worker(item: int) -> int:
    """Item 5 ends the worker that has it, as the kernel ends one when memory runs out."""
    if item == 5 and os.getpid() != _PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return item * 10


@pytest.mark.parametrize("way", ["imap_unordered", "map_chunks"])
def test_a_worker_that_dies_leaves_its_tasks_to_the_caller_who_says_so(way, capsys):
    """The pool started another worker and never sent the dead one's task again: the build waited
    for ever (a deploy on a small runner, its memory gone, would have hung until the runner's
    time ran out)."""
    items = list(range(40))
    started = time.monotonic()
    if way == "imap_unordered":
        results = sorted(parallel.imap_unordered(_dies_in_a_worker, items, 2))
    else:
        results = parallel.map_chunks(_dies_in_a_worker, items * 10, 2)[:40]
    assert results == [item * 10 for item in items]
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert "một tiến trình phụ đã dừng đột ngột (signal 9" in err
    assert "a worker process ended unexpectedly (signal 9; perhaps out of memory)" in err


def _resident_mb() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError):
        return False


@pytest.mark.skipif(not _glibc(), reason="what is given back is glibc's (malloc_trim)")
def test_memory_let_go_is_given_back_to_the_system():
    """Objects freed amid others still held leave holes the C allocator keeps: a build that has let
    go of its cards still counted them, and every worker forked after it too. `give_back_memory`
    returns them (glibc; elsewhere it does nothing)."""
    freed, held = [], []
    for number in range(100_000):  # 60 MB of them, each larger than Python's own small-object blocks
        freed.append(bytes(600) + number.to_bytes(4, "big"))
        if number % 50 == 0:
            held.append(bytes(1000 + number % 7))
    before = _resident_mb()
    del freed
    still = _resident_mb()
    parallel.give_back_memory()
    assert still > before - 20 and _resident_mb() < still - 30, (before, still, _resident_mb())
    assert len(held) == 2000


class DiesWhenPickledInAWorker:
    """Pickled (sent back) by a worker, it ends that worker: its answer stops part way."""

    def __init__(self, parent: int) -> None:
        self.parent = parent

    def __reduce__(self):
        if os.getpid() != self.parent:
            os._exit(9)
        return (DiesWhenPickledInAWorker, (self.parent,))


def test_a_worker_that_dies_part_way_through_its_answer_leaves_the_work_to_the_caller():
    parent = os.getpid()

    def made() -> tuple[list[bytes], object, int]:
        # a megabyte of frames reaches the caller before the worker dies
        return [os.urandom(1024) for _ in range(1024)], DiesWhenPickledInAWorker(parent), os.getpid()

    later = parallel.Later(made)
    assert later.start(2)
    blocks, _, maker = result_within(later, 60)
    assert maker == parent and len(blocks) == 1024, "made again by the caller"
    assert not multiprocessing.active_children()


def test_a_worker_sends_its_answer_as_it_is_pickled_never_whole(tmp_path):
    """`_work_later` pickles its answer into the pipe a frame at a time, never into one bytes object
    of the whole (the search worker's answer is some 35 MB at 50,000 products). It arrives whole."""
    import tracemalloc
    answer = [os.urandom(256) + bytes(number) for number in range(40_000)]  # some 20 MB
    size = sum(len(part) for part in answer)
    reader_end, writer_end = multiprocessing.Pipe(duplex=False)
    copy = tmp_path / "sent"

    def read_into_a_file() -> None:  # a few kilobytes at a time: what this thread holds stays small
        with open(copy, "wb") as stream:
            while chunk := os.read(reader_end.fileno(), 1 << 16):
                stream.write(chunk)

    reading = threading.Thread(target=read_into_a_file, daemon=True)
    reading.start()
    tracemalloc.start()
    try:
        parallel._work_later(writer_end, lambda: answer, ())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    writer_end.close()
    reading.join(60)
    reader_end.close()
    with open(copy, "rb") as stream:
        assert pickle.load(stream) == (answer,)
    assert peak < size / 20, (peak, size)
