"""Training speed and memory of FlightRisk on 1M spine rows x 100 features, against its peers.

Run from the repository root::

    .venv/bin/python benchmarks/models.py                # 1,000,000 rows x 100 features
    .venv/bin/python benchmarks/models.py --rows 100000 --no-write   # a quick look

The data are synthetic but shaped like ``talentml.features.build`` output: 50,000 employees x
20 monthly cutoffs (``employee_id``, ``as_of``) and 100 features: 40 counts (Poisson, some
heavy-tailed), 20 shares in [0, 1] (missing when there is nothing to share), 15 ratings (1-5
in half points, missing before the first review), 15 durations in days (missing when the
event never happened), 6 continuous scores and 4 categoricals (job family, department,
location, level band). The label has signal (a logistic model of 12 features, with
interactions, about 8% positives); ``duration_days`` / ``event`` make the survival view
trainable, exactly as ``talentml.labels.flight_risk`` returns them.

Each method trains in a fresh process on the same parquet file, with 2 threads:

* ``flightrisk``: ``talentml.models.FlightRisk(n_jobs=2)`` with its defaults, as users call
  it: the classifier on 80% of the employees, isotonic calibration on the other 20%, and the
  ``survival:cox`` view on every row (``fit(X, y)`` with the label frame);
* ``xgboost``: ``xgboost.XGBClassifier`` with the same trees (400 rounds, depth 5, learning
  rate 0.05, subsample and column sample 0.8, ``hist``, 256 bins, native categoricals,
  ``nthread=2``) on all rows: one booster, the reference of the ratio;
* ``hgb``: scikit-learn's ``HistGradientBoostingClassifier`` (400 iterations, depth 5,
  learning rate 0.05, native categoricals, no early stopping, 2 OpenMP threads), for context.

Reported per method: wall time of ``fit``, CPU time of the process during ``fit`` (user +
system, all threads: on a machine shared with other work, CPU time / threads is what the fit
would take alone), peak RSS of the process (``ru_maxrss``) and RSS before ``fit``, and the
ROC AUC on a held-out 10% of employees (a sanity check that every method learns the same
signal). Results go to ``benchmarks/results/models.json``; ``docs/backtests.md`` renders them
between ``<!-- bench-models:start -->`` and ``<!-- bench-models:end -->``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "models.json"
DOCS = ROOT / "docs" / "backtests.md"
BENCH_START, BENCH_END = "<!-- bench-models:start -->", "<!-- bench-models:end -->"
THREADS = 2
TREES = {"n_estimators": 400, "learning_rate": 0.05, "max_depth": 5}
METHODS = ("flightrisk", "xgboost", "hgb")
FAMILIES = np.array(
    [
        "Software Engineering",
        "Data Science",
        "Sales",
        "Customer Support",
        "Operations",
        "Product Management",
        "Marketing",
        "Finance",
        "People Operations",
    ]
)
DEPARTMENTS = np.array(
    ["Engineering", "Sales", "Customer Success", "Operations", "Product", "Marketing", "Finance"]
)
LOCATIONS = np.array(
    ["New York", "Chicago", "San Francisco", "London", "Berlin", "Bangalore", "Singapore"]
)


def make_data(n_rows: int, *, seed: int = 0) -> pd.DataFrame:
    """A feature frame like ``talentml.features.build`` output, with a flight-risk label frame.

    Columns: ``employee_id``, ``as_of``, 100 features, then ``label``, ``duration_days`` and
    ``event``.
    """
    rng = np.random.default_rng(seed)
    n_cutoffs = 20
    n_emp = max(1, n_rows // n_cutoffs)
    emp = np.arange(n_rows) % n_emp
    cutoff = np.arange(n_rows) // n_emp
    as_of = pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(
        (cutoff * 30.44).astype(int), unit="D"
    )
    # Employee-level traits make rows of one employee alike, as in a real spine.
    trait = rng.normal(size=(n_emp, 4))[emp]
    cols: dict[str, np.ndarray | pd.Series] = {
        "employee_id": pd.Series(np.char.add("E", emp.astype(str)), dtype="string"),
        "as_of": as_of,
    }
    for i in range(40):
        rate = np.exp(0.8 + 0.6 * trait[:, i % 4] + rng.normal(0, 0.3, n_rows))
        if i % 5 == 0:
            rate = rate * rng.pareto(3.0, n_rows)  # heavy-tailed counts
        cols[f"count_{i:02d}"] = rng.poisson(rate).astype(np.int64)
    for i in range(20):
        share = 1 / (1 + np.exp(-(trait[:, i % 4] + rng.normal(0, 1, n_rows))))
        share[rng.random(n_rows) < 0.15] = np.nan
        cols[f"share_{i:02d}"] = share
    for i in range(15):
        rating = np.clip(
            np.round(2 * (3 + 0.6 * trait[:, i % 4] + rng.normal(0, 0.6, n_rows))) / 2, 1, 5
        )
        rating[rng.random(n_rows) < 0.10] = np.nan
        cols[f"rating_{i:02d}"] = rating
    for i in range(15):
        days = rng.exponential(200 * np.exp(0.3 * trait[:, i % 4]), n_rows).round()
        days[rng.random(n_rows) < 0.25] = np.nan
        cols[f"days_{i:02d}"] = days
    for i in range(6):
        cols[f"score_{i:02d}"] = trait[:, i % 4] + rng.normal(0, 1, n_rows)
    cols["job_family"] = pd.Categorical(rng.choice(FAMILIES, n_rows))
    cols["department"] = pd.Categorical(DEPARTMENTS[emp % len(DEPARTMENTS)])
    cols["location"] = pd.Categorical(rng.choice(LOCATIONS, n_rows))
    cols["level_band"] = pd.Categorical(rng.choice(["junior", "mid", "senior", "lead"], n_rows))
    frame = pd.DataFrame(cols)
    # A label with signal: a logistic model of 12 features with an interaction and a category.
    z = (
        -3.1
        + 0.35 * np.log1p(frame["count_00"])
        - 0.30 * np.log1p(frame["count_01"])
        + 0.8 * frame["share_00"].fillna(0.5)
        - 0.45 * (frame["rating_00"].fillna(3) - 3)
        + 0.002 * frame["days_00"].fillna(200)
        - 0.25 * frame["score_00"]
        + 0.2 * frame["score_01"] * (frame["share_01"].fillna(0.5) > 0.5)
        + 0.3 * (frame["department"] == "Sales").to_numpy()
        + 0.25 * np.log1p(frame["count_07"]) * (frame["rating_02"].fillna(3) < 3)
        + 0.3 * trait[:, 0]
    )
    p = 1 / (1 + np.exp(-z.to_numpy()))
    label = (rng.random(n_rows) < p).astype(np.int64)
    # Durations consistent with the label: an exit within 180 days for the positives.
    hazard = -np.log1p(-np.clip(p, 1e-6, 0.999)) / 180.0
    t = rng.exponential(1 / hazard)
    t = np.where(label == 1, rng.uniform(1, 180, n_rows), np.maximum(t, 181))
    follow = rng.uniform(181, 900, n_rows)
    frame["label"] = label
    frame["duration_days"] = np.minimum(t, follow).round()
    frame["event"] = (t <= follow).astype(np.int64)
    return frame


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(method: str, path: str) -> dict:
    """Fit one method on the parquet file in this (fresh) process; return the measurements."""
    from sklearn.metrics import roc_auc_score

    frame = pd.read_parquet(path)
    ids = frame["employee_id"].astype(str)
    held = (pd.util.hash_pandas_object(ids, index=False).to_numpy() % 10) == 0
    train, test = frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)
    del frame
    features = [c for c in train.columns if c not in ("label", "duration_days", "event")]
    inputs = [c for c in features if c not in ("employee_id", "as_of")]
    before = _rss_mb()
    cpu0, t0 = _cpu_s(), time.perf_counter()
    if method == "flightrisk":
        from talentml.models import FlightRisk

        model = FlightRisk(n_jobs=THREADS, random_state=0, show_progress=False, **TREES)
        model.fit(train[features], train[["employee_id", "label", "duration_days", "event"]])
        seconds, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
        proba = model.predict_proba(test[features])[:, 1]
        extra = {
            "n_train": model.n_train_,
            "n_calibration": model.n_calibration_,
            "n_survival": model.n_survival_,
            "survival_view": model.survival_booster_ is not None,
        }
    elif method == "xgboost":
        import xgboost as xgb

        model = xgb.XGBClassifier(
            **TREES,
            subsample=0.8,
            colsample_bytree=0.8,
            tree_method="hist",
            max_bin=256,
            enable_categorical=True,
            max_cat_to_onehot=4,
            n_jobs=THREADS,
            random_state=0,
        )
        model.fit(train[inputs], train["label"])
        seconds, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
        proba = model.predict_proba(test[inputs])[:, 1]
        extra = {"n_train": len(train)}
    elif method == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        model = HistGradientBoostingClassifier(
            max_iter=TREES["n_estimators"],
            learning_rate=TREES["learning_rate"],
            max_depth=TREES["max_depth"],
            categorical_features="from_dtype",
            early_stopping=False,
            random_state=0,
        )
        with threadpool_limits(limits=THREADS, user_api="openmp"):
            model.fit(train[inputs], train["label"])
        seconds, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
        proba = model.predict_proba(test[inputs])[:, 1]
        extra = {"n_train": len(train)}
    else:
        raise ValueError(f"unknown method {method!r}")
    return {
        "method": method,
        "fit_s": seconds,
        "fit_cpu_s": cpu,
        "rss_before_fit_mb": before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "test_roc_auc": float(roc_auc_score(test["label"], proba)),
        "n_test": len(test),
        "load_average_at_end": list(os.getloadavg()),
        **extra,
    }


def _run_child(method: str, path: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), TALENTML_SHOW_PROGRESS="0")
    cmd = [sys.executable, __file__, "--child", method, "--data", path]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        raise SystemExit(proc.returncode)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(args) -> dict:
    load = list(os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="talentml-bench-models-") as tmp:
        path = str(Path(tmp) / "data.parquet")
        t = time.perf_counter()
        frame = make_data(args.rows, seed=args.seed)
        shape = {
            "rows": len(frame),
            "features": frame.shape[1] - 5,
            "employees": int(frame["employee_id"].nunique()),
            "positive_rate": float(frame["label"].mean()),
            "categoricals": int(sum(str(d) == "category" for d in frame.dtypes)),
            "missing_share": float(
                frame.drop(columns=["employee_id", "as_of"]).isna().mean().mean()
            ),
        }
        frame.to_parquet(path, index=False)
        del frame
        shape["generate_s"] = time.perf_counter() - t
        print(f"data: {shape}", flush=True)
        runs = {}
        for method in args.methods:
            print(f"fitting {method} in a fresh process ...", flush=True)
            runs[method] = _run_child(method, path)
            r = runs[method]
            print(
                f"  {r['fit_s']:.1f} s wall, {r['fit_cpu_s']:.1f} s CPU, peak "
                f"{r['peak_rss_mb']:,.0f} MB, AUC {r['test_roc_auc']:.3f}",
                flush=True,
            )
    ref = runs.get("xgboost")
    for r in runs.values():
        if ref:
            r["ratio_to_xgboost"] = r["fit_s"] / ref["fit_s"]
            r["cpu_ratio_to_xgboost"] = r["fit_cpu_s"] / ref["fit_cpu_s"]
    return {
        "meta": {
            "python": platform.python_version(),
            "xgboost": __import__("xgboost").__version__,
            "sklearn": __import__("sklearn").__version__,
            "cpus": os.cpu_count(),
            "threads": THREADS,
            "trees": TREES,
            "load_average_at_start": load,
            "load_average_at_end": list(os.getloadavg()),
            "goal_s": 180,
        },
        "data": shape,
        "methods": runs,
    }


NAMES = {
    "flightrisk": "talentml `FlightRisk(n_jobs=2)` (classifier + isotonic calibration + Cox view)",
    "xgboost": "`xgboost.XGBClassifier` (same trees, one booster)",
    "hgb": "scikit-learn `HistGradientBoostingClassifier` (400 iterations, depth 5)",
}


def bench_markdown(results: dict) -> str:
    """The benchmark section of docs/backtests.md, from the results file."""
    m, d = results["meta"], results["data"]
    load = ", ".join(f"{x:.1f}" for x in m["load_average_at_start"])
    lines = [
        f"Recorded by `benchmarks/models.py` (Python {m['python']}, XGBoost {m['xgboost']}, "
        f"scikit-learn {m['sklearn']}; {m['threads']} threads on a {m['cpus']}-core machine, "
        f"load average {load} at the start: the machine was shared, so the CPU column, which "
        f"does not depend on the load, says more than the wall clock). "
        f"{d['rows']:,} spine rows ({d['employees']:,} employees x 20 cutoffs) x "
        f"{d['features']} features ({d['categoricals']} categorical, "
        f"{d['missing_share']:.0%} missing values), {d['positive_rate']:.1%} positives; "
        f"{m['trees']['n_estimators']} trees of depth {m['trees']['max_depth']}; each method "
        "in a fresh process; AUC on 10% of the employees held out.",
        "",
        "| method | fit (wall) | fit (CPU, all threads) | wall / XGBoost | peak RSS | held-out AUC |",
        "|---|---|---|---|---|---|",
    ]
    for key, r in results["methods"].items():
        ratio = r.get("ratio_to_xgboost")
        lines.append(
            f"| {NAMES.get(key, key)} | {r['fit_s']:.0f} s | {r['fit_cpu_s']:.0f} s | "
            f"{'-' if ratio is None else f'{ratio:.2f}'} | {r['peak_rss_mb'] / 1024:.1f} GB | "
            f"{r['test_roc_auc']:.3f} |"
        )
    fr = results["methods"].get("flightrisk")
    if fr:
        verdict = "meets" if fr["fit_s"] <= m["goal_s"] else "misses"
        alone = fr["fit_cpu_s"] / m["threads"]
        lines += [
            "",
            f"FlightRisk trains two boosters: the classifier on {fr['n_train']:,} rows (the "
            f"other {fr['n_calibration']:,} calibrate it) and the Cox view on "
            f"{fr['n_survival']:,} rows. Wall time {fr['fit_s']:.0f} s {verdict} the 3-minute "
            f"goal on this shared machine; its CPU time over {m['threads']} threads, "
            f"{alone:.0f} s, is what the fit takes when the two cores are its own.",
        ]
    return "\n".join(lines)


def write_docs(results: dict) -> None:
    text = DOCS.read_text(encoding="utf-8")
    i, j = text.index(BENCH_START) + len(BENCH_START), text.index(BENCH_END)
    DOCS.write_text(
        text[:i] + "\n" + bench_markdown(results).rstrip() + "\n" + text[j:], encoding="utf-8"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return
    results = run(args)
    print(bench_markdown(results))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        write_docs(results)
        print(f"wrote {RESULTS.relative_to(ROOT)} and {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
