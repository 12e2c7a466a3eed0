"""The input guard: every request checked against the training profile before it is answered.

A served answer is trustworthy or refused (DESIGN.md, principle 7). Before a
:class:`~talentml.serving.Scorer` answers, the guard checks the request:

* **Purpose limitation at the door.** A request carrying a sensitive attribute (the names of
  :data:`talentml.models.SENSITIVE_COLUMNS` and :data:`talentml.models.PROTECTED_NAMES`,
  compared as the models compare them: ``Gender``, ``marital-status``) or a label column
  (``label``, ``censored``, ``duration_days``, ...) is refused whole with
  :class:`~talentml.exceptions.PurposeLimitationError` (HTTP 400 behind ``mlflow models
  serve``) naming the columns.
* **Per row warnings** (``input_warnings``, also in the prediction log):

  ========================  ===============================================================
  ``missing``               no value where the training rows always had one (the model
                            imputes it)
  ``unknown_category``      a category the training rows never had (the model treats it as
                            missing)
  ``out_of_range``          a number below the training minimum or above the maximum (the
                            trees answer as at the edge)
  ``coerced``               a value of the wrong type converted (``"3.5"`` for a number,
                            ``true`` for a number, ``3`` for the category ``"3"``)
  ``unused_columns``        request columns the model does not use (reported, ignored)
  ========================  ===============================================================

* **Policy** ``on_missing``: ``"flag"`` (the default) answers a row with imputed evidence
  (``missing`` or ``unknown_category``) with the band ``"low confidence"`` - never ``high``
  on imputed evidence - and the score for information; ``"refuse"`` refuses it
  (:class:`InputRefusedError`, HTTP 400 naming the columns and rows; in
  :func:`~talentml.serving.score_batch` the row's band is ``"refused"`` and its score
  missing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..exceptions import PurposeLimitationError, TalentMLError
from ._profile import TrainingProfile

__all__ = [
    "IMPUTED_KINDS",
    "LOW_CONFIDENCE",
    "ON_MISSING",
    "REFUSED",
    "WARNING_KINDS",
    "InputGuard",
    "InputRefusedError",
]

logger = logging.getLogger(__name__)

#: The band of a row answered on imputed evidence (``on_missing="flag"``).
LOW_CONFIDENCE = "low confidence"
#: The band of a row refused by ``on_missing="refuse"`` in a batch.
REFUSED = "refused"
#: The policies for rows with imputed evidence.
ON_MISSING = ("flag", "refuse")
#: What each warning kind means.
WARNING_KINDS = {
    "missing": "no value where the training rows always had one (the model imputes it)",
    "unknown_category": "a category the training rows never had (treated as missing)",
    "out_of_range": "outside the training range (the trees answer as at its edge)",
    "coerced": "a value of the wrong type was converted",
    "unused_columns": "columns the model does not use (ignored)",
}
#: Warning kinds that mean the model answers on imputed evidence.
IMPUTED_KINDS = frozenset({"missing", "unknown_category"})
#: Columns a request may carry besides the model's (never reported as unused).
PASS_THROUGH = ("employee_id", "as_of")


class InputRefusedError(TalentMLError, ValueError):
    """A request (or some of its rows) refused by the input guard's policy."""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


