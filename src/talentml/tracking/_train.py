"""``train``: fit, evaluate, audit and log a talentml model in one MLflow run."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import RandomStateLike, renamed_parameters
from ._split import (  # noqa: F401 - the split's names, importable from here as before
    MSG_RANDOM_SPLIT,
    SPLIT_KINDS,
    _check_given,
    _default_horizon,
    _given_split,
    _split_rows,
)

__all__ = ["TrainedRun", "table_digest", "train"]

logger = logging.getLogger(__name__)

_MODELS = ("FlightRisk", "HighPotential", "RampUp")


@dataclass
class TrainedRun:
    """The result of :func:`train`: the run, the logged (and registered) model, and what was
    measured.

    Attributes
    ----------
    run_id, experiment_id, tracking_uri : str
        The MLflow run.
    model_uri : str
        The logged model (``models:/m-...``).
    model_id : str
        MLflow's id of the logged model.
    registered_name, registered_version : str or None
        The registry entry, when registered.
    model : FlightRisk, HighPotential or RampUp
        The fitted model.
    scorer : talentml.serving.Scorer
        What the served model answers with (bands included).
    evaluation : talentml.models.Evaluation
        Held-out metrics with confidence intervals.
    audit : talentml.fairness.BiasAudit or None
        The bias audit (when ``sensitive`` was given).
    card : str
        The model card (Markdown).
    split : dict
        How the rows were split (sizes, dates, rule).
    example : pandas.DataFrame
        The input example logged with the model.

    Examples
    --------
    >>> from talentml.tracking import TrainedRun
    >>> sorted(TrainedRun.__dataclass_fields__)[:4]
    ['audit', 'card', 'evaluation', 'example']
    """

    run_id: str
    experiment_id: str
    tracking_uri: str
    model_uri: str
    model_id: str | None
    registered_name: str | None
    registered_version: str | None
    model: Any
    scorer: Any
    evaluation: Any
    audit: Any
    card: str
    split: dict[str, Any] = field(default_factory=dict)
    example: pd.DataFrame | None = None

    def __repr__(self) -> str:
        reg = (
            f", registered {self.registered_name} v{self.registered_version}"
            if self.registered_name
            else ""
        )
        return f"TrainedRun(run {self.run_id}, {type(self.model).__name__}{reg})"

    def load(self, **kwargs: Any) -> Any:
        """The logged model for serving (:func:`talentml.serving.load`)."""
        from ..serving import load

        uri = (
            f"models:/{self.registered_name}/{self.registered_version}"
            if self.registered_name
            else self.model_uri
        )
        return load(uri, **kwargs)


def table_digest(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) of a table's content: column names, dtypes and every value, in order.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.

    Returns
    -------
    str
        64 hex characters; equal tables (same columns, order and values) give equal digests.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.tracking import table_digest
    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> table_digest(a) == table_digest(a.copy()), table_digest(a) == table_digest(a[::-1])
    (True, False)
    """
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    if len(frame):
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _target(y: Any) -> pd.Series | pd.DataFrame:
    """``y`` as a pandas object with a fresh index (an array becomes the ``label`` Series)."""
    if isinstance(y, pd.Series | pd.DataFrame):
        return y.reset_index(drop=True)
    return pd.Series(np.asarray(y), name="label")


def _data_window(X: pd.DataFrame, y: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"n_rows": len(X)}
    if "as_of" in X.columns:
        as_of = pd.to_datetime(X["as_of"], utc=True)
        out["as_of_min"] = str(as_of.min().date())
        out["as_of_max"] = str(as_of.max().date())
        out["n_as_of"] = int(as_of.nunique())
    if "employee_id" in X.columns:
        out["n_employees"] = int(X["employee_id"].nunique())
    if isinstance(y, pd.DataFrame) and "label" in y.columns:
        labelled = y["label"].notna()
        out["n_labelled"] = int(labelled.sum())
        out["label_rate"] = float(pd.to_numeric(y.loc[labelled, "label"]).mean())
    return out


def _flat_params(params: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for k, v in params.items():
        text = str(v)
        out[k] = text if len(text) <= 6000 else text[:5997] + "..."
    return out


def _metric_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in name)


