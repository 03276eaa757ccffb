"""Worker threads kept warm between fetches.

A fetch's scheduler (:func:`twilio_frames.fetch.scheduler.iter_chains`) used to start a
pool of threads and join them at the end: on a fetch of two pages (about 20 ms on
loopback) the two thread starts and joins took about 1 ms, each start waiting for the
GIL while the consumer converted records. :func:`borrow` hands out an idle pool of that
size from a previous fetch (or a new one) for one scheduler's sole use; :func:`give_back`
takes it back once every future the scheduler submitted has finished or been cancelled,
so a pool is never shared by two fetches at once and nothing of one fetch runs after it.
At most :data:`KEEP` idle pools of each size are kept; their threads wait on an empty
queue (no CPU) and end with the interpreter, as every ``ThreadPoolExecutor``'s do. A
forked child forgets its parent's idle pools (their threads did not come with it).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

__all__ = ["KEEP", "borrow", "give_back", "settle"]

#: Idle pools kept per number of workers (two fetches at once each find one warm).
KEEP = 2

_lock = threading.Lock()
_idle: dict[int, list[ThreadPoolExecutor]] = {}


def _forget_after_fork() -> None:
    """A forked child has none of its parent's threads: an idle pool it inherited would
    queue work that no thread ever runs (the fetch would hang), so it starts afresh."""
    global _lock
    _lock = threading.Lock()
    _idle.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def borrow(max_workers: int) -> ThreadPoolExecutor:
    """An idle pool of ``max_workers`` threads, for the caller alone until given back."""
    with _lock:
        pools = _idle.get(max_workers)
        if pools:
            return pools.pop()
    return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="twilio-frames")


def settle(futures: set[Future]) -> None:
    """Cancel the futures not started and wait for the running ones (the caller's share
    of ``shutdown(wait=True, cancel_futures=True)``)."""
    for future in list(futures):
        future.cancel()
    wait(list(futures))


def give_back(pool: ThreadPoolExecutor, max_workers: int) -> None:
    """Keep ``pool`` (its work all done: see :func:`settle`) for the next fetch, or shut
    it down when :data:`KEEP` of its size are already idle."""
    with _lock:
        pools = _idle.setdefault(max_workers, [])
        if len(pools) < KEEP:
            pools.append(pool)
            return
    pool.shutdown(wait=True)
