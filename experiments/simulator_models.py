"""talentml's models on the simulated organization, backtested against the oracle.

Run from the repository root::

    .venv/bin/python experiments/simulator_models.py                 # the recorded run
    .venv/bin/python experiments/simulator_models.py --cache /tmp/sm # keep features for reruns
    .venv/bin/python experiments/simulator_models.py --quick --no-write   # smoke test

What it does
------------
1. Simulates an organization (``--n-employees`` 5,000 at ``--start`` 2022-01-01, to ``--end``
   2025-12-31, default effects, ``--seed`` 0), ingests its xAPI statements
   (``talentml.xapi.ingest``) and builds every feature (``talentml.features.build``) on a
   monthly spine from six months after the start (the first months have no learning history).
2. Labels: ``flight_risk`` (180 days), ``high_potential`` (365 days, promotions) and the
   interval-censored ``ramp_up`` on ``hire + 30 days`` rows (``ramp_up_spine``), with features
   built on those rows.
3. Oracles from the simulator's truth, on the same rows: ``Truth.exit_probability``,
   ``Truth.high_potential_probability`` and ``Truth.ramp_up_oracle`` (median days given the
   latent onboarding engagement and potential).
4. Time-based backtests (``talentml.models.backtest``, ``--n-splits`` expanding folds): each
   fold trains on the rows whose label window closed before its test period starts (``as_of
   + horizon <= T``; durations and ramp-up intervals censored at ``T``) and predicts the next
   period; the out-of-time predictions of all folds are pooled and scored with
   cluster-bootstrap intervals, next to the oracle on the same rows.
5. Diagnostics (``--no-diagnostics`` to skip), to say *why* a goal is missed:

   * flight risk: the AUC of two weaker oracles on the same rows, one knowing the hazard
     covariates but not the disengaged state (``q_only``) and one that infers the state from
     what the data shows, a Bayes filter over each employee's voluntary learning and survival
     (``observable``: it knows each person's true learning rate and hazards, so it is an upper
     bound for any model of the learning records); and, on the last fold, the model refitted
     with candidate features derived from the statements, with the filter's posterior, and
     with the true state (privileged information, to measure what it is worth);
   * high potential: the model refitted with the true latent potential and performance.

Results go to ``experiments/results/simulator_models.json`` and the tables of
``docs/backtests.md`` (between ``<!-- sim-models:start -->`` and ``<!-- sim-models:end -->``),
and one MLflow run (experiment ``talentml-experiments/simulator_models``; one child run per
model; the JSON and the tables as artifacts) goes to ``--tracking-uri`` (default:
``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` in the repository root; ``--no-track``
skips it).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, simulate_workforce
from talentml.models import (
    FlightRisk,
    HighPotential,
    RampUp,
    backtest,
    interval_concordance_index,
)
from talentml.tracking import log_experiment, resolve_tracking_uri

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results" / "simulator_models.json"
#: The MLflow store when neither --tracking-uri nor MLFLOW_TRACKING_URI is given (gitignored;
#: ``mlflow ui --backend-store-uri sqlite:///mlflow.db`` from the repository root opens it).
TRACKING_DB = ROOT / "mlflow.db"
EXPERIMENT = "talentml-experiments/simulator_models"
DOCS = ROOT / "docs" / "backtests.md"
START_MARK, END_MARK = "<!-- sim-models:start -->", "<!-- sim-models:end -->"
DAY_NS = 86_400 * 10**9
#: The feature families built from the statements (rebuilt without activity resolution for
#: the ablation).
LEARNING_FAMILIES = ["learning", "learning_baseline"]
#: The feature families added by issue 18, by model: the ablation drops each in turn.
#: A family is a catalog family name or a (label, columns) pair for columns added to an
#: existing family.
NEW_FAMILIES = {
    "flight_risk": ["learning_baseline"],
    "high_potential": [
        (
            "agility: mastery per activity, days to pass",
            ["mastery_per_activity_365d", "days_to_pass_365d"],
        ),
        (
            "review history: means, trends and changes over every review",
            [
                "rating_mean_all",
                "rating_trend_all",
                "potential_mean_all",
                "potential_change",
                "competency_mean_all",
                "competency_mean_change",
            ],
        ),
    ],
    "ramp_up": [
        (
            "onboarding: sessions, share, days to first completion, cohort",
            [
                "onboarding_sessions_first_30d",
                "onboarding_share_first_30d",
                "days_to_first_onboarding_completion",
                "onboarding_days_mean_first_30d",
                "onboarding_vs_cohort_first_30d",
            ],
        )
    ],
}
GOALS = {
    "flight_risk_auc_gap": 0.02,
    "flight_risk_vs_observable": 0.02,
    "flight_risk_lift": 3.5,
    "flight_risk_ece": 0.02,
    "high_potential_auc_gap": 0.03,
    "ramp_up_c_index": 0.85,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------------- data
def prepare(args) -> dict:
    """Simulate, ingest, build features and labels (features cached in ``--cache``)."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    org = simulate_workforce(
        n_employees=args.n_employees,
        start=args.start,
        end=args.end,
        random_state=args.seed,
        show_progress=False,
    )
    timings["simulate_s"] = time.perf_counter() - t
    log(f"simulated {len(org.employees):,} employees in {timings['simulate_s']:.0f} s")
    cache = Path(args.cache) if args.cache else None
    tag = f"{args.n_employees}-{args.start}-{args.end}-{args.seed}"
    files = (
        {k: cache / f"{tag}-{k}.parquet" for k in ("stmts", "X", "XR", "XU", "res")}
        if cache
        else {}
    )
    if cache and all(p.exists() for p in files.values()):
        stmts = pd.read_parquet(files["stmts"])
        X = pd.read_parquet(files["X"])
        XR = pd.read_parquet(files["XR"])
        XU = pd.read_parquet(files["XU"])
        resolution = pd.read_parquet(files["res"])
        log(f"features read from {cache}")
    else:
        t = time.perf_counter()
        # Millions of statement dicts are alive: without freezing them, every garbage
        # collection walks them all and ingestion is ~15x slower.
        gc.collect()
        gc.freeze()
        try:
            ingested = tml.xapi.ingest(
                org.raw_statements,
                identities=org.identities,
                secret=SIMULATION_SECRET,
                show_progress=False,
            )
        finally:
            gc.unfreeze()
        timings["ingest_s"] = time.perf_counter() - t
        log(f"ingested {len(ingested.statements):,} statements in {timings['ingest_s']:.0f} s")
        org.raw_statements = []
        gc.collect()
        # Activity resolution: the video platform's IRIs become the catalog's activities (the
        # rule's own decisions; nothing is accepted by hand)
        t = time.perf_counter()
        resolver = tml.xapi.ActivityResolver().fit(ingested, course_catalog=org.catalog)
        stmts = resolver.apply(ingested)
        resolution = resolver.summary()
        timings["resolve_s"] = time.perf_counter() - t
        log(f"activity resolution in {timings['resolve_s']:.0f} s:\n{resolution}")
        t = time.perf_counter()
        first = pd.Timestamp(args.start, tz="UTC") + pd.DateOffset(months=6)
        spine = tml.features.make_spine(org.employees, start=first, end=args.end, freq="MS")
        X = _features(spine, stmts, org, args.start)
        timings["features_s"] = time.perf_counter() - t
        log(f"features: {X.shape[0]:,} rows x {X.shape[1] - 2} in {timings['features_s']:.0f} s")
        ramp_rows = _ramp_labels(org)
        XR = _features(ramp_rows[["employee_id", "as_of"]], stmts, org, args.start)
        # the learning features as they were without resolution (the ablation)
        t = time.perf_counter()
        XU = _features(spine, ingested.statements, org, args.start, features=LEARNING_FAMILIES)
        timings["features_unresolved_s"] = time.perf_counter() - t
        if cache:
            cache.mkdir(parents=True, exist_ok=True)
            stmts.to_parquet(files["stmts"])
            X.to_parquet(files["X"])
            XR.to_parquet(files["XR"])
            XU.to_parquet(files["XU"])
            resolution.to_parquet(files["res"])
    ramp_rows = _ramp_labels(org)
    return {
        "org": org,
        "stmts": stmts,
        "X": X,
        "XR": XR,
        "XU": XU,
        "resolution": resolution,
        "ramp": ramp_rows,
        "timings": timings,
    }


