"""The main job end to end on a simulated organization, written up as ``report.html``.

simulate -> ingest xAPI -> resolve activities -> point-in-time features -> labels -> time
split -> train
FlightRisk, HighPotential and RampUp on the training rows and evaluate them on the held-out
period, each in its MLflow run, registered and promoted (:func:`train_models`, the one
training step) -> explain -> 9-box -> bias audit and caregiver hours -> trigger rules and
calibration flags -> :func:`talentml.report.build_report`.

Features are built once and each model is fitted once: the models the report evaluates and
the loop uses are the very ones logged and registered in MLflow. Every step is a function of
what the previous ones returned; nothing reads the clock.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..config import show_progress as _show_progress
from ._models import DEMO_EXPERIMENT
from ._resolution import _resolve, resolution_counts
from ._train import train_models


def _secret() -> str:
    """The pseudonymization secret of the demo: the configured one, else the simulator's."""
    from ..config import configured_secret
    from ..datasets import SIMULATION_SECRET

    return configured_secret() or SIMULATION_SECRET


__all__ = [
    "DEMO_RULES",
    "MIN_HISTORY",
    "MSG_HISTORY",
    "DemoPipeline",
    "Split",
    "resolution_counts",
    "run_pipeline",
    "train_models",
]

logger = logging.getLogger(__name__)

#: The trigger rules of the demo (the closed loop: reviews and scores become learning actions).
DEMO_RULES = """
version: 1
rules:
  - id: pm-remediation
    name: Project Management remediation
    kind: remediation
    when:
      - {competency: Project Management, op: "<", value: 3}
    then:
      - action: enroll
        target: https://lms.acme.example/course/project-management-foundations
        title: Project Management Fundamentals
        due_days: 30
  - id: emerging-leaders
    name: Emerging Leaders nomination
    kind: acceleration
    when:
      - {feature: rating_latest, op: ">=", value: Exceeds}
      - {feature: tenure_days, op: ">", value: 730}
    then:
      - {action: recommend, target: "https://lms.acme.example/program/leadership",
         title: Emerging Leaders Program, open_days: 180}
  - id: retention-check-in
    name: Retention check-in
    kind: retention
    when:
      - {score: flight_risk, op: ">", value: 0.15}
    then:
      - {action: alert, target: manager, open_days: 60}
"""

#: Selection rule audited for bias: the high-potential shortlist.
TOP_FRACTION = 0.10

#: Shortest simulated history the pipeline runs on: six months of learning history before the
#: first cutoff, then a 365-day label window on each side of the time split.
MIN_HISTORY = pd.Timedelta(days=1_000)

MSG_HISTORY = (
    "run_pipeline needs at least {need} days of history (six months before the first cutoff, "
    "then 365-day labels on both sides of the time split); the organization covers {start} "
    "to {end} ({days} days). Simulate a longer period (e.g. start='2023-01-01', "
    "end='2025-12-31') or skip the pipeline (talentml demo --no-report)."
)


@dataclass
class Split:
    """Training and held-out rows of one model, split in time (no label leakage).

    Training rows have ``as_of + horizon <= test_start`` and their targets as known at
    ``test_start`` (durations and ramp-up intervals censored there); held-out rows have
    ``as_of >= test_start``. ``cv`` is the :class:`~talentml.models.TimeSplit` whose last
    fold these are, over all the rows ``X`` and ``y`` (what
    :func:`talentml.tracking.train` is given, so that its run records the split).
    """

    X_train: pd.DataFrame
    y_train: pd.DataFrame
    X_test: pd.DataFrame
    y_test: pd.DataFrame
    test_start: pd.Timestamp
    horizon: str
    cv: Any = None
    X: pd.DataFrame | None = field(default=None, repr=False)
    y: Any = field(default=None, repr=False)


