"""Which tqdm progress bar to draw: a Jupyter widget when ipywidgets can draw one, plain
text otherwise, and never a warning; a fetch's bar (:func:`open_bar`, :func:`advance_bar`).

``tqdm.auto`` picks the widget in a Jupyter kernel, but without ipywidgets it warns
(``TqdmWarning: IProgress not found``) before falling back to text; a library must not
put that in a user's notebook. So we make the same choice and fall back quietly.
"""

from __future__ import annotations

import os
import sys

__all__ = ["in_kernel", "progress_class", "open_bar", "advance_bar"]


def _shell():
    """The running IPython shell, or None (IPython merely imported is not running)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def in_kernel() -> bool:
    """Running in a Jupyter kernel (notebook, Qt console...), not merely with ipykernel
    imported (jupyter_client imports it to find kernels)."""
    return "ipykernel.zmqshell" in sys.modules and _shell() is not None


def _in_notebook() -> bool:
    """A Jupyter notebook kernel (not a Qt console or Spyder, which draw no widgets)."""
    if not in_kernel():
        return False
    if any(k == "QT_API" or k.startswith("SPYDER") for k in os.environ):
        return False
    name = type(_shell()).__name__.lower()
    return "qt" not in name and "spyder" not in name


def progress_class():
    """``tqdm.notebook.tqdm`` in a notebook with working ipywidgets, else ``tqdm.std.tqdm``."""
    if _in_notebook():
        try:
            from tqdm.notebook import IProgress, tqdm as notebook_tqdm
        except ImportError:
            IProgress = None
        if IProgress is not None:
            return notebook_tqdm
    from tqdm.std import tqdm
    return tqdm


def open_bar(resource: str, progress: bool | None):
    """A context manager yielding a fetch's bar named after ``resource``, or None when
    ``progress`` is False (None: only in terminals and notebooks)."""
    show = progress if progress is not None else _interactive()
    if not show:
        return _NoBar()
    return progress_class()(desc=resource, unit=" records", leave=False, postfix={"pages": 0})


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


def advance_bar(bar, pages: int, records: int, source) -> None:
    """One page more on the bar; with a plan, its estimate is the bar's total (so
    tqdm shows the time left)."""
    bar.set_postfix(pages=pages, refresh=False)
    estimate = int(getattr(source, "estimate", 0) or 0)
    if estimate > bar.n + records and estimate != bar.total:
        bar.total = estimate
    bar.update(records)


def _interactive() -> bool:
    """A terminal on stderr, or a Jupyter kernel."""
    if in_kernel():
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
