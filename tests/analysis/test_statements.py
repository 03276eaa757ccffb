"""tf.statements on USD, EUR and JPY accounts (issue 12): lines add up to totalprice, an
unknown category is kept, markup and rounding exact against Decimal, the master check."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames import simulator

from billing_fixtures import frame, usage

NOW = "2026-11-10T12:00:00Z"
RULES = {"default": {"percent": "12.5"},
         "phonenumbers*": {"percent": 0, "per_unit": {"USD": "1.00", "EUR": "0.90",
                                                      "JPY": "150"}},
         "recordingstorage": {"pass_through": True},
         "minimum": {"USD": "25.00", "EUR": "25.00", "JPY": "4000"}}


@pytest.fixture(scope="module", params=["USD", "EUR", "JPY"])
def account(request):
    with simulator.running(seed=7, days=60, now=NOW, subaccounts=2,
                           currency=request.param) as sim:
        client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
        usage_frame = client.usage_records("daily", start="2026-10-01", end="2026-11-11",
                                           accounts="all")
        master = client.usage_records("monthly", start="2026-10-01", end="2026-11-11",
                                      include_subaccounts=True)
        accounts = client.accounts()
        calls = client.calls("2026-10-01", "2026-11-11", accounts="all")
    return request.param, usage_frame, master, accounts, calls


def _expected_charge(cost_micros: int, count, rule: dict, currency: str) -> Decimal:
    cost = Decimal(cost_micros).scaleb(-6)
    if rule.get("pass_through"):
        exact = cost
    else:
        per = rule.get("per_unit", {})
        per = Decimal(per.get(currency, "0")) if isinstance(per, dict) else Decimal(per)
        exact = cost * (1 + Decimal(str(rule["percent"])) / 100) + per * int(count or 0)
    places = Decimal(1).scaleb(-tf.minor_unit(currency))
    return exact.quantize(places, rounding=ROUND_HALF_UP)


def test_lines_add_up_to_totalprice_per_account_and_month(account):
    currency, usage_frame, _, accounts, _ = account
    st = tf.statements(usage_frame, accounts=accounts, rules=RULES)
    assert set(st["currency"]) == {currency}
    billed = st[st["line"].isin(["category", "rest", "remainder"])]
    assert not {"totalprice", "calls", "sms", "phonenumbers"} & set(billed["category"])
    sums = billed.groupby(["account_sid", "start_date"])["cost_micros"].sum()
    totals = usage_frame[usage_frame["category"] == "totalprice"].assign(
        month=lambda f: f["start_date"].dt.tz_localize(None).dt.to_period("M"))
    truth = totals.groupby(["account_sid", "month"])["price_micros"].sum()
    assert sorted(sums.astype("int64").tolist()) == sorted(truth.astype("int64").tolist())
    assert set(st["account_sid"]) == set(accounts["sid"])
    assert set(st["friendly_name"]) == set(accounts["friendly_name"])


def test_markup_and_rounding_are_exact_against_decimal(account):
    currency, usage_frame, *_ = account
    st = tf.statements(usage_frame, rules=RULES)
    rules = tf.load_rules(RULES)
    lines = st[st["line"] == "category"]
    for row in lines.itertuples():
        pattern = rules.rule_for(row.category).pattern
        rule = RULES.get(pattern, RULES["default"])
        expected = _expected_charge(int(row.cost_micros), row.count, rule, currency)
        assert tf.micros_to_decimal(int(row.charge_micros)) == expected, row
    step = 10 ** (6 - tf.minor_unit(currency))
    assert (st["charge_micros"] % step == 0).all()


def test_monthly_minimum_and_provisional_month(account):
    currency, usage_frame, *_ = account
    st = tf.statements(usage_frame, rules=RULES)
    per = st.groupby(["account_sid", "start_date"])
    floor = int(Decimal(RULES["minimum"][currency]).scaleb(6))
    assert (per["charge_micros"].sum() >= floor).all()
    topped = st[st["line"] == "minimum"]
    for row in topped.itertuples():
        others = st[(st["account_sid"] == row.account_sid) & (st["start_date"] == row.start_date)
                    & (st["line"] != "minimum")]["charge_micros"].sum()
        assert others + row.charge_micros == floor
    october = st["start_date"].dt.month == 10
    assert not st.loc[october, "provisional"].any()
    assert st.loc[~october, "provisional"].all()          # November is not over on NOW


def test_master_cross_check_matches_and_names_a_gap(account):
    _, usage_frame, master, accounts, _ = account
    check = tf.master_check(usage_frame, master, accounts=accounts)
    assert (check["status"] == "match").all() and (check["gap_micros"] == 0).all()
    assert "totalprice" in set(check["category"])
    sub = accounts["sid"].iloc[-1]
    partial = usage_frame[usage_frame["account_sid"] != sub]
    gaps = tf.master_check(partial, master, accounts=accounts)
    assert (gaps.loc[gaps["category"] == "totalprice", "status"] == "gap").all()
    assert gaps["missing_accounts"].iloc[0] == sub
    assert {"phonenumbers-local", "totalprice"} <= set(gaps.loc[gaps["status"] == "gap",
                                                                "category"])


def test_detail_from_the_list_frames(account):
    _, usage_frame, _, accounts, calls = account
    st = tf.statements(usage_frame, accounts=accounts, calls=calls)
    detail = st.attrs["detail"]
    assert {"top numbers", "top destinations", "calls by direction"} <= set(detail["table"])
    by_dir = detail[detail["table"] == "calls by direction"]
    assert by_dir["cost_micros"].sum() == tf.cost_by_period(calls=calls)["cost_micros"].sum()
    assert detail.groupby(["account_sid", "month", "table"]).size().max() >= 1


def test_include_subaccounts_true_is_refused(account):
    _, _, master, accounts, _ = account
    with pytest.raises(tf.ConfigurationError, match="IncludeSubaccounts=true.*accounts='all'"):
        tf.statements(master, accounts=accounts)
    unknown = master.copy()
    unknown.attrs["include_subaccounts"] = None
    with pytest.raises(tf.ConfigurationError, match="without IncludeSubaccounts=false"):
        tf.statements(unknown, accounts=accounts)


# ------------------------------------------------------------------ fixtures by hand

MONTH = ("2024-01-01", "2024-01-31")


def _month(*rows, as_of="2024-02-02T00:00:00+00:00"):
    out = frame("usage_records", [usage(c, *MONTH, price=p, count=n) for c, p, n in rows])
    out["as_of"] = pd.Timestamp(as_of)
    return out


def test_unknown_category_is_kept_and_the_remainder_has_its_line():
    st = tf.statements(_month(("sms", "1.00", "10"), ("brand-new-product", "0.333", "1"),
                              ("totalprice", "1.50", None)), rules={"default": {"percent": 10}})
    got = st.set_index("category")
    assert got.loc["brand-new-product", "cost_micros"] == 333_000
    assert got.loc["brand-new-product", "charge_micros"] == 370_000     # 0.3663 -> 0.37
    assert got.loc["no-category", "cost_micros"] == 167_000
    assert got.loc["no-category", "line"] == "remainder"
    assert st["cost_micros"].sum() == 1_500_000


def test_half_up_per_line_and_per_statement():
    rows = [("sms", "0.005", "1"), ("mms", "0.005", "1"), ("totalprice", "0.010", None)]
    per_line = tf.statements(_month(*rows))
    assert per_line["charge_micros"].tolist() == [10_000, 10_000]         # 0.005 -> 0.01
    once = tf.statements(_month(*rows), rounding="statement")
    assert once["charge_micros"].sum() == 10_000
    assert once["line"].tolist() == ["category", "category"]              # 0.010 needs none
    odd = tf.statements(_month(("sms", "0.0049", "1"), ("mms", "0.0002", "1"),
                               ("totalprice", "0.0051", None)), rounding="statement")
    assert odd.set_index("category").loc["rounding", "charge_micros"] == 10_000 - 5_100


def test_a_rule_for_no_category_warns_by_name():
    with pytest.warns(tf.RuleWarning, match="fax"):
        tf.statements(_month(("sms", "1.00", "1"), ("totalprice", "1.00", None)),
                      rules={"fax*": {"percent": 5}})


def test_bad_rules_are_one_line_errors_naming_the_line(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('minimum = "25.00"\n\n[default]\npercent = 20\n\n["sms*"]\n'
                    'percent = "ten"\n', encoding="utf-8")
    with pytest.raises(tf.ConfigurationError, match=r"rules.toml, line 7: .*'ten'"):
        tf.load_rules(path)
    path.write_text("[default\npercent = 1\n", encoding="utf-8")
    with pytest.raises(tf.ConfigurationError, match="line 1"):
        tf.load_rules(path)
    with pytest.raises(tf.ConfigurationError, match="unknown rule key"):
        tf.load_rules({"default": {"markup": 3}})
    with pytest.raises(tf.ConfigurationError, match="more than 6 decimal places"):
        tf.load_rules({"minimum": "0.0000001"})


def test_a_month_without_totalprice_or_a_multi_month_record_is_refused():
    with pytest.raises(tf.ConfigurationError, match="no totalprice record"):
        tf.statements(_month(("sms", "1.00", "1")))
    spanning = frame("usage_records", [usage("totalprice", "2024-01-01", "2024-02-29",
                                             price="1.00", count=None)])
    with pytest.raises(tf.ConfigurationError, match="more than one month"):
        tf.statements(spanning)


def test_no_usage_rows_give_no_statements_not_a_traceback():
    st = tf.statements(frame("usage_records", []))
    assert len(st) == 0 and list(st.columns) == tf.analysis.statements.STATEMENT_COLUMNS
    assert str(st["charge_micros"].dtype) == "Int64"


def test_daily_beside_monthly_records_are_refused_not_added():
    """Both subresources in one frame would bill January's days twice."""
    daily = frame("usage_records", [usage(c, "2024-01-31", price=p, count=n)
                                    for c, p, n in (("sms", "0.10", "1"),
                                                    ("totalprice", "0.10", None))])
    both = pd.concat([_month(("sms", "3.10", "31"), ("totalprice", "3.10", None)), daily],
                     ignore_index=True)
    with pytest.raises(tf.ConfigurationError, match="overlapping periods"):
        tf.statements(both)
    with pytest.raises(tf.ConfigurationError, match="overlapping periods"):
        tf.bill_by_account(both)


