"""Speed and agreement of talentml's explanations against shap's TreeExplainer, in one run.

Run from the repository root::

    .venv/bin/python benchmarks/explain.py                 # 100k rows x 80 features
    .venv/bin/python benchmarks/explain.py --rows 5000 --trees 50 --no-write   # a quick check
    .venv/bin/python benchmarks/explain.py --docs          # re-render docs/explain.md only

The data: ``--rows`` employees x ``--features`` numeric features driven by ten latent factors
(so features are correlated, as HR features are), 3% missing values, and a binary outcome
from twenty of them with a non-linearity and an interaction. The model: a talentml
:class:`~talentml.models.FlightRisk` booster with ``--trees`` trees of depth ``--depth``
(``calibration=None``, no survival view), trained on ``--train-rows`` of the same
distribution; every row is explained.

Measured, in one process, one after the other:

* **shap**: ``shap.TreeExplainer(booster).shap_values(design_matrix)`` - for XGBoost models
  shap calls XGBoost's own C++ TreeSHAP (``pred_contribs``), so this is also what
  ``method="xgboost"`` costs;
* **talentml exact**: ``explain(model, X, method="tables")`` (the path-table TreeSHAP), with
  the one-off table build timed apart; max |difference| with shap's values and additivity;
* **talentml fast reason codes**: ``explain(...)`` plus ``top_reasons(3, direction="up")``
  for every row - the documented fast mode for whole-population reason codes - and the
  share of rows whose top-3 raising business features are the same *set* as with shap's
  exact values (order ignored; a row with fewer than three positive contributions compares
  the ones it has);
* **Saabas** (``approx_contribs=True``), XGBoost's fast approximation, for context: its time
  and the same agreement;
* **one employee**: an :class:`~talentml.explain.Explainer` built once with the population
  as peer reference, then ``explain(one row).top_reasons(3)`` for ``--single`` random
  employees (median and 95th percentile), next to shap's explainer on one row;
* **GPU**: ``device="cuda"`` (XGBoost's GPUTreeShap) when XGBoost has CUDA and a GPU is
  visible, else recorded as not available.

Wall and CPU seconds are recorded (CPU summed over threads), with the load average: the
machine is shared, so the ratio to shap in the same run is the robust figure. Results go to
``benchmarks/results/explain.json``; ``docs/explain.md`` renders them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "explain.json"
DOC = ROOT / "docs" / "explain.md"
DOC_START = "<!-- bench-explain:start -->"
DOC_END = "<!-- bench-explain:end -->"


def make_data(n: int, p: int, *, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Correlated features with missing values, and a binary outcome."""
    rng = np.random.default_rng(seed)
    k = 10
    latent = rng.normal(size=(n, k))
    load = rng.normal(size=(k, p)) * (rng.random((k, p)) < 0.3)
    values = latent @ load + rng.normal(size=(n, p))
    values[rng.random((n, p)) < 0.03] = np.nan
    filled = np.nan_to_num(values)
    w = np.zeros(p)
    idx = np.random.default_rng(0).choice(p, min(20, p), replace=False)
    w[idx] = np.random.default_rng(1).normal(size=len(idx))
    f = filled @ w * 0.3 + np.sin(filled[:, 0]) + (filled[:, 1] > 0.5) * filled[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-(f - 1.5)))).astype(int)
    X = pd.DataFrame(values, columns=[f"f{i:02d}" for i in range(p)])
    X.insert(0, "employee_id", [f"E{i:07d}" for i in range(n)])
    X.insert(1, "as_of", pd.Timestamp("2025-06-01", tz="UTC"))
    return X, y


