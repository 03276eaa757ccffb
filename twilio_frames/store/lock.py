"""One sync at a time: the store's lock file, and what a killed sync leaves behind."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..errors import StoreError

__all__ = ["LOCK", "store_lock", "clean_leftovers"]

#: The lock file beside the marker (flock; a killed process releases it).
LOCK = "twilio-frames-store.lock"


@contextmanager
def store_lock(root):
    """Hold the store's lock for the ``with`` block, or refuse at once, naming the
    process that holds it (a lock of a killed process is free: ``flock`` dies with it)."""
    path = Path(root) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("ascii", "replace").strip() or "unknown"
            raise StoreError(f"another sync is writing this store ({holder}); wait for it "
                             "to finish, then sync again", path=root) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M:%S} UTC"
                  .encode(), 0)
        yield
    finally:
        os.close(fd)


def clean_leftovers(root: Path) -> None:
    """Remove half-written files of a killed sync (``.data.parquet.<pid>.<hex>.tmp``)."""
    for path in root.rglob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)
