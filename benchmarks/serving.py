"""Serving benchmark: one employee in process, HTTP through ``mlflow models serve``, batch.

Measures, on a FlightRisk model (300 trees, depth 4) trained on a simulated organization's
point-in-time features (about 100 columns):

* in process: ``talentml.serving.load(...).predict`` of one employee with reasons and the
  prediction log (a one-row DataFrame, and a mapping): median and p95 over 2,000 calls;
* the input guard's cost per request in process (the column check and the row checks of one
  employee against the training profile): median over 2,000 calls;
* a fresh process: ``import``, ``serving.load("models:/...")`` and the first prediction;
* HTTP: ``mlflow models serve --env-manager local`` on 127.0.0.1, one employee per
  ``/invocations`` request: latency over 500 requests, then a sustained 60-second load from
  four client threads (keep-alive), counting errors, p50 and p99;
* batch: :func:`talentml.serving.score_batch` of 1,000,000 rows (spine rows resampled) in
  chunks of 100,000, with reasons (talentml's exact path-table TreeSHAP, the explain fast
  mode) and without.

Writes ``benchmarks/results/serving.json`` and the table in ``docs/tracking.md``.
Run: ``.venv/bin/python benchmarks/serving.py`` (about 5 minutes on 2 cores);
``--skip-batch`` leaves the batch part out and keeps its figures from the last full run (the
docs say which run they come from).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 4
RESULTS = ROOT / "benchmarks" / "results" / "serving.json"
DOC = ROOT / "docs" / "tracking.md"
DOC_START, DOC_END = "<!-- serving-benchmark:start -->", "<!-- serving-benchmark:end -->"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {
        "p50_ms": float(np.percentile(a, 50)),
        "p95_ms": float(np.percentile(a, 95)),
        "p99_ms": float(np.percentile(a, 99)),
        "n": len(ms),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def world():
    import talentml as tml
    from talentml.datasets import SIMULATION_SECRET

    org = tml.datasets.simulate_workforce(
        n_employees=600, start="2023-01-01", end="2025-06-30", random_state=0, show_progress=False
    )
    stmts = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    spine = tml.features.make_spine(org.employees, start="2023-07-01", end="2025-06-01", freq="MS")
    X = tml.features.build(
        spine,
        statements=stmts,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
        show_progress=False,
    )
    y = tml.labels.flight_risk(spine, org.employees, horizon="180D")
    return X, y


def main(skip_batch: bool = False) -> dict:
    import mlflow

    import talentml as tml
    from talentml.serving import load, score_batch
    from talentml.tracking import train

    out: dict = {
        "meta": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "mlflow": mlflow.__version__,
            "load_average_start": load_average(),
            "recorded": time.strftime("%Y-%m-%d"),
        }
    }
    tmp = Path(tempfile.mkdtemp(prefix="talentml-bench-serving-"))
    os.environ["TALENTML_PREDICTION_LOG"] = str(tmp / "predictions.jsonl")
    t = time.perf_counter()
    X, y = world()
    model = tml.FlightRisk(n_estimators=300, max_depth=4, survival=False, random_state=0)
    run = train(
        model,
        X,
        y,
        experiment="bench",
        tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}",
        register_as="flight-risk",
        n_bootstrap=50,
        shap_rows=500,
    )
    out["setup"] = {
        "rows": len(X),
        "features": len(run.scorer.features),
        "trees": int(run.model.n_estimators_),
        "seconds": round(time.perf_counter() - t, 1),
    }
    print(f"setup: {out['setup']}")

    # ------------------------------------------------------------- in process
    served = load("models:/flight-risk/1", log=tmp / "inproc.jsonl")
    rows = X.sample(2000, replace=True, random_state=1)
    records = [
        {c: (None if pd.isna(v) else v) for c, v in r.items()}
        for r in rows.drop(columns="as_of").to_dict("records")
    ]
    for i in range(50):
        served.predict(rows.iloc[[i]])
    frame_ms, dict_ms = [], []
    for i in range(len(rows)):
        one = rows.iloc[[i]]
        t = time.perf_counter()
        served.predict(one)
        frame_ms.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        served.predict(records[i])
        dict_ms.append((time.perf_counter() - t) * 1e3)
    out["in_process"] = {"dataframe": percentiles(frame_ms), "mapping": percentiles(dict_ms)}
    print(f"in process: {out['in_process']}")

    # ------------------------------------------------------- the guard's cost
    scorer = served.scorer
    guard_us = []
    for i in range(len(rows)):
        one = rows.iloc[[i]]
        design, _, _, missing, coerced = scorer._small_design(one)
        t = time.perf_counter()
        unused = scorer.guard.check_columns(one.columns)
        scorer.guard.check(design, raw_missing=missing, coerced=coerced, unused=unused)
        guard_us.append((time.perf_counter() - t) * 1e6)
    g = np.asarray(guard_us)
    out["guard"] = {
        "p50_us": float(np.percentile(g, 50)),
        "p99_us": float(np.percentile(g, 99)),
        "n": len(guard_us),
    }
    print(f"guard: {out['guard']}")

    # ---------------------------------------------------- a fresh process
    code = (
        "import sys, time\n"
        "t0 = time.perf_counter()\n"
        "import pandas as pd\n"
        "from talentml.serving import load\n"
        "t1 = time.perf_counter()\n"
        "m = load('models:/flight-risk/1', log=None)\n"
        "t2 = time.perf_counter()\n"
        "m.predict(pd.read_parquet(sys.argv[1]))\n"
        "t3 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, t3 - t2)\n"
    )
    one_path = tmp / "one.parquet"
    rows.head(1).to_parquet(one_path)
    fresh = []
    for _ in range(3):
        res = subprocess.run(
            [sys.executable, "-c", code, str(one_path)],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
        fresh.append([float(x) for x in res.stdout.split()[-3:]])
    imp, ld, first = np.median(np.asarray(fresh), axis=0)
    out["fresh_process"] = {
        "import_s": round(float(imp), 2),
        "load_s": round(float(ld), 2),
        "first_prediction_s": round(float(first), 3),
        "total_s": round(float(imp + ld + first), 2),
        "runs": len(fresh),
    }
    print(f"fresh process: {out['fresh_process']}")

    # -------------------------------------------------------------------- HTTP
    from talentml.serving._load import quiet_mlflow_downloads

    with quiet_mlflow_downloads():
        local = Path(
            mlflow.artifacts.download_artifacts("models:/flight-risk/1", dst_path=str(tmp))
        )
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
        "TALENTML_PREDICTION_LOG": str(tmp / "served.jsonl"),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONWARNINGS": "ignore",
    }
    with open(tmp / "server.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(local),
             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                if requests.get(f"{url}/ping", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "server.log").read_text()[-3000:])
            time.sleep(0.5)
        cols = ["employee_id", *run.scorer.features]
        bodies = [
            json.dumps({"dataframe_split": {"columns": cols, "data": [[r.get(c) for c in cols]]}})
            for r in records
        ]
        headers = {"Content-Type": "application/json"}
        session = requests.Session()
        for b in bodies[:20]:
            session.post(f"{url}/invocations", data=b, headers=headers, timeout=30)
        ms = []
        for b in bodies[:500]:
            t = time.perf_counter()
            r = session.post(f"{url}/invocations", data=b, headers=headers, timeout=30)
            ms.append((time.perf_counter() - t) * 1e3)
            r.raise_for_status()
        out["http"] = percentiles(ms)
        print(f"http: {out['http']}")

        stop_at = time.monotonic() + 60
        counts = {"ok": 0, "errors": 0}
        lat: list[float] = []
        lock = threading.Lock()

        def client(offset: int) -> None:
            s = requests.Session()
            i = offset
            while time.monotonic() < stop_at:
                b = bodies[i % len(bodies)]
                i += 1
                t0 = time.perf_counter()
                try:
                    r = s.post(f"{url}/invocations", data=b, headers=headers, timeout=30)
                    ok = r.status_code == 200 and len(r.json()["predictions"]) == 1
                except requests.RequestException:
                    ok = False
                with lock:
                    counts["ok" if ok else "errors"] += 1
                    lat.append((time.perf_counter() - t0) * 1e3)

        threads = [threading.Thread(target=client, args=(k * 997,)) for k in range(CLIENTS)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t
        n_logged = sum(1 for _ in open(tmp / "served.jsonl", "rb"))
        out["sustained"] = {
            "seconds": round(wall, 1),
            "clients": CLIENTS,
            "requests": counts["ok"] + counts["errors"],
            "errors": counts["errors"],
            "requests_per_s": round((counts["ok"] + counts["errors"]) / wall, 1),
            **{k: v for k, v in percentiles(lat).items() if k != "n"},
            "logged_predictions": n_logged,
        }
        print(f"sustained: {out['sustained']}")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    # -------------------------------------------------------------------- batch
    if skip_batch:
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        out["batch"] = {
            **previous.get("batch", {}),
            "from_run": previous.get("meta", {}).get("recorded", "an earlier run"),
        }
        out["meta"]["load_average_end"] = load_average()
        return out
    big = X.sample(1_000_000, replace=True, random_state=2).reset_index(drop=True)
    scorer = served.scorer
    score_batch(scorer, big.head(1000), show_progress=False)
    t = time.perf_counter()
    result = score_batch(scorer, big, chunk_size=100_000, show_progress=False)
    with_reasons = time.perf_counter() - t
    assert len(result) == len(big) and result["prediction_id"].is_unique
    del result
    t = time.perf_counter()
    score_batch(scorer, big, chunk_size=100_000, reasons=False, show_progress=False)
    scores_only = time.perf_counter() - t
    out["batch"] = {
        "rows": len(big),
        "with_reasons_s": round(with_reasons, 1),
        "scores_only_s": round(scores_only, 1),
        "reasons_per_row": 3,
    }
    print(f"batch: {out['batch']}")
    out["meta"]["load_average_end"] = load_average()
    return out


def write_docs(results: dict) -> None:
    if not DOC.exists() or DOC_START not in DOC.read_text():
        return
    m, s = results["meta"], results["setup"]
    ip, http, sus, b = (
        results["in_process"],
        results["http"],
        results["sustained"],
        results["batch"],
    )
    g, fp = results["guard"], results["fresh_process"]
    batch_note = (
        f"; the two batch rows are from the full run of {b['from_run']} (`--skip-batch`)"
        if "from_run" in b
        else ""
    )
    body = "\n".join(
        [
            f"Recorded by `benchmarks/serving.py`: FlightRisk, {s['trees']} trees, "
            f"{s['features']} features, Python {m['python']}, {m['cpus']} cores, MLflow "
            f"{m['mlflow']}. The machine was shared (load average {m['load_average_start']} "
            f"at the start, {m['load_average_end']} at the end{batch_note}).",
            "",
            "| what | goal | measured |",
            "|---|---|---|",
            f"| one employee in process, with reasons and log (DataFrame) | p50 < 10 ms | "
            f"p50 {ip['dataframe']['p50_ms']:.1f} ms, p95 {ip['dataframe']['p95_ms']:.1f} ms |",
            f"| one employee in process (mapping) | | p50 {ip['mapping']['p50_ms']:.1f} ms, "
            f"p95 {ip['mapping']['p95_ms']:.1f} ms |",
            f"| one employee over HTTP (`mlflow models serve`) | p50 < 50 ms | "
            f"p50 {http['p50_ms']:.1f} ms, p95 {http['p95_ms']:.1f} ms |",
            f"| the input guard, per request in process | < 1 ms | p50 {g['p50_us']:.0f} µs, "
            f"p99 {g['p99_us']:.0f} µs |",
            f'| a fresh process: import, `serving.load("models:/...")`, first answer | | '
            f"{fp['import_s']:.1f} s + {fp['load_s']:.1f} s + {fp['first_prediction_s']:.3f} s "
            f"= {fp['total_s']:.1f} s |",
            f"| sustained load, {sus['seconds']:.0f} s, {sus['clients']} clients | zero errors "
            f"| {sus['requests']:,} requests, {sus['errors']} errors, "
            f"{sus['requests_per_s']:.0f} req/s, p50 {sus['p50_ms']:.1f} ms, "
            f"p99 {sus['p99_ms']:.1f} ms |",
            f"| batch, {b['rows']:,} rows with 3 reasons each | < 60 s | "
            f"{b['with_reasons_s']:.1f} s |",
            f"| batch, scores and bands only | | {b['scores_only_s']:.1f} s |",
        ]
    )
    text = DOC.read_text()
    start, end = text.index(DOC_START) + len(DOC_START), text.index(DOC_END)
    DOC.write_text(text[:start] + "\n" + body + "\n" + text[end:])


if __name__ == "__main__":
    results = main(skip_batch="--skip-batch" in sys.argv[1:])
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_docs(results)
    print(f"wrote {RESULTS}")
