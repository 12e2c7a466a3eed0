"""Throughput and memory of xAPI ingestion, against plain JSON parsing and ralph's validation.

Run from the repository root::

    .venv/bin/python benchmarks/xapi.py                    # throughput, 100,000 statements
    .venv/bin/python benchmarks/xapi.py --memory 1000000   # plus peak RSS for 1M statements

Everything runs on one core (one process, no threads). All timings are best-of-``--repeat``
wall-clock times over the same statements, measured in the same run:

* ``json.loads`` and ``orjson.loads``: parsing only, the floor;
* talentml ``validate``: ``orjson.loads`` + the xAPI validator (``check_fast``);
* talentml ``ingest``: parse + validate + normalize + deduplicate + spool, from a list of
  JSON bytes and from a gzipped JSON-lines file;
* ralph: ``BaseXapiStatement.model_validate_json`` (pydantic 2) in the separate
  ``.venv-ralph`` interpreter, on the same statements.

The statements are ~1.3 KB, nested (account actor, verb with display, activity with a
definition and extensions, result with score and duration, context with registration,
contextActivities and extensions), generated with realistic repetition: 5,000 learners,
400 activities, 8 verbs, a registration per session of about 20 statements. ``--unique``
makes every actor and activity distinct, the worst case for the validator's memo of
already-validated actors, verbs and objects.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RALPH_PYTHON = ROOT / ".venv-ralph" / "bin" / "python"
SECRET = "benchmark-secret-not-for-production"

VERBS = [
    ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    ("http://adlnet.gov/expapi/verbs/attempted", "attempted"),
    ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    ("http://adlnet.gov/expapi/verbs/failed", "failed"),
    ("http://adlnet.gov/expapi/verbs/experienced", "experienced"),
    ("https://w3id.org/xapi/video/verbs/played", "played"),
    ("https://w3id.org/xapi/video/verbs/paused", "paused"),
    ("http://adlnet.gov/expapi/verbs/answered", "answered"),
]


def make_statements(n: int, *, seed: int = 0, unique: bool = False):
    """Yield ``n`` statements as dicts (deterministic for a seed)."""
    rng = random.Random(seed)
    n_learners, n_activities = (n, n) if unique else (5_000, 400)
    t0 = 1_704_067_200  # 2024-01-01T00:00:00Z
    registration = None
    for i in range(n):
        if i % 20 == 0:
            registration = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        learner = rng.randrange(n_learners)
        activity = rng.randrange(n_activities)
        course = activity % 40
        verb_id, verb_name = VERBS[rng.randrange(len(VERBS))]
        when = t0 + rng.randrange(365 * 86_400)
        millis = rng.randrange(1000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when))
        stored = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when + rng.randrange(1, 90)))
        raw = rng.randrange(0, 101)
        yield {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "actor": {
                "objectType": "Agent",
                "name": f"Learner {learner}",
                "account": {"homePage": "https://lms.example.com", "name": f"u{learner:07d}"},
            },
            "verb": {"id": verb_id, "display": {"en-US": verb_name}},
            "object": {
                "objectType": "Activity",
                "id": f"https://lms.example.com/course/{course}/activity/{activity}",
                "definition": {
                    "type": "http://adlnet.gov/expapi/activities/module",
                    "name": {
                        "en-US": f"Module {activity} of course {course}",
                        "de-DE": f"Modul {activity}",
                    },
                    "description": {
                        "en-US": "A module of the compliance and leadership curriculum."
                    },
                    "extensions": {"https://lms.example.com/xapi/ext/level": activity % 4 + 1},
                },
            },
            "result": {
                "score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
                "success": raw >= 60,
                "completion": True,
                "duration": f"PT{rng.randrange(60)}M{rng.randrange(60)}.{rng.randrange(100):02d}S",
                "extensions": {"https://lms.example.com/xapi/ext/attempt": rng.randrange(1, 4)},
            },
            "context": {
                "registration": registration,
                "platform": "Example LMS",
                "language": "en-US",
                "contextActivities": {
                    "parent": [
                        {"id": f"https://lms.example.com/course/{course}", "objectType": "Activity"}
                    ],
                    "grouping": [{"id": "https://lms.example.com/program/onboarding"}],
                    "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}],
                },
                "extensions": {"https://lms.example.com/xapi/ext/session": {"device": "laptop"}},
            },
            "timestamp": f"{stamp}.{millis:03d}Z",
            "stored": f"{stored}.{millis:03d}+00:00",
            "version": "1.0.3",
        }


def write_jsonl(path: Path, n: int, *, unique: bool, compress: bool) -> None:
    import orjson

    opener = gzip.open(path, "wb", compresslevel=1) if compress else open(path, "wb")
    with opener as fh:
        for statement in make_statements(n, unique=unique):
            fh.write(orjson.dumps(statement) + b"\n")


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_ralph(path: Path, repeat: int) -> dict:
    """Time ralph's BaseXapiStatement on the JSON lines in ``path``, in its own interpreter."""
    if not RALPH_PYTHON.exists():
        return {"error": f"{RALPH_PYTHON.relative_to(ROOT)} not found (make ralph)"}
    code = f"""
import json, sys, time
from ralph.models.xapi.base.statements import BaseXapiStatement
lines = open({str(path)!r}, "rb").read().splitlines()
errors = 0
for line in lines[:50]:
    BaseXapiStatement.model_validate_json(line)
best = float("inf")
for _ in range({repeat}):
    errors = 0
    start = time.perf_counter()
    for line in lines:
        try:
            BaseXapiStatement.model_validate_json(line)
        except Exception:
            errors += 1
    best = min(best, time.perf_counter() - start)
import ralph
print(json.dumps({{"seconds": best, "n": len(lines), "errors": errors, "version": getattr(ralph, "__version__", "?")}}))
"""
    out = subprocess.run(
        [str(RALPH_PYTHON), "-c", code], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def throughput(n: int, repeat: int, unique: bool) -> list[dict]:
    import orjson

    from talentml.xapi import ingest
    from talentml.xapi._validate import check_fast

    docs = [orjson.dumps(s) for s in make_statements(n, unique=unique)]
    size = sum(map(len, docs)) / n
    results = []

    def record(name: str, seconds: float, note: str = "") -> None:
        results.append({"name": name, "per_second": n / seconds, "note": note})

    def parse_json():
        for d in docs:
            json.loads(d)

    def parse_orjson():
        for d in docs:
            orjson.loads(d)

    def validate():
        for d in docs:
            check_fast(orjson.loads(d), False)

    def ingest_list():
        ingest(docs, secret=SECRET, show_progress=False).close()

    record("json.loads (stdlib)", best_of(repeat, parse_json), "parse only")
    record("orjson.loads", best_of(repeat, parse_orjson), "parse only")
    record("talentml: parse + validate", best_of(repeat, validate), "orjson + check_fast")
    record(
        "talentml: ingest (list of JSON bytes)",
        best_of(repeat, ingest_list),
        "parse + validate + normalize + dedupe + spool",
    )
    with tempfile.TemporaryDirectory() as tmp:
        gz = Path(tmp) / "statements.jsonl.gz"
        plain = Path(tmp) / "statements.jsonl"
        with gzip.open(gz, "wb", compresslevel=1) as fh:
            fh.write(b"\n".join(docs) + b"\n")
        plain.write_bytes(b"\n".join(docs) + b"\n")

        def ingest_file():
            result = ingest(gz, secret=SECRET, show_progress=False)
            assert result.report.accepted == n, result.report
            result.close()

        record(
            "talentml: ingest (gzipped JSON lines file)",
            best_of(repeat, ingest_file),
            "+ read and gunzip",
        )
        ralph = run_ralph(plain, repeat)
    if "seconds" in ralph:
        note = f"ralph {ralph['version']}, pydantic; {ralph['errors']} of {ralph['n']} rejected"
        record("ralph BaseXapiStatement.model_validate_json", ralph["seconds"], note)
    else:
        results.append(
            {"name": "ralph BaseXapiStatement", "per_second": float("nan"), "note": ralph["error"]}
        )
    for r in results:
        r["bytes"] = size
    return results


MEMORY_PROBE = """
import json, resource, sys, time


def peak_kib():
    # high-water mark of this process's resident memory: VmHWM on Linux (reset by exec),
    # else ru_maxrss (which may include the parent's before the exec)
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


import talentml.xapi

path, secret = sys.argv[1], sys.argv[2]
base = peak_kib()
start = time.perf_counter()
result = talentml.xapi.ingest(path, secret=secret, show_progress=False)
seconds = time.perf_counter() - start
print(json.dumps({"accepted": result.report.accepted, "seconds": seconds,
                  "rss_after_import_kib": base, "peak_rss_kib": peak_kib()}))
"""


def memory(n: int, unique: bool) -> dict:
    """Peak RSS of ingesting ``n`` statements streamed from a gzipped JSON-lines file."""
    with tempfile.TemporaryDirectory() as tmp:
        gz = Path(tmp) / "statements.jsonl.gz"
        write_jsonl(gz, n, unique=unique, compress=True)
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, str(gz), SECRET],
            capture_output=True,
            text=True,
            check=True,
        )
        info = json.loads(out.stdout.strip().splitlines()[-1])
        info["n"] = n
        info["file_bytes"] = gz.stat().st_size
        return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="statements for throughput")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--unique", action="store_true", help="every actor and activity distinct")
    parser.add_argument("--memory", type=int, default=0, help="also measure peak RSS for this many")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)

    print(
        f"# xAPI ingestion benchmark: {args.n:,} statements{' (all unique)' if args.unique else ''}"
    )
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs visible, one used\n"
    )
    results = throughput(args.n, args.repeat, args.unique)
    print(f"average statement: {results[0]['bytes']:.0f} bytes\n")
    print("| what | statements/s | notes |\n|---|---:|---|")
    for r in results:
        print(f"| {r['name']} | {r['per_second']:,.0f} | {r['note']} |")
    report = {"n": args.n, "unique": args.unique, "throughput": results}
    if args.memory:
        info = memory(args.memory, args.unique)
        report["memory"] = info
        print(
            f"\n{info['n']:,} statements from a {info['file_bytes'] / 2**20:.0f} MiB gzipped JSON-lines "
            f"file: {info['seconds']:.1f} s ({info['n'] / info['seconds']:,.0f}/s), peak RSS "
            f"{info['peak_rss_kib'] / 1024:.0f} MiB (after imports {info['rss_after_import_kib'] / 1024:.0f} MiB)"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