@dataclass
class DemoPipeline:
    """Everything the pipeline made: models, evaluations, explanations, audits, actions.

    ``runs`` holds the MLflow run of each model (:class:`talentml.tracking.TrainedRun`);
    ``models`` and ``evaluations`` are those runs' fitted models and held-out evaluations.
    ``resolver`` is the decided :class:`talentml.xapi.ActivityResolver` applied to the
    statements before features, ``resolution`` its counts (:func:`resolution_counts`).
    """

    out: Path
    org: Any
    ingest: Any
    splits: dict[str, Split]
    runs: dict[str, Any]
    models: dict[str, Any]
    evaluations: dict[str, Any]
    explanation: Any
    reasons: pd.DataFrame
    nine_box: pd.DataFrame
    bias_audit: Any
    caregiver: Any
    actions: pd.DataFrame
    calibration_flags: pd.DataFrame
    settings: dict[str, Any]
    tracking_uri: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    report_path: Path | None = None
    resolver: Any = None
    resolution: dict[str, Any] = field(default_factory=dict)
    team: Any = None
    roi: Any = None

    def metrics(self) -> dict[str, float]:
        """Headline metrics (``flight_risk.roc_auc``, ...) as plain floats, e.g. for MLflow."""
        out: dict[str, float] = {}
        for name, ev in self.evaluations.items():
            for row in ev.metrics.itertuples(index=False):
                if np.isfinite(row.value):
                    out[f"{name}.{row.metric}"] = float(row.value)
        return out

    def mlflow_runs(self) -> pd.DataFrame:
        """The models' MLflow runs: ``name``, ``run_id`` and ``experiment_id``, one row each."""
        return pd.DataFrame(
            {
                "name": [f"{key} model" for key in self.runs],
                "run_id": [run.run_id for run in self.runs.values()],
                "experiment_id": [run.experiment_id for run in self.runs.values()],
            }
        )

    def write_report(
        self,
        path: str | Path | None = None,
        *,
        mlflow_runs: Mapping[str, str] | pd.DataFrame | None = None,
        tracking_uri: str | None = None,
        mlflow_ui: str | None = None,
        show_progress: bool | None = None,
    ) -> Path:
        """(Re)write the report, e.g. with more MLflow runs or a link to the MLflow UI.

        ``mlflow_runs`` and ``tracking_uri`` default to the models' runs
        (:meth:`mlflow_runs`) and their store.
        """
        from ..report import build_report

        if mlflow_runs is None:
            mlflow_runs = self.mlflow_runs()
        if tracking_uri is None:
            tracking_uri = self.tracking_uri

        org = self.org
        settings = dict(self.settings)
        settings.update({f"time: {k}": f"{v:.1f} s" for k, v in self.timings.items()})
        path = Path(path) if path is not None else self.out / "report.html"
        self.report_path = build_report(
            path,
            title="talentml demo: a simulated organization, end to end",
            organization=org.summary(),
            tables={name: len(t) for name, t in org.tables.items()},
            ingest=self.ingest.report,
            settings=settings,
            flight_risk=self.evaluations["flight_risk"],
            explanation=self.explanation,
            reasons=self.reasons,
            nine_box=self.nine_box,
            high_potential=self.evaluations["high_potential"],
            ramp_up=self.evaluations["ramp_up"],
            bias_audit=self.bias_audit,
            caregiver=self.caregiver,
            actions=self.actions,
            calibration_flags=self.calibration_flags,
            team=self.team,
            roi=self.roi,
            mlflow_runs=mlflow_runs,
            tracking_uri=tracking_uri,
            mlflow_ui=mlflow_ui,
            show_progress=show_progress,
        )
        return self.report_path


# --------------------------------------------------------------------------------- steps
def _ingest(org: Any) -> Any:
    from .. import xapi

    # Hundreds of thousands of statement dicts are alive: with the cyclic garbage collector on,
    # every collection walks them all. (gc.freeze would do too, but it hides objects from
    # gc.get_referrers, which libraries imported during the ingest may call.)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return xapi.ingest(
            org.raw_statements, identities=org.identities, secret=_secret(), show_progress=False
        )
    finally:
        if enabled:
            gc.enable()


