"""Analysis: summaries, breakdowns and reconciliation over frames (never fetches)."""