def _features(
    spine: pd.DataFrame, stmts: pd.DataFrame, org, start: str, features=None
) -> pd.DataFrame:
    return tml.features.build(
        spine,
        statements=stmts,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
        learning_since=start,
        features=features,
        show_progress=False,
    )


def _ramp_labels(org) -> pd.DataFrame:
    ramp = tml.labels.ramp_up(org.employees, org.productivity, hired_after=org.start)
    rows = tml.labels.ramp_up_spine(ramp, days_after_hire=30)
    return rows[rows["censored"].isna()].reset_index(drop=True)


# --------------------------------------------------------------------------- the models
def model_params(args) -> dict:
    """The models' parameters: their defaults unless the command line sets one.

    FlightRisk and HighPotential default to ``max_depth="auto"`` and ``n_estimators="auto"``
    (chosen on held-out employees in every fit); RampUp's defaults are fixed integers.
    """
    given = {
        "n_estimators": args.n_estimators,
        "learning_rate": args.learning_rate,
        "max_depth": args.max_depth,
        "min_child_weight": args.min_child_weight,
    }
    out = {k: v for k, v in given.items() if v is not None}
    return {**out, "n_jobs": args.n_jobs, "random_state": args.seed, "show_progress": False}


#: The setting the simulator's backtests were recorded with before issue 18 (the models'
#: defaults then): the reference of "defaults that fit the table".
LEGACY_PARAMS = {"n_estimators": 300, "max_depth": 4, "learning_rate": 0.05, "calibration_cv": None}


def _metrics(bt) -> dict:
    table = bt.metrics.set_index("metric")
    out = {}
    for name, row in table.iterrows():
        out[name] = {
            k: (None if pd.isna(row.get(k)) else float(row.get(k)))
            for k in ("value", "ci_low", "ci_high", "oracle")
            if k in row
        }
        out[name]["n"] = int(row["n"])
    gap = bt.evaluation.oracle_gap
    if gap is not None:
        for _, row in gap.iterrows():
            out.setdefault(row["metric"], {})["gap"] = float(row["gap"])
            out[row["metric"]]["gap_ci"] = [float(row["ci_low"]), float(row["ci_high"])]
    return out


def _folds(bt) -> list[dict]:
    rows = []
    for rec in bt.folds.to_dict("records"):
        row = {k: (str(v) if isinstance(v, pd.Timestamp) else v) for k, v in rec.items()}
        row = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in row.items()}
        rows.append(row)
    fm = bt.fold_metrics
    for row in rows:
        sub = fm[fm["fold"] == row["fold"]].set_index("metric")["value"]
        row["metrics"] = {k: float(v) for k, v in sub.items() if pd.notna(v)}
    return rows


def run_flight_risk(data: dict, args) -> tuple[dict, object, pd.DataFrame, pd.DataFrame]:
    org, X = data["org"], data["X"]
    y = tml.labels.flight_risk(X[["employee_id", "as_of"]], org.employees, horizon="180D")
    oracle = org.truth.exit_probability(X, "180D").to_numpy()
    # Hires dated on the 1st of a month are not at risk in the simulator's month of hire
    # (no hazard row): no oracle, left out (counted).
    keep = ~np.isnan(oracle)
    no_oracle = int((~keep).sum())
    Xk, yk, ok = X[keep].reset_index(drop=True), y[keep].reset_index(drop=True), oracle[keep]
    model = FlightRisk(horizon="180D", **model_params(args))
    t = time.perf_counter()
    bt = backtest(
        model,
        Xk,
        yk,
        n_splits=args.n_splits,
        oracle=ok,
        n_bootstrap=args.n_bootstrap,
        random_state=args.seed,
        show_progress=False,
    )
    seconds = time.perf_counter() - t
    log(f"flight risk backtest in {seconds:.0f} s: AUC {bt['roc_auc']:.3f}")
    out = {
        "horizon": "180D",
        "rows": len(Xk),
        "left_out_without_oracle": no_oracle,
        "seconds": seconds,
        "metrics": _metrics(bt),
        "folds": _folds(bt),
        "base_rate_by_year": _rate_by_year(Xk, yk),
    }
    return out, bt, Xk, yk