@pytest.mark.parametrize("column", ["category", "account_sid", "price_unit"])
def test_a_record_without_account_category_or_currency_is_refused(column):
    """It used to vanish from the statement (its cost moved into 'no-category')."""
    usage_frame = _month(("sms", "1.00", "1"), ("totalprice", "1.00", None))
    usage_frame[column] = usage_frame[column].astype("object")
    usage_frame.loc[0, column] = None
    with pytest.raises(tf.ConfigurationError, match=f"have no {column}"):
        tf.statements(usage_frame)
    with pytest.raises(tf.ConfigurationError, match=f"have no {column}"):
        tf.usage_lines(usage_frame)


@pytest.mark.parametrize("rules", [{"default": {"per_unit": "-5"}}, {"minimum": "-5"},
                                   {"monthly_fee": {"USD": "-1"}}])
def test_negative_amounts_are_refused_naming_the_key(rules):
    """A negative per_unit made negative charges; a negative minimum was ignored."""
    with pytest.raises(tf.ConfigurationError, match="is negative"):
        tf.load_rules(rules)


def test_a_charge_too_large_to_hold_is_a_clear_error():
    with pytest.raises(tf.ConfigurationError, match="sms.*check the rules"):
        tf.statements(_month(("sms", "1.00", "1"), ("totalprice", "1.00", None)),
                      rules={"default": {"percent": "1e30"}})


