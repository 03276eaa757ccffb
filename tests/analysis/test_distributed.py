"""The same summaries on a dask.distributed cluster: two worker processes on this machine
(the partials run in other processes, so they must pickle and import cleanly there)."""

from __future__ import annotations

import pandas as pd
import pytest

from test_engine import SUMMARIES, as_dask, expected, frames, run  # noqa: F401 (fixtures)

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # dashboard_address=None still starts the scheduler's HTTP server on 8787 and warns
    # (an error here) when another process holds that port: ask for any free port.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit="1GiB",
                                  scheduler_kwargs={"dashboard_address": ":0"}) as cluster:
        with distributed.Client(cluster) as connected:
            yield connected


def test_two_worker_processes_give_the_pandas_results(frames, expected, client):
    assert len(client.scheduler_info()["workers"]) == 2
    ddf = as_dask(frames, ("even", 3), True)
    for name in sorted(SUMMARIES):
        pd.testing.assert_frame_equal(run(name, ddf), expected[name], check_exact=True,
                                      obj=name)
    ran = client.run(lambda: __import__("sys").modules.get("twilio_frames.analysis.engine")
                     is not None)
    assert list(ran.values()) == [True, True]      # the partials ran on both workers
