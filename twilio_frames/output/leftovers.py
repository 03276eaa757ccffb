"""Temporaries a killed run of ours left behind, found by their marker and removed.

``atomic_file`` and ``atomic_folder`` write under hidden names; a ``kill -9`` (or a power
cut) leaves those behind, since no ``finally`` runs. Every temporary therefore carries its
owner: the writing process's id and start time (``tf<pid>-<start>``, the start time so a
reused process id is not mistaken for the writer). A temporary folder also holds
:data:`OWNER_FILE` with that tag, so a folder someone else named alike is never ours
(an empty one is removed too: a kill can land between creating it and marking it).

:func:`clean_leftovers` runs before each write and removes, in that folder only, what
matches our naming, carries our marker, and belongs to a process that is no longer
running. What a live writer (another run of ours in progress) holds is skipped. A moved-
aside old report (``.NAME.old-...``) whose swap was cut short is put back under its name
when that name is free, so a kill between the two renames loses nothing.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

__all__ = ["OWNER_FILE", "clean_leftovers", "owner_tag", "write_owner"]

#: The marker file inside each temporary folder; it holds :func:`owner_tag`.
OWNER_FILE = ".twilio-frames-partial"

_TAG = r"tf(?P<pid>[0-9]+)-(?P<start>[0-9]+)"
#: ``.calls.tf123-456.a1b2c3d4.part.csv`` (atomic_file's temporary).
FILE_RE = re.compile(rf"\..+\.{_TAG}\.[0-9a-f]{{8}}\.part(\.[^./]*)?")
#: ``.report.partial-tf123-456-a1b2c3d4`` / ``.report.old-tf123-456-a1b2c3d4``.
FOLDER_RE = re.compile(rf"\.(?P<name>.+)\.(?P<kind>partial|old)-{_TAG}-[0-9a-f]{{8}}")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None (no /proc, no process)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _start_time(pid: int) -> int:
    """The process's start time in clock ticks since boot (0 where /proc is missing)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else 0


def owner_tag() -> str:
    """``tf<pid>-<start>`` for this process."""
    pid = os.getpid()
    return f"tf{pid}-{_start_time(pid)}"


def write_owner(folder: Path) -> None:
    """Mark ``folder`` as a temporary of this process."""
    (folder / OWNER_FILE).write_text(owner_tag() + "\n", encoding="ascii")


def _running(pid: int, start: int) -> bool:
    """True if process ``pid`` (started at ``start``) may still be writing."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                       # someone else's live process
    fields = _stat_fields(pid)
    if fields is None:
        return True                       # no /proc: trust the signal test
    if fields[0] == "Z":                  # a zombie writes nothing
        return False
    return not (start and len(fields) > 19 and int(fields[19]) != start)


def _ours_and_dead(entry: Path) -> re.Match | None:
    if not (FOLDER_RE.fullmatch(entry.name) or FILE_RE.fullmatch(entry.name)):
        return None                        # the common case, decided without a stat
    match = (FOLDER_RE if entry.is_dir() else FILE_RE).fullmatch(entry.name)
    if match is None or _running(int(match["pid"]), int(match["start"])):
        return None
    if entry.is_dir() and not _owned(entry, f"tf{match['pid']}-{match['start']}"):
        return None
    return match


def _owned(folder: Path, tag: str) -> bool:
    """The folder's marker names ``tag``; or the folder holds nothing but a marker still
    being written, or nothing at all (a kill can land between creating the folder and
    marking it: removing what holds nothing loses nothing)."""
    try:
        text = (folder / OWNER_FILE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return not any(folder.iterdir())
    except (OSError, UnicodeDecodeError):
        return False
    if text == tag:
        return True
    return tag.startswith(text) and [p.name for p in folder.iterdir()] == [OWNER_FILE]


def clean_leftovers(parent: str | os.PathLike) -> list[str]:
    """Remove the temporaries dead runs of ours left in ``parent``; return their names.

    Never raises: a leftover that cannot be removed stays for the next run.
    """
    removed: list[str] = []
    try:
        entries = [e for e in Path(parent).iterdir() if e.name.startswith(".")]
    except OSError:
        return removed
    for entry in entries:
        try:
            match = None if entry.is_symlink() else _ours_and_dead(entry)
            if match is None:
                continue
            if entry.is_dir():
                _restore_or_remove(entry, match)
            else:
                entry.unlink()
            removed.append(entry.name)
        except OSError:
            continue
    return removed


def _restore_or_remove(folder: Path, match: re.Match) -> None:
    """An ``old`` folder holds the report that was being replaced: put it back if its name
    is free (the swap was cut short), else it is garbage like any ``partial`` folder."""
    final = folder.parent / match["name"]
    moved = folder / match["name"]
    if match["kind"] == "old" and moved.is_dir() and not os.path.lexists(final):
        os.rename(moved, final)
    shutil.rmtree(folder)
