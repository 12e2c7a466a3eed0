"""The rules every package shares, in one place (the base layer).

Each rule here used to live in several copies; every package imports it from this module:

* **Purpose limitation.** :data:`PROTECTED_NAMES`, :data:`SENSITIVE_COLUMNS` (the one mutable
  set that ``talentml.models.SENSITIVE_COLUMNS`` exports), :func:`normalize_name`,
  :func:`sensitive_names` and :func:`check_purpose`: a protected attribute is never a model
  input, never an explanation, never a served request field, under any spelling.
* **Identifier and label columns.** :data:`ID_COLUMNS` are never model inputs;
  :data:`LABEL_COLUMNS` inside ``X`` are leakage.
* **Random state.** :func:`check_random_state` (scikit-learn's) and :func:`spawn_seed`, which
  derives the ``i``-th independent seed from an int, a ``RandomState``, a ``Generator`` or
  None (``random_state + 7919 * i`` alone fails on a ``RandomState``).
* **Input tables.** :func:`require_columns` (a DataFrame with the named columns) and
  :func:`as_utc` (a timezone-aware column, as UTC nanoseconds), the checks of the loop's
  tables and of ``features.competency_snapshot``.
* **Bootstrap clusters.** :func:`bootstrap_clusters`: the cluster (employee) codes every
  cluster bootstrap resamples; a row without a cluster id is its own cluster.

Examples
--------
>>> from talentml._validation import normalize_name, sensitive_names
>>> normalize_name("Marital-Status")
'maritalstatus'
>>> "maritalstatus" in sensitive_names()
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .exceptions import PurposeLimitationError

__all__ = [
    "ID_COLUMNS",
    "LABEL_COLUMNS",
    "PROTECTED_NAMES",
    "SENSITIVE_COLUMNS",
    "as_utc",
    "bootstrap_clusters",
    "check_purpose",
    "check_random_state",
    "normalize_name",
    "require_columns",
    "sensitive_names",
    "spawn_seed",
]

#: Identifier columns that are never model inputs (dropped at fit and predict, remembered).
ID_COLUMNS: tuple[str, ...] = ("employee_id", "as_of")

#: Columns of the label frames of :mod:`talentml.labels`; passing one inside ``X`` is leakage.
LABEL_COLUMNS: tuple[str, ...] = (
    "label",
    "censored",
    "duration_days",
    "event",
    "lower_days",
    "upper_days",
    "observed",
)

#: Names of protected attributes (US Title VII, ADEA, ADA; GDPR Art. 9; EU AI Act) that are
#: refused as model inputs under any spelling (``Gender``, ``marital-status``, ``MaritalStatus``).
PROTECTED_NAMES: frozenset[str] = frozenset(
    {
        "gender",
        "sex",
        "gender_identity",
        "sexual_orientation",
        "age",
        "age_band",
        "date_of_birth",
        "birth_date",
        "marital_status",
        "race",
        "ethnicity",
        "race_ethnicity",
        "religion",
        "national_origin",
        "nationality",
        "disability",
        "pregnancy",
        "caregiver",
        "veteran_status",
        "genetic_information",
    }
)


def _contract_sensitive() -> set[str]:
    from .schemas import TABLES

    return {c.name for c in TABLES["sensitive"].columns} - {"employee_id"}


#: Column names that may never be model inputs (compared with :func:`normalize_name`). It
#: starts with the columns of the ``sensitive`` contract (always rejected, whatever this set
#: holds) and :data:`PROTECTED_NAMES`. It is one set for the whole library
#: (``talentml.models.SENSITIVE_COLUMNS`` is this object): change it in place
#: (``.add("union_member")``, ``.discard("age")`` for a research comparison that must use a
#: protected attribute, explicitly).
SENSITIVE_COLUMNS: set[str] = _contract_sensitive() | set(PROTECTED_NAMES)


def normalize_name(name: object) -> str:
    """A column name as the purpose-limitation checks compare it: lower case, letters and
    digits only (``MaritalStatus``, ``marital_status`` and ``marital-status`` are one name)."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def sensitive_names() -> set[str]:
    """The normalized names :func:`check_purpose` rejects (contract + ``SENSITIVE_COLUMNS``)."""
    names = _contract_sensitive() | {str(n) for n in SENSITIVE_COLUMNS}
    return {normalize_name(n) for n in names}


