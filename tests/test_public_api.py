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


def test_modules_import_one_way():
    """The simulator serves the client but imports none of its code, not even the schema
    table (``resources``): every module of the package is read, imported or not yet."""
    import ast
    from pathlib import Path
    sim = importlib.import_module("twilio_frames.simulator")
    files = sorted(Path(sim.__file__).parent.glob("*.py"))
    assert len(files) > 10
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
                assert node.level <= 1, (path.name, node.module)   # no ``from ..x``
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("twilio_frames"):
                    assert name.startswith("twilio_frames.simulator") or (
                        name == "twilio_frames.data"), (path.name, name)
    src = "".join(p.read_text(encoding="utf-8") for p in files)
    for module in ("fetch", "store", "analysis", "output", "cli", "resources"):
        assert f"from ..{module}" not in src and f"twilio_frames.{module}" not in src, module
    assert sim.running is not None
