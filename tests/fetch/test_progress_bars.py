"""Progress bars in Jupyter without ipywidgets fall back to text without a TqdmWarning
(issue 8.11): run in a real kernel, as a notebook user would."""

from __future__ import annotations

import importlib.util
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import SIM_OPTIONS


@pytest.mark.skipif(importlib.util.find_spec("ipywidgets") is not None,
                    reason="ipywidgets is installed: the widget is drawn, nothing falls back")
def test_progress_in_a_kernel_without_ipywidgets_warns_nothing(tmp_path):
    cells = [
        f"import sys\nassert sys.executable == {sys.executable!r}, sys.executable",
        "import warnings\nwarnings.simplefilter('always')\ncaught = []\n"
        "warnings.showwarning = lambda *a, **k: caught.append(str(a[0]))",
        "import twilio_frames as tf\n"
        f"running = tf.simulator.running(**{SIM_OPTIONS!r})\nsim = running.__enter__()\n"
        "with tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,\n"
        "               progress=True) as client:\n"
        "    calls = client.calls('2026-11-01', '2026-11-15')\n"
        "running.__exit__(None, None, None)\n"
        "print(len(calls) > 0, caught)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[-1].outputs
    stdout = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert stdout.strip() == "True []"
    assert "Warning" not in stderr and "IProgress" not in stderr
    assert "calls" in stderr                       # the text bar was drawn instead
