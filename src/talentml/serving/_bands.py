"""Score bands and the small helpers of the scorer (ids, catalog records, value checks)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BANDS_DOC", "Bands"]

#: How bands are defined (quoted in the model card and the docs).
BANDS_DOC = (
    "band = labels[i] where thresholds[i-1] <= score < thresholds[i] (the first label below "
    "the first threshold, the last at or above the last one)"
)

_DEFAULT_LABELS = {"probability": ("low", "medium", "high"), "days": ("fast", "typical", "slow")}
MAX_K = 20


class Bands:
    """Ordered score bands: ``labels`` separated by ascending ``thresholds``.

    Parameters
    ----------
    thresholds : sequence of float
        Ascending cut points (one fewer than ``labels``).
    labels : sequence of str
        Band names, lowest scores first.
    source : str, default "given"
        How the thresholds were set (e.g. ``"training percentiles 70, 90"``).

    Examples
    --------
    >>> from talentml.serving import Bands
    >>> bands = Bands([0.2, 0.5], ["low", "medium", "high"])
    >>> bands.assign([0.1, 0.2, 0.7]).tolist()
    ['low', 'medium', 'high']
    """

    def __init__(
        self, thresholds: Sequence[float], labels: Sequence[str], *, source: str = "given"
    ) -> None:
        t = np.asarray(list(thresholds), dtype=np.float64)
        labels = [str(x) for x in labels]
        if t.ndim != 1 or len(labels) != len(t) + 1:
            raise ValueError(
                f"bands need one more label than thresholds, got {len(labels)} labels and "
                f"{t.size} thresholds"
            )
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
            raise ValueError(f"band thresholds must be finite and ascending, got {t.tolist()}")
        self.thresholds = t
        self.labels = labels
        self.source = source
        self._labels = np.asarray(labels, dtype=object)

    def __repr__(self) -> str:
        return f"Bands(thresholds={self.thresholds.tolist()}, labels={self.labels})"

    def assign(self, scores: Any) -> np.ndarray:
        """The band of each score (an object array of labels)."""
        s = np.asarray(scores, dtype=np.float64)
        return self._labels[np.searchsorted(self.thresholds, s, side="right")]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (thresholds, labels, source and the rule)."""
        return {
            "thresholds": self.thresholds.tolist(),
            "labels": list(self.labels),
            "source": self.source,
            "rule": BANDS_DOC,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Bands:
        """Rebuild bands from :meth:`to_dict`."""
        return cls(doc["thresholds"], doc["labels"], source=str(doc.get("source", "given")))

    @classmethod
    def from_scores(cls, scores: Any, *, task: str = "probability") -> Bands:
        """The default bands of a reference population's scores (the training rows).

        * probabilities: ``low`` below the mean score (the population's base rate),
          ``medium`` from it, ``high`` from twice it (capped below 1);
        * days (RampUp): ``fast`` below the 25th percentile, ``typical``, ``slow`` from the
          75th percentile.

        Parameters
        ----------
        scores : array-like
            Scores of the reference rows.
        task : {"probability", "days"}, default "probability"
            What the scores are.

        Returns
        -------
        Bands
            With ``source`` saying how they were set.

        Examples
        --------
        >>> from talentml.serving import Bands
        >>> Bands.from_scores([0.05, 0.1, 0.25]).thresholds.round(3).tolist()
        [0.133, 0.267]
        """
        s = np.asarray(scores, dtype=np.float64)
        s = s[np.isfinite(s)]
        if s.size == 0:
            raise ValueError("cannot set bands from an empty set of scores")
        if task == "days":
            t = np.percentile(s, [25.0, 75.0])
            return cls(
                [float(x) for x in t],
                _DEFAULT_LABELS["days"],
                source="reference percentiles 25 and 75 of predicted days",
            )
        if task != "probability":
            raise ValueError(f"task must be 'probability' or 'days', got {task!r}")
        base = float(np.mean(s))
        high = min(2.0 * base, (1.0 + base) / 2.0)
        return cls(
            [base, high],
            _DEFAULT_LABELS["probability"],
            source="reference mean score (base rate) and twice it",
        )


def _catalog_records(catalog: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v if isinstance(v, list | tuple) or not pd.isna(v) else None) for k, v in r.items()}
        for r in catalog.astype(object).to_dict("records")
    ]


def _catalog_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    if len(frame) == 0:
        return frame
    for col in frame.columns:
        if col in ("actionable", "sensitive_proxy"):
            frame[col] = frame[col].fillna(False).astype(bool)
        elif col != "levels":
            frame[col] = frame[col].astype("string")
    return frame


def _new_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as strings."""
    if n <= 64:
        return [str(uuid.uuid4()) for _ in range(n)]
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = raw.view(f"S{16}").ravel()
    out = []
    for b in hexes:
        h = b.hex() if len(b) == 16 else bytes(b).ljust(16, b"\0").hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= MAX_K:
        raise ValueError(f"k (reasons per prediction) must be an integer in 1..{MAX_K}, got {k!r}")
    return int(k)


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and v != v


def _digest_rows(
    design: np.ndarray, raw: np.ndarray, features: list[str], categorical: set[str]
) -> list[list[Any]]:
    """Rows of the canonical input: numbers from the design, category labels as given."""
    cat = [j for j, c in enumerate(features) if c in categorical]
    rows = design.astype(object)
    if cat:
        rows[:, cat] = raw[:, cat]
    return rows.tolist()