def _features(spine: pd.DataFrame, statements: pd.DataFrame, org: Any) -> pd.DataFrame:
    from .. import features

    return features.build(
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


def _split(X: pd.DataFrame, y: pd.DataFrame, horizon: str) -> Split:
    """One out-of-time split: the fold of ``TimeSplit(n_splits=1, horizon=horizon)``."""
    from ..models import TimeSplit

    cv = TimeSplit(n_splits=1, horizon=horizon)
    held = cv.holdout(X, y)
    return Split(
        X_train=held.X_train,
        y_train=held.y_train,
        X_test=held.X_test,
        y_test=held.y_test,
        test_start=held.test_start,
        horizon=horizon,
        cv=cv,
        X=X,
        y=y,
    )


def _snapshot(split: Split) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The held-out rows at the first test date with a known label: one row per employee."""
    known = split.y_test["label"].notna().to_numpy()
    first = split.X_test.loc[known, "as_of"].min()
    rows = (split.X_test["as_of"] == first).to_numpy() & known
    return (
        split.X_test[rows].reset_index(drop=True),
        split.y_test[rows].reset_index(drop=True),
    )


def _check_history(org: Any, start: str, end: str) -> None:
    """Raise (before any work) when the organization covers less than :data:`MIN_HISTORY`."""
    span = (pd.Timestamp(end) - pd.Timestamp(start)) if org is None else (org.end - org.start)
    if span < MIN_HISTORY:
        first_day = pd.Timestamp(start) if org is None else org.start
        last_day = pd.Timestamp(end) if org is None else org.end
        raise ValueError(
            MSG_HISTORY.format(
                need=MIN_HISTORY.days,
                start=first_day.date(),
                end=last_day.date(),
                days=span.days,
            )
        )


def _feature_tables(
    statements: pd.DataFrame, org: Any
) -> tuple[pd.DataFrame, pd.Timestamp, pd.DataFrame, pd.DataFrame]:
    """The monthly feature rows, their first cutoff, the ramp-up rows and their features."""
    from .. import features as tf
    from .. import labels

    # features on a monthly spine from six months after the start (learning history needs time)
    first = (org.start + pd.DateOffset(months=6)).normalize()
    spine = tf.make_spine(org.employees, start=first, end=org.end, freq="MS")
    X = _features(spine, statements, org)
    ramp = labels.ramp_up(org.employees, org.productivity, hired_after=org.start)
    ramp_rows = labels.ramp_up_spine(ramp, days_after_hire=30)
    ramp_rows = ramp_rows[ramp_rows["censored"].isna()].reset_index(drop=True)
    XR = _features(ramp_rows[["employee_id", "as_of"]], statements, org)
    return X, first, ramp_rows, XR


def _splits(
    X: pd.DataFrame, XR: pd.DataFrame, ramp_rows: pd.DataFrame, org: Any
) -> dict[str, Split]:
    """The labels of the three models and their out-of-time splits."""
    from .. import labels

    ids = X[["employee_id", "as_of"]]
    y_exit = labels.flight_risk(ids, org.employees, horizon="180D")
    y_hipo = labels.high_potential(ids, org.job_events, horizon="365D", employees=org.employees)
    return {
        "flight_risk": _split(X, y_exit, "180D"),
        "high_potential": _split(X, y_hipo, "365D"),
        "ramp_up": _split(XR, ramp_rows, "365D"),
    }


def _oracles(org: Any, splits: Mapping[str, Split]) -> dict[str, Any]:
    """The held-out rows' true probabilities (the simulator's oracle), for the evaluations."""
    truth = org.truth
    oracles = {
        "flight_risk": truth.exit_probability(splits["flight_risk"].X_test, "180D").to_numpy(),
        "high_potential": truth.high_potential_probability(
            splits["high_potential"].X_test, "365D"
        ).to_numpy(),
    }
    for name, oracle in list(oracles.items()):
        if np.isnan(oracle).any():
            del oracles[name]  # the simulator has no oracle for some rows: compare without it
    return oracles


@dataclass
class _Latest:
    """The latest cutoff (everyone employed then), scored and explained for the loop."""

    now: pd.DataFrame
    risk: pd.Series
    potential: pd.Series
    explanation: Any
    all_reasons: pd.DataFrame
    reasons: pd.DataFrame
    grid: pd.DataFrame


def _score_latest(X: pd.DataFrame, models: Mapping[str, Any]) -> _Latest:
    """Scores, reasons and the 9-box of the latest cutoff: the rows the loop acts on."""
    from ..explain import explain
    from ..models import nine_box

    now = X[X["as_of"] == X["as_of"].max()].reset_index(drop=True)
    flight = models["flight_risk"]
    hipo = models["high_potential"]
    risk = pd.Series(flight.predict_proba(now)[:, 1], index=now.index, name="flight_risk")
    potential = pd.Series(hipo.predict_proba(now)[:, 1], index=now.index, name="high_potential")
    explanation = explain(flight, now, show_progress=False)
    all_reasons = explanation.top_reasons(3, direction="up")
    top = now.assign(score=risk).nlargest(20, "score")[["employee_id", "as_of", "score"]]
    reasons = all_reasons.merge(top, on=["employee_id", "as_of"], how="inner")
    grid = nine_box(now, potential=potential)
    return _Latest(now, risk, potential, explanation, all_reasons, reasons, grid)


def _fairness(
    hipo: Any, split: Split, org: Any, *, n_bootstrap: int, random_state: int
) -> tuple[Any, Any]:
    """Caregiver hours and the bias audit of the high-potential shortlist (held-out rows)."""
    from .. import fairness

    X_audit, y_audit = _snapshot(split)
    purpose = f"high-potential shortlist (top {TOP_FRACTION:.0%}) on the simulated organization"
    caregiver = fairness.caregiver_hours(
        hipo,
        X_audit,
        y_audit,
        sensitive=org.sensitive,
        X_train=split.X_train,
        y_train=split.y_train,
        top_fraction=TOP_FRACTION,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        show_progress=False,
        purpose=purpose,
    )
    bias = fairness.audit(
        hipo,
        X_audit,
        y_audit,
        sensitive=org.sensitive,
        top_fraction=TOP_FRACTION,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        purpose=purpose,
        audit_date=str(X_audit["as_of"].iloc[0].date()),
        data_source="test",
        show_progress=False,
    )
    return caregiver, bias


def _loop(latest: _Latest, statements: pd.DataFrame, org: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trigger rules' actions and the calibration flags of the latest cutoff."""
    from .. import loop

    now = latest.now
    rules = loop.RuleSet.from_yaml(DEMO_RULES)
    actions = rules.evaluate(
        now,
        competency_ratings=org.competency_ratings,
        scores=latest.risk.to_frame(),
        explanations=latest.all_reasons,
        course_catalog=org.catalog,
    )
    flags = loop.calibration_flags(
        now,
        model_score=latest.potential,
        statements=statements,
        course_catalog=org.catalog,
        employees=org.employees,
    )
    return actions, flags


