"""A bigger store for bench/scale.py without writing data: N copies of a store, each
copy's account folders under new account SIDs, files symlinked.

    python bench/scale_replicate.py /tmp/scale-10M /tmp/scale-100M 10
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path


def replicate(src: Path, dst: Path, copies: int) -> None:
    dst.mkdir(parents=True)
    (dst / "twilio-frames-store.json").write_text((src / "twilio-frames-store.json").read_text())
    for resource in ("messages", "usage_records"):
        for acct in sorted((src / resource).iterdir()):
            for k in range(copies):
                sid = "AC" + hashlib.md5(f"{acct.name}{k}".encode()).hexdigest()
                target = dst / resource / f"account_sid={sid}"
                for part in acct.iterdir():
                    (target / part.name).mkdir(parents=True)
                    os.symlink(part / "data.parquet", target / part.name / "data.parquet")


if __name__ == "__main__":
    replicate(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
