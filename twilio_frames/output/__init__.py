"""Output: plots (-> Axes), exports (-> files) and the report (-> a folder)."""