#: The demo's ROI inputs: costs and values are assumptions a user replaces with their own.
ROI_COSTS = {"per_participant": 3_000, "hours_per_participant": 40}
ROI_VALUES = {
    "annual_salary": 90_000,
    "replacement_cost_multiple": 0.5,
    "hourly_rate": 50,
    "value_per_rating_point": 1_000,
}


def _team_and_roi(
    latest: _Latest,
    statements: pd.DataFrame,
    org: Any,
    actions: pd.DataFrame,
    *,
    n_bootstrap: int,
    random_state: int,
) -> tuple[Any, Any]:
    """One example manager's team view (a typical team) and the leadership track's ROI."""
    from .. import loop

    rows = latest.now  # the feature rows of the latest cutoff: everyone employed then
    as_of = rows["as_of"].iloc[0]
    employees = org.employees
    active = employees[employees["employee_id"].isin(rows["employee_id"])]
    # a typical team (5 to 15 direct reports: the largest of those), else the largest team
    sizes = active["manager_id"].dropna().value_counts()
    typical = sizes[(sizes >= 5) & (sizes <= 15)]
    manager = str((typical if len(typical) else sizes).index[0])
    team = loop.team_view(
        manager,
        as_of,
        employees=employees,
        job_events=org.job_events,
        competency_ratings=org.competency_ratings,
        statements=statements,
        reviews=org.reviews,
        course_catalog=org.catalog,
        X=rows,
        scores=rows[["employee_id", "as_of"]].assign(flight_risk=latest.risk.to_numpy()),
        explanations=latest.all_reasons,
        ruleset=loop.RuleSet.from_yaml(DEMO_RULES),
    )
    participation = loop.track_completions(
        statements, course_catalog=org.catalog, program="leadership"
    )
    result = loop.roi(
        "Emerging Leaders",
        employees=employees,
        participation=participation,
        reviews=org.reviews,
        # the track's planted effect is identified on the Leadership competency rating
        # (docs/loop.md: the overall rating's growth also follows latent potential)
        competency_ratings=org.competency_ratings,
        outcome="Leadership",
        costs=ROI_COSTS,
        values=ROI_VALUES,
        actions=actions,
        n_bootstrap=max(n_bootstrap, 20),
        random_state=random_state,
        show_progress=False,
    )
    return team, result