def clock(fn):
    """(result, wall seconds, CPU seconds of the process, all threads)."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def top_sets(values: np.ndarray, k: int = 3) -> list[frozenset]:
    """Per row, the set of the (up to) k columns with the largest positive values."""
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(values, order, axis=1)
    return [frozenset(o[t > 1e-9]) for o, t in zip(order, top, strict=True)]


def agreement(exact: np.ndarray, other: np.ndarray, k: int = 3) -> float:
    a, b = top_sets(exact, k), top_sets(other, k)
    return float(np.mean([x == y for x, y in zip(a, b, strict=True)]))


def reason_sets(reasons: pd.DataFrame, columns: list[str], n: int) -> np.ndarray:
    """The top-3 raising business features of each row, from a top_reasons table."""
    position = {c: j for j, c in enumerate(columns)}
    rows = reasons["employee_id"].str[1:].astype(int).to_numpy()
    cols = reasons["feature"].map(position).to_numpy()
    out = np.full((n, len(columns)), -np.inf)
    out[rows, cols] = reasons["contribution"].to_numpy()
    return out


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def gpu_available() -> bool:
    import xgboost as xgb

    if not xgb.build_info().get("USE_CUDA", False):
        return False
    if shutil.which("nvidia-smi") is None:
        return False
    return subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0


def run(args: argparse.Namespace) -> dict:
    import numba
    import xgboost as xgb

    from talentml.explain import Explainer, explain
    from talentml.explain._design import import_shap
    from talentml.explain._treeshap import tree_tables
    from talentml.models import FlightRisk

    shap = import_shap()
    out: dict = {
        "meta": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "xgboost": xgb.__version__,
            "shap": shap.__version__,
            "numba": numba.__version__,
            "load_average_start": load_average(),
        },
        "setup": {
            "rows": args.rows,
            "features": args.features,
            "trees": args.trees,
            "depth": args.depth,
            "train_rows": args.train_rows,
        },
    }
    print(f"data: {args.rows:,} x {args.features} (+ {args.train_rows:,} training rows)")
    X, _ = make_data(args.rows, args.features, seed=1)
    train, y = make_data(args.train_rows, args.features, seed=2)
    model, wall, cpu = clock(
        lambda: FlightRisk(
            n_estimators=args.trees,
            max_depth=args.depth,
            learning_rate=0.1,
            calibration=None,
            survival=False,
            monotone_constraints=None,
            random_state=0,
        ).fit(train, y)
    )
    leaves = int((model.booster_.trees_to_dataframe()["Feature"] == "Leaf").sum())
    out["setup"].update({"train_s": wall, "leaves": leaves, "leaves_per_tree": leaves / args.trees})
    print(f"model: {args.trees} trees, {leaves / args.trees:.1f} leaves per tree ({wall:.0f} s)")
    dm, dm_wall, _ = clock(lambda: model.design_matrix(X))

    # ---------------------------------------------------------------- shap (exact)
    explainer = shap.TreeExplainer(model.booster_)
    exact, wall, cpu = clock(lambda: explainer.shap_values(dm))
    out["shap"] = {"wall_s": wall, "cpu_s": cpu, "design_matrix_s": dm_wall}
    print(f"shap TreeExplainer: {wall:.1f} s wall, {cpu:.1f} s CPU")

    # ------------------------------------------------------------ talentml exact
    tables, wall, cpu = clock(lambda: tree_tables(model.booster_))
    out["tables_build"] = {"wall_s": wall, "cpu_s": cpu, "mb": tables.table.nbytes / 1e6}
    ours, wall, cpu = clock(lambda: explain(model, X, method="tables", peers="all"))
    values = ours.values.to_numpy()
    margin = model.booster_.predict(dm, output_margin=True)
    out["talentml_exact"] = {
        "wall_s": wall,
        "cpu_s": cpu,
        "max_abs_diff_vs_shap": float(np.abs(values - exact).max()),
        "max_additivity_error": float(np.abs(ours.margin.to_numpy() - margin).max()),
        "speedup_vs_shap": out["shap"]["wall_s"] / wall,
    }
    print(
        f"talentml exact: {wall:.1f} s wall, {cpu:.1f} s CPU (tables {tables.table.nbytes / 1e6:.0f}"
        f" MB in {out['tables_build']['wall_s']:.1f} s); max |diff| "
        f"{out['talentml_exact']['max_abs_diff_vs_shap']:.1e}"
    )

    # ---------------------------------------------- fast whole-population reason codes
    parts: dict[str, float] = {}

    def reason_codes():
        t0 = time.perf_counter()
        ex = explain(model, X, method="tables", peers="all")
        t1 = time.perf_counter()
        table = ex.top_reasons(3, direction="up")
        parts.update(explain_s=t1 - t0, top_reasons_s=time.perf_counter() - t1)
        return table

    reasons, wall, cpu = clock(reason_codes)
    columns = list(model.feature_names_in_)
    fast_sets = reason_sets(reasons, columns, len(X))
    out["fast_reason_codes"] = {
        "wall_s": wall,
        "cpu_s": cpu,
        "reasons": len(reasons),
        "top3_agreement_vs_shap": agreement(exact, fast_sets),
        "method": "tables",
        **parts,
    }
    print(
        f"fast reason codes: {wall:.1f} s wall ({parts['explain_s']:.1f} s SHAP values, "
        f"{parts['top_reasons_s']:.1f} s texts) for {len(reasons):,} reasons; top-3 agreement "
        f"{out['fast_reason_codes']['top3_agreement_vs_shap']:.2%}"
    )

    # --------------------------------------------------------- Saabas, for context
    saabas, wall, cpu = clock(
        lambda: model.booster_.predict(dm, pred_contribs=True, approx_contribs=True)[:, :-1]
    )
    out["saabas"] = {
        "wall_s": wall,
        "cpu_s": cpu,
        "top3_agreement_vs_shap": agreement(exact, saabas),
    }
    print(f"Saabas: {wall:.1f} s, top-3 agreement {out['saabas']['top3_agreement_vs_shap']:.2%}")

    # ------------------------------------------------------------- one employee
    rng = np.random.default_rng(0)
    rows = rng.choice(len(X), args.single, replace=False)
    single, wall, _ = clock(lambda: Explainer(model, reference=X, peers="all"))
    single.explain(X.iloc[[0]]).top_reasons(3)  # warm
    ours_ms, shap_ms = [], []
    for i in rows:
        one = X.iloc[[int(i)]]
        t = time.perf_counter()
        single.explain(one).top_reasons(3)
        ours_ms.append((time.perf_counter() - t) * 1e3)
    for i in rows[: min(50, len(rows))]:
        one = model.design_matrix(X.iloc[[int(i)]])
        t = time.perf_counter()
        explainer.shap_values(one)
        shap_ms.append((time.perf_counter() - t) * 1e3)
    out["one_employee"] = {
        "explainer_init_s": wall,
        "median_ms": float(np.median(ours_ms)),
        "p95_ms": float(np.percentile(ours_ms, 95)),
        "calls": len(ours_ms),
        "shap_values_only_median_ms": float(np.median(shap_ms)),
    }
    print(
        f"one employee with reasons: median {out['one_employee']['median_ms']:.1f} ms, p95 "
        f"{out['one_employee']['p95_ms']:.1f} ms (shap values alone: "
        f"{out['one_employee']['shap_values_only_median_ms']:.1f} ms)"
    )

    # --------------------------------------------------------------------- GPU
    if gpu_available():
        _, wall, cpu = clock(lambda: explain(model, X, method="xgboost", device="cuda"))
        out["gpu"] = {"available": True, "wall_s": wall, "cpu_s": cpu}
        print(f"GPU (GPUTreeShap): {wall:.1f} s")
    else:
        out["gpu"] = {"available": False}
        print("GPU: not available on this machine (XGBoost CUDA build and a GPU needed)")
    out["meta"]["load_average_end"] = load_average()
    return out


def write_docs(results: dict) -> None:
    """Render the results between the markers of docs/explain.md."""
    if not DOC.exists() or DOC_START not in DOC.read_text():
        return
    if not results:
        body = "*No recorded run: `python benchmarks/explain.py` writes one.*"
    else:
        m, s = results["meta"], results["setup"]
        shap_s = results["shap"]["wall_s"]
        ex = results["talentml_exact"]
        fast = results["fast_reason_codes"]
        sa = results["saabas"]
        one = results["one_employee"]
        gpu = results["gpu"]
        split = (
            f" ({fast['explain_s']:.1f} s values + {fast['top_reasons_s']:.1f} s texts)"
            if "top_reasons_s" in fast
            else ""
        )
        gpu_line = (
            f'| XGBoost GPUTreeShap (`device="cuda"`) | {gpu["wall_s"]:.1f} s | | |'
            if gpu.get("available")
            else '| XGBoost GPUTreeShap (`device="cuda"`) | not measured: no GPU on this machine | | |'
        )
        body = "\n".join(
            [
                f"Recorded by `benchmarks/explain.py`: {s['rows']:,} rows x {s['features']} "
                f"features, a {s['trees']}-tree depth-{s['depth']} model "
                f"({s['leaves_per_tree']:.0f} leaves per tree), Python {m['python']}, "
                f"{m['cpus']} cores ({m['cpu']}), XGBoost {m['xgboost']}, shap {m['shap']}. "
                f"The machine was shared (load average {m['load_average_start']} at the start, "
                f"{m['load_average_end']} at the end): compare within the run.",
                "",
                "| what | wall | CPU | vs shap / agreement |",
                "|---|---|---|---|",
                f"| shap `TreeExplainer` (= XGBoost `pred_contribs`), exact | {shap_s:.1f} s "
                f"| {results['shap']['cpu_s']:.1f} s | 1x |",
                f'| talentml exact (`method="tables"`) | {ex["wall_s"]:.1f} s | '
                f"{ex['cpu_s']:.1f} s | {ex['speedup_vs_shap']:.1f}x faster; max diff "
                f"{ex['max_abs_diff_vs_shap']:.0e} |",
                f"| one-off table build ({results['tables_build']['mb']:.0f} MB) | "
                f"{results['tables_build']['wall_s']:.1f} s | {results['tables_build']['cpu_s']:.1f}"
                " s | |",
                f"| talentml fast reason codes (SHAP + top-3 texts, every row) | "
                f"{fast['wall_s']:.1f} s{split} | {fast['cpu_s']:.1f} s | top-3 agreement "
                f"{fast['top3_agreement_vs_shap']:.2%} |",
                f"| Saabas (`approx_contribs`), for context | {sa['wall_s']:.1f} s | "
                f"{sa['cpu_s']:.1f} s | top-3 agreement {sa['top3_agreement_vs_shap']:.2%} |",
                f"| one employee with reasons (`Explainer`) | median {one['median_ms']:.1f} ms, "
                f"p95 {one['p95_ms']:.1f} ms | | shap values alone: "
                f"{one['shap_values_only_median_ms']:.1f} ms |",
                gpu_line,
            ]
        )
    text = DOC.read_text()
    i, j = text.index(DOC_START) + len(DOC_START), text.index(DOC_END)
    DOC.write_text(text[:i] + "\n" + body + "\n" + text[j:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=80)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--train-rows", type=int, default=30_000)
    parser.add_argument("--single", type=int, default=200, help="one-employee calls timed")
    parser.add_argument("--no-write", action="store_true", help="do not update the results")
    parser.add_argument("--docs", action="store_true", help="only re-render docs/explain.md")
    args = parser.parse_args()
    os.environ.setdefault("TALENTML_SHOW_PROGRESS", "0")
    sys.path.insert(0, str(ROOT / "src"))
    if args.docs:
        write_docs(json.loads(RESULTS.read_text()) if RESULTS.exists() else {})
        return
    results = run(args)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        write_docs(results)
    else:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
