"""Bias audits of the flight-risk models on the public HR tables (issue 7).

For each table (IBM HR attrition; job change of data scientists):

1. out-of-fold probabilities of ``talentml.models.FlightRisk`` (its defaults) from a
   stratified 5-fold cross-validation, on the features ``talentml.datasets.load_*`` returns
   (protected attributes are split out by the loaders and never reach the model);
2. the audit (``talentml.fairness.audit``) of a "retention outreach" list, the top 20% of
   risk, and of the scoring rates, by every protected attribute the table has: gender, and
   for IBM marital status, the contract age bands and the ADEA split (40 and over);
3. the proxy analysis of a model fitted on every row (which features stand in for a
   protected attribute, and what they carry of the score gaps);
4. fairlearn mitigations (ThresholdOptimizer and ExponentiatedGradient, demographic parity)
   for the attribute with the lowest selection-rate impact ratio: a 100-tree FlightRisk is
   trained on half the rows; each mitigation is fitted and evaluated on the other half
   (split again by ``mitigate``), and reported before/after.

Writes ``experiments/results/audit_<table>.json`` and the HTML report
``docs/reports/audit_<table>.html`` (served with the documentation), and records one MLflow
run (experiment ``talentml-experiments/audit_public``; one child run per table; the JSON
and HTML files as artifacts) in ``--tracking-uri`` (default: ``MLFLOW_TRACKING_URI``, else
``sqlite:///mlflow.db`` in the repository root; ``--no-track`` skips it). Usage::

    python experiments/audit_public.py [--tables ibm_attrition job_change] [--audit-date D]
    python experiments/audit_public.py --tables ibm_attrition --quick --no-write  # smoke test
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from talentml.fairness import age_band, audit, mitigate, proxy_analysis
from talentml.models import FlightRisk
from talentml.tracking import log_experiment, resolve_tracking_uri

try:  # public names once the datasets package exports them
    from talentml.datasets import load_ibm_attrition, load_job_change
except ImportError:  # pragma: no cover - until then, the private module
    from talentml.datasets._public import load_ibm_attrition, load_job_change

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results"
DOCS = ROOT / "docs" / "reports"
TOP_FRACTION = 0.20
SEED = 0
#: The MLflow store when neither --tracking-uri nor MLFLOW_TRACKING_URI is given (gitignored;
#: ``mlflow ui --backend-store-uri sqlite:///mlflow.db`` from the repository root opens it).
TRACKING_DB = ROOT / "mlflow.db"
EXPERIMENT = "talentml-experiments/audit_public"
#: ``--quick``: a smoke test of the whole code path (not a result).
QUICK = {
    "folds": 2,
    "n_estimators": 20,
    "mitigation_trees": 20,
    "max_iter": 2,
    "n_bootstrap": 50,
    "n_jobs": 1,  # on small tables one XGBoost thread is faster than two
}


def ibm_attrition() -> dict:
    """IBM attrition: gender, marital status, age bands and the ADEA split."""
    b = load_ibm_attrition()
    sens = b.sensitive
    sensitive = pd.DataFrame(
        {
            "Gender": sens["Gender"].astype("string"),
            "MaritalStatus": sens["MaritalStatus"].astype("string"),
            "age_band": age_band(sens["Age"]),
            "age_40_and_over": age_band(sens["Age"], edges=(40,)),
        },
        index=sens.index,
    )
    return {
        "name": "ibm_attrition",
        "title": "IBM HR attrition",
        "X": b.data,
        "y": b.target,
        "sensitive": sensitive,
        "description": (
            "IBM HR Analytics Attrition & Performance (1,470 fictional employees created by "
            "IBM data scientists; ../shared/data/hr/ibm_attrition). Test data in LL144 terms: "
            "no deployment history of the tool exists."
        ),
    }


def job_change() -> dict:
    """Job change of data scientists: gender (missing = unknown category)."""
    b = load_job_change()
    return {
        "name": "job_change",
        "title": "Job change of data scientists",
        "X": b.data,
        "y": b.target,
        "sensitive": b.sensitive.astype("string"),
        "description": (
            "HR Analytics: Job Change of Data Scientists (19,158 enrollees of a training "
            "company, CC0; ../shared/data/hr/job_change_ds); gender missing for 23.5%, "
            "reported as the unknown category. Test data in LL144 terms."
        ),
    }


def out_of_fold(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    folds: int = 5,
    n_estimators: int | None = None,
    n_jobs: int = 2,
) -> tuple[np.ndarray, list[float]]:
    """Stratified out-of-fold probabilities of FlightRisk (5 folds), and the fold AUCs."""
    from sklearn.metrics import roc_auc_score

    oof = np.full(len(X), np.nan)
    aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train, test in splitter.split(X, y):
        model = FlightRisk(
            random_state=SEED, n_jobs=n_jobs, show_progress=False, **_trees(n_estimators)
        )
        model.fit(X.iloc[train], y.iloc[train])
        oof[test] = model.predict_proba(X.iloc[test])[:, 1]
        aucs.append(float(roc_auc_score(y.iloc[test], oof[test])))
    return oof, aucs


def _trees(n_estimators: int | None) -> dict:
    return {} if n_estimators is None else {"n_estimators": n_estimators}


def run(
    table: dict,
    *,
    audit_date: str | None,
    results_dir: Path = RESULTS,
    reports_dir: Path = DOCS,
    folds: int = 5,
    n_estimators: int | None = None,
    mitigation_trees: int = 100,
    max_iter: int = 10,
    n_bootstrap: int | None = None,
    n_jobs: int = 2,
) -> dict:
    """Audit one table; write ``audit_<table>.json`` and ``.html``; return the summary.

    The keyword arguments other than the folders are those of ``--quick`` (fewer folds,
    trees, mitigation iterations and bootstrap replicates); their defaults are the recorded
    run's (``n_estimators`` and ``n_bootstrap`` None: FlightRisk's and audit's own).
    """
    t0 = time.perf_counter()
    X, y, sens = table["X"], table["y"], table["sensitive"]
    oof, aucs = out_of_fold(X, y, folds=folds, n_estimators=n_estimators, n_jobs=n_jobs)
    t1 = time.perf_counter()
    full = FlightRisk(random_state=SEED, n_jobs=n_jobs, show_progress=False, **_trees(n_estimators))
    full.fit(X, y)
    proxies = proxy_analysis(X, sens, model=full, random_state=SEED)
    t2 = time.perf_counter()
    result = audit(
        oof,
        X,
        y,
        sensitive=sens,
        top_fraction=TOP_FRACTION,
        probability=True,
        proxies=proxies,
        purpose=f"retention outreach list: the {TOP_FRACTION:.0%} highest flight risk "
        f"({table['title']}, {folds}-fold out-of-fold FlightRisk probabilities)",
        audit_date=audit_date,
        data_source="test",
        data_description=table["description"],
        model_version=f"FlightRisk defaults, random_state={SEED}, {folds}-fold CV"
        + ("" if n_estimators is None else f", {n_estimators} trees"),
        random_state=SEED,
        **({} if n_bootstrap is None else {"n_bootstrap": n_bootstrap}),
    )
    t3 = time.perf_counter()
    # mitigation: a model on one half, the mitigation fitted and evaluated on the other.
    # ExponentiatedGradient re-trains the model at every iteration: a 100-tree FlightRisk
    # keeps that affordable (the audited scores above are those of the default model).
    rng = np.random.default_rng(SEED)
    half = rng.random(len(X)) < 0.5
    model = FlightRisk(
        n_estimators=mitigation_trees, random_state=SEED, n_jobs=n_jobs, show_progress=False
    )
    model.fit(X[half], y[half])
    worst = result.worst("selection").sort_values("impact_ratio")
    attribute = str(worst.index[0][0])
    for method in ("threshold_optimizer", "exponentiated_gradient"):
        result.mitigation.append(
            mitigate(
                model,
                X[~half],
                y[~half],
                sensitive=sens,
                attribute=attribute,
                method=method,
                top_fraction=TOP_FRACTION,
                max_iter=max_iter,
                random_state=SEED,
            )
        )
    t4 = time.perf_counter()
    results_dir.mkdir(parents=True, exist_ok=True)
    reports_dir.mkdir(parents=True, exist_ok=True)
    name = table["name"]
    result.to_json(results_dir / f"audit_{name}.json")
    result.to_html(reports_dir / f"audit_{name}.html")
    return {
        "table": name,
        "n_rows": int(len(X)),
        "oof_auc_mean": float(np.mean(aucs)),
        "oof_auc_folds": aucs,
        "worst_selection": json.loads(
            result.worst("selection").reset_index().to_json(orient="records", double_precision=15)
        ),
        "worst_scoring": json.loads(
            result.worst("scoring").reset_index().to_json(orient="records", double_precision=15)
        ),
        "high_flags": result.flags.loc[result.flags["severity"] == "high", "message"].tolist(),
        "mitigation_attribute": attribute,
        "mitigation": [
            {
                "method": m.method,
                "summary": json.loads(m.summary.to_json(orient="index", double_precision=15)),
            }
            for m in result.mitigation
        ],
        "timings_s": {
            "cross_validation": round(t1 - t0, 1),
            "proxies": round(t2 - t1, 1),
            "audit": round(t3 - t2, 1),
            "mitigation": round(t4 - t3, 1),
        },
    }


# ------------------------------------------------------------------------------ MLflow
def _rows(records: list[dict]) -> dict:
    """``{attribute: {impact_ratio, p_value, ci_low, ci_high, n}}`` of ``worst`` records."""
    keep = ("impact_ratio", "p_value", "ci_low", "ci_high", "n")
    return {str(r["attribute"]): {k: r.get(k) for k in keep} for r in records}


def tracking_payload(summaries: dict[str, dict], args: argparse.Namespace) -> dict:
    """What the MLflow run records: params, one child run per table (metrics)."""
    children = {}
    for name, s in summaries.items():
        mitigation = {
            m["method"]: {
                metric: {"before": r["before"], "after": r["after"]}
                for metric, r in m["summary"].items()
            }
            for m in s["mitigation"]
        }
        children[name] = {
            "params": {
                "n_rows": s["n_rows"],
                "mitigation_attribute": s["mitigation_attribute"],
                # the group with the lowest impact ratio of each attribute
                "worst_selection": {str(r["attribute"]): r["group"] for r in s["worst_selection"]},
                "worst_scoring": {str(r["attribute"]): r["group"] for r in s["worst_scoring"]},
            },
            "metrics": {
                "oof_auc_mean": s["oof_auc_mean"],
                "oof_auc_fold": dict(enumerate(s["oof_auc_folds"])),
                "worst_selection": _rows(s["worst_selection"]),
                "worst_scoring": _rows(s["worst_scoring"]),
                "high_flags": len(s["high_flags"]),
                "mitigation": mitigation,
                "timings_s": s["timings_s"],
            },
        }
    params = {k: v for k, v in vars(args).items() if k not in ("tracking_uri", "no_track")}
    params.update(seed=SEED, top_fraction=TOP_FRACTION)
    return {"params": params, "children": children}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tables",
        nargs="+",
        default=["ibm_attrition", "job_change"],
        choices=["ibm_attrition", "job_change"],
    )
    parser.add_argument("--audit-date", default=None, help="date written in the reports")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke test: {QUICK['folds']} folds, {QUICK['n_estimators']} trees on "
        f"{QUICK['n_jobs']} thread, {QUICK['n_bootstrap']} bootstrap replicates, "
        f"{QUICK['max_iter']} mitigation iterations",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="write the JSON and HTML reports to a temporary folder (MLflow only)",
    )
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db "
        "in the repository root)",
    )
    parser.add_argument("--no-track", action="store_true", help="do not record an MLflow run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, dict]:
    """Audit the tables, write the reports, record the MLflow run; the summaries by table."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.time()
    # a wrong tracking URI fails now, not after the audits
    uri = None if args.no_track else resolve_tracking_uri(args.tracking_uri, default=TRACKING_DB)
    options = QUICK if args.quick else {}
    loaders = {"ibm_attrition": ibm_attrition, "job_change": job_change}
    with tempfile.TemporaryDirectory(prefix="audit_public-") as tmp:
        results_dir = Path(tmp) if args.no_write else RESULTS
        reports_dir = Path(tmp) if args.no_write else DOCS
        summaries = {}
        for name in args.tables:
            summary = run(
                loaders[name](),
                audit_date=args.audit_date,
                results_dir=results_dir,
                reports_dir=reports_dir,
                **options,
            )
            summaries[name] = summary
            print(json.dumps(summary, indent=1))
        if uri is not None:
            payload = tracking_payload(summaries, args)
            artifacts = {"results/summaries.json": summaries}
            for name in summaries:
                artifacts[f"results/audit_{name}.json"] = results_dir / f"audit_{name}.json"
                artifacts[f"reports/audit_{name}.html"] = reports_dir / f"audit_{name}.html"
            run_ = log_experiment(
                EXPERIMENT,
                run_name="audit_public" + (" --quick" if args.quick else ""),
                tags={"quick": args.quick},
                artifacts=artifacts,
                tracking_uri=uri,
                source=__file__,
                start_time=started,
                **payload,
            )
            print(f"MLflow run {run_.run_id} in {EXPERIMENT!r} ({uri})")
    return summaries


if __name__ == "__main__":
    main()