@renamed_parameters(catalog="feature_catalog")
def train(
    model: Any,
    X: pd.DataFrame,
    y: Any,
    *,
    experiment: str,
    sensitive: pd.DataFrame | None = None,
    register_as: str | None = None,
    aliases: Iterable[str] = ("challenger",),
    tracking_uri: str | None = None,
    run_name: str | None = None,
    test_size: float = 0.25,
    test_from: Any = None,
    horizon: Any = None,
    X_test: pd.DataFrame | None = None,
    y_test: Any = None,
    cv: Any = None,
    bands: Any = None,
    k: int = 3,
    direction: str = "up",
    feature_catalog: pd.DataFrame | None = None,
    n_bootstrap: int = 200,
    evaluate_options: Mapping[str, Any] | None = None,
    audit_options: Mapping[str, Any] | None = None,
    shap_rows: int = 2_000,
    validate: bool = True,
    random_state: RandomStateLike = 0,
    show_progress: bool | None = None,
) -> TrainedRun:
    """Train a talentml model inside an MLflow run and log everything a reviewer needs.

    One call splits the rows, fits ``model``, evaluates it on the held-out rows and logs, in
    one MLflow run:

    * how the rows were split: the ``talentml.split`` tag (``out_of_time``,
      ``random_by_employee``, ``random_by_row`` or ``given``) and ``split.*`` parameters
      (rule, sizes; out of time also ``test_start``, ``test_end``, ``gap_days``, ``n_gap``:
      rows left out because their label window was still open at the split date, and
      ``n_later``), also in the model card;
    * parameters (the model's) and metrics with bootstrap confidence intervals
      (``test.<metric>``, ``test.<metric>.ci_low`` / ``.ci_high``);
    * the dataset lineage: ``mlflow.data`` datasets of the spine (``employee_id``, ``as_of``
      and the labels) and the feature table, each with the SHA-256 of its content
      (:func:`table_digest`; also the ``talentml.*_sha256`` tags);
    * the feature catalog of the model's columns (``feature_catalog.json``);
    * calibration and lift plots, SHAP summary plots (beeswarm, business importance);
    * the bias audit (``audit/bias_audit.json`` and ``.html``) when ``sensitive`` is given;
    * the model card (``model_card.md`` / ``.json``): intended and prohibited uses, data
      window, metrics overall and by group, bands, limitations;
    * the model, as an MLflow pyfunc from code (UBJ + JSON, no pickle), with its signature and
      input example, checked with ``validate_serving_input``; registered as ``register_as``
      with ``aliases`` when given.

    **The split.** Spine data (``X`` with an ``as_of`` column of more than one date) is split
    out of time, as :func:`talentml.models.backtest` splits it: the last period is held out
    (``as_of >= T``, ``T`` an ``as_of`` chosen so that about ``test_size`` of the labelled
    rows are test rows) and the model is trained only on the rows whose label window closed
    by then (``as_of + horizon <= T``), with survival durations and ramp-up intervals
    censored at ``T`` (what was known then): the last fold of
    ``TimeSplit(n_splits=1, horizon=horizon, test_size=test_size)``
    (:meth:`talentml.models.TimeSplit.holdout`). Without time the rows are split at random
    by employee (all of an employee's rows on one side; by row without ``employee_id``),
    which overstates what the model does on the future: a ``UserWarning`` says so, and the
    run's tag and model card record it.

    Parameters
    ----------
    model : FlightRisk, HighPotential or RampUp
        An (unfitted) talentml estimator; it is cloned, then fitted on the training rows.
    X : pandas.DataFrame
        Features (``talentml.features.build`` output: ``employee_id``, ``as_of`` and the
        feature columns).
    y : pandas.DataFrame or array-like
        Labels aligned with ``X`` (a ``talentml.labels`` frame).
    experiment : str
        MLflow experiment name (created when missing).
    sensitive : pandas.DataFrame, optional
        The ``sensitive`` table, for the bias audit of the held-out rows (never a feature).
    register_as : str, optional
        Register the model under this name (the version is written into the model).
    aliases : iterable of str, default ("challenger",)
        Aliases of the new version when registered.
    tracking_uri : str, optional
        MLflow tracking URI (default: MLflow's current one, e.g. ``MLFLOW_TRACKING_URI``, else
        a local store).
    run_name : str, optional
        Name of the run.
    test_size : float, default 0.25
        Share of the rows held out: the latest labelled rows out of time, else the rows of
        that share of employees (not used with ``test_from``, ``cv`` or ``X_test``).
    test_from : str or Timestamp, optional
        The start of the held-out period, instead of ``test_size``: test rows have
        ``as_of >= test_from``; training rows have ``as_of + horizon <= test_from``, and
        their targets are what was known at ``test_from`` (survival durations and ramp-up
        intervals censored there).
    horizon : str, optional
        The label horizon: the gap of the out-of-time split. Default: the model's
        ``horizon`` parameter (FlightRisk 180 days, HighPotential 365 days); 180 days for a
        model without one (RampUp, whose training intervals are censored at ``T`` anyway).
    X_test, y_test : pandas.DataFrame and array-like, optional
        Held-out rows chosen by the caller, e.g. one out-of-time fold of
        :class:`talentml.models.TimeSplit` with the training targets censored at its start.
        Then ``X`` and ``y`` are the training rows only (all of them are fitted on) and
        ``test_size`` / ``test_from`` are not used; the lineage covers both sets.
    cv : TimeSplit, optional
        The splitter whose last fold is held out (:meth:`TimeSplit.holdout
        <talentml.models.TimeSplit.holdout>`), e.g. ``TimeSplit(n_splits=1, horizon="180D",
        step="3MS")`` for the last three calendar months; instead of ``test_size`` and
        ``test_from``.
    bands : Bands or mapping, optional
        Score bands (default: from the training rows' scores, see
        :meth:`talentml.serving.Bands.from_scores`).
    k : int, default 3
        Reasons per served prediction.
    direction : {"up", "down", "both"}, default "up"
        Which drivers served reasons name.
    feature_catalog : pandas.DataFrame, optional
        The feature catalog (default :func:`talentml.features.catalog`).
    n_bootstrap : int, default 200
        Bootstrap resamples of the metric intervals.
    evaluate_options : mapping, optional
        Extra arguments of :func:`talentml.models.evaluate` on the held-out rows (e.g.
        ``oracle``, aligned with ``X_test``).
    audit_options : mapping, optional
        Extra arguments of :func:`talentml.fairness.audit` (default: ``n_bootstrap=200``).
    shap_rows : int, default 2000
        Held-out rows explained for the SHAP plots.
    validate : bool, default True
        Check the logged model answers a serving request (``validate_serving_input``).
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the split, the bootstrap and the audit.
    show_progress : bool, optional
        Progress bars (default: the talentml setting).

    Returns
    -------
    TrainedRun
        Run id, model URI, registered version, the fitted model, evaluation and audit.

    Raises
    ------
    TypeError
        If ``model`` is not a talentml estimator or ``X`` not a DataFrame.
    ValueError
        If ``y`` does not match ``X`` (or ``y_test`` ``X_test``), ``X_test`` comes without
        ``y_test`` or with ``test_from`` or ``cv``, or the split leaves no training or test
        rows (e.g. less history than the horizon before the held-out period).

    Warns
    -----
    UserWarning
        When ``X`` has no time to split on (no ``as_of``, or a single one) and the rows are
        split at random.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.tracking import train
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"employee_id": [f"E{i}" for i in range(600)],
    ...                   "days_since_last_activity": rng.exponential(30, 600)})
    >>> y = (rng.random(600) < X["days_since_last_activity"] / 150).astype(int)
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     run = train(FlightRisk(n_estimators=30), X, y, experiment="demo",
    ...                 tracking_uri=f"sqlite:///{d}/mlflow.db", register_as="flight-risk")
    >>> run.split["kind"]  # doctest: +SKIP
    'random_by_employee'
    """
    import mlflow
    from sklearn.base import clone

    from .._version import __version__
    from ..models import evaluate
    from ..serving import Scorer
    from ._card import model_card
    from ._registry import input_example, log_model, register

    name = type(model).__name__
    if name not in _MODELS:
        raise TypeError(f"train: model must be one of talentml's {_MODELS}, got {name}")
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"train: X must be a pandas DataFrame, got {type(X).__name__}")
    n_y = len(y) if hasattr(y, "__len__") else None
    if n_y != len(X):
        raise ValueError(f"train: y has {n_y} rows but X has {len(X)}; align them on the spine")
    given = X_test is not None or y_test is not None
    if given:
        _check_given(X, y, X_test, y_test, test_from, cv)
    if tracking_uri is not None:
        mlflow.set_tracking_uri(tracking_uri)
    X, y = X.reset_index(drop=True), _target(y)
    if given:
        X_train, y_train = X, y
        X_test, y_test = X_test.reset_index(drop=True), _target(y_test)
        split = _given_split(X_train, X_test)
        X = pd.concat([X_train, X_test], ignore_index=True)
        y = pd.concat([y_train, y_test], ignore_index=True)
    else:
        X_train, X_test, y_train, y_test, split = _split_rows(
            X,
            y,
            test_size=test_size,
            test_from=test_from,
            horizon=_default_horizon(model, horizon),
            random_state=random_state,
            cv=cv,
        )
    fitted = clone(model)
    if show_progress is not None and "show_progress" in fitted.get_params():
        fitted.set_params(show_progress=show_progress)
    fitted.fit(X_train, y_train)
    evaluation = evaluate(
        fitted,
        X_test,
        y_test,
        **{
            "n_bootstrap": n_bootstrap,
            "random_state": random_state,
            "show_progress": show_progress,
            **dict(evaluate_options or {}),
        },
    )
    if feature_catalog is None:
        from ..features import catalog as default_catalog

        feature_catalog = default_catalog()
    scorer = Scorer(
        fitted,
        model_name=register_as or name,
        bands=bands,
        reference=X_train,  # the training profile of the input guard (and default bands)
        k=k,
        direction=direction,
        feature_catalog=feature_catalog,
    )
    example = input_example(scorer, X_test)

    experiment_obj = mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name or f"{name} training") as run:
        run_id = run.info.run_id
        mlflow.set_tags(
            {
                "talentml.version": __version__,
                "talentml.model_class": name,
                "talentml.purpose": name,
                "talentml.split": split["kind"],
            }
        )
        params = {f"model.{k_}": v for k_, v in fitted.get_params().items()}
        params.update({f"split.{k_}": v for k_, v in split.items()})
        params.update({"serving.k": k, "serving.direction": direction})
        mlflow.log_params(_flat_params(params))
        data = _data_window(X, y)
        # the card reads "- split: out_of_time", the rule, the sizes (and any warning)
        data["split"] = split["kind"]
        data.update({k_: v for k_, v in split.items() if k_ != "kind"})
        _log_lineage(mlflow, X, y, data)
        _log_metrics(mlflow, evaluation)
        mlflow.log_dict(evaluation.to_dict(), "evaluation/evaluation.json")
        model_cols = list(scorer.features)
        cat = (
            feature_catalog[feature_catalog["name"].isin(model_cols)]
            if len(feature_catalog)
            else feature_catalog
        )
        mlflow.log_table(cat.astype(object).where(cat.notna(), None), "feature_catalog.json")
        _log_plots(mlflow, evaluation, fitted, X_test, feature_catalog, shap_rows, random_state)
        audit = None
        if sensitive is not None:
            audit = _log_audit(
                mlflow, fitted, X_test, y_test, sensitive, audit_options, random_state
            )
        version = None
        registered = None
        if register_as:
            mv = register(scorer, register_as, aliases=aliases, example=example, validate=validate)
            version, registered = str(mv.version), register_as
            model_uri = str(mv.source)
            logged = mlflow.get_logged_model(_model_id(model_uri)) if model_uri else None
        else:
            info = log_model(scorer, name=name, example=example, validate=validate)
            model_uri = info.model_uri
            logged = info
        model_id = getattr(logged, "model_id", None)
        card, card_doc = model_card(
            model_class=name,
            model_name=scorer.model_name,
            model_version=version,
            data=data,
            metrics=evaluation.metrics,
            bands=scorer.bands.to_dict(),
            features=model_cols,
            by_group=audit.by_group if audit is not None else None,
            audit_flags=audit.flags if audit is not None else None,
            run_id=run_id,
            params={k_: str(v) for k_, v in fitted.get_params().items()},
        )
        mlflow.log_text(card, "model_card.md")
        mlflow.log_dict(card_doc, "model_card.json")
    logger.info("train: run %s, model %s%s", run_id, model_uri, f" v{version}" if version else "")
    return TrainedRun(
        run_id=run_id,
        experiment_id=experiment_obj.experiment_id,
        tracking_uri=mlflow.get_tracking_uri(),
        model_uri=model_uri,
        model_id=model_id,
        registered_name=registered,
        registered_version=version,
        model=fitted,
        scorer=scorer,
        evaluation=evaluation,
        audit=audit,
        card=card,
        split=split,
        example=example,
    )


