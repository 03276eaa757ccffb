"""Which tqdm progress bar to draw: a Jupyter widget when ipywidgets can draw one, plain
text otherwise, and never a warning.

``tqdm.auto`` picks the widget in a Jupyter kernel, but without ipywidgets it warns
(``TqdmWarning: IProgress not found``) before falling back to text; a library must not
put that in a user's notebook. So we make the same choice and fall back quietly.
"""

from __future__ import annotations

import os
import sys

__all__ = ["progress_class"]


def _in_notebook() -> bool:
    """A Jupyter notebook kernel (not a Qt console or Spyder, which draw no widgets)."""
    if "ipykernel.zmqshell" not in sys.modules:
        return False
    if any(k == "QT_API" or k.startswith("SPYDER") for k in os.environ):
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    name = type(shell).__name__.lower()
    return shell is not None and "qt" not in name and "spyder" not in name


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
