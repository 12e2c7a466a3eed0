"""The caregiver-hours effect on the simulator: audit, attribution, re-scoring (issue 7).

Two simulated organizations, identical but for the caregiver-hours effect (``Effects`` with
``caregiver_hours`` on, the default, and off):

* HighPotential models (promotion within 365 days) are trained on monthly cutoffs of the
  second half of 2023 and audited on every employee active at the 2024-12-01 snapshot (one
  row per employee; labels observed through 2025-12-01), time-split so that no training label
  is observed after the snapshot;
* feature sets: HR records (tenure, level, job family, department, promotions, managers,
  team) plus one learning-agility measure, either the naive off-hours agility
  (``agility_offhours_{30d,90d,365d}``) or the opportunity-normalized one
  (``agility_per_workday_{30d,90d,365d}``); and the same with the review features added
  (ratings, potential rating, goals, competencies);
* ``talentml.fairness.caregiver_hours`` audits each naive model and re-scores it.

Writes ``experiments/results/audit_caregiver.json`` (every figure), the HTML reports of the
main model (``docs/reports/audit_caregiver.html``, ``audit_caregiver_null.html``,
``audit_caregiver_reviews.html``) and the figures under
``docs/img/fairness/``, and records one MLflow run (experiment
``talentml-experiments/audit_caregiver``; one child run per seed; the JSON, reports and
figures as artifacts) in ``--tracking-uri`` (default: ``MLFLOW_TRACKING_URI``, else
``sqlite:///mlflow.db`` in the repository root; ``--no-track`` skips it). Usage::

    python experiments/audit_caregiver.py [--n-employees 3000] [--seeds 0 1] [--cache DIR]
    python experiments/audit_caregiver.py --quick --no-write   # smoke test
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import pandas as pd

import talentml.features as tf
import talentml.labels as tl
from talentml.datasets import SIMULATION_SECRET, Effects, simulate_workforce
from talentml.fairness import caregiver_hours
from talentml.models import HighPotential
from talentml.tracking import log_experiment, resolve_tracking_uri
from talentml.xapi import ingest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results"
REPORTS = ROOT / "docs" / "reports"
IMAGES = ROOT / "docs" / "img" / "fairness"

START, END = "2022-07-01", "2025-12-31"
TRAIN_CUTOFFS = ("2023-07-01", "2023-12-01")
SNAPSHOT = "2024-12-01"
HORIZON = "365D"
WINDOWS = ("30d", "90d", "365d")
TOP_FRACTION = 0.10
TABLES = ("X_train", "y_train", "X_test", "y_test", "sensitive")
#: The HTML reports of the first seed: (world, model) -> file.
REPORT_FILES = {
    ("effect", "agility"): "audit_caregiver.html",
    ("null", "agility"): "audit_caregiver_null.html",
    ("effect", "agility+reviews"): "audit_caregiver_reviews.html",
}
#: The MLflow store when neither --tracking-uri nor MLFLOW_TRACKING_URI is given (gitignored;
#: ``mlflow ui --backend-store-uri sqlite:///mlflow.db`` from the repository root opens it).
TRACKING_DB = ROOT / "mlflow.db"
EXPERIMENT = "talentml-experiments/audit_caregiver"
#: ``--quick``: a smoke test of the whole code path (not a result).
QUICK = {"n_employees": 150, "n_estimators": 10, "n_bootstrap": 20, "n_jobs": 1}


def world(
    n_employees: int, seed: int, *, caregiver_effect: bool, cache: Path | None = None
) -> dict:
    """Simulate, ingest, build features and labels: train (2023 H2) and snapshot rows.

    With ``cache``, the tables are read from (or written to) parquet files in that folder.
    """
    tag = f"n{n_employees}_s{seed}_{'effect' if caregiver_effect else 'null'}"
    if cache is not None and (cache / f"{tag}_meta.json").exists():
        meta = json.loads((cache / f"{tag}_meta.json").read_text())
        out = {k: pd.read_parquet(cache / f"{tag}_{k}.parquet") for k in TABLES}
        return {**out, **meta}
    t0 = time.perf_counter()
    org = simulate_workforce(
        n_employees=n_employees,
        start=START,
        end=END,
        random_state=seed,
        effects=Effects(caregiver_hours=caregiver_effect),
        show_progress=False,
    )
    t1 = time.perf_counter()
    statements = ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    t2 = time.perf_counter()
    train_spine = tf.make_spine(
        org.employees, start=TRAIN_CUTOFFS[0], end=TRAIN_CUTOFFS[1], freq="MS"
    )
    test_spine = tf.make_spine(org.employees, start=SNAPSHOT, end=SNAPSHOT, freq="MS")
    spine = pd.concat([train_spine, test_spine], ignore_index=True)
    X = tf.build(
        spine,
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
        show_progress=False,
    )
    y = tl.high_potential(spine, org.job_events, horizon=HORIZON, employees=org.employees)
    t3 = time.perf_counter()
    train = (X["as_of"] < pd.Timestamp(SNAPSHOT, tz="UTC")).to_numpy()
    tables = {
        "X_train": X[train].reset_index(drop=True),
        "y_train": y[train].reset_index(drop=True),
        "X_test": X[~train].reset_index(drop=True),
        "y_test": y[~train].reset_index(drop=True),
        "sensitive": org.sensitive,
    }
    meta = {
        "summary": {k: float(v) for k, v in org.summary().items()},
        "timings_s": {
            "simulate": round(t1 - t0, 1),
            "ingest": round(t2 - t1, 1),
            "features_labels": round(t3 - t2, 1),
        },
        "n_statements": int(len(statements)),
    }
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for k, v in tables.items():
            v.to_parquet(cache / f"{tag}_{k}.parquet")
        (cache / f"{tag}_meta.json").write_text(json.dumps(meta))
    return {**tables, **meta}


def feature_sets(columns: list[str]) -> dict[str, list[str]]:
    """The HR base, the review family, and the two agility measures."""
    cat = tf.catalog().set_index("name")
    fam = cat["family"]
    hris = [c for c in columns if fam.get(c) == "hris"]
    reviews = [c for c in columns if fam.get(c) == "reviews"]
    naive = [f"agility_offhours_{w}" for w in WINDOWS]
    normalized = [f"agility_per_workday_{w}" for w in WINDOWS]
    return {
        "agility": hris,
        "agility+reviews": hris + reviews,
        "naive": naive,
        "normalized": normalized,
    }


def run_world(
    data: dict,
    *,
    seed: int,
    label: str,
    n_estimators: int | None = None,
    n_bootstrap: int = 1000,
    n_jobs: int = 2,
) -> dict:
    """Fit the naive models of both specifications and run the caregiver-hours check.

    The re-trained variant swaps the naive agility for the opportunity-normalized one
    (``agility_per_workday_*``); a second check swaps it for ``agility_standard_*`` (the
    pass-rate-weighted volume, also blind to the time of day). ``n_estimators`` (default:
    HighPotential's), ``n_bootstrap`` and ``n_jobs`` are smaller in ``--quick`` mode (on
    small tables one XGBoost thread is faster than two).
    """
    sets = feature_sets(list(data["X_train"].columns))
    out = {}
    for spec in ("agility", "agility+reviews"):
        base = sets[spec]
        ids = ["employee_id", "as_of"]
        t = time.perf_counter()
        trees = {} if n_estimators is None else {"n_estimators": n_estimators}
        model = HighPotential(random_state=seed, n_jobs=n_jobs, **trees).fit(
            data["X_train"][ids + base + sets["naive"]], data["y_train"]
        )
        fit_s = time.perf_counter() - t
        common = {
            "sensitive": data["sensitive"],
            "X_train": data["X_train"],
            "y_train": data["y_train"],
            "top_fraction": TOP_FRACTION,
            "n_bootstrap": n_bootstrap,
            "random_state": seed,
            "show_progress": False,
        }
        t = time.perf_counter()
        result = caregiver_hours(
            model,
            data["X_test"],
            data["y_test"],
            purpose=f"high-potential shortlist (top {TOP_FRACTION:.0%}), {spec} model, simulator {label}",
            audit_date=SNAPSHOT[:10],
            data_source="test",
            data_description=(
                f"simulated organization ({label}); {len(data['X_test'])} employees active at "
                f"{SNAPSHOT}; promotions in the following {HORIZON}"
            ),
            **common,
        )
        check_s = time.perf_counter() - t
        standard = caregiver_hours(
            model,
            data["X_test"],
            data["y_test"],
            normalized="agility_standard_365d",
            replacements={f"agility_offhours_{w}": f"agility_standard_{w}" for w in WINDOWS},
            **common,
        )
        scoring = result.variants.xs("scoring", level="kind").reset_index()
        out[spec] = {
            "features": base + sets["naive"],
            "scoring_variants": json.loads(scoring.to_json(orient="records", double_precision=15)),
            "fit_s": round(fit_s, 1),
            "check_s": round(check_s, 1),
            "summary": json.loads(result.to_json())["summary"],
            "summary_standard": json.loads(standard.to_json())["summary"],
            "result": result,
            "standard": standard,
        }
    return out


def headline(res: dict, attribute: str = "caregiver", group: str = "True") -> dict:
    """The numbers of the done-criteria for one model and one category."""
    out = {}
    for key, result in (("", res["result"]), ("standard_", res["standard"])):
        s = result.summary.loc[(attribute, group)]
        v = result.variants

        def scoring(name: str, column: str = "impact_ratio", r=v) -> float | None:
            k = (name, attribute, "scoring", group)
            return float(r.loc[k, column]) if k in r.index else None

        if not key:
            out.update(
                {
                    "selection_impact_ratio": float(s["model_impact_ratio"]),
                    "selection_p_value": float(s["model_p_value"]),
                    "scoring_impact_ratio": scoring("original"),
                    "scoring_p_value": scoring("original", "p_value"),
                    "offhours_share_of_gap": float(s["offhours_share"]),
                    "naive_measure_impact_ratio": float(s["naive_measure_impact_ratio"]),
                    "neutralized_selection_impact_ratio": float(s["neutralized_impact_ratio"]),
                    "neutralized_scoring_impact_ratio": scoring("neutralized"),
                    "auc_naive": float(s["model_auc"]),
                    "auc_neutralized": float(s["neutralized_auc"]),
                }
            )
        out.update(
            {
                f"{key}normalized_measure_impact_ratio": float(
                    s["normalized_measure_impact_ratio"]
                ),
                f"{key}normalized_selection_impact_ratio": float(s["normalized_impact_ratio"]),
                f"{key}normalized_min_selection_impact_ratio": float(
                    s["normalized_min_impact_ratio"]
                ),
                f"{key}normalized_scoring_impact_ratio": scoring("normalized"),
                f"{key}auc_normalized": float(s["normalized_auc"]),
                f"{key}auc_change_normalized": float(s["normalized_auc_change"]),
                f"{key}auc_change_normalized_ci": [
                    float(s["normalized_auc_change_ci_low"]),
                    float(s["normalized_auc_change_ci_high"]),
                ],
            }
        )
    return out


def figures(effect: dict, null: dict, *, folder: Path = IMAGES) -> list[str]:
    """Write the docs figures (PNG) of the main specification into ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from talentml.fairness._caregiver_report import plot_variants
    from talentml.fairness._plots import plot_gap_attribution

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    res = effect["agility"]["result"]
    for kind in ("scoring", "selection"):
        fig, ax = plt.subplots(figsize=(7.5, 3.0), layout="constrained")
        plot_variants(res, attribute="caregiver", kind=kind, ax=ax)
        name = f"caregiver_variants_{kind}.png"
        fig.savefig(folder / name, dpi=110, metadata={"Software": None})
        plt.close(fig)
        written.append(name)
    fig, ax = plt.subplots(figsize=(7.5, 3.6), layout="constrained")
    plot_gap_attribution(
        res.audit.gap_attribution,
        attribute="caregiver",
        group="True",
        highlight=set(res.offhours_features),
        ax=ax,
    )
    fig.savefig(folder / "caregiver_gap.png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    written.append("caregiver_gap.png")
    fig, ax = plt.subplots(figsize=(7.5, 3.2), layout="constrained")
    res.audit.plot_impact_ratios(kind="scoring", ax=ax)
    fig.savefig(folder / "caregiver_impact_ratios.png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    written.append("caregiver_impact_ratios.png")
    return written


def strict(value):
    """NaN -> None, recursively (strict JSON)."""
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def tracking_payload(report: dict, args: argparse.Namespace) -> dict:
    """What the MLflow run records: params, and one child run per seed with the headline
    figures of each world (effect, null) and model (``agility``, ``agility+reviews``)."""
    children: dict[str, dict] = {}
    for row in report["headline"]:
        child = children.setdefault(f"seed_{row['seed']}", {"params": {"seed": row["seed"]}})
        figures = {}
        for key, value in row.items():
            if key in ("seed", "world", "model"):
                continue
            if isinstance(value, list):  # a 95% interval
                figures[f"{key}_low"], figures[f"{key}_high"] = value
            else:
                figures[key] = value
        child.setdefault("metrics", {})[f"{row['world']}.{row['model']}"] = figures
    params = {k: v for k, v in vars(args).items() if k not in ("tracking_uri", "no_track")}
    params.update(
        start=START,
        end=END,
        train_cutoffs=list(TRAIN_CUTOFFS),
        snapshot=SNAPSHOT,
        horizon=HORIZON,
        top_fraction=TOP_FRACTION,
    )
    return {"params": params, "children": children}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-employees", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--cache", type=Path, default=None, help="folder for the built tables")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke test: {QUICK['n_employees']} employees, seed 0, "
        f"{QUICK['n_estimators']} trees on {QUICK['n_jobs']} thread, {QUICK['n_bootstrap']} "
        "bootstrap replicates (--n-employees and --seeds still apply)",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="write the JSON, reports and figures to a temporary folder (MLflow only)",
    )
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db "
        "in the repository root)",
    )
    parser.add_argument("--no-track", action="store_true", help="do not record an MLflow run")
    args = parser.parse_args(argv)
    if args.quick:  # quick defaults; what the command line gives still wins
        parser.set_defaults(n_employees=QUICK["n_employees"], seeds=[0])
        args = parser.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> dict:
    """Run every seed and world, write the results, record the MLflow run; the results."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.time()
    # a wrong tracking URI fails now, not after the simulations
    uri = None if args.no_track else resolve_tracking_uri(args.tracking_uri, default=TRACKING_DB)
    options = {k: QUICK[k] for k in ("n_estimators", "n_bootstrap", "n_jobs")} if args.quick else {}
    with tempfile.TemporaryDirectory(prefix="audit_caregiver-") as tmp:
        results = Path(tmp) if args.no_write else RESULTS
        reports = Path(tmp) if args.no_write else REPORTS
        images = Path(tmp) / "img" if args.no_write else IMAGES
        report = run_all(args, results=results, reports=reports, images=images, **options)
        if uri is not None:
            artifacts = {"results/audit_caregiver.json": results / "audit_caregiver.json"}
            for name in REPORT_FILES.values():
                artifacts[f"reports/{name}"] = reports / name
            for name in report.get("figures", []):
                artifacts[f"figures/{name}"] = images / name
            run = log_experiment(
                EXPERIMENT,
                run_name="audit_caregiver" + (" --quick" if args.quick else ""),
                tags={"quick": args.quick},
                artifacts=artifacts,
                tracking_uri=uri,
                source=__file__,
                start_time=started,
                **tracking_payload(report, args),
            )
            print(f"MLflow run {run.run_id} in {EXPERIMENT!r} ({uri})")
    return report


def run_all(
    args: argparse.Namespace,
    *,
    results: Path,
    reports: Path,
    images: Path,
    n_estimators: int | None = None,
    n_bootstrap: int = 1000,
    n_jobs: int = 2,
) -> dict:
    """Every seed and world; writes the JSON (after each seed), the reports and figures of
    the first seed; returns the report as written (strict JSON)."""
    results.mkdir(parents=True, exist_ok=True)
    reports.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "experiment": "caregiver-hours effect on the simulator",
        "n_employees": args.n_employees,
        "seeds": args.seeds,
        "window": {"simulated": [START, END], "train_cutoffs": list(TRAIN_CUTOFFS)},
        "snapshot": SNAPSHOT,
        "horizon": HORIZON,
        "top_fraction": TOP_FRACTION,
        "headline": [],
        "runs": {},
    }
    if n_estimators is not None or n_bootstrap != 1000 or n_jobs != 2:
        report["quick"] = {
            "n_estimators": n_estimators,
            "n_bootstrap": n_bootstrap,
            "n_jobs": n_jobs,
        }
    first = None
    for seed in args.seeds:
        runs = {}
        report["runs"][str(seed)] = {}
        for label, effect in (("with the caregiver-hours effect", True), ("without it", False)):
            t = time.perf_counter()
            data = world(args.n_employees, seed, caregiver_effect=effect, cache=args.cache)
            res = run_world(
                data,
                seed=seed,
                label=label,
                n_estimators=n_estimators,
                n_bootstrap=n_bootstrap,
                n_jobs=n_jobs,
            )
            key = "effect" if effect else "null"
            runs[key] = res
            entry = {
                "label": label,
                "organization": data["summary"],
                "n_statements": data["n_statements"],
                "timings_s": {**data["timings_s"], "total": round(time.perf_counter() - t, 1)},
                "n_train_rows": int(len(data["X_train"])),
                "n_train_labeled": int(data["y_train"]["label"].notna().sum()),
                "n_snapshot_rows": int(len(data["X_test"])),
                "n_snapshot_labeled": int(data["y_test"]["label"].notna().sum()),
                "models": {
                    spec: {
                        "headline_caregiver": headline(r),
                        "headline_female": headline(r, "sex", "female"),
                        "fit_s": r["fit_s"],
                        "check_s": r["check_s"],
                        "summary": r["summary"],
                        "summary_standard": r["summary_standard"],
                        "scoring_variants": r["scoring_variants"],
                    }
                    for spec, r in res.items()
                },
            }
            report["runs"][str(seed)][key] = entry
            for spec in res:
                report["headline"].append(
                    {
                        "seed": seed,
                        "world": key,
                        "model": spec,
                        **entry["models"][spec]["headline_caregiver"],
                    }
                )
            print(seed, label, json.dumps(strict(entry["models"]["agility"]["headline_caregiver"])))
        if first is None:
            first = runs
            for (world_key, spec), name in REPORT_FILES.items():
                runs[world_key][spec]["result"].to_html(reports / name)
            report["figures"] = figures(runs["effect"], runs["null"], folder=images)
        (results / "audit_caregiver.json").write_text(
            json.dumps(strict(report), indent=2, allow_nan=False) + "\n"
        )
    print("written", results / "audit_caregiver.json")
    return strict(report)


if __name__ == "__main__":
    main()
