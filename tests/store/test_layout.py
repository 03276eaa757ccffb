"""The store's layout: paths, the marker, the atomic write and the per-file metadata."""

import datetime as dt
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

import twilio_frames as tf
from twilio_frames.store import layout

ACCT = "AC" + "a" * 32
OTHER = "AC" + "b" * 32
META = {"fetched_at": "2026-11-15T12:00:00+00:00", "settled": True, "why": "test"}


def calls_frame(account=ACCT):
    return tf.to_frame("calls", [
        {"sid": "CA" + "1" * 32, "account_sid": account, "status": "completed",
         "start_time": "Fri, 13 Nov 2026 10:00:00 +0000", "price": "-0.0130",
         "price_unit": "usd", "duration": "61"},
        {"sid": "CA" + "2" * 32, "account_sid": account, "status": "no-answer",
         "start_time": "Fri, 13 Nov 2026 09:00:00 +0000"},
    ])


def test_partition_paths_are_hive_folders(tmp_path):
    day = layout.partition_path(tmp_path, "calls", ACCT, "2026-11-13")
    assert day.relative_to(tmp_path).as_posix() == f"calls/account_sid={ACCT}/day=2026-11-13/data.parquet"
    month = layout.partition_path(tmp_path, "usage_records", ACCT, dt.date(2026, 11, 1))
    assert month.parent.name == "month=2026-11"
    assert layout.partition_path(tmp_path, "accounts", None).relative_to(tmp_path).as_posix() \
        == "accounts/data.parquet"
    with pytest.raises(tf.StoreError, match="account SID"):
        layout.partition_path(tmp_path, "calls", "../etc", "2026-11-13")


def test_write_partition_round_trips_and_keeps_metadata(tmp_path):
    layout.create_store(tmp_path / "s", account_sid=ACCT)
    frame = calls_frame()
    path = layout.write_partition(tmp_path / "s", "calls", ACCT, "2026-11-13", frame, meta=META)
    meta = layout.read_meta(path)
    assert meta["rows"] == 2 and meta["settled"] is True and meta["period"] == "2026-11-13"
    assert meta["account_sid"] == ACCT and meta["schema_version"] == layout.SCHEMA_VERSION
    # account_sid lives in the path only; every other column has the frame's Arrow type
    schema = pq.read_schema(path)
    assert "account_sid" not in schema.names
    assert schema.names == [c for c in frame.columns if c != "account_sid"]
    assert not [p for p in path.parent.iterdir() if p.name != path.name]   # no leftovers
    [part] = layout.iter_partitions(tmp_path / "s", "calls")
    assert (part.account_sid, part.period, part.path) == (ACCT, dt.date(2026, 11, 13), path)


def test_a_partition_refuses_another_accounts_rows(tmp_path):
    with pytest.raises(tf.StoreError, match=f"rows of account {OTHER}"):
        layout.write_partition(tmp_path, "calls", ACCT, "2026-11-13", calls_frame(OTHER),
                               meta=META)
    assert not (tmp_path / "calls").exists() or not list(layout.iter_partitions(tmp_path, "calls"))


def test_marker_refuses_what_is_not_this_store(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("mine")
    with pytest.raises(tf.StoreError, match="not a twilio-frames store"):
        layout.create_store(tmp_path / "notes", account_sid=ACCT)
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["a.txt"]
    layout.create_store(tmp_path / "s", account_sid=ACCT)
    layout.create_store(tmp_path / "s", account_sid=ACCT)           # reopening is fine
    with pytest.raises(tf.StoreError, match=f"holds account {ACCT}, not {OTHER}"):
        layout.create_store(tmp_path / "s", account_sid=OTHER)
    marker = tmp_path / "s" / layout.MARKER
    body = json.loads(marker.read_text())
    marker.write_text(json.dumps({**body, "layout_version": layout.LAYOUT_VERSION + 1}))
    with pytest.raises(tf.StoreError, match="newer than this twilio-frames reads"):
        layout.open_store(tmp_path / "s")


def test_a_truncated_file_is_an_error_naming_it(tmp_path):
    path = layout.write_partition(tmp_path, "calls", ACCT, "2026-11-13", calls_frame(), meta=META)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(tf.StoreError, match="truncated or not Parquet") as err:
        layout.read_meta(path)
    assert err.value.path == str(path)


def test_empty_frames_make_files_with_the_schema(tmp_path):
    empty = tf.to_frame("messages", [])
    path = layout.write_partition(tmp_path, "messages", ACCT, "2026-11-13", empty, meta=META)
    assert layout.read_meta(path)["rows"] == 0
    assert pq.read_schema(path).names == [c for c in empty.columns if c != "account_sid"]
    assert len(pd.read_parquet(path)) == 0


def test_frame_orders_rows_tied_across_partitions_by_sid(tmp_path):
    """Rows of two accounts and two days tied on date_created come out as the client's
    sort gives them (newest first, ties by sid descending), whatever the file order."""
    from twilio_frames.fetch.assemble import sort_frame
    layout.create_store(tmp_path, account_sid=ACCT)
    stamps = ["Fri, 13 Nov 2026 10:00:00 +0000", "Fri, 13 Nov 2026 09:00:00 +0000"]
    frames = []
    for account, digits in ((ACCT, "1397"), (OTHER, "2468")):
        for day, start in (("2026-11-13", "Fri, 13 Nov 2026 23:00:00 +0000"),
                           ("2026-11-14", "Sat, 14 Nov 2026 00:30:00 +0000")):
            recs = [{"sid": "CA" + d * 32, "account_sid": account, "start_time": start,
                     "date_created": stamps[i % 2], "status": "completed"}
                    for i, d in enumerate(digits if day.endswith("13") else digits[::-1])]
            frame = sort_frame(tf.to_frame("calls", recs))
            layout.write_partition(tmp_path, "calls", account, day, frame, meta=META)
            frames.append(frame)
    want = sort_frame(pd.concat(frames, ignore_index=True))
    got = tf.Store(tmp_path).frame("calls")
    pd.testing.assert_frame_equal(got, want)
    assert got["date_created"].duplicated().sum() == 6          # ties across files
    assert got["date_created"].is_monotonic_decreasing


def test_a_record_stored_in_two_partitions_appears_once(tmp_path):
    """A call whose start_time moved to the next day between syncs is in both days'
    files: the frame keeps it once, as the client's dedupe does."""
    from twilio_frames.fetch.assemble import sort_frame
    layout.create_store(tmp_path, account_sid=ACCT)
    frame = calls_frame()
    layout.write_partition(tmp_path, "calls", ACCT, "2026-11-13", frame, meta=META)
    layout.write_partition(tmp_path, "calls", ACCT, "2026-11-14", frame.iloc[:1], meta=META)
    got = tf.Store(tmp_path).frame("calls")
    want = sort_frame(pd.concat([frame, frame.iloc[:1]], ignore_index=True))
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == 2