def _model_id(uri: str) -> str:
    return uri.rstrip("/").split("/")[-1]


def _log_lineage(mlflow: Any, X: pd.DataFrame, y: Any, data: dict[str, Any]) -> None:
    """``mlflow.data`` datasets of the spine and the features, with content digests."""
    keys = [c for c in ("employee_id", "as_of") if c in X.columns]
    spine = X[keys].copy()
    if isinstance(y, pd.DataFrame):
        for col in y.columns:
            if col not in spine.columns:
                spine[col] = y[col].to_numpy()
    else:
        spine["label"] = np.asarray(y)
    digests = {"spine": table_digest(spine), "features": table_digest(X)}
    data["spine_sha256"] = digests["spine"]
    data["features_sha256"] = digests["features"]
    mlflow.set_tags({f"talentml.{k}_sha256": v for k, v in digests.items()})
    targets = "label" if "label" in spine.columns else None
    for name, frame, tgt in (("spine", spine, targets), ("features", X, None)):
        with warnings.catch_warnings():
            # MLflow hints that integer columns cannot hold missing values: true, and the
            # dataset schema records the table as it is (the model signature takes doubles)
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            dataset = mlflow.data.from_pandas(
                frame, name=name, targets=tgt, digest=digests[name][:32]
            )
            mlflow.log_input(dataset, context="training")  # infers the schema (lazily)


