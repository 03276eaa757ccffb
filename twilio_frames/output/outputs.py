"""Writing outputs without ever leaving half a file under its final name.

A file is written to a hidden temporary name in the same folder and moved into place with
``os.replace`` only when it is complete; a folder is built as a hidden sibling and renamed
at the end. If anything fails (or Ctrl-C arrives) the temporary is removed and whatever was
at the final name before is untouched. An existing output is replaced only when asked.
Temporaries carry their writer's process id (:mod:`.leftovers`), so what a ``kill -9`` left
behind is removed by the next write into that folder, once that process is gone.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .leftovers import OWNER_FILE, clean_leftovers, owner_tag, write_owner

__all__ = ["MARKER_TEXT", "REPORT_MARKER", "atomic_file", "atomic_folder", "check_output"]

#: The file every report folder holds: ``overwrite=True`` replaces a folder only if it is
#: empty or holds this file, so a mistyped ``--out ~/Documents --overwrite`` deletes nothing.
REPORT_MARKER = ".twilio-frames-report"

#: What a marker file says to a person who finds it.
MARKER_TEXT = ("This folder was written by twilio-frames; '--overwrite' may replace it "
               "(a folder without this file is never replaced).\n")


def _unique(parent: Path, prefix: str, suffix: str, create) -> Path:
    """Create a new entry ``parent/prefix<random>suffix`` with ``create(path)``; retry on
    a name clash."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            create(path)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free temporary name in {parent}")


def _new_file(parent: Path, prefix: str, suffix: str) -> Path:
    """A new empty file with the mode an ordinary ``open`` gives (0666 less the umask:
    the kernel applies it, so the process-wide umask is never read or changed)."""
    def create(path: Path) -> None:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return _unique(parent, prefix, suffix, create)


def _new_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder with the mode an ordinary ``mkdir`` gives (0777 less the umask)."""
    return _unique(parent, prefix, "", lambda path: os.mkdir(path, 0o777))


def check_output(path: str | os.PathLike, *, folder: bool, overwrite: bool = False,
                 marker: str | None = None) -> Path:
    """Refuse an output path that exists (unless ``overwrite``) or has the wrong kind.

    Returns the path. Raises :class:`FileExistsError` when something is already there and
    ``overwrite`` is false, :class:`NotADirectoryError` / :class:`IsADirectoryError` when a
    folder is asked for where a file is (or the reverse); both are refused even with
    ``overwrite`` so a file is never swapped for a folder by accident. With ``marker`` (a
    file name), an existing folder is replaced only if it is empty or holds that marker
    file (it was written by us): ``--out ~/Documents --overwrite`` must not delete it.
    A parent folder that does not exist (it is not created), is not a folder
    (``afile/sub``) or cannot be written, and a dangling symbolic link at ``path``, raise
    the matching OSError, before any work is done.
    """
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise FileNotFoundError(errno.ENOENT, "dangling symbolic link (its target does "
                                "not exist)", str(path))
    _check_parent(path)
    if folder and path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is a file, not a folder")
    if not folder and path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists")
    if folder and marker and path.is_dir() and not (path / marker).is_file() and any(
            path.iterdir()):
        raise FileExistsError(f"{path} is not empty and is not a folder this program "
                              "wrote; refusing to replace it (give a new or empty folder)")
    return path


def _check_parent(path: Path) -> None:
    """Raise OSError unless ``path``'s parent is an existing folder we may write in: a
    missing folder is named, not created (a typo in ``--out`` must not make folders), and
    ``afile/sub`` is refused."""
    parent = ancestor = path.absolute().parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.is_dir() and ancestor != parent:
        raise FileNotFoundError(errno.ENOENT, "folder does not exist (create it first)",
                                str(path.parent))
    parent = ancestor
    if not parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(parent))


@contextmanager
def atomic_file(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it to ``path``.

    The temporary keeps ``path``'s extension (writers that look at it still work) and is
    hidden (``.name.XXXX.part.ext``). On any exception, KeyboardInterrupt included, it is
    deleted and ``path`` is left as it was.

    >>> with atomic_file("/tmp/out.csv", overwrite=True) as tmp:
    ...     _ = tmp.write_text("a,b\\n")
    """
    final = check_output(path, folder=False, overwrite=overwrite)
    clean_leftovers(final.parent)
    prefix = f".{final.stem}."
    with _blame_final(final, prefix):
        tmp = _new_file(final.parent, f"{prefix}{owner_tag()}.", f".part{final.suffix}")
        try:
            yield tmp
            check_output(final, folder=False, overwrite=overwrite)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)


@contextmanager
def atomic_folder(path: str | os.PathLike, *, overwrite: bool = False,
                  marker: str | None = None) -> Iterator[Path]:
    """Yield an empty hidden sibling folder; on success rename it to ``path``.

    With ``overwrite`` an existing folder at ``path`` is moved aside first and deleted only
    after the new one is in place. On any exception the half-built folder is removed and
    ``path`` is untouched. With ``marker`` (a file name) the new folder gets that small
    file (:data:`MARKER_TEXT`) and an existing folder is replaced only if it is empty or holds it (see
    :func:`check_output`).
    """
    final = check_output(path, folder=True, overwrite=overwrite, marker=marker)
    clean_leftovers(final.parent)
    with _blame_final(final, f".{final.name}."):
        tmp = _new_folder(final.parent, f".{final.name}.partial-{owner_tag()}-")
        try:
            write_owner(tmp)
            if marker:
                (tmp / marker).write_text(MARKER_TEXT, encoding="utf-8")
            yield tmp
            check_output(final, folder=True, overwrite=overwrite, marker=marker)
            _swap_in(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _blame_final(final: Path, prefix: str) -> Iterator[None]:
    """An OSError about one of our hidden temporaries (``<parent>/<prefix>...``) is
    re-raised naming ``final``: the user never asked for the temporary name."""
    hidden = str(final.parent / prefix)
    try:
        yield
    except OSError as exc:
        names = [n for n in (exc.filename, getattr(exc, "filename2", None)) if n]
        if not any(str(n).startswith(hidden) for n in names) or exc.errno is None:
            raise
        raise type(exc)(exc.errno, exc.strerror, str(final)) from None


def _swap_in(new: Path, final: Path) -> None:
    """Rename ``new`` to ``final``; an existing ``final`` is moved into a marked ``old``
    folder first (put back by the next run if a kill lands between the renames). The
    owner marker stays in ``new`` until it has its final name, so a kill at any point
    leaves only marked temporaries."""
    if not final.exists():
        os.rename(new, final)
    else:
        old = _new_folder(final.parent, f".{final.name}.old-{owner_tag()}-")
        write_owner(old)
        os.rename(final, old / final.name)
        try:
            os.rename(new, final)
        except BaseException:
            os.rename(old / final.name, final)
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    (final / OWNER_FILE).unlink(missing_ok=True)
