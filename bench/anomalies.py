"""tf.traffic_anomalies: recall, false alarms and speed (docs/benchmarks.md).

    .venv/bin/python bench/anomalies.py            # 8 seeds, 1M-message speed run
    .venv/bin/python bench/anomalies.py --quick    # 3 seeds, 200k messages
    .venv/bin/python bench/anomalies.py --accuracy # 8 seeds, no speed run

Recall: the share of injected episodes found (an episode of the same kind and account
overlapping the injected span), over the simulator's attacks (Dataset(attacks=2)) and over
hand-built attacks (tests/anomaly_fixtures.py: other countries, sizes, speeds, delivery
rates). False alarms: pumping / toll-fraud flags per account-month on the same datasets
built without attacks, and on honest accounts with organic campaigns; spend_spike flags
are counted apart (a campaign *is* a spend spike).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import twilio_frames as tf  # noqa: E402
from anomaly_fixtures import (burst, call_burst, honest_calls, honest_messages,  # noqa: E402
                              numbers)
from twilio_frames.simulator.dataset import Dataset  # noqa: E402

ACCT = "AC" + "1" * 32
DAYS = 120


def _frames(ds):
    get = lambda r: pd.concat([tf.to_frame(r, ds.records(r, s)) for s in ds.account_sids],
                              ignore_index=True)
    return get("messages"), get("calls")


def _run(m, c):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tf.InsufficientHistoryWarning)
        return tf.traffic_anomalies(m, c)


def _hits(found, truth):
    hit = 0
    for _, ep in truth.iterrows():
        hit += bool(((found["kind"] == ep["kind"]) & (found["account_sid"] == ep["account_sid"])
                     & (found["start"] <= ep["end"]) & (found["end"] >= ep["start"])).any())
    return hit


def simulator_runs(seeds):
    tally = dict(injected=0, found=0, fraud_flags=0, campaign_flags=0, spikes=0, months=0.0,
                 honest_flags=0, honest_spikes=0)
    for seed in seeds:
        opts = dict(seed=seed, days=DAYS, now="2026-11-15T12:00:00Z", subaccounts=3)
        ds = Dataset(attacks=2, **opts)
        found = _run(*_frames(ds))
        truth = ds.attacks
        fraud = found[found["kind"] != "spend_spike"]
        bad = truth[truth["kind"] != "organic_campaign"]
        tally["injected"] += len(bad)
        tally["found"] += _hits(fraud, bad)
        camp = truth[truth["kind"] == "organic_campaign"].assign(kind="sms_pumping")
        tally["campaign_flags"] += _hits(fraud, camp)
        tally["fraud_flags"] += len(fraud) - _hits(fraud, bad)
        clean = _run(*_frames(Dataset(**opts)))
        tally["honest_flags"] += int((clean["kind"] != "spend_spike").sum())
        tally["honest_spikes"] += int((clean["kind"] == "spend_spike").sum())
        tally["months"] += len(ds.account_sids) * DAYS / 30.44
    return tally


def hand_runs(seeds):
    tally = dict(injected=0, found=0, months=0.0, honest_flags=0, honest_spikes=0)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        country = ["KE", "NG", "ID", "VN", "LK", "US"][seed % 6]
        n = int(rng.integers(40, 3000))
        pump = burst(rng, ACCT, numbers(rng, country, n, consecutive=True,
                                        gap=int(rng.integers(1, 3))),
                     "2026-03-10T02:00", float(rng.uniform(0.1, 30)),
                     delivered=float(rng.uniform(0, 0.6)), price=int(rng.integers(7900, 400_000)))
        k = int(rng.integers(20, 400))
        toll = call_burst(rng, ACCT, numbers(rng, ["SAT", "LK"][seed % 2], k, consecutive=True),
                          "2026-02-11T01:00", float(rng.uniform(0.5, 12)),
                          rate=int(rng.integers(500_000, 5_000_000)))
        per_day = float(rng.choice([10, 60, 300, 1500]))
        m = pd.concat([honest_messages(rng, per_day=per_day, days=DAYS), pump], ignore_index=True)
        c = pd.concat([honest_calls(rng, per_day=per_day / 2, days=DAYS), toll], ignore_index=True)
        found = _run(m, c)
        truth = pd.DataFrame([
            {"kind": "sms_pumping", "account_sid": ACCT, "start": pump["date_sent"].min(),
             "end": pump["date_sent"].max()},
            {"kind": "toll_fraud", "account_sid": ACCT, "start": toll["start_time"].min(),
             "end": toll["start_time"].max()}])
        tally["injected"] += 2
        tally["found"] += _hits(found, truth)
        campaigns = [burst(rng, ACCT, numbers(rng, "US", int(rng.integers(500, 20000))),
                           f"2026-0{mth}-1{mth}T14:00", float(rng.uniform(1, 10)),
                           delivered=float(rng.uniform(0.85, 0.99)), price=7900)
                     for mth in (2, 3, 4)]
        honest = _run(pd.concat([honest_messages(rng, per_day=per_day, days=DAYS), *campaigns],
                                ignore_index=True),
                      honest_calls(rng, per_day=per_day / 2, days=DAYS))
        tally["honest_flags"] += int((honest["kind"] != "spend_spike").sum())
        tally["honest_spikes"] += int((honest["kind"] == "spend_spike").sum())
        tally["months"] += DAYS / 30.44
    return tally


def blind_spots(seeds):
    """Attacks with less of the documented signature, to show where it stops."""
    found = {"slow pump: 12 a day for 20 days, consecutive KE numbers": 0,
             "scattered delivered pump in the usual country (US)": 0,
             "scattered pump in a new country (KE), 80% delivered, daytime": 0}
    for seed in seeds:
        rng = np.random.default_rng(1000 + seed)
        honest = honest_messages(rng, per_day=60, days=DAYS)
        slow = pd.concat([burst(rng, ACCT, numbers(rng, "KE", 12, consecutive=True,
                                                    start=27_000_000 + 12 * d),
                                f"2026-03-{d + 1:02d}T03:00", 2, delivered=0.1,
                                price=250_000) for d in range(20)], ignore_index=True)
        spread = burst(rng, ACCT, numbers(rng, "US", 400), "2026-03-10T13:00", 3,
                       delivered=0.9, price=7900)
        new = burst(rng, ACCT, numbers(rng, "KE", 400), "2026-03-10T18:00", 3,
                    delivered=0.8, price=250_000)
        for (name, attack) in zip(found, (slow, spread, new)):
            out = _run(pd.concat([honest, attack], ignore_index=True), None)
            found[name] += int((out["kind"] == "sms_pumping").any())
    return found


def honest_variants(seeds):
    """Honest accounts with habits that look a little like an attack: fraud flags each."""
    flags = {"weekly batch: 400-1500 scattered SMS every Monday": 0,
             "expansion: 30-200 SMS a day to a new country (MX, 3x the price) from day 60": 0,
             "poor list: 45% undelivered always, plus a campaign": 0,
             "night shift: traffic at any hour, plus a 3000-SMS campaign at 03:00": 0}
    for seed in seeds:
        rng = np.random.default_rng(2000 + seed)
        base = honest_messages(rng, per_day=80, days=DAYS)
        mondays = pd.date_range("2026-01-05", periods=DAYS // 7, freq="7D", tz="UTC")
        weekly = [burst(rng, ACCT, numbers(rng, "US", int(rng.integers(400, 1500))),
                        d + pd.Timedelta("14h"), 2, delivered=0.93, price=7900) for d in mondays]
        days = pd.date_range("2026-03-02", "2026-04-30", freq="D", tz="UTC")
        mx = [burst(rng, ACCT, numbers(rng, "MX", int(rng.integers(30, 200))),
                    d + pd.Timedelta("15h"), 6, delivered=0.9, price=24_000) for d in days]
        poor = honest_messages(rng, per_day=80, days=DAYS, delivered=0.55)
        camp = burst(rng, ACCT, numbers(rng, "US", 3000), "2026-03-10T14:00", 3,
                     delivered=0.55, price=7900)
        night = honest_messages(rng, per_day=80, days=DAYS)
        night["date_sent"] = night["date_created"] = night["date_sent"] + pd.to_timedelta(
            rng.integers(0, 24, len(night)), unit="h")
        late = burst(rng, ACCT, numbers(rng, "US", 3000), "2026-03-10T03:00", 2,
                     delivered=0.93, price=7900)
        for name, parts in zip(flags, ([base, *weekly], [base, *mx], [poor, camp],
                                      [night, late])):
            out = _run(pd.concat(parts, ignore_index=True), None)
            flags[name] += int((out["kind"] == "sms_pumping").sum())
    return flags


def speed(n_messages: int):
    rng = np.random.default_rng(0)
    m = honest_messages(rng, per_day=n_messages / 365, days=365,
                        countries={"US": 0.8, "CA": 0.1, "GB": 0.05, "DE": 0.05})
    pump = burst(rng, ACCT, numbers(rng, "KE", 500, consecutive=True), "2026-09-10T02:00", 1,
                 delivered=0.1, price=250_000)
    m = pd.concat([m, pump], ignore_index=True)
    c = honest_calls(rng, per_day=n_messages / 365 / 4, days=365)
    runs, cpu = [], []
    for _ in range(3):          # the first is cold: phonenumbers' parse cache is empty
        t, p = time.perf_counter(), time.process_time()
        out = _run(m, c)
        runs.append(time.perf_counter() - t)
        cpu.append(time.process_time() - p)
    ref_frame = m.assign(**{"from": "+14155550100", "num_media": pd.array(
        np.zeros(len(m), np.int64), dtype="Int64")})
    t, p = time.perf_counter(), time.process_time()
    tf.cost_by_period(messages=ref_frame, freq="D")
    ref, ref_cpu = time.perf_counter() - t, time.process_time() - p
    return (len(m), len(c), runs[0], min(runs[1:]), cpu[0], min(cpu[1:]), ref, ref_cpu,
            int((out["kind"] == "sms_pumping").sum()))


def tables(seeds) -> None:
    sim = simulator_runs(seeds)
    hand = hand_runs(seeds)
    print("| attacks | seeds | injected | found | recall | fraud flags / account-month,"
          " honest | spend spikes / account-month, honest | campaigns flagged as fraud |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| simulator (attacks=2, {DAYS} d, 4 accounts) | {len(seeds)} | {sim['injected']} |"
          f" {sim['found']} | {sim['found'] / sim['injected']:.0%} |"
          f" {sim['honest_flags'] / sim['months']:.3f} | {sim['honest_spikes'] / sim['months']:.3f}"
          f" | {sim['campaign_flags']} of {len(seeds)} |")
    print(f"| hand-built ({DAYS} d, 1 account, 3 campaigns) | {len(seeds)} | {hand['injected']} |"
          f" {hand['found']} | {hand['found'] / hand['injected']:.0%} |"
          f" {hand['honest_flags'] / hand['months']:.3f} |"
          f" {hand['honest_spikes'] / hand['months']:.3f} | (in the honest column) |")
    print(f"extra fraud flags on attacked simulator datasets: {sim['fraud_flags']}")
    print("\n| harder case (less of the signature) | seeds | found as sms_pumping |")
    print("|---|---:|---:|")
    for name, k in blind_spots(seeds).items():
        print(f"| {name} | {len(seeds)} | {k} |")
    print(f"\n| honest habit ({DAYS} d) | seeds | account-months | sms_pumping flags |")
    print("|---|---:|---:|---:|")
    for name, k in honest_variants(seeds).items():
        print(f"| {name} | {len(seeds)} | {len(seeds) * DAYS / 30.44:.1f} | {k} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--speed", action="store_true", help="only the speed table")
    parser.add_argument("--accuracy", action="store_true",
                        help="only the recall and false-alarm tables")
    args = parser.parse_args()
    seeds = range(3) if args.quick else range(8)
    if not args.speed:
        tables(seeds)
    if args.accuracy:
        return
    n = 200_000 if args.quick else 1_000_000
    rows, calls, cold, warm, cold_cpu, warm_cpu, ref, ref_cpu, pumps = speed(n)
    print("\n| messages | calls | | traffic_anomalies, first run | again (best of 2) |"
          " cost_by_period(messages, D) | first run / cost_by_period | pump found |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for what, a, b, r in (("wall", cold, warm, ref), ("CPU", cold_cpu, warm_cpu, ref_cpu)):
        print(f"| {rows:,} | {calls:,} | {what} | {a:.2f} s | {b:.2f} s | {r:.2f} s |"
              f" {a / r:.1f}x | {pumps} |")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