def _log_metrics(mlflow: Any, evaluation: Any) -> None:
    metrics = {}
    for r in evaluation.metrics.to_dict("records"):
        base = _metric_name(f"test.{r['metric']}")
        for key, suffix in (("value", ""), ("ci_low", ".ci_low"), ("ci_high", ".ci_high")):
            v = r.get(key)
            if v is not None and np.isfinite(v):
                metrics[base + suffix] = float(v)
    mlflow.log_metrics(metrics)


def _log_plots(
    mlflow: Any,
    evaluation: Any,
    model: Any,
    X_test: pd.DataFrame,
    catalog: pd.DataFrame,
    shap_rows: int,
    random_state: int | None,
) -> None:
    import matplotlib.pyplot as plt

    from .._compat import import_shap
    from ..explain import explain, plot_importance

    def save(fig: Any, path: str) -> None:
        mlflow.log_figure(fig, path)
        plt.close(fig)

    for what in ("calibration", "lift"):
        try:
            fig, ax = plt.subplots(figsize=(6, 4.5))
            getattr(evaluation, f"plot_{what}")(ax=ax)
            save(fig, f"plots/{what}.png")
        except ValueError as err:  # e.g. no lift for ramp-up days
            plt.close("all")
            logger.info("train: no %s plot: %s", what, err)
    rows = X_test
    if len(rows) > shap_rows:
        rows = rows.sample(shap_rows, random_state=random_state)
    ex = explain(model, rows, peers=None, feature_catalog=catalog, show_progress=False)
    shap = import_shap()
    with warnings.catch_warnings():
        # a feature missing in every sampled row has no colour scale: shap greys it out
        warnings.filterwarnings("ignore", message="All-NaN slice encountered")
        shap.plots.beeswarm(ex.to_shap(), max_display=15, show=False)
    save(plt.gcf(), "plots/shap_beeswarm.png")
    fig, ax = plt.subplots(figsize=(7, 5))
    plot_importance(ex, ax=ax)
    save(fig, "plots/shap_importance.png")


