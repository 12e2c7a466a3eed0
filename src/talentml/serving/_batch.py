"""Batch scoring: a whole spine in chunks, with a progress bar."""

from __future__ import annotations

import logging
import os

import pandas as pd
from tqdm.auto import tqdm

from ..config import show_progress as _show_progress
from ._load import ServedModel, _log_from, load, records
from ._predlog import PredictionLog
from ._scorer import Scorer

__all__ = ["score_batch"]

logger = logging.getLogger(__name__)


def score_batch(
    model: ServedModel | Scorer | str | os.PathLike,
    X: pd.DataFrame,
    *,
    chunk_size: int = 100_000,
    k: int | None = None,
    direction: str | None = None,
    reasons: bool = True,
    log: PredictionLog | str | os.PathLike | bool | None = None,
    show_progress: bool | None = None,
    on_missing: str | None = None,
) -> pd.DataFrame:
    """Score every row of ``X`` (a whole spine) in chunks: score, band, reasons, version, id.

    Reasons come from :class:`talentml.explain.Explainer` in its fast mode (talentml's exact
    path-table TreeSHAP, ``method="tables"``, vectorized reason texts), the same reasons the
    one-employee path gives. Every chunk passes the input guard (:class:`InputGuard`): a
    sensitive attribute or a label column is refused, each row gets its ``input_warnings``;
    a row on imputed evidence gets the band ``"low confidence"``, or with
    ``on_missing="refuse"`` the band ``"refused"``, no score and no reasons (the other rows
    are scored).

    Parameters
    ----------
    model : ServedModel, Scorer, model URI or path
        The model (see :func:`load`).
    X : pandas.DataFrame
        Rows with the model's columns (``employee_id`` passed through).
    chunk_size : int, default 100_000
        Rows per chunk (memory grows with it).
    k : int, optional
        Reasons per row (default: the model's).
    direction : {"up", "down", "both"}, optional
        Which drivers are reasons (default: the model's).
    reasons : bool, default True
        False: scores and bands only (``reasons`` is ``"[]"``), several times faster.
    log : PredictionLog, path, bool or None, default None
        Record the scored rows in a prediction log too (a batch table is usually kept as it
        is; ``"auto"`` uses the ``TALENTML_PREDICTION_LOG`` setting). A :class:`ServedModel`
        passed as ``model`` logs only when ``log`` is given.
    show_progress : bool, optional
        tqdm bar over rows (default: the talentml setting).
    on_missing : {"flag", "refuse"}, optional
        Rows on imputed evidence: ``"low confidence"`` or ``"refused"`` (default: the
        model's).

    Returns
    -------
    pandas.DataFrame
        As :meth:`ServedModel.predict`, index of ``X``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.serving import Scorer, score_batch
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 1000),
    ...                   "tenure_days": rng.uniform(30, 3000, 1000)})
    >>> y = rng.random(1000) < X["days_since_last_activity"] / 150
    >>> scorer = Scorer(FlightRisk(n_estimators=20, random_state=0).fit(X, y), reference=X)
    >>> out = score_batch(scorer, X, chunk_size=300, show_progress=False)
    >>> len(out), out["prediction_id"].is_unique
    (1000, True)
    """
    if isinstance(model, ServedModel):
        scorer = model.scorer
    elif isinstance(model, Scorer):
        scorer = model
    else:
        scorer = load(model, log=None).scorer
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    target = _log_from(log, None)
    progress = _show_progress() if show_progress is None else bool(show_progress)
    n = len(X)
    parts = []
    with tqdm(
        total=n, desc=f"scoring {scorer.model_name}", unit="row", disable=not progress
    ) as bar:
        for start in range(0, max(n, 1), chunk_size):
            chunk = X.iloc[start : start + chunk_size]
            out, digests, codes, warned = scorer._predict(
                chunk,
                k=k,
                direction=direction,
                digests=target.enabled,
                reasons=reasons,
                on_missing=on_missing,
                refuse_rows=True,
            )
            if target.enabled:
                target.write(records(out, digests, codes, warned))
            parts.append(out)
            bar.update(len(chunk))
    result = pd.concat(parts) if len(parts) > 1 else parts[0]
    logger.info("scored %d rows with %s version %s", n, scorer.model_name, scorer.model_version)
    return result
