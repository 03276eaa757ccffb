"""write_billing_csv(usage=): the Usage Records rows keep to the range they are labelled."""

import pytest

import twilio_frames as tf

from billing_fixtures import frame, usage


def _month():
    return frame("usage_records", [usage(c, "2024-01-01", "2024-01-31", price=p)
                                   for c, p in (("phonenumbers-local", "1.00"),
                                                ("totalprice", "1.00"))])


def test_a_months_records_are_not_labelled_as_half_a_month(tmp_path):
    """start=2024-01-15 clipped the label to 2024-01-15..31 over a whole month's rental."""
    with pytest.raises(tf.ConfigurationError, match="usage records cover days outside"):
        tf.write_billing_csv(tmp_path / "b.csv", usage=_month(), start="2024-01-15",
                             end="2024-02-01")
    with pytest.raises(tf.ConfigurationError, match="outside"):
        tf.write_billing_csv(tmp_path / "b.csv", usage=_month(), start="2024-01-01",
                             end="2024-01-31")
    assert not (tmp_path / "b.csv").exists()
    tf.write_billing_csv(tmp_path / "b.csv", usage=_month(), start="2024-01-01",
                         end="2024-02-01")
    lines = (tmp_path / "b.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("2024-01-01,2024-01-31,") and "1.000000" in lines[1]
