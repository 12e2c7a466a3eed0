"""Benchmark: simulating organizations of 2,000 and 100,000 employees (three years).

Each size runs in its own process so that peak memory (max RSS) is the simulator's alone.
The peer, timed in the same run on the same statements, is plain serialization: ``json.dumps``
of every statement (and gzip, for the streamed run), i.e. what it costs just to write the
statements out. The ratio says how much generation costs on top of serialization.

Usage::

    .venv/bin/python benchmarks/simulate.py            # 2k and 100k
    .venv/bin/python benchmarks/simulate.py --sizes 2000 20000
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "simulate.json"


def child(n: int, stream: bool) -> dict:
    from talentml.datasets import simulate_workforce

    out: dict = {"n_employees": n, "streamed": stream}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "statements.ndjson.gz" if stream else None
        t = time.perf_counter()
        org = simulate_workforce(n_employees=n, random_state=0, raw_path=path, show_progress=False)
        out["simulate_s"] = time.perf_counter() - t
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out["statements"] = org.truth.statement_counts["emitted"]
        out["employees_ever"] = len(org.employees)
        out["timings"] = org.timings
        # Peer: serializing the same statements (json.dumps, + gzip when streamed).
        t = time.perf_counter()
        if stream:
            out["file_mb"] = path.stat().st_size / 2**20
            with (
                gzip.open(path, "rb") as fh,
                gzip.open(Path(tmp) / "peer.gz", "wb", compresslevel=3) as peer,
            ):
                for line in fh:
                    peer.write(json.dumps(json.loads(line)).encode() + b"\n")
            out["peer"] = "json.loads + json.dumps + gzip of every statement"
        else:
            for s in org.raw_statements:
                json.dumps(s)
            out["peer"] = "json.dumps of every statement"
        out["peer_s"] = time.perf_counter() - t
    out["statements_per_s"] = out["statements"] / out["simulate_s"]
    out["ratio_to_peer"] = out["simulate_s"] / out["peer_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stream", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.stream)))
        return
    rows = []
    for n in args.sizes:
        stream = n > 10_000
        cmd = [sys.executable, __file__, "--child", str(n)] + (["--stream"] if stream else [])
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"benchmark child for {n} employees failed:\n{res.stderr[-4000:]}")
        row = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{n:>7,} employees ({row['employees_ever']:,} ever): {row['statements']:>11,} statements in "
            f"{row['simulate_s']:7.1f} s ({row['statements_per_s']:,.0f}/s), peak RSS {row['peak_rss_mb']:,.0f} MB; "
            f"peer ({row['peer']}) {row['peer_s']:.1f} s, ratio {row['ratio_to_peer']:.2f}"
        )
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": _cpus()}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"written {RESULTS.relative_to(HERE.parent)}")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