def run_high_potential(data: dict, args) -> tuple[dict, object, pd.DataFrame, pd.DataFrame]:
    org, X = data["org"], data["X"]
    y = tml.labels.high_potential(
        X[["employee_id", "as_of"]], org.job_events, horizon="365D", employees=org.employees
    )
    oracle = org.truth.high_potential_probability(X, "365D").to_numpy()
    labelled = y["label"].notna().to_numpy()
    keep = labelled & ~np.isnan(oracle)
    no_oracle = int((labelled & np.isnan(oracle)).sum())
    Xk, yk, ok = X[keep].reset_index(drop=True), y[keep].reset_index(drop=True), oracle[keep]
    model = HighPotential(horizon="365D", **model_params(args))
    t = time.perf_counter()
    bt = backtest(
        model,
        Xk,
        yk,
        n_splits=max(1, args.n_splits - 1),
        oracle=ok,
        n_bootstrap=args.n_bootstrap,
        random_state=args.seed,
        show_progress=False,
    )
    seconds = time.perf_counter() - t
    log(f"high potential backtest in {seconds:.0f} s: AUC {bt['roc_auc']:.3f}")
    out = {
        "horizon": "365D",
        "rows": len(Xk),
        "left_out_without_oracle": no_oracle,
        "seconds": seconds,
        "metrics": _metrics(bt),
        "folds": _folds(bt),
        "base_rate_by_year": _rate_by_year(Xk, yk),
    }
    return out, bt, Xk, yk


def run_ramp_up(data: dict, args) -> tuple[dict, object, pd.DataFrame, pd.DataFrame]:
    org, XR, rows = data["org"], data["XR"], data["ramp"]
    oracle = org.truth.ramp_up_oracle(job_events=org.job_events, days_after_hire=30)
    median = rows["employee_id"].map(oracle.set_index("employee_id")["median_days"])
    keep = median.notna().to_numpy()
    Xk = XR[keep].reset_index(drop=True)
    yk = rows[keep].reset_index(drop=True)
    ok = median[keep].to_numpy(float)
    sigma = _ramp_sigma(Xk, yk)
    model = RampUp(distribution_scale=sigma, **model_params(args))
    t = time.perf_counter()
    bt = backtest(
        model,
        Xk,
        yk,
        n_splits=max(1, args.n_splits - 1),
        horizon="365D",
        oracle=ok,
        n_bootstrap=args.n_bootstrap,
        random_state=args.seed,
        show_progress=False,
    )
    seconds = time.perf_counter() - t
    log(f"ramp-up backtest in {seconds:.0f} s: C-index {bt['c_index_interval']:.3f}")
    out = {
        "rows": len(Xk),
        "observed_share": float(yk["observed"].mean()),
        "distribution_scale": sigma,
        "seconds": seconds,
        "metrics": _metrics(bt),
        "folds": _folds(bt),
    }
    return out, bt, Xk, yk


def _ramp_sigma(X: pd.DataFrame, y: pd.DataFrame) -> float:
    """AFT scale: spread of log days within department, on the first year of hires.

    Those hires train every fold, so no test outcome sets it. The department is the strongest
    observable; the model explains a little more, so this is a slightly wide scale.
    """
    first = X["as_of"] < X["as_of"].min() + pd.Timedelta("365D")
    seen = (y["observed"] & first).to_numpy(bool)
    mid = np.log((y["lower_days"] + y["upper_days"]) / 2)[seen]
    return float(
        mid.groupby(X["department"][seen].to_numpy()).transform(lambda v: v - v.mean()).std()
    )


def ramp_up_diagnostics(data: dict, bt, Xk: pd.DataFrame, yk: pd.DataFrame, args) -> dict:
    """Interval C-index of partial oracles on the pooled test rows, and a privileged refit."""
    org = data["org"]
    fx = org.effects
    oracle = org.truth.ramp_up_oracle(job_events=org.job_events, days_after_hire=30)
    oracle = oracle.set_index("employee_id")
    lat = org.truth.latent.set_index("employee_id")
    pred = bt.predictions.reset_index(drop=True)
    ids = pred["employee_id"].astype(str)
    lo, up = pred["lower_days"].to_numpy(), pred["upper_days"].to_numpy()
    base = np.exp(ids.map(oracle["log_median"]).to_numpy(float))
    eng = ids.map(lat["onboarding_engagement"]).to_numpy(float)
    pot = ids.map(lat["potential"]).to_numpy(float)
    dept_only = base * np.exp(fx.onboarding_effect * eng * fx.onboarding + 0.1 * pot * fx.potential)
    out = {
        "oracle": interval_concordance_index(lo, up, base),
        "department_only": interval_concordance_index(lo, up, dept_only),
        "without_engagement": interval_concordance_index(
            lo, up, dept_only * np.exp(-0.1 * pot * fx.potential)
        ),
        "model": float(bt["c_index_interval"]),
    }
    if args.ablations:
        last = bt.folds.iloc[-1]
        T, end = last["test_start"], last["test_end"]
        hire = pd.to_datetime(yk["hire_date"], utc=True)
        room = ((T - hire) / pd.Timedelta(days=1)).to_numpy(float)
        train = (Xk["as_of"] + pd.Timedelta("365D") <= T).to_numpy()
        test = ((Xk["as_of"] >= T) & (Xk["as_of"] < end)).to_numpy()
        y_train = yk[train].copy()
        late = y_train["upper_days"].to_numpy() > room[train]  # censor at T, as backtest does
        y_train.loc[late, "lower_days"] = np.minimum(
            y_train.loc[late, "lower_days"], room[train][late]
        )
        y_train.loc[late, "upper_days"] = np.inf
        e = Xk["employee_id"].astype(str).map(lat["onboarding_engagement"]).to_numpy(float)
        sigma = _ramp_sigma(Xk, yk)
        lower = yk["lower_days"][test].to_numpy(float)
        upper = yk["upper_days"][test].to_numpy(float)
        variants = [("model", Xk), ("+true_engagement", Xk.assign(true_engagement=e))]
        for family in NEW_FAMILIES["ramp_up"]:
            label, cols = _family(Xk, family)
            if cols:
                variants.append((f"without {label} ({len(cols)} features)", Xk.drop(columns=cols)))
        preds = {}
        for name, Xa in variants:
            m = RampUp(distribution_scale=sigma, **model_params(args)).fit(
                Xa[train].reset_index(drop=True), y_train.reset_index(drop=True)
            )
            preds[name] = np.asarray(m.predict(Xa[test].reset_index(drop=True)), float)
            out[f"last_fold_{name}"] = interval_concordance_index(lower, upper, preds[name])
        groups = Xk["employee_id"][test].astype(str).to_numpy()
        out["ablation"] = {
            name: paired_c_index_difference(
                lower, upper, preds["model"], p, groups, args.n_bootstrap, args.seed
            )
            for name, p in preds.items()
            if name.startswith("without")
        }
        out["last_fold_oracle"] = interval_concordance_index(
            yk["lower_days"][test],
            yk["upper_days"][test],
            Xk["employee_id"][test].astype(str).map(oracle["median_days"]).to_numpy(float),
        )
        out["last_fold_n_test"] = int(test.sum())
    log(f"ramp-up diagnostics: {out}")
    return {k: float(v) if isinstance(v, float | np.floating) else v for k, v in out.items()}


