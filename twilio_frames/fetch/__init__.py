"""Fetching: HTTP bytes -> parsed pages -> page streams -> typed frames -> the Client."""