class InputGuard:
    """Check requests against a :class:`TrainingProfile` (see the module docstring).

    Parameters
    ----------
    profile : TrainingProfile
        The training profile.
    features : sequence of str
        The model columns, in the model's order.
    categorical : iterable of str
        The category columns.
    model_name : str, default "model"
        The name errors use.
    extra : iterable of str, default ()
        Request columns that are used besides the model's (the peer group column of the
        reason texts).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.serving import InputGuard, TrainingProfile
    >>> X = pd.DataFrame({"tenure_days": [100.0, 400.0, 900.0]})
    >>> guard = InputGuard(TrainingProfile.from_frame(X), ["tenure_days"], [])
    >>> warnings, imputed = guard.check(np.array([[np.nan], [5000.0]]))
    >>> [w["kind"] for w in warnings[0]], [w["kind"] for w in warnings[1]], imputed.tolist()
    (['missing'], ['out_of_range'], [True, False])
    """

    def __init__(
        self,
        profile: TrainingProfile,
        features: Sequence[str],
        categorical: Iterable[str],
        *,
        model_name: str = "model",
        extra: Iterable[str] = (),
    ) -> None:
        self.profile = profile
        self.features = list(features)
        self.categorical = set(categorical)
        self.model_name = model_name
        self.known = set(self.features) | set(PASS_THROUGH) | {str(c) for c in extra if c}
        cols = profile.columns
        n = profile.n_rows
        self._never_missing = np.asarray(
            [
                profile.complete
                and c in cols
                and cols[c].get("missing_share") == 0
                and cols[c].get("n", 0) > 0
                for c in self.features
            ],
            dtype=bool,
        )
        self._categorical = np.asarray([c in self.categorical for c in self.features], dtype=bool)
        lo = np.full(len(self.features), -np.inf)
        hi = np.full(len(self.features), np.inf)
        for j, c in enumerate(self.features):
            e = cols.get(c, {})
            if c not in self.categorical and e.get("min") is not None:
                lo[j], hi[j] = float(e["min"]), float(e["max"])
        self._lo, self._hi = lo, hi
        self._n_rows = n
        self._column_checks: dict[tuple, list[str]] = {}

    def __repr__(self) -> str:
        return (
            f"InputGuard({self.model_name!r}, {len(self.features)} columns, "
            f"{int(self._never_missing.sum())} never missing in training)"
        )

    # ----------------------------------------------------------------- columns
    def check_columns(self, columns: Iterable[Any]) -> list[str]:
        """Refuse sensitive attributes and labels; return the columns the model does not use.

        Parameters
        ----------
        columns : iterable
            The request's column names.

        Returns
        -------
        list of str
            Request columns the model does not use (for the ``unused_columns`` warning).

        Raises
        ------
        talentml.exceptions.PurposeLimitationError
            If a column is a sensitive attribute or a label.
        """
        key = tuple(columns)
        hit = self._column_checks.get(key)
        if hit is not None:
            return hit
        from .._validation import LABEL_COLUMNS, normalize_name, sensitive_names

        names = [str(c) for c in key]
        banned = sensitive_names()
        labels = {normalize_name(c) for c in LABEL_COLUMNS}
        sensitive = [c for c in names if normalize_name(c) in banned and c not in self.features]
        label = [c for c in names if normalize_name(c) in labels and c not in self.features]
        if sensitive or label:
            parts = []
            if sensitive:
                parts.append(
                    f"sensitive attribute(s) {sensitive} (protected attributes reach only "
                    "talentml.fairness, never a model: purpose limitation)"
                )
            if label:
                parts.append(f"label column(s) {label} (the outcome the model predicts)")
            raise PurposeLimitationError(
                f"{self.model_name} refused the request: it carries {' and '.join(parts)}. "
                "Drop these fields from the request; nothing was scored or logged."
            )
        unused = [c for c in names if c not in self.known]
        if len(self._column_checks) < 64:
            self._column_checks[key] = unused
        return unused

    # -------------------------------------------------------------------- rows
    def check(
        self,
        design: np.ndarray,
        *,
        raw_missing: np.ndarray | None = None,
        coerced: Sequence[tuple[int, int, str]] = (),
        unused: Sequence[str] = (),
    ) -> tuple[list[list[dict[str, Any]]], np.ndarray]:
        """The warnings of each row, and which rows rest on imputed evidence.

        Parameters
        ----------
        design : numpy.ndarray
            The encoded rows (n, p): floats, NaN missing, category codes (NaN for a category
            unseen at fit).
        raw_missing : numpy.ndarray, optional
            (n, p) bool: the request had no value (tells a missing category from an unknown
            one; default: NaN in ``design`` is missing).
        coerced : sequence of (row, column position, given type)
            Values converted on the way in.
        unused : sequence of str
            Request columns the model does not use.

        Returns
        -------
        (list of list of dict, numpy.ndarray)
            Per row, its warnings (``kind``, ``column``, ``message``); and a bool array, True
            where a row has a ``missing`` or ``unknown_category`` warning.
        """
        n = len(design)
        nan = np.isnan(design)
        missing = nan if raw_missing is None else raw_missing
        unknown = nan & ~missing & self._categorical
        absent = missing & self._never_missing
        with np.errstate(invalid="ignore"):
            out_range = ~nan & ~self._categorical & ((design < self._lo) | (design > self._hi))
        flagged = absent.any(axis=1) | unknown.any(axis=1)
        warn_rows = flagged | out_range.any(axis=1)
        warnings: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        for i in np.flatnonzero(warn_rows):
            row = warnings[i]
            for j in np.flatnonzero(absent[i]):
                c = self.features[j]
                row.append(
                    {
                        "kind": "missing",
                        "column": c,
                        "message": f"{c} has no value, but every one of the "
                        f"{self._n_rows:,} training rows had one: the model imputes it",
                    }
                )
            for j in np.flatnonzero(unknown[i]):
                c = self.features[j]
                row.append(
                    {
                        "kind": "unknown_category",
                        "column": c,
                        "message": f"{c}: a category the training rows never had (treated as "
                        "missing)",
                    }
                )
            for j in np.flatnonzero(out_range[i]):
                c = self.features[j]
                row.append(
                    {
                        "kind": "out_of_range",
                        "column": c,
                        "message": f"{c} = {_fmt(float(design[i, j]))} is outside the training "
                        f"range [{_fmt(self._lo[j])}, {_fmt(self._hi[j])}]",
                    }
                )
        for i, j, given in coerced:
            c = self.features[j]
            warnings[i].append(
                {
                    "kind": "coerced",
                    "column": c,
                    "message": f"{c}: a {given} value was converted to "
                    f"{'a category' if c in self.categorical else 'a number'}",
                }
            )
        if unused:
            shown = list(unused[:20])
            note = {
                "kind": "unused_columns",
                "column": None,
                "columns": shown,
                "message": f"{len(unused)} column(s) the model does not use were ignored: "
                f"{shown}" + (" ..." if len(unused) > 20 else ""),
            }
            for row in warnings:
                row.append(note)
        return warnings, flagged

    def refusal(
        self, warnings: list[list[dict[str, Any]]], flagged: np.ndarray, index: Sequence[Any]
    ) -> InputRefusedError:
        """The error refusing the ``flagged`` rows (``on_missing="refuse"``)."""
        rows = np.flatnonzero(flagged)
        by_column: dict[tuple[str, str], list[Any]] = {}
        for i in rows:
            for w in warnings[i]:
                if w["kind"] in IMPUTED_KINDS:
                    by_column.setdefault((w["column"], w["kind"]), []).append(index[i])
        parts = []
        for (col, kind), where in list(by_column.items())[:10]:
            what = (
                f"has no value (never missing in the {self._n_rows:,} training rows)"
                if kind == "missing"
                else "holds a category the training rows never had"
            )
            more = f" and {len(where) - 10} more" if len(where) > 10 else ""
            parts.append(f"column {col!r} {what} in rows {where[:10]}{more}")
        return InputRefusedError(
            f"{self.model_name} refused {len(rows)} of {len(flagged)} row(s) "
            f"(on_missing='refuse'): " + "; ".join(parts) + ". Send a value for these columns, "
            "or use on_missing='flag' for a low-confidence answer."
        )


def warning_codes(warnings: list[list[dict[str, Any]]]) -> list[list[str]]:
    """``kind:column`` of each row's warnings (what the prediction log keeps)."""
    return [
        [w["kind"] if w.get("column") is None else f"{w['kind']}:{w['column']}" for w in row]
        for row in warnings
    ]