def test_the_minimum_line_names_the_amount_charged():
    usage_frame = _month(("sms", "1", "1"), ("totalprice", "1", None))
    usage_frame["price_unit"] = pd.Categorical(["JPY", "JPY"])
    st = tf.statements(usage_frame, rules={"minimum": "25.5"})
    line = st.set_index("category").loc["minimum"]
    assert line["charge_micros"] == 25_000_000 and st["charge_micros"].sum() == 26_000_000
    assert line["description"] == "Monthly minimum of JPY 26"


def test_an_account_without_a_name_keeps_its_rows_when_grouped_by_name(capsys):
    """friendly_name was NaN without accounts=, and the CLI's per-customer summary
    (grouped by name) dropped such a customer."""
    from twilio_frames.cli.statements import _print_summary
    st = tf.statements(_month(("sms", "1.00", "1"), ("totalprice", "1.00", None)))
    assert st["friendly_name"].tolist() == [""]
    check = pd.DataFrame({"status": pd.Series([], dtype="str")})
    _print_summary(st, check, Path("st"), pd.Timestamp("2024-01-01"))
    assert st["account_sid"].iloc[0] in capsys.readouterr().out


def test_now_without_an_offset_is_utc_and_a_bad_now_is_a_clear_error():
    usage_frame = _month(("sms", "1.00", "1"), ("totalprice", "1.00", None))
    usage_frame["as_of"] = pd.NaT
    assert tf.statements(usage_frame, now="2024-01-20")["provisional"].tolist() == [True]
    assert tf.statements(usage_frame, now="2024-02-15")["provisional"].tolist() == [False]
    with pytest.raises(tf.ConfigurationError, match="now='soon'"):
        tf.statements(usage_frame, now="soon")


def test_a_currency_given_twice_in_an_amount_table_is_refused():
    """{usd = "25", USD = "30"} silently kept one of them."""
    with pytest.raises(tf.ConfigurationError, match="minimum: a currency is given twice"):
        tf.load_rules({"minimum": {"usd": "25", "USD": "30"}})
