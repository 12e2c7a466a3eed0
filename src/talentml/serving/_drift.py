"""Drift: served traffic against the training profile, per feature and for the score.

:func:`drift` compares what a model is asked now (a feature table, or the prediction log)
with its :class:`~talentml.serving.TrainingProfile`:

* **PSI** (population stability index) over the training deciles of each numeric column (plus
  a bin for missing values), over the training levels of each category column (plus one bin
  for unseen levels and one for missing values), and over the deciles of the training
  scores: ``PSI = sum((current - reference) * ln(current / reference))``, shares floored at
  ``1e-4``.
* **KS**: the two-sample Kolmogorov-Smirnov statistic of each numeric column and of the
  score against the training distribution, evaluated on the training percentiles kept in the
  profile (exact at those 101 points, so within 0.01 of the full statistic), with the
  asymptotic p-value.
* **Warnings**: the share of rows with each input-guard warning (``missing``,
  ``out_of_range``, ``unknown_category``, ...), from the log or by checking the table.

Thresholds (:data:`DRIFT_THRESHOLDS`, the usual reading of PSI): below 0.1 stable, 0.1 to
0.25 ``watch``, 0.25 and above ``drift``; KS at least 0.1 ``watch``, at least 0.2 ``drift``.

A prediction log keeps no inputs (only their digests), so from a log only the score and the
warnings are compared; pass the feature table to compare the features too.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters
from ._profile import TrainingProfile, numeric_values

__all__ = ["DRIFT_THRESHOLDS", "DriftReport", "drift"]

logger = logging.getLogger(__name__)

#: Drift thresholds: PSI and KS at which a column is ``watch`` and ``drift``.
DRIFT_THRESHOLDS: dict[str, float] = {
    "psi_watch": 0.1,
    "psi_drift": 0.25,
    "ks_watch": 0.1,
    "ks_drift": 0.2,
}
#: The smallest share PSI uses (an empty bin would make it infinite).
PSI_FLOOR = 1e-4
TABLE_COLUMNS = (
    "feature",
    "kind",
    "n",
    "missing_share",
    "reference_missing_share",
    "psi",
    "ks",
    "ks_pvalue",
    "status",
)


def psi(current: np.ndarray, reference: np.ndarray) -> float:
    """Population stability index of two share vectors (floored at :data:`PSI_FLOOR`)."""
    c = np.maximum(np.asarray(current, dtype=np.float64), PSI_FLOOR)
    r = np.maximum(np.asarray(reference, dtype=np.float64), PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def _numeric_shares(entry: Mapping[str, Any], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(current shares, reference shares) over the decile bins plus the missing bin."""
    edges = np.asarray(entry["bins"]["edges"], dtype=np.float64)
    ref_missing = float(entry.get("missing_share", 0.0))
    ref = np.append(np.asarray(entry["bins"]["shares"]) * (1 - ref_missing), ref_missing)
    n = values.size
    present = values[~np.isnan(values)]
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=edges.size + 1)
    cur = np.append(counts, n - present.size) / max(n, 1)
    return cur, ref


def _ks(entry: Mapping[str, Any], values: np.ndarray, n_ref: int) -> tuple[float, float]:
    from scipy.special import kolmogorov

    grid = np.asarray(entry["cdf"]["values"], dtype=np.float64)
    present = np.sort(values[~np.isnan(values)])
    if grid.size == 0 or present.size == 0:
        return math.nan, math.nan
    ref = np.asarray(entry["cdf"]["cdf"], dtype=np.float64)
    cur = np.searchsorted(present, grid, side="right") / present.size
    d = float(np.max(np.abs(cur - ref)))
    m = present.size
    en = math.sqrt(n_ref * m / (n_ref + m)) if n_ref else math.sqrt(m)
    return d, float(kolmogorov(en * d))


