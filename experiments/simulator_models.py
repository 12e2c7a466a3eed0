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
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, simulate_workforce
from talentml.datasets._learning import VOLUNTARY_RATE
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
GOALS = {
    "flight_risk_auc_gap": 0.02,
    "flight_risk_ece": 0.02,
    "high_potential_auc_gap": 0.03,
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
    files = {k: cache / f"{tag}-{k}.parquet" for k in ("stmts", "X", "XR")} if cache else {}
    if cache and all(p.exists() for p in files.values()):
        stmts = pd.read_parquet(files["stmts"])
        X = pd.read_parquet(files["X"])
        XR = pd.read_parquet(files["XR"])
        log(f"features read from {cache}")
    else:
        t = time.perf_counter()
        # Millions of statement dicts are alive: without freezing them, every garbage
        # collection walks them all and ingestion is ~15x slower.
        gc.collect()
        gc.freeze()
        try:
            stmts = tml.xapi.ingest(
                org.raw_statements,
                identities=org.identities,
                secret=SIMULATION_SECRET,
                progress=False,
            ).statements
        finally:
            gc.unfreeze()
        timings["ingest_s"] = time.perf_counter() - t
        log(f"ingested {len(stmts):,} statements in {timings['ingest_s']:.0f} s")
        org.raw_statements = []
        gc.collect()
        t = time.perf_counter()
        first = pd.Timestamp(args.start, tz="UTC") + pd.DateOffset(months=6)
        spine = tml.features.make_spine(org.employees, start=first, end=args.end, freq="MS")
        X = _features(spine, stmts, org, args.start)
        timings["features_s"] = time.perf_counter() - t
        log(f"features: {X.shape[0]:,} rows x {X.shape[1] - 2} in {timings['features_s']:.0f} s")
        ramp_rows = _ramp_labels(org)
        XR = _features(ramp_rows[["employee_id", "as_of"]], stmts, org, args.start)
        if cache:
            cache.mkdir(parents=True, exist_ok=True)
            stmts.to_parquet(files["stmts"])
            X.to_parquet(files["X"])
            XR.to_parquet(files["XR"])
    ramp_rows = _ramp_labels(org)
    return {"org": org, "stmts": stmts, "X": X, "XR": XR, "ramp": ramp_rows, "timings": timings}


def _features(spine: pd.DataFrame, stmts: pd.DataFrame, org, start: str) -> pd.DataFrame:
    return tml.features.build(
        spine,
        statements=stmts,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        catalog=org.catalog,
        learning_since=start,
        show_progress=False,
    )


def _ramp_labels(org) -> pd.DataFrame:
    ramp = tml.labels.ramp_up(org.employees, org.productivity, hired_after=org.start)
    rows = tml.labels.ramp_up_spine(ramp, days_after_hire=30)
    return rows[rows["censored"].isna()].reset_index(drop=True)


# --------------------------------------------------------------------------- the models
def model_params(args) -> dict:
    return {
        "n_estimators": args.n_estimators,
        "learning_rate": args.learning_rate,
        "max_depth": args.max_depth,
        "min_child_weight": args.min_child_weight,
        "n_jobs": args.n_jobs,
        "random_state": args.seed,
        "show_progress": False,
    }


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
        for name, extra in (("model", {}), ("+true_engagement", {"true_engagement": e})):
            Xa = Xk.assign(**extra)
            m = RampUp(distribution_scale=sigma, **model_params(args)).fit(
                Xa[train].reset_index(drop=True), y_train.reset_index(drop=True)
            )
            p = m.predict(Xa[test].reset_index(drop=True))
            out[f"last_fold_{name}"] = interval_concordance_index(
                yk["lower_days"][test], yk["upper_days"][test], p
            )
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
def learning_posterior(org, stmts: pd.DataFrame) -> pd.DataFrame:
    """P(disengaged at each month start | voluntary learning so far, still employed).

    A forward filter over months with the simulator's own process: engaged employees start
    voluntary learning sessions at their personal rate ``lambda`` (``VOLUNTARY_RATE x
    exp(learning_propensity + 0.3 potential)``), disengaged ones at ``0.2 lambda``; an
    engaged employee disengages during a month with probability ``q`` (on a uniform day),
    and staying employed through the month has probability ``1 - h_engaged`` or ``1 -
    h_disengaged``. It knows ``lambda``, ``q`` and the hazards (which no model can): what it
    reaches bounds what learning records can tell about the state. Sessions are counted on
    their UTC day (the simulator moves some by a day or two to a weekday or weekend).
    """
    tr, fx, cat = org.truth, org.effects, org.catalog
    voluntary = cat["voluntary"].astype(bool) & (cat["program"] != "leadership")
    slugs = set(cat.loc[voluntary, "activity_id"].str.rsplit("/", n=1).str[-1])
    # The video platform names the catalog's videos with its own IRIs: match on the slug.
    slug = stmts["object_id"].str.rsplit("/", n=1).str[-1]
    sessions = stmts[
        stmts["verb"].isin(["launched", "experienced"])
        & slug.isin(slugs)
        & stmts["employee_id"].notna()
    ]
    hz = tr.hazard
    emps = pd.Index(hz["employee_id"].unique())
    code = emps.get_indexer(sessions["employee_id"].astype(str))
    day0 = int(hz["month"].min().value // DAY_NS)
    day1 = int((hz["month"].max() + pd.offsets.MonthBegin(1)).value // DAY_NS)
    day = sessions["timestamp"].dt.as_unit("ns").astype("int64").to_numpy() // DAY_NS - day0
    ok = (code >= 0) & (day >= 0) & (day < day1 - day0)
    counts = np.zeros((len(emps), day1 - day0), dtype=np.int32)
    np.add.at(counts, (code[ok], day[ok]), 1)
    lat = tr.latent.set_index("employee_id").reindex(emps)
    rate = VOLUNTARY_RATE * np.exp(
        lat["learning_propensity"].to_numpy() + 0.3 * lat["potential"].to_numpy() * fx.potential
    )
    mult = fx.disengaged_learning if fx.disengagement else 1.0
    log_mult = np.log(mult)
    pi = np.zeros(len(emps))
    present = np.zeros(len(emps), dtype=bool)
    parts = []
    for ms, rows in hz.groupby("month", sort=True):
        idx = emps.get_indexer(rows["employee_id"])
        now = np.zeros(len(emps), dtype=bool)
        now[idx] = True
        pi = np.where(present & now, pi, 0.0)  # arrivals start engaged
        parts.append(
            pd.DataFrame(
                {"employee_id": rows["employee_id"].to_numpy(), "month": ms, "posterior": pi[idx]}
            )
        )
        a = int(ms.value // DAY_NS) - day0
        b = int((ms + pd.offsets.MonthBegin(1)).value // DAY_NS) - day0
        n_days = b - a
        c = counts[idx, a:b].astype(float)
        after = np.cumsum(c[:, ::-1], axis=1)[:, ::-1]  # sessions on day u or later
        lam = rate[idx]
        remaining = n_days - np.arange(n_days)
        # log likelihood ratios against "engaged all month"
        switch = after * log_mult + (1 - mult) * lam[:, None] * remaining[None, :]
        top = switch.max(axis=1)
        switch = top + np.log(np.exp(switch - top[:, None]).mean(axis=1))
        stay_dis = after[:, 0] * log_mult + (1 - mult) * lam * n_days
        q = rows["q"].to_numpy()
        he = rows["h_engaged"].to_numpy()
        hd = rows["h_disengaged"].to_numpy()
        p = np.clip(pi[idx], 0.0, 1.0 - 1e-15)
        log_e = np.log1p(-p) + np.log1p(-he) + np.log1p(-q)
        with np.errstate(divide="ignore"):
            log_d = np.logaddexp(
                np.log(p) + np.log1p(-hd) + stay_dis,
                np.log1p(-p) + np.log1p(-he) + np.log(q) + switch,
            )
        pi = np.zeros(len(emps))
        pi[idx] = 1.0 / (1.0 + np.exp(log_e - log_d))
        present = now
    return pd.concat(parts, ignore_index=True)


def state_oracles(org, rows: pd.DataFrame, posterior: pd.DataFrame) -> dict[str, np.ndarray]:
    """Exit probabilities (180 days) if engaged, if disengaged, and mixed by a posterior."""
    tr = org.truth
    engaged = replace(tr, hazard=tr.hazard.assign(disengaged=False)).exit_probability(rows)
    disengaged = replace(tr, hazard=tr.hazard.assign(disengaged=True)).exit_probability(rows)
    key = rows[["employee_id"]].assign(month=rows["as_of"])
    pi = key.merge(posterior, on=["employee_id", "month"], how="left")["posterior"].to_numpy()
    hz = key.merge(tr.hazard, on=["employee_id", "month"], how="left")
    state = hz["disengaged"].astype("boolean").fillna(False).to_numpy(bool)
    return {
        "q_only": engaged.to_numpy(),
        "observable": pi * disengaged.to_numpy() + (1 - pi) * engaged.to_numpy(),
        "posterior": pi,
        "state": state,
        "q": hz["q"].to_numpy(float),
    }


def candidate_features(spine: pd.DataFrame, stmts: pd.DataFrame, catalog: pd.DataFrame):
    """Features that target the disengagement trace (point in time: ``stored < as_of``).

    Voluntary sessions (launched / experienced on voluntary activities, videos matched by
    slug) in the last 14 to 180 days; the employee's own baseline rate in the year before the
    last 90 days; the days since the last voluntary session and the sessions that baseline
    would have produced in that gap; a change-point statistic (the largest log likelihood
    ratio of "the rate fell to 20% d days ago" for d in 14..180); and the completion share of
    voluntary sessions in the last 90 days.
    """
    voluntary = catalog["voluntary"].astype(bool) & (catalog["program"] != "leadership")
    slugs = set(catalog.loc[voluntary, "activity_id"].str.rsplit("/", n=1).str[-1])
    slug = stmts["object_id"].str.rsplit("/", n=1).str[-1]
    on_vol = slug.isin(slugs) & stmts["employee_id"].notna()
    ids = spine["employee_id"].astype(str).to_numpy()
    codes = pd.Index(np.unique(ids))
    ecode = codes.get_indexer(ids).astype(np.float64)
    as_of = spine["as_of"].dt.as_unit("ns").astype("int64").to_numpy().astype(np.float64)

    def events(verbs):
        s = stmts[on_vol & stmts["verb"].isin(verbs)]
        c = codes.get_indexer(s["employee_id"].astype(str))
        t = s["stored"].dt.as_unit("ns").astype("int64").to_numpy()
        c, t = c[c >= 0], t[c >= 0]
        key = np.sort(c.astype(np.float64) * 1e19 + t.astype(np.float64))
        return key

    def count(key, lo_days, hi_days=0):
        lo = ecode * 1e19 + as_of - lo_days * DAY_NS
        hi = ecode * 1e19 + as_of - hi_days * DAY_NS
        return np.searchsorted(key, hi, "left") - np.searchsorted(key, lo, "left")

    sess = events(["launched", "experienced"])
    done = events(["completed", "experienced"])
    out = {}
    base = count(sess, 455, 90)
    lam = (base + 0.5) / (365 + 30.0)
    out["vol_base_rate"] = base / 365.0
    best = np.full(len(ids), -np.inf)
    for d in (14, 30, 45, 60, 90, 120, 180):
        n_d = count(sess, d)
        out[f"vol_sessions_{d}d"] = n_d
        best = np.maximum(best, n_d * np.log(0.2) + 0.8 * lam * d)
    out["vol_change_llr"] = best
    pos = np.searchsorted(sess, ecode * 1e19 + as_of, "left") - 1
    mine = (pos >= 0) & (np.floor(sess[np.maximum(pos, 0)] / 1e19) == ecode)
    last = sess[np.maximum(pos, 0)] - ecode * 1e19
    gap = np.where(mine, (as_of - last) / DAY_NS, np.nan)
    out["vol_days_since_last"] = gap
    out["vol_expected_missed"] = gap * lam
    n90 = out["vol_sessions_90d"]
    out["vol_completion_share_90d"] = np.where(
        n90 > 0, count(done, 90) / np.maximum(n90, 1), np.nan
    )
    return pd.DataFrame(out, index=spine.index)


def _ablation(make, X, y, train, test, extra: dict[str, np.ndarray]) -> float:
    Xa = X.assign(**{k: v for k, v in extra.items()})
    model = make().fit(Xa[train].reset_index(drop=True), y[train].reset_index(drop=True))
    p = model.predict_proba(Xa[test].reset_index(drop=True))[:, 1]
    lab = y["label"][test].astype(int).to_numpy()
    return float(roc_auc_score(lab, p))


def flight_risk_diagnostics(data: dict, bt, X: pd.DataFrame, y: pd.DataFrame, args) -> dict:
    org, stmts = data["org"], data["stmts"]
    t = time.perf_counter()
    posterior = learning_posterior(org, stmts)
    pred = bt.predictions
    pred = pred[pred["label"].notna().to_numpy()].reset_index(drop=True)
    rows = pred[["employee_id", "as_of"]].reset_index(drop=True)
    rows["employee_id"] = rows["employee_id"].astype(str)
    so = state_oracles(org, rows, posterior)
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
        result["last_fold"] = _flight_ablations(data, bt, X, y, posterior, args)
    return result


def _flight_ablations(data, bt, Xk, yk, posterior, args) -> dict:
    org, stmts = data["org"], data["stmts"]
    last = bt.folds.iloc[-1]
    T, end = last["test_start"], last["test_end"]
    keep = yk["label"].notna().to_numpy()
    train = keep & (Xk["as_of"] + pd.Timedelta("180D") <= T).to_numpy()
    test = keep & (Xk["as_of"] >= T).to_numpy() & (Xk["as_of"] < end).to_numpy()
    rows = Xk[["employee_id", "as_of"]].assign(employee_id=lambda d: d["employee_id"].astype(str))
    so = state_oracles(org, rows, posterior)
    cand = candidate_features(Xk, stmts, org.catalog)
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
    runs = {
        "model": {},
        "+candidate_features": {c: cand[c].to_numpy() for c in cand.columns},
        "+filter_posterior": {"bayes_posterior": so["posterior"]},
        "+true_state": {"true_disengaged": so["state"].astype(float)},
        "+true_state+true_q": {"true_disengaged": so["state"].astype(float), "true_q": so["q"]},
    }
    for name, extra in runs.items():
        t = time.perf_counter()
        out[name] = _ablation(make, Xk, yk, train, test, extra)
        log(f"flight-risk ablation {name}: AUC {out[name]:.4f} ({time.perf_counter() - t:.0f} s)")
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
    runs = {
        "model": {},
        "+true_latents": {
            "true_potential": ids.map(lat["potential"]).to_numpy(float),
            "true_performance": ids.map(lat["performance"]).to_numpy(float),
        },
    }
    for name, extra in runs.items():
        t = time.perf_counter()
        out[name] = _ablation(make, Xk, yk, train, test, extra)
        log(
            f"high-potential ablation {name}: AUC {out[name]:.4f} ({time.perf_counter() - t:.0f} s)"
        )
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
        f"{s['spine_rows']:,} monthly spine rows x {s['n_features']} features; models with "
        f"{s['model_params']['n_estimators']} trees of depth {s['model_params']['max_depth']} "
        f"(learning rate {s['model_params']['learning_rate']}); "
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
    for k, name in (
        ("brier", "Brier score"),
        ("c_index_harrell", "C-index (Harrell, survival view)"),
        ("c_index_uno", "C-index (Uno, IPCW)"),
        ("integrated_brier", "integrated Brier score"),
        ("lift_at_10", "lift in the top 10%"),
    ):
        if k in fm:
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
            row("RampUp (hire + 30 days)" if k == "c_index_interval" else "", name, rm[k])
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
                f"| + candidate disengagement features from the statements | "
                f"{_fmt(lf['+candidate_features'])} |",
                f"| + the Bayes filter's posterior (privileged: needs the true learning rate) | "
                f"{_fmt(lf['+filter_posterior'])} |",
                f"| + the true state (privileged) | {_fmt(lf['+true_state'])} |",
                f"| + the true state and the true disengagement hazard (privileged) | "
                f"{_fmt(lf['+true_state+true_q'])} |",
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
    parser.add_argument("--n-estimators", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--max-depth", type=int, default=4)
    parser.add_argument("--min-child-weight", type=float, default=5.0)
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
