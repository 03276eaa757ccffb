"""first_of_each: the first row of each sid, as ``Series.duplicated`` finds it, from the
Arrow buffers (hash, then every repeat checked byte for byte) or through pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twilio_frames.fetch import dedupe
from twilio_frames.fetch.dedupe import first_of_each
from twilio_frames.resources import DTYPES

FIXED = st.sampled_from([f"CA{i:032x}" for i in range(12)] + ["CAffffffffffffffffffffffffffffffff",
                                                            "CAé0000000000000000000000000000000"])
ANY = st.one_of(FIXED, st.none(), st.text(max_size=6))


def column(values, parts):
    """``values`` as the sid column of a frame concatenated from ``parts`` batches."""
    cuts = np.array_split(np.arange(len(values)), parts)
    return pd.concat([pd.Series(pd.array([values[i] for i in c], dtype=DTYPES["str"]))
                      for c in cuts], ignore_index=True)


def expected(values, order):
    taken = [values[i] for i in order] if order is not None else values
    return ~pd.Series(pd.array(taken, dtype=DTYPES["str"])).duplicated().to_numpy()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), values=st.one_of(st.lists(FIXED, max_size=60), st.lists(ANY, max_size=60)),
       parts=st.integers(1, 5), shuffled=st.booleans())
def test_first_of_each_is_duplicated_in_that_order(data, values, parts, shuffled):
    order = (np.array(data.draw(st.permutations(range(len(values)))), dtype=np.int64)
             if shuffled else None)
    got = first_of_each(column(values, parts), order)
    assert got.dtype == bool and got.tolist() == expected(values, order).tolist()


def test_fixed_width_sids_never_make_python_strings(monkeypatch):
    def refuse(*args):
        raise AssertionError("went through Series.duplicated")
    monkeypatch.setattr(dedupe, "_by_pandas", refuse)
    values = [f"CA{i % 700:032x}" for i in range(2000)]
    order = np.random.default_rng(1).permutation(2000)
    assert first_of_each(column(values, 4), order).tolist() == expected(values, order).tolist()
    assert first_of_each(column(values, 4)).sum() == 700


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_hash_collision_never_merges_two_sids(monkeypatch, shuffled):
    monkeypatch.setattr(dedupe, "fnv1a", lambda rows: np.zeros(len(rows), dtype=np.uint64))
    values = [f"CA{i % 5:032x}" for i in range(40)]
    order = np.random.default_rng(2).permutation(40) if shuffled else None
    got = first_of_each(column(values, 3), order)
    assert got.sum() == 5 and got.tolist() == expected(values, order).tolist()


def test_fnv1a_matches_the_reference_values():
    # FNV-1a 64 test vectors (Fowler, Noll, Vo): "" and "a"
    rows = np.frombuffer(b"a", np.uint8).reshape(1, 1)
    assert int(dedupe.fnv1a(rows)[0]) == 0xAF63DC4C8601EC8C
    assert int(dedupe.fnv1a(np.zeros((1, 0), np.uint8))[0]) == 0xCBF29CE484222325
