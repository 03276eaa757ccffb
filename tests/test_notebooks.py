"""The example notebooks run top to bottom (so they cannot rot) and are committed clean.

Each is executed with nbclient on the ``python3`` kernel. jupyter_client starts a
kernelspec whose command is ``python`` with the running interpreter, and an injected first
cell checks that, so the notebooks test this checkout's code in this venv. An injected
last cell reads the simulator's token so the test can check no output ever showed it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["01-quickstart.ipynb", "02-usage-and-cost-report.ipynb",
         "03-billing-export-and-reconciliation.ipynb", "04-local-store.ipynb",
         "05-suspicious-traffic.ipynb"]

sys.path.insert(0, str(NOTEBOOKS))
import make_notebooks  # noqa: E402


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(str(v) for k, v in out.get("data", {}).items() if k != "image/png")
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_current_and_has_no_outputs(name):
    committed = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(committed)
    fresh = make_notebooks.build(name)
    assert [c.source for c in committed.cells] == [c.source for c in fresh.cells], (
        "stale notebook: run python notebooks/make_notebooks.py")
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("name", NAMES)
def test_notebook_explains_each_step_and_uses_only_the_public_api(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and kinds.count("markdown") >= 6
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "twilio_frames." not in code.replace("import twilio_frames as tf", "")


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, tmp_path):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    check = nbformat.v4.new_code_cell(
        f"import sys\nassert sys.executable == {sys.executable!r}, sys.executable")
    reveal = nbformat.v4.new_code_cell("print(sim.auth_token)")
    nb.cells = [check, *nb.cells, reveal]
    NotebookClient(nb, kernel_name="python3", timeout=180,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    token = nb.cells[-1].outputs[0]["text"].strip()
    assert len(token) == 32
    shown = "\n".join(_outputs_text(c) for c in nb.cells[1:-1] if c.cell_type == "code")
    assert token not in shown
    assert "Traceback" not in shown
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert images >= 1


def test_billing_notebook_keeps_totals_per_currency():
    """Accounts can bill in different currencies: notebook 03 must not add a total across
    them (a bare ``sum`` of ``cost_total`` or of every totalprice row would)."""
    code = "\n".join(c.source for c in make_notebooks.build(NAMES[2]).cells
                     if c.cell_type == "code")
    assert "sum(tf.cost_total(" not in code and '["price_micros"].sum())' not in code
    assert 'groupby("currency")' in code and "tf.cost_totals(" in code
