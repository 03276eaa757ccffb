"""The folder tree is the diagram of DESIGN.md §2: each layer imports only the layers
above it (ground floor: errors, resources, money). Every module is read as source, so a
lazy import inside a function counts too."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "twilio_frames"

# layer -> the subpackages it must never import
FORBIDDEN = {
    "fetch": {"store", "analysis", "output", "cli", "simulator"},
    "store": {"analysis", "output", "cli", "simulator"},
    "analysis": {"fetch", "store", "output", "cli", "simulator"},
    "output": {"cli", "simulator"},
}


def imported_subpackages(path: Path) -> set[str]:
    """The first-level subpackages of twilio_frames that ``path`` imports."""
    parts = path.relative_to(PKG).with_suffix("").parts
    package = ["twilio_frames", *parts[:-1]]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [target] if node.module else [[*target, a.name] for a in node.names]
            else:
                names = [(node.module or "").split(".")]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        for name in names:
            if len(name) > 1 and name[0] == "twilio_frames":
                found.add(name[1])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_flow_one_way(layer):
    files = sorted((PKG / layer).rglob("*.py"))
    if layer == "store" and not files:
        pytest.skip("no store yet")
    assert files, layer
    for path in files:
        bad = imported_subpackages(path) & FORBIDDEN[layer]
        assert not bad, f"{path.relative_to(PKG)} imports {sorted(bad)}"


def test_the_checker_sees_relative_and_lazy_imports(tmp_path):
    """The reader itself: a module that imports upward is caught (the test can fail)."""
    fake = PKG / "analysis" / "summaries.py"
    src = "def f():\n    from ..fetch.client import Client\n    from .. import output\n"
    probe = fake.with_name("_probe_layers.py")
    probe.write_text(src, encoding="utf-8")
    try:
        assert {"fetch", "output"} <= imported_subpackages(probe)
    finally:
        probe.unlink()


def test_subpackage_inits_hold_no_logic():
    for init in PKG.rglob("__init__.py"):
        if init.parent in (PKG, PKG / "simulator"):
            continue        # the front door and the simulator's running() are their public API
        tree = ast.parse(init.read_text(encoding="utf-8"))
        body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        assert not body, f"{init.relative_to(PKG)} holds code"