def _rate_by_year(X: pd.DataFrame, y: pd.DataFrame) -> dict[str, float]:
    lab = y["label"].astype("Float64")
    return {str(k): float(v) for k, v in lab.groupby(X["as_of"].dt.year).mean().items()}


# ---------------------------------------------------------------- flight-risk diagnostics
def state_oracles(org, rows: pd.DataFrame, stmts: pd.DataFrame) -> dict[str, np.ndarray]:
    """The flight-risk oracles (180 days) of ``rows``, from the least to the most informed.

    ``q_only``: every employee engaged (``Truth.exit_probability(p_disengaged=0.0)``);
    ``observable``: the state inferred from the voluntary learning records
    (``Truth.observable_exit_probability``, the Bayes filter of
    ``Truth.disengagement_posterior``: it knows each person's true learning rate and hazards,
    so it bounds any model of the learning records); ``posterior`` (the filter's
    P(disengaged)), the true ``state`` and the true monthly hazard of disengaging ``q``.
    """
    tr = org.truth
    posterior = tr.disengagement_posterior(stmts)
    key = rows[["employee_id"]].astype(str).assign(month=rows["as_of"].to_numpy())
    pi = key.merge(
        posterior.assign(employee_id=posterior["employee_id"].astype(str)),
        on=["employee_id", "month"],
        how="left",
    )["p_disengaged"].to_numpy(float)
    hz = key.merge(
        tr.hazard.assign(employee_id=tr.hazard["employee_id"].astype(str)),
        on=["employee_id", "month"],
        how="left",
    )
    state = hz["disengaged"].astype("boolean").fillna(False).to_numpy(bool)
    return {
        "q_only": tr.exit_probability(rows, p_disengaged=0.0).to_numpy(),
        "observable": tr.observable_exit_probability(rows, stmts).to_numpy(),
        "posterior": pi,
        "state": state,
        "q": hz["q"].to_numpy(float),
    }


def _ablation(make, X, y, train, test, extra: dict[str, np.ndarray]) -> float:
    return float(
        roc_auc_score(y["label"][test].astype(int), _fit_predict(make, X, y, train, test, extra))
    )


def _fit_predict(make, X, y, train, test, extra=None, drop=()) -> np.ndarray:
    Xa = X.assign(**(extra or {})).drop(columns=list(drop))
    model = make().fit(Xa[train].reset_index(drop=True), y[train].reset_index(drop=True))
    return model.predict_proba(Xa[test].reset_index(drop=True))[:, 1]


def _paired_bootstrap(score, p, q, groups, n_boot: int, seed: int, *, usable=None) -> dict:
    """score(rows, p) - score(rows, q) on the same rows, with a 95% cluster-bootstrap interval
    (by employee); ``usable(rows)`` skips a resample the score cannot be computed on."""
    codes, index = np.unique(groups, return_inverse=True)
    rows_of = [np.flatnonzero(index == g) for g in range(len(codes))]
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        take = np.concatenate([rows_of[g] for g in rng.integers(0, len(codes), len(codes))])
        if usable is not None and not usable(take):
            continue
        diffs.append(score(take, p) - score(take, q))
    low, high = np.percentile(diffs, [2.5, 97.5])
    every = np.arange(len(groups))
    return {"difference": float(score(every, p) - score(every, q)), "ci": [float(low), float(high)]}


def paired_auc_difference(
    lab: np.ndarray, p: np.ndarray, q: np.ndarray, groups: np.ndarray, n_boot: int, seed: int
) -> dict:
    """AUC(p) - AUC(q) on the same rows with a 95% cluster-bootstrap interval (by employee)."""
    return _paired_bootstrap(
        lambda rows, pred: roc_auc_score(lab[rows], pred[rows]),
        p,
        q,
        groups,
        n_boot,
        seed,
        usable=lambda rows: lab[rows].min() != lab[rows].max(),
    )


def family_columns(X: pd.DataFrame, families) -> list[str]:
    """The columns of ``X`` in these feature-catalog families."""
    cat = tml.features.catalog()
    names = set(cat.loc[cat["family"].isin(list(families)), "name"])
    return [c for c in X.columns if c in names]


def _family(X: pd.DataFrame, family) -> tuple[str, list[str]]:
    """Label and present columns of a NEW_FAMILIES entry."""
    if isinstance(family, str):
        return f"`{family}`", family_columns(X, [family])
    label, cols = family
    return label, [c for c in cols if c in X.columns]


def paired_c_index_difference(
    lower: np.ndarray,
    upper: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    groups: np.ndarray,
    n_boot: int,
    seed: int,
) -> dict:
    """Interval C-index(p) - C-index(q) on the same rows, 95% cluster-bootstrap interval."""
    return _paired_bootstrap(
        lambda rows, pred: interval_concordance_index(lower[rows], upper[rows], pred[rows]),
        p,
        q,
        groups,
        n_boot,
        seed,
    )


def ablations(task: str, data: dict, make, Xk, yk, train, test, args, p_full=None) -> dict:
    """Each new feature family's contribution, activity resolution's and the adaptive
    defaults', on one fold: AUC with and without, the difference with a paired 95%
    cluster-bootstrap interval (by employee)."""
    lab = yk["label"][test].astype(int).to_numpy()
    groups = Xk["employee_id"][test].astype(str).to_numpy()
    if p_full is None:
        p_full = _fit_predict(make, Xk, yk, train, test)
    out = {"defaults, every feature": {"roc_auc": float(roc_auc_score(lab, p_full))}}

    def record(name, p):
        diff = paired_auc_difference(lab, p_full, p, groups, args.n_bootstrap, args.seed)
        out[name] = {"roc_auc": float(roc_auc_score(lab, p)), "contribution": diff}
        log(f"{task} ablation {name}: AUC {out[name]['roc_auc']:.4f}, contribution {diff}")

    for family in NEW_FAMILIES[task]:
        label, cols = _family(Xk, family)
        if cols:
            record(
                f"without {label} ({len(cols)} features)",
                _fit_predict(make, Xk, yk, train, test, drop=cols),
            )
    if task != "ramp_up":
        XU = data["XU"]
        keys = Xk[["employee_id", "as_of"]]
        unres = keys.merge(XU, on=["employee_id", "as_of"], how="left")
        cols = [c for c in XU.columns if c not in ("employee_id", "as_of") and c in Xk.columns]
        extra = {c: unres[c].to_numpy() for c in cols}
        record(
            "without activity resolution (learning features from the raw IRIs)",
            _fit_predict(make, Xk, yk, train, test, extra=extra),
        )
        legacy = type(make())(**{**make().get_params(), **LEGACY_PARAMS})
        record(
            "the defaults before issue 18 (depth 4, 300 trees, held-out calibration)",
            _fit_predict(lambda: legacy, Xk, yk, train, test),
        )
    return out


