"""The prediction log: one JSON line per served prediction, append-only and thread-safe.

Every prediction that :mod:`talentml.serving` (in process or behind ``mlflow models serve``)
returns is appended as one JSON object per line::

    {"prediction_id": "...", "time": "2026-01-31T09:12:03.123456Z", "model_name": "flight-risk",
     "model_version": "3", "employee_id": "E000123", "inputs_sha256": "9f2c...",
     "score": 0.0812, "band": "low", "reasons": ["FR-LEARN-DROPOFF-UP", ...],
     "input_warnings": ["out_of_range:tenure_days"]}

* **Inputs** are never stored: only the SHA-256 of their canonical JSON form (model columns
  sorted by name, numbers as floats, missing as ``null``), so a disputed prediction can be
  matched to the exact record a caller sent without keeping that record.
* **Sensitive attributes** cannot be inputs (models refuse them), and the log keeps only the
  model's outputs, its version, the employee id and the time (UTC).
* **Input warnings** (``kind:column`` of each warning of the input guard,
  :mod:`talentml.serving`) are logged with the prediction, so :func:`talentml.serving.drift`
  can follow how often requests carry evidence the model never saw.
* **Where.** The ``TALENTML_PREDICTION_LOG`` environment variable names the file (``off``
  switches logging off); a service can also pass a ``sink`` callable that receives each batch
  of records and ships it elsewhere (a queue, a log collector).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from .._compat import as_ns

__all__ = [
    "DEFAULT_LOG_PATH",
    "LOG_ENV",
    "PredictionLog",
    "canonical_digests",
    "read_prediction_log",
]

logger = logging.getLogger(__name__)

#: Environment variable naming the prediction log file (``off`` disables the log).
LOG_ENV = "TALENTML_PREDICTION_LOG"
#: The file used when neither a path nor ``TALENTML_PREDICTION_LOG`` is given.
DEFAULT_LOG_PATH = "talentml-predictions.jsonl"
_OFF = {"", "0", "off", "false", "none", "no"}
#: The fields of one log record, in order.
LOG_FIELDS = (
    "prediction_id",
    "time",
    "model_name",
    "model_version",
    "employee_id",
    "inputs_sha256",
    "score",
    "band",
    "reasons",
    "input_warnings",
)


def _plain(value: Any) -> Any:
    """A JSON value for one input cell (numbers as floats, missing as None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        return None if math.isnan(v) else v
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    return str(value)


def canonical_digests(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> list[str]:
    """SHA-256 (hex) of each row's canonical JSON: ``{column: value}`` sorted by column.

    Parameters
    ----------
    rows : sequence of sequences
        One sequence of values per row, in the order of ``columns``.
    columns : sequence of str
        The column names.

    Returns
    -------
    list of str
        One 64-character hex digest per row. Numbers are compared as floats (``3`` and
        ``3.0`` give the same digest) and NaN, None and ``pd.NA`` are all ``null``.

    Examples
    --------
    >>> from talentml.serving import canonical_digests
    >>> a, b = canonical_digests([[3, "Sales"], [3.0, "Sales"]], ["tenure", "dept"])
    >>> a == b, len(a)
    (True, 64)
    """
    names = [str(c) for c in columns]
    order = sorted(range(len(names)), key=names.__getitem__)
    out = []
    for row in rows:
        doc = {names[j]: _plain(row[j]) for j in order}
        out.append(hashlib.sha256(orjson.dumps(doc)).hexdigest())
    return out


def _resolve_path(path: str | os.PathLike | None) -> Path | None:
    if path is not None:
        return Path(path)
    value = os.environ.get(LOG_ENV)
    if value is None:
        return Path(DEFAULT_LOG_PATH)
    if value.strip().lower() in _OFF:
        return None
    return Path(value)


class PredictionLog:
    """An append-only JSON-lines log of predictions (thread-safe), with an optional sink.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The file to append to (created with its folder). Default: the
        ``TALENTML_PREDICTION_LOG`` environment variable, else ``talentml-predictions.jsonl``
        in the working directory; ``TALENTML_PREDICTION_LOG=off`` writes no file.
    sink : callable, optional
        Called with each list of records (dicts) after they are written, e.g. to ship them to
        a queue. An exception in the sink is logged, never raised to the caller.
    enabled : bool, default True
        False: a log that records nothing (``path`` and the environment are ignored).

    Attributes
    ----------
    path : pathlib.Path or None
        The file written, or None.
    n_written : int
        Records written by this object.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from talentml.serving import PredictionLog, read_prediction_log
    >>> with tempfile.TemporaryDirectory() as d:
    ...     log = PredictionLog(pathlib.Path(d) / "predictions.jsonl")
    ...     n = log.write([{"prediction_id": "p1", "model_name": "m", "model_version": "1",
    ...                     "score": 0.2, "band": "low", "reasons": []}])
    ...     read_prediction_log(log.path)[["prediction_id", "score"]].to_dict("records")
    [{'prediction_id': 'p1', 'score': 0.2}]
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        sink: Callable[[list[dict[str, Any]]], Any] | None = None,
        enabled: bool = True,
    ) -> None:
        self.path = _resolve_path(path) if enabled else None
        self.sink = sink
        self.n_written = 0
        self._lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"PredictionLog(path={str(self.path) if self.path else None!r})"

    @property
    def enabled(self) -> bool:
        """Whether records go anywhere (a file or a sink)."""
        return self.path is not None or self.sink is not None

    def write(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Append records (one JSON line each); returns how many were written.

        Parameters
        ----------
        records : iterable of mappings
            The records (see the module docstring for the fields). ``time`` is filled with
            the current UTC time when absent.

        Returns
        -------
        int
            Number of records.

        Examples
        --------
        >>> from talentml.serving import PredictionLog
        >>> PredictionLog(enabled=False).write([{"prediction_id": "p"}])
        1
        """
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        batch = []
        for r in records:
            rec = dict(r)
            rec.setdefault("time", now)
            batch.append(rec)
        if not batch:
            return 0
        if self.path is not None:
            data = b"".join(
                orjson.dumps(r, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE)
                for r in batch
            )
            with self._lock:
                # one write call on a file opened for appending: lines of concurrent writers
                # (threads here, worker processes of a server) never interleave
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    view = memoryview(data)
                    while view:
                        n = os.write(fd, view)
                        view = view[n:]
                finally:
                    os.close(fd)
                self.n_written += len(batch)
        else:
            self.n_written += len(batch)
        if self.sink is not None:
            try:
                self.sink(batch)
            except Exception:  # a broken sink must not break predictions
                logger.exception("prediction log sink failed for %d record(s)", len(batch))
        return len(batch)


def read_prediction_log(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a prediction log into a DataFrame (one row per prediction).

    Parameters
    ----------
    path : str or os.PathLike, optional
        The log file (default: as :class:`PredictionLog` resolves it).

    Returns
    -------
    pandas.DataFrame
        The fields of the records (``time`` as UTC timestamps); empty if the file is missing.

    Raises
    ------
    ValueError
        If a line is not valid JSON (the line number is named).

    Examples
    --------
    >>> from talentml.serving import read_prediction_log
    >>> read_prediction_log("no-such-log.jsonl").shape
    (0, 10)
    """
    target = _resolve_path(path)
    if target is None or not target.is_file():
        return pd.DataFrame(columns=list(LOG_FIELDS))
    rows = []
    with open(target, "rb") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(orjson.loads(line))
            except orjson.JSONDecodeError as err:
                raise ValueError(
                    f"prediction log {target}: line {i} is not valid JSON: {err}"
                ) from err
    frame = pd.DataFrame(rows)
    for col in LOG_FIELDS:
        if col not in frame.columns:
            frame[col] = None
    if len(frame):
        frame["time"] = as_ns(pd.to_datetime(frame["time"], utc=True, format="ISO8601"))
    extra = [c for c in frame.columns if c not in LOG_FIELDS]
    return frame[[*LOG_FIELDS, *extra]]
