"""Which tqdm progress bar to draw: a Jupyter widget when ipywidgets can draw one, plain
text otherwise, and never a warning.

``tqdm.auto`` picks the widget in a Jupyter kernel, but without ipywidgets it warns
(``TqdmWarning: IProgress not found``) before falling back to text; a library must not
put that in a user's notebook. So we make the same choice and fall back quietly.
"""

from __future__ import annotations

import os
import sys

__all__ = ["in_kernel", "progress_class"]


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