def _settings(
    org: Any,
    X: pd.DataFrame,
    first: pd.Timestamp,
    splits: Mapping[str, Split],
    now: pd.DataFrame,
    resolution: Mapping[str, Any],
    *,
    n_estimators: int | None,
    n_bootstrap: int,
    random_state: int,
) -> dict[str, Any]:
    """How the run was made, in the report's words."""
    settings = {
        "organization": f"simulated, {len(org.employees):,} employees ever, seed {random_state}",
        "period": f"{org.start.date()} to {org.end.date()}",
        "feature rows": f"{len(X):,} (monthly from {first.date()}) x {X.shape[1] - 2} features",
        "trees per model": (
            n_estimators
            if n_estimators is not None
            else "the models' defaults (flight risk and high potential: depth and rounds "
            "chosen on held-out employees; ramp-up: 300)"
        ),
        "bootstrap resamples": n_bootstrap,
        "activity resolution": (
            f"{resolution['activities']['resolved']:,} platform IRIs resolved to catalog "
            f"activities ({resolution['statements']['resolved']:,} of "
            f"{resolution['statements']['total']:,} statements); merges: "
            + ", ".join(f"{v:,} {k}" for k, v in resolution["merges"].items())
        ),
    }
    for name, split in splits.items():
        settings[f"{name} split"] = (
            f"train {len(split.X_train):,} rows (as_of + {split.horizon} <= "
            f"{split.test_start.date()}), test {len(split.X_test):,} rows from "
            f"{split.test_start.date()}"
        )
    settings["loop cutoff"] = f"{now['as_of'].iloc[0].date()} ({len(now):,} employees)"
    return settings