def flight_risk_diagnostics(data: dict, bt, X: pd.DataFrame, y: pd.DataFrame, args) -> dict:
    org, stmts = data["org"], data["stmts"]
    t = time.perf_counter()
    pred = bt.predictions
    pred = pred[pred["label"].notna().to_numpy()].reset_index(drop=True)
    rows = pred[["employee_id", "as_of"]].reset_index(drop=True)
    rows["employee_id"] = rows["employee_id"].astype(str)
    so = state_oracles(org, rows, stmts)
    lab = pred["label"].to_numpy(dtype=np.int64)
    pooled = {
        "oracle": float(roc_auc_score(lab, pred["oracle"])),
        "observable_oracle": float(roc_auc_score(lab, so["observable"])),
        "q_only_oracle": float(roc_auc_score(lab, so["q_only"])),
        "state_only": float(roc_auc_score(lab, so["state"])),
        "model": float(bt["roc_auc"]),
        "disengaged_share": float(so["state"].mean()),
        "exits_from_disengaged_share": float(lab[so["state"]].sum() / max(lab.sum(), 1)),
        "state_auc_of_posterior": float(roc_auc_score(so["state"], so["posterior"])),
        "observable_oracle_mean": float(np.mean(so["observable"])),
        "observed_rate": float(lab.mean()),
    }
    log(f"flight-risk oracles: {pooled}")
    result = {"pooled": pooled, "filter_seconds": time.perf_counter() - t}
    if args.ablations:
        result["last_fold"] = _flight_ablations(data, bt, X, y, args)
    return result


def _flight_ablations(data, bt, Xk, yk, args) -> dict:
    org, stmts = data["org"], data["stmts"]
    last = bt.folds.iloc[-1]
    T, end = last["test_start"], last["test_end"]
    keep = yk["label"].notna().to_numpy()
    train = keep & (Xk["as_of"] + pd.Timedelta("180D") <= T).to_numpy()
    test = keep & (Xk["as_of"] >= T).to_numpy() & (Xk["as_of"] < end).to_numpy()
    rows = Xk[["employee_id", "as_of"]].assign(employee_id=lambda d: d["employee_id"].astype(str))
    so = state_oracles(org, rows, stmts)
    params = model_params(args)

    def make():
        return FlightRisk(horizon="180D", survival=False, **params)

    lab = yk["label"][test].astype(int).to_numpy()
    out = {
        "test_start": str(T),
        "test_end": str(end),
        "n_train": int(train.sum()),
        "n_test": int(test.sum()),
        "oracle": float(roc_auc_score(lab, org.truth.exit_probability(Xk[test]))),
        "observable_oracle": float(roc_auc_score(lab, so["observable"][test])),
    }
    t = time.perf_counter()
    p_full = _fit_predict(make, Xk, yk, train, test)
    out["model"] = float(roc_auc_score(lab, p_full))
    log(f"flight-risk last fold: AUC {out['model']:.4f} ({time.perf_counter() - t:.0f} s)")
    runs = {
        "+filter_posterior": {"bayes_posterior": so["posterior"]},
        "+true_state": {"true_disengaged": so["state"].astype(float)},
    }
    for name, extra in runs.items():
        t = time.perf_counter()
        out[name] = _ablation(make, Xk, yk, train, test, extra)
        log(f"flight-risk ablation {name}: AUC {out[name]:.4f} ({time.perf_counter() - t:.0f} s)")
    out["ablation"] = ablations("flight_risk", data, make, Xk, yk, train, test, args, p_full)
    return out


def high_potential_diagnostics(data: dict, bt, Xk: pd.DataFrame, yk: pd.DataFrame, args) -> dict:
    org = data["org"]
    last = bt.folds.iloc[-1]
    T, end = last["test_start"], last["test_end"]
    keep = yk["label"].notna().to_numpy()
    train = keep & (Xk["as_of"] + pd.Timedelta("365D") <= T).to_numpy()
    test = keep & (Xk["as_of"] >= T).to_numpy() & (Xk["as_of"] < end).to_numpy()
    lat = org.truth.latent.set_index("employee_id")
    ids = Xk["employee_id"].astype(str)
    params = model_params(args)

    def make():
        return HighPotential(horizon="365D", **params)

    lab = yk["label"][test].astype(int).to_numpy()
    oracle = org.truth.high_potential_probability(Xk[test], "365D").to_numpy()
    out = {
        "test_start": str(T),
        "test_end": str(end),
        "n_train": int(train.sum()),
        "n_test": int(test.sum()),
        "oracle": float(roc_auc_score(lab, oracle)),
    }
    t = time.perf_counter()
    p_full = _fit_predict(make, Xk, yk, train, test)
    out["model"] = float(roc_auc_score(lab, p_full))
    log(f"high-potential last fold: AUC {out['model']:.4f} ({time.perf_counter() - t:.0f} s)")
    latents = {
        "true_potential": ids.map(lat["potential"]).to_numpy(float),
        "true_performance": ids.map(lat["performance"]).to_numpy(float),
    }
    out["+true_latents"] = _ablation(make, Xk, yk, train, test, latents)
    out["ablation"] = ablations("high_potential", data, make, Xk, yk, train, test, args, p_full)
    return out