def _categorical_shares(
    entry: Mapping[str, Any], values: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    shares = entry.get("categories", {})
    levels = list(shares)
    ref_missing = float(entry.get("missing_share", 0.0))
    ref = np.asarray([*(shares[k] for k in levels), 0.0, ref_missing], dtype=np.float64)
    n = len(values)
    present = values.notna().to_numpy()
    strings = values[present].astype(str)
    counts = strings.value_counts()
    known = np.asarray([int(counts.get(k, 0)) for k in levels], dtype=np.float64)
    unseen = float(present.sum() - known.sum())
    cur = np.append(known, [unseen, n - present.sum()]) / max(n, 1)
    return cur, ref


def _status(psi_value: float, ks_value: float, t: Mapping[str, float]) -> str:
    p = -1.0 if math.isnan(psi_value) else psi_value
    k = -1.0 if math.isnan(ks_value) else ks_value
    if p >= t["psi_drift"] or k >= t["ks_drift"]:
        return "drift"
    if p >= t["psi_watch"] or k >= t["ks_watch"]:
        return "watch"
    return "ok"


class DriftReport:
    """What :func:`drift` found: one row per feature and for the score, and warning shares.

    Attributes
    ----------
    table : pandas.DataFrame
        ``feature`` (``score`` for the score), ``kind``, ``n``, ``missing_share``,
        ``reference_missing_share``, ``psi``, ``ks``, ``ks_pvalue``, ``status`` (``ok``,
        ``watch``, ``drift``), worst first.
    warnings : pandas.DataFrame
        ``kind``, ``column``, ``rows``, ``share``: how often requests carried each input-guard
        warning.
    n_rows : int
        Rows compared.
    thresholds : dict
        The thresholds used.
    shares : dict
        ``{feature: (current shares, reference shares)}`` of the PSI bins (for the plot).
    source : str
        ``"log"`` or ``"frame"``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.serving import Scorer, drift
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tenure_days": rng.uniform(30, 3000, 1000)})
    >>> scorer = Scorer(FlightRisk(n_estimators=10, random_state=0).fit(X, rng.random(1000) < 0.2),
    ...                 reference=X)
    >>> report = drift(X.assign(tenure_days=X["tenure_days"] + 1500), reference=scorer)
    >>> report.table.set_index("feature").loc["tenure_days", "status"]
    'drift'
    """

    def __init__(
        self,
        table: pd.DataFrame,
        warnings: pd.DataFrame,
        *,
        n_rows: int,
        thresholds: Mapping[str, float],
        shares: Mapping[str, tuple[np.ndarray, np.ndarray]],
        source: str,
        model: str = "",
    ) -> None:
        self.table = table
        self.warnings = warnings
        self.n_rows = int(n_rows)
        self.thresholds = dict(thresholds)
        self.shares = dict(shares)
        self.source = source
        self.model = model

    def __repr__(self) -> str:
        counts = self.table["status"].value_counts().to_dict() if len(self.table) else {}
        return (
            f"DriftReport({self.model or 'model'}, {self.n_rows:,} rows from a {self.source}: "
            f"{counts.get('drift', 0)} drift, {counts.get('watch', 0)} watch, "
            f"{counts.get('ok', 0)} ok)"
        )

    @property
    def drifted(self) -> list[str]:
        """Features (and ``score``) whose status is ``drift``."""
        return self.table.loc[self.table["status"] == "drift", "feature"].tolist()

    def metrics(self) -> dict[str, float]:
        """MLflow metrics: ``drift.psi.<feature>``, ``drift.ks.<feature>``,
        ``drift.n_drift``, ``drift.n_watch``, ``drift.warning_share.<kind>``."""
        out: dict[str, float] = {}
        for r in self.table.itertuples(index=False):
            name = _metric(str(r.feature))
            if not math.isnan(r.psi):
                out[f"drift.psi.{name}"] = float(r.psi)
            if not math.isnan(r.ks):
                out[f"drift.ks.{name}"] = float(r.ks)
        status = self.table["status"]
        out["drift.n_drift"] = float((status == "drift").sum())
        out["drift.n_watch"] = float((status == "watch").sum())
        out["drift.n_rows"] = float(self.n_rows)
        if len(self.warnings):
            by_kind = self.warnings.groupby("kind")["rows"].sum() / max(self.n_rows, 1)
            for kind, share in by_kind.items():
                out[f"drift.warning_share.{_metric(str(kind))}"] = float(share)
        return out

    @renamed_parameters(top="max_display")
    def plot(self, *, max_display: int = 20):
        """PSI of the most shifted features (threshold lines) and the score's bins, reference
        against current.

        Parameters
        ----------
        max_display : int, default 20
            Features shown (the largest PSI first).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 5.5), layout="constrained")
        ax, ax2 = fig.subplots(1, 2, width_ratios=[1.3, 1])
        t = self.table.dropna(subset=["psi"]).sort_values("psi", ascending=False).head(max_display)
        t = t.iloc[::-1]
        colors = {"ok": "#4c72b0", "watch": "#dd8452", "drift": "#c44e52"}
        ax.barh(t["feature"], t["psi"], color=[colors[s] for s in t["status"]])
        for key, style in (("psi_watch", ":"), ("psi_drift", "--")):
            ax.axvline(self.thresholds[key], color="0.3", linestyle=style, linewidth=1)
        ax.set_xlabel("PSI against the training profile")
        ax.set_title(f"Drift of {self.model or 'the model'} ({self.n_rows:,} rows)")
        ax.tick_params(axis="y", labelsize=7)
        if "score" in self.shares:
            cur, ref = self.shares["score"]
            x = np.arange(cur.size)
            ax2.bar(x - 0.2, ref, width=0.4, label="training", color="0.6")
            ax2.bar(x + 0.2, cur, width=0.4, label="current", color="#4c72b0")
            ax2.set_xticks(x, [*(f"d{i + 1}" for i in range(cur.size - 1)), "missing"])
            ax2.tick_params(axis="x", labelsize=7)
            ax2.set_ylabel("share of rows")
            ax2.set_title("score by training decile")
            ax2.legend()
        else:
            ax2.set_axis_off()
        return fig

    def to_mlflow(self, run_id: str | None = None, *, artifact_dir: str = "drift") -> None:
        """Log :meth:`metrics`, the table (``drift/drift.json``) and the plot
        (``drift/drift.png``) to an MLflow run (default: the active run, else a new one)."""
        import tempfile

        import mlflow

        metrics = self.metrics()
        with tempfile.TemporaryDirectory(prefix="talentml-drift-") as tmp:
            table = Path(tmp) / "drift.json"
            self.table.to_json(table, orient="records", indent=1)
            png = Path(tmp) / "drift.png"
            self.plot().savefig(png, dpi=110)
            active = mlflow.active_run()
            if run_id is None and active is not None:
                run_id = active.info.run_id
            if run_id is None:
                with mlflow.start_run(run_name=f"drift {self.model}".strip()) as run:
                    run_id = run.info.run_id
            client = mlflow.MlflowClient()
            import time

            now = int(time.time() * 1000)
            client.log_batch(
                run_id,
                metrics=[mlflow.entities.Metric(k, v, now, 0) for k, v in metrics.items()],
            )
            client.log_artifact(run_id, str(table), artifact_dir)
            client.log_artifact(run_id, str(png), artifact_dir)
        logger.info("drift: logged %d metrics to run %s", len(metrics), run_id)


def _metric(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_\-. /]", "_", name)


def _reference(reference: Any) -> tuple[TrainingProfile, Any, str]:
    """(profile, scorer or None, model name) of what ``reference`` is."""
    if isinstance(reference, TrainingProfile):
        return reference, None, ""
    scorer = getattr(reference, "scorer", reference)
    if hasattr(scorer, "profile") and hasattr(scorer, "guard"):
        return scorer.profile, scorer, scorer.model_name
    if isinstance(reference, str | os.PathLike):
        from ._load import load

        served = load(reference, log=None)
        return served.scorer.profile, served.scorer, served.model_name
    raise TypeError(
        "drift: reference must be a served model, a Scorer, a TrainingProfile or a model URI, "
        f"got {type(reference).__name__}"
    )


def drift(
    log_or_frame: pd.DataFrame | str | os.PathLike,
    *,
    reference: Any,
    thresholds: Mapping[str, float] | None = None,
    log_to_mlflow: bool = False,
    run_id: str | None = None,
) -> DriftReport:
    """PSI and Kolmogorov-Smirnov drift of served traffic against the training profile.

    Parameters
    ----------
    log_or_frame : pandas.DataFrame, str or os.PathLike
        A feature table (the model's columns; a ``score`` column is used as it is, else the
        rows are scored), a prediction log (:func:`read_prediction_log`'s frame, or the path
        of the log file): then only the score and the warnings are compared.
    reference : ServedModel, Scorer, TrainingProfile or model URI
        The model whose training profile is the reference.
    thresholds : mapping, optional
        Overrides of :data:`DRIFT_THRESHOLDS`.
    log_to_mlflow : bool, default False
        Log the metrics, table and plot to MLflow (:meth:`DriftReport.to_mlflow`).
    run_id : str, optional
        The run to log to (default: the active run, else a new one).

    Returns
    -------
    DriftReport

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.serving import Scorer, drift
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tenure_days": rng.uniform(30, 3000, 2000),
    ...                   "department": rng.choice(["Sales", "Data"], 2000)})
    >>> model = FlightRisk(n_estimators=10, random_state=0).fit(X, rng.random(2000) < 0.2)
    >>> scorer = Scorer(model, reference=X)
    >>> same = drift(X.sample(1000, random_state=1), reference=scorer)
    >>> sorted(set(same.table["status"]))
    ['ok']
    >>> moved = X.sample(1000, random_state=1).assign(department="Legal")
    >>> drift(moved, reference=scorer).drifted  # a level never seen: the scores move too
    ['department', 'score']
    """
    t = {**DRIFT_THRESHOLDS, **dict(thresholds or {})}
    unknown = set(t) - set(DRIFT_THRESHOLDS)
    if unknown:
        raise ValueError(
            f"drift: unknown thresholds {sorted(unknown)}; use {sorted(DRIFT_THRESHOLDS)}"
        )
    profile, scorer, name = _reference(reference)
    if not profile.complete:
        raise ValueError(
            f"drift: {name or 'the model'} has no training profile (it was built without "
            "reference rows): re-create its Scorer with reference=X_train"
        )
    if isinstance(log_or_frame, str | os.PathLike):
        from ._predlog import read_prediction_log

        log_or_frame = read_prediction_log(log_or_frame)
    if not isinstance(log_or_frame, pd.DataFrame):
        raise TypeError(
            f"drift: log_or_frame must be a DataFrame or a log path, got {type(log_or_frame)}"
        )
    frame = log_or_frame
    is_log = "prediction_id" in frame.columns and "inputs_sha256" in frame.columns
    if is_log and name and "model_name" in frame.columns and (frame["model_name"] == name).any():
        frame = frame[frame["model_name"] == name]
    rows, shares = [], {}
    n = len(frame)
    features = [c for c in profile.columns if c in frame.columns] if not is_log else []
    for col in features:
        entry = profile.columns[col]
        if entry.get("kind") == "categorical":
            cur, ref = _categorical_shares(entry, frame[col])
            ks_value = p_value = math.nan
            missing = float(frame[col].isna().mean()) if n else math.nan
        else:
            try:
                values = numeric_values(frame[col])
            except (TypeError, ValueError):
                values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
            cur, ref = _numeric_shares(entry, values)
            ks_value, p_value = _ks(entry, values, profile.n_rows)
            missing = float(np.isnan(values).mean()) if n else math.nan
        value = psi(cur, ref)
        shares[col] = (cur, ref)
        rows.append(
            (col, entry.get("kind"), n, missing, float(entry.get("missing_share", 0.0)), value,
             ks_value, p_value, _status(value, ks_value, t))
        )  # fmt: skip
    scores = None
    if "score" in frame.columns:
        scores = pd.to_numeric(frame["score"], errors="coerce").to_numpy(dtype=np.float64)
        if "band" in frame.columns:  # refused rows have no score: they are not compared
            scores = scores[(frame["band"] != "refused").to_numpy()]
    elif scorer is not None and features and len(features) == len(profile.columns):
        scores = scorer.scores(frame)
    if scores is not None and profile.score:
        cur, ref = _numeric_shares(profile.score, scores)
        ks_value, p_value = _ks(profile.score, scores, profile.n_rows)
        value = psi(cur, ref)
        shares["score"] = (cur, ref)
        rows.append(
            ("score", "score", int(scores.size), float(np.isnan(scores).mean()) if scores.size
             else math.nan, 0.0, value, ks_value, p_value, _status(value, ks_value, t))
        )  # fmt: skip
    if not rows:
        raise ValueError(
            f"drift: nothing to compare: the table has none of the model's columns "
            f"({list(profile.columns)[:5]} ...) and no score"
        )
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    order = table["status"].map({"drift": 0, "watch": 1, "ok": 2})
    table = (
        table.assign(_o=order, _p=-table["psi"].fillna(0))
        .sort_values(["_o", "_p"], kind="stable")
        .drop(columns=["_o", "_p"])
        .reset_index(drop=True)
    )
    warnings = _warning_table(frame, is_log, scorer, features, profile)
    report = DriftReport(
        table, warnings, n_rows=n, thresholds=t, shares=shares, source="log" if is_log else "frame",
        model=name,
    )  # fmt: skip
    logger.info("%r", report)
    if log_to_mlflow:
        report.to_mlflow(run_id)
    return report


def _warning_table(
    frame: pd.DataFrame, is_log: bool, scorer: Any, features: list[str], profile: TrainingProfile
) -> pd.DataFrame:
    counts: dict[tuple[str, str], int] = {}
    if is_log and "input_warnings" in frame.columns:
        for codes in frame["input_warnings"]:
            if not isinstance(codes, list):
                continue
            for code in codes:
                kind, _, column = str(code).partition(":")
                counts[(kind, column)] = counts.get((kind, column), 0) + 1
    elif scorer is not None and len(features) == len(profile.columns) and len(frame):
        from ._inputs import encode_frame

        design, missing, coerced = encode_frame(
            scorer.view, frame, features=scorer.features, categorical_idx=scorer._categorical_idx
        )
        warned, _ = scorer.guard.check(design, raw_missing=missing, coerced=coerced)
        for row in warned:
            for w in row:
                key = (w["kind"], w.get("column") or "")
                counts[key] = counts.get(key, 0) + 1
    n = max(len(frame), 1)
    rows = [(k, c, v, v / n) for (k, c), v in sorted(counts.items(), key=lambda kv: -kv[1])]
    return pd.DataFrame(rows, columns=["kind", "column", "rows", "share"])
