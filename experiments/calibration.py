"""Which calibrator keeps the ranking: the step function, its strictly monotone version, Platt.

Run from the repository root::

    .venv/bin/python experiments/calibration.py            # the recorded run (a few minutes)
    .venv/bin/python experiments/calibration.py --no-write # print only

Protocol
--------
The demo's organization (2,000 simulated employees, 2023-2025, seed 0; the video platform's
IRIs resolved to the catalog by :class:`talentml.xapi.ActivityResolver`), monthly spine rows
from July 2023, every feature, the 180-day flight-risk label and the demo's out-of-time split
(:class:`talentml.models.TimeSplit` with one fold). On the training rows, a ``FlightRisk``
booster without calibration is trained on 80% of the employees; every calibrator is fitted on
the booster's margins of the other 20% (exactly what ``FlightRisk(calibration_cv=None)`` does)
and scored on the test period:

* ``step``: scikit-learn's ``IsotonicRegression(out_of_bounds="clip")`` (the calibrator of
  talentml before issue 18);
* ``isotonic_interp``: talentml's isotonic calibrator now (block means as knots, linear
  interpolation, logistic tails): strictly increasing;
* ``sigmoid``: Platt scaling.

Reported: ROC AUC of the raw margin and of each calibrated score, the expected calibration
error (10 quantile bins), and the ties among the 20 highest scores at the last cutoff (rows
whose inputs are identical excepted). The table goes to ``docs/models.md`` between the
``calibration:`` markers and the JSON to ``experiments/results/calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score

import talentml as tml
from talentml.datasets import SIMULATION_SECRET
from talentml.models._calibration import apply_calibrator, fit_calibrator

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "results" / "calibration.json"
DOC = ROOT / "docs" / "models.md"
MARKERS = ("<!-- calibration:start -->", "<!-- calibration:end -->")
TOP = 20

logger = logging.getLogger("experiments.calibration")


def data(n_employees: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo's feature table and flight-risk labels (activities resolved)."""
    org = tml.datasets.simulate_workforce(
        n_employees=n_employees,
        start="2023-01-01",
        end="2025-12-31",
        random_state=seed,
        show_progress=False,
    )
    result = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET, show_progress=False
    )
    resolver = tml.xapi.ActivityResolver().fit(result, course_catalog=org.catalog)
    statements = resolver.apply(result)
    first = (org.start + pd.DateOffset(months=6)).normalize()
    spine = tml.features.make_spine(org.employees, start=first, end=org.end, freq="MS")
    X = tml.features.build(
        spine,
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
        learning_since=org.start,
        show_progress=False,
    )
    y = tml.labels.flight_risk(X[["employee_id", "as_of"]], org.employees, horizon="180D")
    return X, y


def ties_at_top(p: np.ndarray, X: pd.DataFrame, k: int = TOP) -> int:
    """Rows among the ``k`` highest scores of the last cutoff that share a score with a
    higher-ranked row although their inputs differ."""
    last = (X["as_of"] == X["as_of"].max()).to_numpy()
    rows = X[last].drop(columns=["employee_id", "as_of"]).reset_index(drop=True)
    order = np.argsort(-p[last], kind="stable")[:k]
    top = p[last][order]
    tied = 0
    for i in range(1, len(order)):
        j = i - 1
        if top[i] == top[j] and not rows.iloc[order[i]].equals(rows.iloc[order[j]]):
            tied += 1
    return tied


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-employees", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.perf_counter()
    X, y = data(args.n_employees, args.seed)
    cv = tml.models.TimeSplit(n_splits=1, horizon="180D")
    train, test = next(cv.split(X, y))
    known = y["label"].notna().to_numpy()
    train, test = train[known[train]], test[known[test]]
    rng = np.random.default_rng(args.seed)
    employees = X["employee_id"].iloc[train].unique()
    calib_emp = set(rng.choice(employees, size=len(employees) // 5, replace=False))
    calib = X["employee_id"].iloc[train].isin(calib_emp).to_numpy()
    fit_rows, calib_rows = train[~calib], train[calib]
    booster = tml.models.FlightRisk(
        calibration=None, survival=False, random_state=args.seed, show_progress=False
    ).fit(X.iloc[fit_rows].reset_index(drop=True), y.iloc[fit_rows].reset_index(drop=True))
    margin = booster.decision_function(X)  # log-odds of the uncalibrated booster
    yc = y["label"].to_numpy(float)[calib_rows]
    Xt, yt = X.iloc[test].reset_index(drop=True), y["label"].iloc[test].to_numpy(int)
    mt = margin[test]
    step = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(
        margin[calib_rows], yc
    )
    scores = {
        "raw margin": mt,
        "step": step.predict(mt),
        "isotonic_interp": apply_calibrator(fit_calibrator("isotonic", margin[calib_rows], yc), mt),
        "sigmoid": apply_calibrator(fit_calibrator("sigmoid", margin[calib_rows], yc), mt),
    }
    rows = []
    for name, p in scores.items():
        rows.append(
            {
                "calibrator": name,
                "roc_auc": float(roc_auc_score(yt, p)),
                "ece": None
                if name == "raw margin"
                else float(tml.models.expected_calibration_error(yt, p, strategy="quantile")),
                "ties_top20": ties_at_top(np.asarray(p, float), Xt),
                "distinct": int(len(np.unique(p))),
            }
        )
    result = {
        "n_employees": args.n_employees,
        "seed": args.seed,
        "n_booster_rows": int(len(fit_rows)),
        "n_calibration_rows": int(len(calib_rows)),
        "n_test_rows": int(len(test)),
        "test_start": str(X["as_of"].iloc[test].min().date()),
        "booster_depth": int(booster.max_depth_),
        "booster_rounds": int(booster.n_estimators_),
        "results": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    md = markdown(result)
    print(md)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        text = DOC.read_text()
        a, b = text.index(MARKERS[0]), text.index(MARKERS[1])
        DOC.write_text(text[: a + len(MARKERS[0])] + "\n" + md + "\n" + text[b:])
    return result


def markdown(result: dict) -> str:
    lines = [
        f"Recorded by `experiments/calibration.py`: the demo's organization "
        f"({result['n_employees']:,} employees, seed {result['seed']}), FlightRisk booster "
        f"(depth {result['booster_depth']}, {result['booster_rounds']} trees, chosen by "
        f'`"auto"`) on {result["n_booster_rows"]:,} rows, calibrators fitted on '
        f"{result['n_calibration_rows']:,} rows of other employees, scored on "
        f"{result['n_test_rows']:,} out-of-time rows from {result['test_start']}.",
        "",
        "| calibrator | ROC AUC | ECE (10 quantile bins) | ties among the top 20 (last cutoff) "
        "| distinct scores |",
        "|---|---|---|---|---|",
    ]
    for r in result["results"]:
        ece = "-" if r["ece"] is None else f"{r['ece']:.4f}"
        lines.append(
            f"| {r['calibrator']} | {r['roc_auc']:.4f} | {ece} | {r['ties_top20']} "
            f"| {r['distinct']:,} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