def check_purpose(
    columns: Iterable[object], *, table: str = "X", message: str | None = None
) -> None:
    """Raise :class:`~talentml.exceptions.PurposeLimitationError` if a column is sensitive.

    Parameters
    ----------
    columns : iterable
        Column names to check.
    table : str, default "X"
        The table's name in the error.
    message : str, optional
        What the caller was about to do with them (the error's second sentence).

    Examples
    --------
    >>> from talentml._validation import check_purpose
    >>> check_purpose(["tenure_days", "rating_latest"])
    >>> check_purpose(["tenure_days", "Gender"])
    Traceback (most recent call last):
    ...
    talentml.exceptions.PurposeLimitationError: X holds sensitive column(s) ['Gender']: ...
    """
    banned = sensitive_names()
    hits = [str(c) for c in columns if normalize_name(c) in banned]
    if hits:
        raise PurposeLimitationError(
            f"{table} holds sensitive column(s) {hits}: "
            + (
                message
                or "protected attributes may only be used by talentml.fairness, never as model "
                "inputs (purpose limitation). Drop them, or edit "
                "talentml.models.SENSITIVE_COLUMNS if a name is a false alarm."
            )
        )


def spawn_seed(random_state: Any, i: int) -> int | None:
    """The ``i``-th independent seed derived from ``random_state`` (None stays None).

    An int gives the same seeds on every call (``random_state + 7919 * i``); a
    ``RandomState`` or ``Generator`` gives seeds drawn from it (so they advance it, as
    scikit-learn's estimators do).

    Examples
    --------
    >>> from talentml._validation import spawn_seed
    >>> spawn_seed(0, 0) == spawn_seed(0, 0), spawn_seed(0, 0) != spawn_seed(0, 1)
    (True, True)
    >>> spawn_seed(None, 3) is None
    True
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    # an int keeps the seeds talentml has always derived (audits stay byte-identical)
    return int(random_state) + 7919 * int(i)


def bootstrap_clusters(clusters: Any, n: int | None = None) -> tuple[np.ndarray, int]:
    """Cluster codes ``0..k-1`` for a cluster bootstrap, and ``k``.

    ``clusters`` holds one id per row (employee ids); ``None`` makes every row its own
    cluster (``n`` rows). A row without an id (None/NaN) is its own cluster: rows of unknown
    employees are not assumed to be one person.

    Examples
    --------
    >>> from talentml._validation import bootstrap_clusters
    >>> codes, k = bootstrap_clusters(["E1", "E2", "E1", None, None])
    >>> codes.tolist(), k
    ([0, 1, 0, 2, 3], 4)
    """
    if clusters is None:
        if n is None:
            raise ValueError("bootstrap_clusters needs the clusters or the number of rows n")
        return np.arange(n, dtype=np.int64), int(n)
    codes, uniques = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)), sort=False)
    codes = codes.astype(np.int64)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes, int(codes.max()) + 1 if len(codes) else 0


def require_columns(table: Any, columns: Iterable[str], name: str) -> None:
    """Raise unless ``table`` is a DataFrame holding ``columns`` (``name`` in the error).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml._validation import require_columns
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "reviews")
    Traceback (most recent call last):
    ...
    ValueError: table 'reviews' is missing column(s) ['b']; it has ['a']
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table {name!r} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"table {name!r} is missing column(s) {missing}; it has {list(table.columns)}"
        )


def as_utc(values: pd.Series, table: str, column: str) -> pd.Series:
    """A timezone-aware column as ``datetime64[ns, UTC]``; naive times are refused.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml._validation import as_utc
    >>> t = pd.Series(pd.to_datetime(["2025-01-01 09:00"]).tz_localize("Europe/Paris"))
    >>> str(as_utc(t, "reviews", "review_date")[0])
    '2025-01-01 08:00:00+00:00'
    """
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"table {table!r}: column {column!r} must hold timezone-aware timestamps, "
            f"got dtype {values.dtype}"
        )
    return values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