def _log_audit(
    mlflow: Any,
    model: Any,
    X_test: pd.DataFrame,
    y_test: Any,
    sensitive: pd.DataFrame,
    options: Mapping[str, Any] | None,
    random_state: int | None,
) -> Any:
    from ..fairness import audit

    kwargs: dict[str, Any] = {"n_bootstrap": 200, "random_state": random_state}
    kwargs.update(dict(options or {}))
    y_audit = y_test if not isinstance(y_test, pd.DataFrame) or "label" in y_test else None
    result = audit(model, X_test, y_audit, sensitive=sensitive, **kwargs)
    mlflow.log_text(result.to_json(), "audit/bias_audit.json")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bias_audit.html"
        result.to_html(path)
        mlflow.log_artifact(str(path), "audit")
    ratios = result.impact_ratios
    metrics = {}
    if len(ratios):
        for kind in ratios.index.get_level_values("kind").unique():
            r = ratios.xs(kind, level="kind")["impact_ratio"]
            r = r[np.isfinite(r.to_numpy(dtype=float))]
            if len(r):
                metrics[f"audit.min_impact_ratio.{kind}"] = float(r.min())
    flags = result.flags
    metrics["audit.flags_high"] = float((flags["severity"] == "high").sum()) if len(flags) else 0.0
    mlflow.log_metrics(metrics)
    return result
