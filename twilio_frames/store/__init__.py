"""The local store: a ledger of (resource, account, day) partitions in Parquet."""