# ------------------------------------------------------------------- the no-effect control
def no_effect_control(args, n_employees: int = 2_000) -> dict:
    """FlightRisk on the new drop-off features alone, with and without disengagement.

    Two organizations that differ only in ``Effects(disengagement=...)`` (same seed, size and
    period); the ``learning_baseline`` features on a monthly spine, the 180-day label, one
    out-of-time fold (:class:`~talentml.models.TimeSplit`); the AUC with a 95%
    cluster-bootstrap interval. Without disengagement the features must carry no signal.
    """
    out: dict = {"n_employees": n_employees}
    for name, on in (("with_disengagement", True), ("without_disengagement", False)):
        t = time.perf_counter()
        org = simulate_workforce(
            n_employees=n_employees,
            start=args.start,
            end=args.end,
            random_state=args.seed,
            effects={"disengagement": on},
            show_progress=False,
        )
        ingested = tml.xapi.ingest(
            org.raw_statements,
            identities=org.identities,
            secret=SIMULATION_SECRET,
            show_progress=False,
        )
        stmts = (
            tml.xapi.ActivityResolver().fit(ingested, course_catalog=org.catalog).apply(ingested)
        )
        first = pd.Timestamp(args.start, tz="UTC") + pd.DateOffset(months=6)
        spine = tml.features.make_spine(org.employees, start=first, end=args.end, freq="MS")
        X = _features(spine, stmts, org, args.start, features=NEW_FAMILIES["flight_risk"])
        y = tml.labels.flight_risk(X[["employee_id", "as_of"]], org.employees, horizon="180D")
        train, test = next(tml.models.TimeSplit(n_splits=1, horizon="180D").split(X, y))
        known = y["label"].notna().to_numpy()
        train, test = train[known[train]], test[known[test]]
        model = FlightRisk(horizon="180D", survival=False, **model_params(args))
        model.fit(X.iloc[train].reset_index(drop=True), y.iloc[train].reset_index(drop=True))
        p = model.predict_proba(X.iloc[test].reset_index(drop=True))[:, 1]
        lab = y["label"].iloc[test].astype(int).to_numpy()
        groups = X["employee_id"].iloc[test].astype(str).to_numpy()
        half = paired_auc_difference(lab, p, np.full(len(p), 0.5), groups, args.n_bootstrap, 1)
        out[name] = {
            "roc_auc": half["difference"] + 0.5,
            "ci": [half["ci"][0] + 0.5, half["ci"][1] + 0.5],
            "n_features": X.shape[1] - 2,
            "n_test": int(len(test)),
            "seconds": time.perf_counter() - t,
        }
        log(f"no-effect control {name}: {out[name]}")
    return out


# ---------------------------------------------------------------------------- reporting
def _fmt(v, digits=3) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def _ci(m: dict) -> str:
    if m.get("ci_low") is None:
        return _fmt(m.get("value"))
    return f"{_fmt(m['value'])} ({_fmt(m['ci_low'])}-{_fmt(m['ci_high'])})"


