"""A local, seeded simulator of the Twilio REST API 2010-04-01 list endpoints.

    >>> import twilio_frames as tf
    >>> with tf.simulator.running(seed=1, days=7) as sim:
    ...     sim.base_url.startswith("http://127.0.0.1:")
    True

``running(**options)`` builds a :class:`Dataset` (or takes ``dataset=``), serves it on
127.0.0.1 at a free port and yields a :class:`RunningSimulator`. ``serve(...)`` does the
same in the foreground until Ctrl-C (the ``twilio-frames sim`` command).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, fields

from .app import SimulatorApp
from .faults import FAULT_OPTIONS, Faults, Stats
from .server import LoopbackServer

__all__ = ["Dataset", "Faults", "RunningSimulator", "SimulatorApp", "Stats", "running",
           "serve", "write_store"]


def __getattr__(name: str):
    if name == "Dataset":   # imported on first use: building data needs numpy and friends
        from .dataset import Dataset
        return Dataset
    if name == "write_store":   # the one bridge to the store: never loaded by serving
        from .to_store import write_store
        return write_store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(repr=False)
class RunningSimulator:
    """A simulator being served. Secrets are attributes, never part of the repr."""

    base_url: str
    dataset: object
    app: SimulatorApp
    server: LoopbackServer

    @property
    def account_sid(self) -> str:
        """The master account's sid."""
        return self.dataset.master_sid

    @property
    def auth_token(self) -> str:
        return self.dataset.auth_token

    @property
    def api_key(self) -> str:
        """The master account's (first) API key sid."""
        return self._master_key()[0]

    @property
    def api_secret(self) -> str:
        return self._master_key()[1]

    def _master_key(self) -> tuple[str, str]:
        for key, (secret, account) in self.dataset.api_keys.items():
            if account == self.dataset.master_sid:
                return key, secret
        raise LookupError("the dataset has no API key for the master account")

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def faults(self) -> Faults:
        return self.app.injector.faults

    def set_faults(self, faults: Faults | None = None, /, **changes) -> Faults:
        """Replace the faults (``set_faults(Faults(...))``), or change some
        (``set_faults(rate_429=0.5)``); ``set_faults(Faults())`` turns them off. Re-seeds."""
        return self.app.injector.set(faults, **changes)

    @property
    def stats(self) -> Stats:
        """A snapshot: ``requests``, ``max_in_flight``, ``statuses`` (Counter by HTTP status,
        ``"drop"`` for dropped connections), ``faults`` (Counter by fault kind)."""
        return self.app.injector.stats()

    def reset_stats(self) -> None:
        self.app.injector.reset_stats()

    def __repr__(self) -> str:
        return f"RunningSimulator(base_url={self.base_url!r}, account_sid={self.account_sid!r})"


def _split_options(options: dict) -> tuple[dict, dict]:
    faults = {k: options.pop(k) for k in list(options) if k in FAULT_OPTIONS}
    if "fault_seed" in faults:
        faults["seed"] = faults.pop("fault_seed")
    return options, faults


def _make_app(dataset, faults, cache_bytes, options) -> SimulatorApp:
    options, fault_options = _split_options(dict(options))
    if dataset is None:
        from .dataset import Dataset
        dataset = Dataset(**options)
    elif options:
        raise TypeError(f"dataset options {sorted(options)} given with a ready-made dataset")
    if faults is not None and fault_options:
        raise TypeError("give either faults=Faults(...) or fault keywords, not both")
    return SimulatorApp(dataset, faults=faults or Faults(**fault_options),
                        cache_bytes=cache_bytes)


@contextlib.contextmanager
def running(*, dataset=None, faults: Faults | None = None, port: int = 0,
            cache_bytes: int = 64 * 2**20, **options) -> Iterator[RunningSimulator]:
    """Serve a simulated Twilio account on 127.0.0.1 for the duration of a ``with`` block.

    Parameters
    ----------
    dataset : Dataset, optional
        A ready-made dataset; otherwise one is built from the dataset ``options``
        (``seed``, ``start``, ``now``, ``days``, ``subaccounts``, ``currency``, ``attacks``
        (SMS pumping, toll fraud and an organic campaign; truth in ``.dataset.attacks``) ...;
        see :class:`~twilio_frames.simulator.dataset.Dataset`). With ``seed`` and ``start``
        fixed, a later ``now`` serves the same history plus what happened since.
    faults : Faults, optional
        Faults to inject; or give their fields as keywords (``latency=0.01``,
        ``rate_429=0.2``, ``concurrency_limit=4``, ``retry_after=1``, ...), the faults'
        seed as ``fault_seed`` (``seed`` is the dataset's).
    port : int
        0 (the default) picks a free port.
    cache_bytes : int
        Bound of the cache of rendered pages (0 disables it).

    Yields
    ------
    RunningSimulator
        ``.base_url``, ``.account_sid``, ``.auth_token``, ``.api_key``, ``.api_secret``,
        ``.dataset``, ``.set_faults(...)``, ``.stats``.

    Examples
    --------
    >>> import requests
    >>> with running(seed=3, days=3, subaccounts=1) as sim, requests.Session() as s:
    ...     r = s.get(sim.base_url + f"/2010-04-01/Accounts/{sim.account_sid}/Calls.json",
    ...               auth=(sim.account_sid, sim.auth_token))
    ...     r.status_code, "calls" in r.json()
    (200, True)
    """
    app = _make_app(dataset, faults, cache_bytes, options)
    server = LoopbackServer(app, port=port).start()
    try:
        yield RunningSimulator(server.base_url, app.dataset, app, server)
    finally:
        server.close()


def serve(*, port: int = 0, out=None, stop: threading.Event | None = None,
          dataset=None, faults: Faults | None = None, **options) -> int:
    """Serve in the foreground, print the base URL and credentials, run until Ctrl-C.

    The credentials printed are the simulator's own throwaway ones. ``stop`` (an Event)
    ends serving too, for tests. Returns 0.
    """
    import sys
    out = out or sys.stdout
    stop = stop or threading.Event()
    with running(dataset=dataset, faults=faults, port=port, **options) as sim:
        print(_banner(sim), file=out, flush=True)
        try:
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            print("stopping", file=out, flush=True)
    return 0


def _banner(sim: RunningSimulator) -> str:
    ds = sim.dataset
    active = {f.name: getattr(sim.faults, f.name) for f in fields(Faults)
              if getattr(sim.faults, f.name) != f.default}
    return "\n".join([
        f"Twilio API simulator serving on {sim.base_url}",
        f"  seed={ds.seed} start={ds.start.isoformat()} now={ds.now.isoformat()}"
        f" currency={ds.currency}"
        f" subaccounts={len(ds.accounts) - 1}",
        f"  faults: {active or 'none'}",
        f"export TWILIO_API_BASE={sim.base_url}",
        f"export TWILIO_ACCOUNT_SID={sim.account_sid}",
        f"export TWILIO_AUTH_TOKEN={sim.auth_token}",
        f"export TWILIO_API_KEY={sim.api_key}",
        f"export TWILIO_API_SECRET={sim.api_secret}",
        "Press Ctrl-C to stop.",
    ])