# ------------------------------------------------------------------------------ the job
def run_pipeline(
    out: str | Path = "demo-output",
    *,
    n_employees: int = 2_000,
    start: str = "2023-01-01",
    end: str = "2025-12-31",
    random_state: int = 0,
    org: Any = None,
    ingested: Any = None,
    n_estimators: int | None = None,
    n_bootstrap: int = 100,
    n_jobs: int | None = 1,
    report: bool = True,
    tracking_uri: str | None = None,
    experiment: str = DEMO_EXPERIMENT,
    mlflow_runs: Mapping[str, str] | pd.DataFrame | None = None,
    mlflow_ui: str | None = None,
    show_progress: bool | None = None,
) -> DemoPipeline:
    """Run the main job on a simulated organization and write ``<out>/report.html``.

    The three models are trained once, each in an MLflow run of ``experiment`` that logs,
    registers and promotes it (:func:`train_models`); the report evaluates those models.

    Parameters
    ----------
    out : str or Path
        Output folder (created); the report is ``report.html`` in it.
    n_employees, start, end, random_state
        The simulated organization (:func:`talentml.datasets.simulate_workforce`).
    org : Workforce, optional
        An organization already simulated (then ``n_employees``, ``start`` and ``end`` are
        not used).
    ingested : Ingest, optional
        Its statements already ingested (:func:`talentml.xapi.ingest`).
    n_estimators : int, optional
        Trees of each model; by default each model's own (FlightRisk and HighPotential
        choose depth and rounds on held-out employees, RampUp trains 300 trees).
    n_bootstrap : int, default 100
        Bootstrap resamples of the metrics' and impact ratios' intervals.
    n_jobs : int or None, default 1
        Threads of XGBoost. One thread is the fastest on the small training sets of the demo
        (two threads were ten times slower on a busy 2-core machine).
    report : bool, default True
        Write ``<out>/report.html`` now; False leaves it to :meth:`DemoPipeline.write_report`
        (e.g. once more MLflow runs are known).
    tracking_uri : str, optional
        The MLflow store of the models' runs and registry (default: the SQLite store
        ``<out>/mlflow.db``).
    experiment : str, default "talentml-demo"
        The runs' experiment (created with its artifacts in ``<out>/mlartifacts`` when
        missing).
    mlflow_runs, mlflow_ui
        Passed to :func:`talentml.report.build_report` (``mlflow_runs`` default: the models'
        runs).
    show_progress : bool, optional
        A progress bar over the steps (default: talentml's setting).

    Returns
    -------
    DemoPipeline
        MLflow runs, models, evaluations, explanations, audits, actions, timings and
        ``report_path``.

    Raises
    ------
    ValueError
        If the organization covers less than :data:`MIN_HISTORY` (checked before any work).

    Examples
    --------
    >>> from talentml.demo._pipeline import run_pipeline
    >>> result = run_pipeline("demo-output", n_employees=300)  # doctest: +SKIP
    >>> result.report_path.name  # doctest: +SKIP
    'report.html'
    """
    from ..datasets import simulate_workforce
    from ._models import demo_experiment

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    show = _show_progress() if show_progress is None else bool(show_progress)
    steps = tqdm(total=9, desc="demo", unit="step", disable=not show)
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def done(name: str) -> None:
        now = time.perf_counter()
        timings[name] = now - clock[0]
        clock[0] = now
        steps.set_postfix_str(name)
        steps.update()
        logger.info("demo pipeline: %s in %.1f s", name, timings[name])

    _check_history(org, start, end)
    if org is None:
        org = simulate_workforce(
            n_employees=n_employees,
            start=start,
            end=end,
            random_state=random_state,
            show_progress=False,
        )
    done("simulate")
    if ingested is None:
        ingested = _ingest(org)
    done("ingest")
    # the video platform's IRIs become the catalog's activities before any feature counts them
    statements, resolver = _resolve(ingested, org)
    resolution = resolution_counts(resolver)
    done("resolve")

    X, first, ramp_rows, XR = _feature_tables(statements, org)
    done("features")

    splits = _splits(X, XR, ramp_rows, org)
    done("labels")

    oracles = _oracles(org, splits)
    uri = tracking_uri or f"sqlite:///{out / 'mlflow.db'}"
    demo_experiment(uri, out / "mlartifacts", name=experiment)
    runs = train_models(
        splits,
        tracking_uri=uri,
        experiment=experiment,
        sensitive=org.sensitive,
        oracles=oracles,
        n_estimators=n_estimators,
        n_bootstrap=n_bootstrap,
        n_jobs=n_jobs,
        random_state=random_state,
    )
    models = {name: run.model for name, run in runs.items()}
    evaluations = {name: run.evaluation for name, run in runs.items()}
    done("train")

    # the loop acts on the latest cutoff: everyone employed then
    latest = _score_latest(X, models)
    done("explain")

    caregiver, bias = _fairness(
        models["high_potential"],
        splits["high_potential"],
        org,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
    done("fairness")

    actions, flags = _loop(latest, statements, org)
    team, roi = _team_and_roi(
        latest, statements, org, actions, n_bootstrap=n_bootstrap, random_state=random_state
    )
    done("loop")
    steps.close()

    settings = _settings(
        org,
        X,
        first,
        splits,
        latest.now,
        resolution,
        n_estimators=n_estimators,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
    result = DemoPipeline(
        out=out,
        org=org,
        ingest=ingested,
        splits=splits,
        runs=runs,
        models=models,
        evaluations=evaluations,
        explanation=latest.explanation,
        reasons=latest.reasons,
        nine_box=latest.grid,
        bias_audit=bias,
        caregiver=caregiver,
        actions=actions,
        calibration_flags=flags,
        settings=settings,
        tracking_uri=uri,
        timings=timings,
        resolver=resolver,
        resolution=resolution,
        team=team,
        roi=roi,
    )
    if report:
        t = time.perf_counter()
        result.write_report(mlflow_runs=mlflow_runs, mlflow_ui=mlflow_ui, show_progress=False)
        timings["report"] = time.perf_counter() - t
        logger.info("demo pipeline: report written to %s", result.report_path)
    return result
