"""The front door: every public name is ``tf.<name>``, and ``__all__`` is sorted and true."""

import importlib
import subprocess
import sys

import twilio_frames as tf

# The names DESIGN section 3 and the issues promise users; removing one breaks notebooks.
PROMISED = {
    "Client", "parse_page", "to_frame", "simulator", "cost_by_period", "unrated", "reconcile",
    "write_billing_csv", "write_line_items_csv", "TwilioFramesError", "ConfigurationError",
    "TransportError", "APIError", "AuthenticationError", "NotFoundError", "RateLimitError",
    "ParseError",
}


def test_all_is_sorted_and_unique():
    assert list(tf.__all__) == sorted(set(tf.__all__))


def test_every_name_in_all_resolves():
    for name in tf.__all__:
        assert getattr(tf, name) is not None, name


def test_promised_names_are_public():
    assert PROMISED <= set(tf.__all__)


def test_unknown_name_is_an_attribute_error():
    try:
        tf.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover - the assertion below explains the failure
        raise AssertionError("tf.no_such_thing resolved")


def test_public_functions_are_documented():
    for name in tf.__all__:
        obj = getattr(tf, name)
        if callable(obj) and not isinstance(obj, type(tf)):
            assert (obj.__doc__ or "").strip(), f"tf.{name} has no docstring"


def test_import_is_cheap():
    """``import twilio_frames`` must not drag in matplotlib or the simulator."""
    code = ("import sys, twilio_frames; "
            "print(any(m.startswith(('matplotlib', 'twilio_frames.simulator')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


#: The one simulator module that may import client code, and what it may import:
#: ``tf.simulator.write_store`` writes a simulated account into a store, so it needs the
#: store's writer; keeping it to this module (which nothing else in the simulator
#: imports, and ``__init__`` loads only on first use) keeps the simulator that serves
#: HTTP free of the client it serves.
BRIDGE, BRIDGE_IMPORTS = "to_store.py", {"twilio_frames.store.writer"}


def _imports(path):
    import ast
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            yield node, [node.module or ""] if node.level == 0 else []
        elif isinstance(node, ast.Import):
            yield node, [alias.name for alias in node.names]


def test_modules_import_one_way():
    """The simulator serves the client but imports none of its code, not even the schema
    table (``resources``): every module of the package is read, imported or not yet."""
    from pathlib import Path
    sim = importlib.import_module("twilio_frames.simulator")
    files = sorted(Path(sim.__file__).parent.glob("*.py"))
    assert len(files) > 10 and BRIDGE in [p.name for p in files]
    for path in files:
        for node, names in _imports(path):
            assert getattr(node, "level", 0) <= 1, (path.name, node.module)   # no ``from ..x``
            for name in names:
                if path.name == BRIDGE and name in BRIDGE_IMPORTS:
                    continue
                if name.startswith("twilio_frames"):
                    assert name.startswith("twilio_frames.simulator") or (
                        name == "twilio_frames.data"), (path.name, name)
    src = "".join(p.read_text(encoding="utf-8") for p in files if p.name != BRIDGE)
    for module in ("fetch", "store", "analysis", "output", "cli", "resources"):
        assert f"from ..{module}" not in src and f"twilio_frames.{module}" not in src, module
    assert sim.running is not None


def test_no_simulator_module_imports_the_bridge():
    """Only ``__init__``'s lazy ``write_store`` reaches the bridge: app, query, render,
    dataset and the rest never import it, so serving never loads the store."""
    import ast
    from pathlib import Path
    sim = importlib.import_module("twilio_frames.simulator")
    bridge = "twilio_frames.simulator." + BRIDGE.removesuffix(".py")
    for path in sorted(Path(sim.__file__).parent.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node, names in _imports(path):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = ["twilio_frames.simulator." + n for n in
                         ([node.module] if node.module else [a.name for a in node.names])]
            assert bridge not in names, path.name
