"""The rules every package shares, in one place (the base layer).

Each rule here used to live in several copies; every package imports it from this module:

* **Purpose limitation.** :data:`PROTECTED_NAMES`, :data:`SENSITIVE_COLUMNS` (the one mutable
  set that ``talentml.models.SENSITIVE_COLUMNS`` exports), :func:`normalize_name`,
  :func:`sensitive_names` and :func:`check_purpose`: a protected attribute is never a model
  input, never an explanation, never a served request field, under any spelling.
* **Identifier and label columns.** :data:`ID_COLUMNS` are never model inputs;
  :data:`LABEL_COLUMNS` inside ``X`` are leakage.
* **Random state.** Every public ``random_state`` defaults to 0 (reproducible runs) and takes
  an int, None, a ``RandomState`` or a ``Generator``: :func:`check_random_state`
  (scikit-learn's, a ``Generator`` included), :func:`rng_from` (a ``Generator``),
  :func:`derive_seed` and :func:`spawn_seed`, which derives the ``i``-th independent seed
  (``random_state + 7919 * i`` alone fails on a ``RandomState``).
* **Input tables.** :func:`require_columns` (a DataFrame with the named columns) and
  :func:`as_utc` (a timezone-aware column, as UTC nanoseconds), the checks of the loop's
  tables and of ``features.competency_snapshot``.
* **Bootstrap clusters.** :func:`bootstrap_clusters`: the cluster (employee) codes every
  cluster bootstrap resamples; a row without a cluster id is its own cluster.
* **Renamed parameters.** :func:`renamed_parameters`: an old keyword keeps working for one
  release with a ``FutureWarning``; :data:`RENAMED` lists every rename.

Examples
--------
>>> from talentml._validation import normalize_name, sensitive_names
>>> normalize_name("Marital-Status")
'maritalstatus'
>>> "maritalstatus" in sensitive_names()
True
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state as _sklearn_check_random_state

from ._version import __version__
from .exceptions import PurposeLimitationError

__all__ = [
    "ID_COLUMNS",
    "LABEL_COLUMNS",
    "PROTECTED_NAMES",
    "RENAMED",
    "RandomStateLike",
    "SENSITIVE_COLUMNS",
    "as_utc",
    "bootstrap_clusters",
    "check_purpose",
    "check_random_state",
    "derive_seed",
    "normalize_name",
    "renamed_parameters",
    "rng_from",
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


#: What every public ``random_state`` accepts.
RandomStateLike = int | np.integer | np.random.RandomState | np.random.Generator | None


def check_random_state(random_state: Any) -> np.random.RandomState:
    """scikit-learn's ``check_random_state``, a NumPy ``Generator`` accepted too.

    An int or None gives what scikit-learn gives; a ``RandomState`` is returned as is; a
    ``Generator`` seeds a new ``RandomState`` from a draw (advancing it).

    Examples
    --------
    >>> import numpy as np
    >>> from talentml._validation import check_random_state
    >>> check_random_state(0).randint(100) == np.random.RandomState(0).randint(100)
    True
    >>> isinstance(check_random_state(np.random.default_rng(0)), np.random.RandomState)
    True
    """
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(derive_seed(random_state, 0))
    return _sklearn_check_random_state(random_state)


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
    return derive_seed(random_state, 7919 * int(i))


def derive_seed(random_state: Any, offset: int) -> int | None:
    """A seed derived from ``random_state``: ``random_state + offset`` for an int.

    None stays None; a ``RandomState`` or ``Generator`` gives a seed drawn from it (advancing
    it), so ``random_state + offset`` never fails on one. Anything else raises ``ValueError``,
    as :func:`check_random_state` does.

    Examples
    --------
    >>> import numpy as np
    >>> from talentml._validation import derive_seed
    >>> derive_seed(0, 4241), derive_seed(None, 4241)
    (4241, None)
    >>> isinstance(derive_seed(np.random.RandomState(0), 4241), int)
    True
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ValueError(
            f"random_state must be an int, a numpy RandomState or Generator, or None; "
            f"got {random_state!r}"
        )
    # an int keeps the seeds talentml has always derived (audits stay byte-identical)
    return int(random_state) + int(offset)


def rng_from(random_state: Any) -> np.random.Generator:
    """A NumPy ``Generator`` from ``random_state`` (int, None, ``RandomState`` or ``Generator``).

    An int or None gives ``np.random.default_rng(random_state)`` (so results stay those of
    an int seed); a ``Generator`` is used as is; a ``RandomState`` seeds a new generator from
    a draw (advancing it).

    Examples
    --------
    >>> import numpy as np
    >>> from talentml._validation import rng_from
    >>> float(rng_from(0).random()) == float(np.random.default_rng(0).random())
    True
    >>> isinstance(rng_from(np.random.RandomState(0)), np.random.Generator)
    True
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    return np.random.default_rng(derive_seed(random_state, 0))


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


_F = TypeVar("_F", bound=Callable[..., Any])

#: Every renamed keyword: ``{"module.qualname": {"old": "new"}}``, filled by
#: :func:`renamed_parameters` (the changelog's "Renamed" list; the tests call each pair).
RENAMED: dict[str, dict[str, str]] = {}

_RENAMED_SINCE = ".".join(__version__.split(".")[:2])
MSG_RENAMED = (
    "`{old}` was renamed `{new}` in talentml {since}; the old name will be removed in the "
    "next release"
)
MSG_RENAMED_BOTH = "{func}() got both `{old}` and its new name `{new}`: pass only `{new}`"


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def external_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside talentml.

    Call it where the warning is raised: ``warnings.warn(msg, stacklevel=external_stacklevel())``.
    Wrappers (:func:`renamed_parameters`) and helpers in between do not move the warning
    away from the user's line.

    Returns
    -------
    int
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def renamed_parameters(**renames: str) -> Callable[[_F], _F]:
    """Keep old keyword names working for one release, with a ``FutureWarning``.

    Decorates a function or method whose parameters already have the new names:
    ``renamed_parameters(progress="show_progress")`` maps a call with ``progress=`` to
    ``show_progress=`` and warns; passing both raises ``TypeError``. The signature and
    docstring are the new function's (``inspect.signature`` shows the new names).

    Parameters
    ----------
    **renames : str
        ``old="new"`` pairs.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> import warnings
    >>> from talentml._validation import renamed_parameters
    >>> @renamed_parameters(top="top_fraction")
    ... def share(*, top_fraction=0.1):
    ...     return top_fraction
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     share(top=0.2)
    0.2
    >>> print(caught[0].message)
    `top` was renamed `top_fraction` in talentml 0.1; the old name will be removed in the next release
    """

    def decorate(func: _F) -> _F:
        params = inspect.signature(func).parameters
        for old, new in renames.items():
            if new not in params or old in params:
                raise TypeError(f"{func.__qualname__}: cannot rename {old!r} to {new!r}")
        name = func.__qualname__.removesuffix(".__init__")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(MSG_RENAMED_BOTH.format(func=name, old=old, new=new))
                warnings.warn(
                    MSG_RENAMED.format(old=old, new=new, since=_RENAMED_SINCE),
                    FutureWarning,
                    stacklevel=external_stacklevel(),
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        RENAMED.setdefault(f"{func.__module__}.{func.__qualname__}", {}).update(renames)
        return wrapper  # type: ignore[return-value]

    return decorate