def markdown(results: dict) -> str:
    """The results section of docs/backtests.md."""
    s = results["setup"]
    fr, hp, ru = results["flight_risk"], results["high_potential"], results["ramp_up"]
    lines = [
        f"Recorded by `experiments/simulator_models.py`: {s['n_employees']:,} employees, "
        f"{s['start']} to {s['end']} (seed {s['seed']}, default effects), "
        f"{s['spine_rows']:,} monthly spine rows x {s['n_features']} features (activities "
        f"resolved by `ActivityResolver`); models with their defaults "
        + (
            "(FlightRisk and HighPotential choose depth and rounds in every fit)"
            if not {"n_estimators", "max_depth"} & set(s["model_params"])
            else f"and {s['model_params']}"
        )
        + "; "
        f"{s['n_bootstrap']} cluster-bootstrap resamples (95% intervals). "
        f"Whole run: {s['total_s'] / 60:.0f} min on {s['cpus']} cores "
        f"(load average {', '.join(f'{x:.1f}' for x in s['load_average_at_start'])} at the start).",
        "",
        "| model | metric | model (95% CI) | oracle, same rows | gap (95% CI) | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]

    def row(name, metric, m, goal=None, check=None):
        gap = m.get("gap")
        gap_txt = (
            "-" if gap is None else f"{gap:+.3f} ({m['gap_ci'][0]:+.3f} to {m['gap_ci'][1]:+.3f})"
        )
        met = "-" if check is None else ("yes" if check else "**no**")
        lines.append(
            f"| {name} | {metric} | {_ci(m)} | {_fmt(m.get('oracle'))} | {gap_txt} | "
            f"{goal or '-'} | {met} |"
        )

    fm, hm, rm = fr["metrics"], hp["metrics"], ru["metrics"]
    row(
        "FlightRisk 180D",
        "ROC AUC",
        fm["roc_auc"],
        "gap >= -0.02",
        fm["roc_auc"].get("gap", -1) >= -GOALS["flight_risk_auc_gap"],
    )
    row(
        "",
        "ECE (10 bins)",
        fm["ece"],
        "<= 0.02",
        fm["ece"]["value"] <= GOALS["flight_risk_ece"],
    )
    obs = results.get("diagnostics", {}).get("flight_risk", {}).get("pooled", {})
    if "observable_oracle" in obs:
        goal = obs["observable_oracle"] - GOALS["flight_risk_vs_observable"]
        lines.append(
            f"|  | ROC AUC against the observable oracle | {_ci(fm['roc_auc'])} | "
            f"{_fmt(obs['observable_oracle'])} (observable) | "
            f"{fm['roc_auc']['value'] - obs['observable_oracle']:+.3f} | >= observable - 0.02 | "
            f"{'yes' if fm['roc_auc']['value'] >= goal else '**no**'} |"
        )
    for k, name in (
        ("brier", "Brier score"),
        ("c_index_harrell", "C-index (Harrell, survival view)"),
        ("c_index_uno", "C-index (Uno, IPCW)"),
        ("integrated_brier", "integrated Brier score"),
        ("lift_at_10", "lift in the top 10%"),
    ):
        if k in fm:
            if k == "lift_at_10":
                row("", name, fm[k], ">= 3.5", fm[k]["value"] >= GOALS["flight_risk_lift"])
            else:
                row("", name, fm[k])
    row(
        "HighPotential 365D",
        "ROC AUC",
        hm["roc_auc"],
        "gap >= -0.03",
        hm["roc_auc"].get("gap", -1) >= -GOALS["high_potential_auc_gap"],
    )
    for k, name in (("ece", "ECE (10 bins)"), ("brier", "Brier score")):
        if k in hm:
            row("", name, hm[k])
    for k, name in (
        ("c_index_interval", "C-index (interval-censored)"),
        ("mae_observed", "MAE on observed ramp-ups (days)"),
        ("coverage_10_90", "coverage of the 10-90% interval"),
    ):
        if k in rm:
            if k == "c_index_interval":
                ok = rm[k]["value"] >= GOALS["ramp_up_c_index"]
                row("RampUp (hire + 30 days)", name, rm[k], ">= 0.85", ok)
            else:
                row("", name, rm[k])
    lines += [
        "",
        f"Rows: flight risk {fr['rows']:,} ({fr['left_out_without_oracle']} left out: hired on "
        f"the 1st of a month, no hazard row in the truth that month); high potential "
        f"{hp['rows']:,} labelled rows; ramp-up {ru['rows']:,} hires "
        f"({ru['observed_share']:.0%} observed productive). Test periods "
        f"(pooled): "
        + "; ".join(
            f"{name} "
            + ", ".join(f"{f['test_start'][:10]} to {f['test_end'][:10]}" for f in part["folds"])
            for name, part in (("flight risk", fr), ("high potential", hp), ("ramp-up", ru))
        )
        + ".",
        "",
    ]
    diag = results.get("diagnostics", {})
    fd = diag.get("flight_risk")
    if fd:
        p = fd["pooled"]
        lines += [
            "**Why flight risk stays far from the oracle.** The oracle knows whether each "
            "employee is disengaged at `as_of`; a disengaged employee leaves at 20% a month, "
            f"an engaged one at 0.18%. {p['disengaged_share']:.1%} of the test rows are "
            f"disengaged and they make {p['exits_from_disengaged_share']:.0%} of the exits. "
            "AUC on the same pooled test rows:",
            "",
            "| scorer | what it knows | ROC AUC |",
            "|---|---|---|",
            f"| the oracle | the state, the hazard covariates (rating, promotion stall, manager "
            f"change, team exits, tenure, potential) | {_fmt(p['oracle'])} |",
            f"| the observable oracle | the hazard covariates and each person's learning rate "
            f"exactly; the state only through a Bayes filter on voluntary learning sessions and "
            f"survival (state AUC {_fmt(p['state_auc_of_posterior'])}) | "
            f"{_fmt(p['observable_oracle'])} |",
            f"| the state alone | disengaged or not | {_fmt(p['state_only'])} |",
            f"| the hazard covariates alone | everything but the state | "
            f"{_fmt(p['q_only_oracle'])} |",
            f"| FlightRisk | the features | {_fmt(p['model'])} |",
            "",
        ]
        lf = fd.get("last_fold")
        if lf:
            lines += [
                f"Refitted on the last fold ({lf['n_train']:,} training rows, test "
                f"{lf['test_start'][:10]} to {lf['test_end'][:10]}, {lf['n_test']:,} rows; "
                f"classifier only), with added columns:",
                "",
                "| FlightRisk trained with | ROC AUC |",
                "|---|---|",
                f"| the features | {_fmt(lf['model'])} |",
                f"| + the Bayes filter's posterior (privileged: needs the true learning rate) | "
                f"{_fmt(lf['+filter_posterior'])} |",
                f"| + the true state (privileged) | {_fmt(lf['+true_state'])} |",
                f"| observable oracle, same rows | {_fmt(lf['observable_oracle'])} |",
                f"| oracle, same rows | {_fmt(lf['oracle'])} |",
                "",
            ]
    hd = diag.get("high_potential")
    if hd:
        lines += [
            f"**High potential, last fold** ({hd['n_train']:,} training rows, "
            f"{hd['n_test']:,} test rows): HighPotential {_fmt(hd['model'])}; with the true "
            f"latent potential and performance added (privileged) {_fmt(hd['+true_latents'])}; "
            f"the oracle {_fmt(hd['oracle'])}.",
            "",
        ]
    tables = [
        (name, part["last_fold"]["ablation"] if name == "FlightRisk" else part["ablation"])
        for name, part in (("FlightRisk", fd or {}), ("HighPotential", hd or {}))
        if part and ("ablation" in part or "ablation" in part.get("last_fold", {}))
    ]
    if tables:
        lines += [
            "**Ablation** (last fold of each model; the contribution is the AUC of the model "
            "with everything minus the AUC without the part, with a paired 95% cluster-"
            "bootstrap interval by employee):",
            "",
            "| model | fitted | ROC AUC | contribution (95% CI) |",
            "|---|---|---|---|",
        ]
        for name, ab in tables:
            for key, v in ab.items():
                c = v.get("contribution")
                ctext = (
                    "-"
                    if c is None
                    else f"{c['difference']:+.4f} ({c['ci'][0]:+.4f} to {c['ci'][1]:+.4f})"
                )
                lines.append(f"| {name} | {key} | {_fmt(v['roc_auc'], 4)} | {ctext} |")
        lines.append("")
    ctl = diag.get("no_effect_control")
    if ctl:
        w, wo = ctl["with_disengagement"], ctl["without_disengagement"]
        ok = abs(wo["roc_auc"] - 0.5) <= 0.03
        lines += [
            f"**No-effect control** ({ctl['n_employees']:,} employees, same seed and period, one "
            f"out-of-time fold): FlightRisk on the {w['n_features']} `learning_baseline` "
            f"features alone scores {_fmt(w['roc_auc'])} ({_fmt(w['ci'][0])}-"
            f"{_fmt(w['ci'][1])}) with disengagement and {_fmt(wo['roc_auc'])} "
            f"({_fmt(wo['ci'][0])}-{_fmt(wo['ci'][1])}) with it switched off "
            f"(`Effects(disengagement=False)`; goal: within 0.03 of 0.5: "
            f"{'met' if ok else '**not met**'}).",
            "",
        ]
    rd = diag.get("ramp_up")
    if rd:
        lines += [
            f"**Ramp-up.** Interval C-index on the pooled test rows: the oracle "
            f"{_fmt(rd['oracle'])}; an oracle without onboarding engagement (department and "
            f"potential) {_fmt(rd['without_engagement'])}; the department alone "
            f"{_fmt(rd['department_only'])}; RampUp {_fmt(rd['model'])}."
            + (
                f" On the last fold ({rd['last_fold_n_test']:,} hires): RampUp "
                f"{_fmt(rd['last_fold_model'])}, with the true onboarding engagement added "
                f"(privileged) {_fmt(rd['last_fold_+true_engagement'])}, the oracle "
                f"{_fmt(rd['last_fold_oracle'])}."
                if "last_fold_model" in rd
                else ""
            )
            + "".join(
                f" Without {name.removeprefix('without ')}: "
                f"{_fmt(rd['last_fold_' + name])}, a contribution of "
                f"{v['difference']:+.4f} ({v['ci'][0]:+.4f} to {v['ci'][1]:+.4f}, paired 95% "
                "cluster bootstrap by hire)."
                for name, v in rd.get("ablation", {}).items()
            ),
            "",
        ]
    return "\n".join(lines)


def write_docs(results: dict) -> None:
    text = DOCS.read_text(encoding="utf-8")
    i, j = text.index(START_MARK) + len(START_MARK), text.index(END_MARK)
    DOCS.write_text(
        text[:i] + "\n" + markdown(results).rstrip() + "\n" + text[j:], encoding="utf-8"
    )


# --------------------------------------------------------------------------------- MLflow
def _numbers(value) -> dict:
    """The numeric leaves of nested results (texts, lists and dates left out); a two-number
    interval ``x_ci`` becomes ``x_ci_low`` and ``x_ci_high``."""
    out: dict = {}
    for key, v in value.items():
        if isinstance(v, dict):
            out[key] = _numbers(v)
        elif isinstance(v, list) and len(v) == 2 and str(key).endswith("_ci"):
            out[f"{key}_low"], out[f"{key}_high"] = v
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[key] = v
    return out


def tracking_payload(results: dict, args) -> dict:
    """What the MLflow run records: params, headline metrics, one child run per model
    (model and oracle metrics with intervals, the gap to the oracle, rows, test periods)."""
    setup = results["setup"]
    children = {}
    for task in ("flight_risk", "high_potential", "ramp_up"):
        part = results[task]
        folds = {
            str(f["fold"]): {"test_start": f["test_start"], "test_end": f["test_end"]}
            for f in part["folds"]
        }
        children[task] = {
            "params": {"horizon": part.get("horizon"), "n_folds": len(folds), "folds": folds},
            "metrics": _numbers({k: v for k, v in part.items() if k != "folds"}),
        }
    params = {k: v for k, v in vars(args).items() if k not in ("tracking_uri", "no_track")}
    params["model_params"] = setup["model_params"]
    params["goals"] = GOALS
    fm, hm = results["flight_risk"]["metrics"], results["high_potential"]["metrics"]
    metrics = {
        "setup": _numbers(
            {k: v for k, v in setup.items() if k not in ("model_params", "seed", "n_splits")}
        ),
        "goals_met": {
            "flight_risk_auc_gap": fm["roc_auc"].get("gap", -1) >= -GOALS["flight_risk_auc_gap"],
            "flight_risk_ece": fm["ece"]["value"] <= GOALS["flight_risk_ece"],
            "high_potential_auc_gap": hm["roc_auc"].get("gap", -1)
            >= -GOALS["high_potential_auc_gap"],
            "flight_risk_lift": fm.get("lift_at_10", {}).get("value", 0)
            >= GOALS["flight_risk_lift"],
            "ramp_up_c_index": results["ramp_up"]["metrics"]["c_index_interval"]["value"]
            >= GOALS["ramp_up_c_index"],
        },
        "diagnostics": _numbers(results.get("diagnostics", {})),
    }
    return {"params": params, "metrics": metrics, "children": children}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-employees", type=int, default=5_000)
    parser.add_argument("--start", default="2022-01-01")
    parser.add_argument("--end", default="2025-12-31")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-splits", type=int, default=3, help="flight-risk folds (others: -1)")
    parser.add_argument(
        "--n-estimators", type=int, default=None, help='default: the models\' own ("auto")'
    )
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--max-depth", type=int, default=None, help='default: "auto"')
    parser.add_argument("--min-child-weight", type=float, default=None)
    parser.add_argument(
        "--no-control",
        dest="control",
        action="store_false",
        help="skip the no-effect control (a second organization without disengagement)",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--no-diagnostics", dest="diagnostics", action="store_false")
    parser.add_argument("--no-ablations", dest="ablations", action="store_false")
    parser.add_argument("--cache", help="directory for statements and features (reruns)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,500 employees, 60 trees (learning rate 0.15), 20 bootstrap resamples; "
        "options given on the command line still apply",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db "
        "in the repository root)",
    )
    parser.add_argument("--no-track", action="store_true", help="do not record an MLflow run")
    args = parser.parse_args(argv)
    if args.quick:  # the quick defaults; what the command line gives still wins
        parser.set_defaults(n_employees=1_500, n_estimators=60, n_bootstrap=20, learning_rate=0.15)
        args = parser.parse_args(argv)
    started = time.time()
    # a wrong tracking URI fails now, not after the run
    uri = None if args.no_track else resolve_tracking_uri(args.tracking_uri, default=TRACKING_DB)
    load = list(os.getloadavg())
    t0 = time.perf_counter()
    data = prepare(args)
    X = data["X"]
    results: dict = {
        "setup": {
            "n_employees": args.n_employees,
            "start": args.start,
            "end": args.end,
            "seed": args.seed,
            "employees_ever": len(data["org"].employees),
            "statements": len(data["stmts"]),
            "spine_rows": len(X),
            "ramp_rows": len(data["XR"]),
            "n_features": X.shape[1] - 2,
            "n_splits": args.n_splits,
            "n_bootstrap": args.n_bootstrap,
            "model_params": {
                k: v for k, v in model_params(args).items() if k not in ("show_progress",)
            },
            "timings": data["timings"],
            "summary": {k: float(v) for k, v in data["org"].summary().items()},
            "python": platform.python_version(),
            "xgboost": xgb.__version__,
            "talentml": tml.__version__,
            "cpus": os.cpu_count(),
            "load_average_at_start": load,
        }
    }
    fr, fr_bt, fr_X, fr_y = run_flight_risk(data, args)
    hp, hp_bt, hp_X, hp_y = run_high_potential(data, args)
    ru, ru_bt, ru_X, ru_y = run_ramp_up(data, args)
    results.update(flight_risk=fr, high_potential=hp, ramp_up=ru)
    if args.diagnostics:
        t = time.perf_counter()
        results["diagnostics"] = {
            "flight_risk": flight_risk_diagnostics(data, fr_bt, fr_X, fr_y, args),
        }
        if args.ablations:
            results["diagnostics"]["high_potential"] = high_potential_diagnostics(
                data, hp_bt, hp_X, hp_y, args
            )
        results["diagnostics"]["ramp_up"] = ramp_up_diagnostics(data, ru_bt, ru_X, ru_y, args)
        if args.ablations and args.control:
            results["diagnostics"]["no_effect_control"] = no_effect_control(
                args, n_employees=min(2_000, args.n_employees)
            )
        results["diagnostics"]["seconds"] = time.perf_counter() - t
    results["setup"]["total_s"] = time.perf_counter() - t0
    results["setup"]["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["setup"]["load_average_at_end"] = list(os.getloadavg())
    print(markdown(results))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
        write_docs(results)
        log(f"wrote {RESULTS.relative_to(ROOT)} and {DOCS.relative_to(ROOT)}")
    if uri is not None:
        run = log_experiment(
            EXPERIMENT,
            run_name="simulator_models" + (" --quick" if args.quick else ""),
            tags={"quick": args.quick},
            artifacts={
                "results/simulator_models.json": json.dumps(results, indent=2, default=str) + "\n",
                "results/simulator_models.md": markdown(results),
            },
            tracking_uri=uri,
            source=__file__,
            start_time=started,
            **tracking_payload(results, args),
        )
        log(f"MLflow run {run.run_id} in {EXPERIMENT!r} ({uri})")
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
