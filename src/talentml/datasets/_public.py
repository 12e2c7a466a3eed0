"""Loaders of the public HR tables: IBM attrition, job change of data scientists, xAPI-Edu-Data.

Scikit-learn style (:func:`sklearn.datasets.fetch_openml` is the model): each loader reads a
file from the *data home*, validates it, types every column, and returns a
:class:`sklearn.utils.Bunch` with ``data``, ``target``, ``sensitive``, ``frame`` and
``DESCR``. Nothing is downloaded: the files live next to the repository in
``../shared/data/hr`` (see :func:`get_data_home`).

Every loader follows the same rules:

* **Purpose limitation.** Protected attributes (gender, age, marital status, nationality) are
  returned in ``sensitive``, *not* in ``data``; ``include_sensitive=True`` puts them back in
  ``data`` (only to reproduce published numbers that used them).
* **Nothing lost silently.** A row with a value that cannot be read (an unknown category
  level, a number that does not parse, a missing or invalid target, a duplicated id) is
  quarantined with a reason code in ``quarantine`` and counted in ``counts``
  (``read = accepted + quarantined``). Constant columns and identifiers are dropped with a
  logged note (the identifier becomes the index).
* **Clear errors.** A missing data home, a missing file or a file without the expected
  columns raises with the path, the table and the columns.

The specs of the tables (columns, levels, targets) are in ``_public_tables``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import ContractError
from ._public_tables import _IBM, _JOB_CHANGE, _XAPI_EDU, _Table

__all__ = [
    "DATA_HOME_ENV",
    "get_data_home",
    "load_ibm_attrition",
    "load_job_change",
    "load_xapi_edu",
]

logger = logging.getLogger(__name__)

#: Environment variable naming the data home (the folder that holds ``hr/``).
DATA_HOME_ENV = "TALENTML_DATA_HOME"

#: The repository root when talentml runs from a source checkout (``src/talentml/...``).
_REPO_ROOT = Path(__file__).resolve().parents[3]

MSG_NO_DATA_HOME = (
    "No talentml data home found. Looked at: {looked}. Set the environment variable "
    f"{DATA_HOME_ENV} or pass data_home= (the folder that holds hr/ibm_attrition, "
    "hr/job_change_ds and hr/xapi_edu)."
)
MSG_MISSING_FILE = "{table}: file not found: {path} (data home {home})"
MSG_BAD_COLUMNS = "{table}: {path} does not have the expected columns: {problems}"


# ------------------------------------------------------------------------- data home
def _candidates() -> list[tuple[str, Path | None]]:
    env = os.environ.get(DATA_HOME_ENV)
    out: list[tuple[str, Path | None]] = [(f"${DATA_HOME_ENV}", Path(env) if env else None)]
    if (_REPO_ROOT / "pyproject.toml").is_file():
        out.append(("next to the repository", _REPO_ROOT.parent / "shared" / "data"))
    out.append(("next to the working directory", Path.cwd().parent / "shared" / "data"))
    return out


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder that holds the public tables (``hr/...``).

    The first that applies: ``data_home`` if given (it must exist); the environment variable
    ``TALENTML_DATA_HOME`` if set (it must exist); ``../shared/data`` next to the repository (when talentml runs
    from a source checkout); ``../shared/data`` next to the current working directory.

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        An explicit folder; it must exist.

    Returns
    -------
    pathlib.Path
        The resolved, absolute data home.

    Raises
    ------
    FileNotFoundError
        If ``data_home`` or ``$TALENTML_DATA_HOME`` does not exist, or none of the places
        exists (the message lists where it looked).

    Examples
    --------
    >>> from talentml.datasets import get_data_home
    >>> (get_data_home() / "hr" / "ibm_attrition").is_dir()
    True
    """
    if data_home is not None:
        path = Path(data_home).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(MSG_NO_DATA_HOME.format(looked=f"data_home={path} (missing)"))
        return path.resolve()
    env = os.environ.get(DATA_HOME_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                MSG_NO_DATA_HOME.format(looked=f"${DATA_HOME_ENV}={path} (missing)")
            )
    looked = []
    for where, path in _candidates():
        if path is None:
            looked.append(f"{where} (unset)")
            continue
        if path.is_dir():
            logger.debug("data home: %s (%s)", path, where)
            return path.resolve()
        looked.append(f"{where}: {path} (missing)")
    raise FileNotFoundError(MSG_NO_DATA_HOME.format(looked="; ".join(looked)))


def _git_blob(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


# ---------------------------------------------------------------------------- reading
def _read(table: _Table, subset: str, home: Path) -> tuple[pd.DataFrame, Path, str]:
    name = table.files[subset]
    path = home / table.folder / name
    if not path.is_file():
        raise FileNotFoundError(MSG_MISSING_FILE.format(table=table.name, path=path, home=home))
    content = path.read_bytes()
    blob = _git_blob(content)
    if blob == table.blobs.get(name):
        logger.debug("%s: %s matches the documented git blob %s", table.name, name, blob)
    else:
        logger.warning(
            "%s: %s is not the documented file (git blob %s, expected %s): an edited copy? "
            "Rows that do not read are quarantined.",
            table.name,
            path,
            blob,
            table.blobs.get(name),
        )
    raw = pd.read_csv(
        BytesIO(content),
        encoding=table.encoding,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
    )
    # A BOM left in the header (a file re-saved with another encoding) is not a column name.
    raw.columns = [str(c).lstrip("\ufeff").strip() for c in raw.columns]
    expected = [c.name for c in table.columns if not (subset == "test" and c.kind == "target")]
    missing = [c for c in expected if c not in raw.columns]
    extra = [c for c in raw.columns if c not in expected]
    duplicated = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if missing or extra or duplicated:
        problems = []
        rows = []
        if missing:
            problems.append(f"missing {missing}")
            rows += [(c, "missing_column") for c in missing]
        if extra:
            problems.append(f"unexpected {extra}")
            rows += [(c, "unexpected_column") for c in extra]
        if duplicated:
            problems.append(f"duplicated {duplicated}")
            rows += [(c, "duplicated_column") for c in duplicated]
        failures = pd.DataFrame(
            [{"column": c, "rule": r, "row": None, "value": None} for c, r in rows]
        )
        raise ContractError(
            MSG_BAD_COLUMNS.format(table=table.name, path=path, problems="; ".join(problems))
            + f" (expected {expected})",
            table=table.name,
            failures=failures,
        )
    return raw[expected], path, blob


def _parse(
    table: _Table, raw: pd.DataFrame, subset: str
) -> tuple[dict[str, pd.Series], list[tuple[np.ndarray, str, str]]]:
    """Typed columns, and the (mask, column, reason) of every value that does not read."""
    out: dict[str, pd.Series] = {}
    problems: list[tuple[np.ndarray, str, str]] = []
    for col in table.columns:
        if col.name not in raw.columns:
            continue
        text = raw[col.name].str.strip()
        present = text.notna().to_numpy()
        if col.kind == "target":
            mapped = text.map(table.target_map)
            problems.append((~present, col.name, "missing_target"))
            problems.append((present & mapped.isna().to_numpy(), col.name, "invalid_target"))
            out[col.name] = mapped
            continue
        if col.kind == "id":
            problems.append((~present, col.name, "missing_id"))
            problems.append(
                (present & text.duplicated(keep="first").to_numpy(), col.name, "duplicate_id")
            )
            out[col.name] = text
            continue
        if not col.nullable:
            problems.append((~present, col.name, "missing_value"))
        if col.kind == "category":
            values = text.replace(dict(col.recode)) if col.recode else text
            if col.levels:
                unknown = present & ~values.isin(col.levels).to_numpy()
                problems.append((unknown, col.name, "unknown_level"))
                levels = list(col.levels)
            else:
                levels = sorted(values.dropna().unique())
            # unknown levels become missing (they are reported above)
            categories = pd.Index(levels, dtype=object)
            codes = categories.get_indexer(values.astype(object).to_numpy())
            out[col.name] = pd.Series(
                pd.Categorical.from_codes(codes, categories=categories, ordered=col.ordered),
                index=raw.index,
                name=col.name,
            )
            continue
        if col.kind == "years":
            special = text.map(dict(col.special))
            number = pd.to_numeric(text.where(special.isna()), errors="coerce")
            values = special.astype("float64").fillna(number)
            bad = present & values.isna().to_numpy()
            problems.append((bad, col.name, "unknown_level"))
            inside = number.between(*col.bounds) | number.isna()
            whole = (number.fillna(0) % 1 == 0).to_numpy()
            problems.append((present & ~(inside.to_numpy() & whole), col.name, "out_of_range"))
            out[col.name] = values.astype("float64")
            continue
        number = pd.to_numeric(text, errors="coerce")
        unreadable = present & number.isna().to_numpy()
        problems.append((unreadable, col.name, "not_a_number"))
        if col.kind == "int":
            fractional = present & ~unreadable & (number.fillna(0) % 1 != 0).to_numpy()
            problems.append((fractional, col.name, "not_an_integer"))
        if col.bounds is not None:
            outside = present & ~unreadable & ~number.between(*col.bounds).to_numpy()
            problems.append((outside, col.name, "out_of_range"))
        if col.kind == "int":
            values = number.astype("Int64") if col.nullable else number.fillna(0).astype("int64")
        else:
            values = number.astype("float64")
            if col.decimals is not None:
                values = values.round(col.decimals)
        out[col.name] = values
    if subset == "test":
        problems = [p for p in problems if p[2] not in ("missing_target", "invalid_target")]
    return out, problems


def _quarantine(
    table: _Table, raw: pd.DataFrame, problems: list[tuple[np.ndarray, str, str]]
) -> tuple[pd.DataFrame, np.ndarray]:
    records = []
    bad = np.zeros(len(raw), dtype=bool)
    for mask, column, reason in problems:
        if not mask.any():
            continue
        bad |= mask
        for i in np.flatnonzero(mask):
            records.append(
                {
                    "line": int(i) + 2,
                    "id": raw[table.id_column].iloc[i] if table.id_column else None,
                    "column": column,
                    "value": raw[column].iloc[i],
                    "reason": reason,
                }
            )
    quarantine = pd.DataFrame(records, columns=["line", "id", "column", "value", "reason"])
    if len(quarantine):
        quarantine = quarantine.sort_values(["line", "column"], kind="stable")
        quarantine = quarantine.reset_index(drop=True)
    return quarantine, bad


def _load(
    table: _Table,
    *,
    data_home: str | os.PathLike | None,
    subset: str,
    as_frame: bool,
    include_sensitive: bool,
) -> Bunch:
    if subset not in table.files:
        raise ValueError(
            f"{table.name}: subset must be one of {sorted(table.files)}, got {subset!r}"
        )
    if not isinstance(as_frame, bool):
        raise TypeError(f"as_frame must be a bool, got {as_frame!r}")
    if not isinstance(include_sensitive, bool):
        raise TypeError(f"include_sensitive must be a bool, got {include_sensitive!r}")
    home = get_data_home(data_home)
    raw, path, blob = _read(table, subset, home)
    typed, problems = _parse(table, raw, subset)
    quarantine, bad = _quarantine(table, raw, problems)
    n_read = len(raw)
    keep = ~bad
    counts = {"read": n_read, "accepted": int(keep.sum()), "quarantined": int(bad.sum())}
    if bad.any():
        reasons = quarantine.drop_duplicates("line")["reason"].value_counts().to_dict()
        logger.warning(
            "%s: %d of %d rows quarantined (%s); see bunch.quarantine",
            table.name,
            counts["quarantined"],
            n_read,
            reasons,
        )
    index = None
    if table.id_column:
        ids = pd.to_numeric(typed[table.id_column][keep], errors="coerce")
        if ids.notna().all() and (ids % 1 == 0).all():
            ids = ids.astype("int64")
        else:
            ids = typed[table.id_column][keep]
        index = pd.Index(ids.to_numpy(), name=table.id_column)
    else:
        index = pd.RangeIndex(int(keep.sum()))

    def take(name: str) -> pd.Series:
        s = typed[name][keep]
        s.index = index
        return s

    features = [
        c.name
        for c in table.columns
        if c.kind not in ("id", "target") and c.name not in table.sensitive
    ]
    dropped = {}
    for name in list(features):
        s = take(name)
        if len(s) and s.nunique(dropna=False) <= 1:
            value = s.iloc[0]
            dropped[name] = value.item() if isinstance(value, np.generic) else value
            features.remove(name)
    if dropped:
        logger.info(
            "%s: constant column(s) dropped (a single value in every row): %s",
            table.name,
            ", ".join(f"{k}={v!r}" for k, v in dropped.items()),
        )
    if table.id_column:
        logger.info("%s: identifier %r is the index, not a feature", table.name, table.id_column)

    sensitive = pd.DataFrame({name: take(name) for name in table.sensitive}, index=index)
    if table.sensitive_missing is not None:
        for name in table.sensitive:
            s = sensitive[name]
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.cat.add_categories([table.sensitive_missing])
                sensitive[name] = s.fillna(table.sensitive_missing)
    data_columns = [
        c.name
        for c in table.columns
        if c.name in features or (include_sensitive and c.name in table.sensitive)
    ]
    data = pd.DataFrame(
        {
            name: (sensitive[name] if name in table.sensitive else take(name))
            for name in data_columns
        },
        index=index,
    )
    if include_sensitive:
        logger.info(
            "%s: sensitive column(s) %s included in data (include_sensitive=True): use them only "
            "to reproduce published results or for audits, never in a model that decides about "
            "people",
            table.name,
            list(table.sensitive),
        )

    if subset == "test":
        target = pd.Series(pd.NA, index=index, dtype="Int64", name=table.target)
    elif table.ordered_target:
        target = pd.Series(
            pd.Categorical(
                take(table.target).to_numpy(), categories=list(table.target_names), ordered=True
            ),
            index=index,
            name=table.target,
        )
    else:
        target = take(table.target).astype("int64")
    frame = data.copy()
    frame[table.target] = target
    descr = _descr(table, path, blob, data, target, counts, dropped)
    bunch = Bunch(
        data=data,
        target=target,
        sensitive=sensitive,
        frame=frame,
        feature_names=list(data.columns),
        target_names=list(table.target_names),
        sensitive_names=list(table.sensitive),
        quarantine=quarantine,
        counts=counts,
        dropped_constant=dropped,
        filename=str(path),
        DESCR=descr,
    )
    if not as_frame:
        categories = {
            c: list(data[c].cat.categories)
            for c in data.columns
            if isinstance(data[c].dtype, pd.CategoricalDtype)
        }
        matrix = np.column_stack(
            [
                (
                    np.where(data[c].cat.codes.to_numpy() < 0, np.nan, data[c].cat.codes)
                    if c in categories
                    else data[c].to_numpy(dtype="float64", na_value=np.nan)
                )
                for c in data.columns
            ]
        ).astype("float64")
        bunch.data = matrix
        bunch.target = target.to_numpy()
        bunch.sensitive = sensitive.to_numpy(dtype=object)
        bunch.frame = None
        bunch.categories = categories
    return bunch


def _descr(
    table: _Table,
    path: Path,
    blob: str,
    data: pd.DataFrame,
    target: pd.Series,
    counts: Mapping[str, int],
    dropped: Mapping[str, Any],
) -> str:
    source = path.parent / "SOURCE.txt"
    provenance = (
        source.read_text(encoding="utf-8").strip() if source.is_file() else "(no SOURCE.txt)"
    )
    lines = [
        table.title,
        "=" * len(table.title),
        "",
        table.description,
        "",
        f"File: {path.name} (git blob {blob}); rows read {counts['read']}, accepted "
        f"{counts['accepted']}, quarantined {counts['quarantined']}.",
        f"data: {data.shape[0]} rows x {data.shape[1]} columns; target {target.name!r}.",
    ]
    if dropped:
        lines.append("Constant columns dropped: " + ", ".join(dropped) + ".")
    lines += ["", "Provenance (SOURCE.txt)", "-----------------------", provenance]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- public
def load_ibm_attrition(
    *,
    data_home: str | os.PathLike | None = None,
    as_frame: bool = True,
    include_sensitive: bool = False,
) -> Bunch:
    """Load the IBM HR Analytics attrition table (1,470 employees, 16.1% attrition).

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Folder holding ``hr/ibm_attrition`` (default: :func:`get_data_home`).
    as_frame : bool, default True
        Return pandas objects; False gives NumPy arrays (categoricals as their integer codes,
        missing as NaN; the levels in ``categories``), and ``frame`` is None.
    include_sensitive : bool, default False
        Put ``Gender``, ``Age`` and ``MaritalStatus`` back into ``data`` (only to reproduce
        published results that used them). They are always in ``sensitive``.

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (DataFrame indexed by ``EmployeeNumber``: integers, Likert scales as
        integers, categoricals as pandas ``category``), ``target`` (int Series, 1 = left),
        ``sensitive`` (DataFrame), ``frame`` (``data`` plus the target), ``feature_names``,
        ``target_names`` (``["No", "Yes"]``), ``sensitive_names``, ``quarantine`` (one row
        per unreadable value: ``line``, ``id``, ``column``, ``value``, ``reason``),
        ``counts`` (``read``, ``accepted``, ``quarantined``), ``dropped_constant``,
        ``filename`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If the data home or the file is missing.
    talentml.exceptions.ContractError
        If the file does not have the expected columns.

    See Also
    --------
    load_job_change : The job change of data scientists table.

    Examples
    --------
    >>> from talentml.datasets import load_ibm_attrition
    >>> ibm = load_ibm_attrition()
    >>> ibm.data.shape, round(float(ibm.target.mean()), 3)
    ((1470, 27), 0.161)
    >>> list(ibm.sensitive.columns)
    ['Gender', 'Age', 'MaritalStatus']
    >>> load_ibm_attrition(include_sensitive=True).data.shape
    (1470, 30)
    """
    return _load(
        _IBM,
        data_home=data_home,
        subset="train",
        as_frame=as_frame,
        include_sensitive=include_sensitive,
    )


def load_job_change(
    *,
    data_home: str | os.PathLike | None = None,
    subset: str = "train",
    as_frame: bool = True,
    include_sensitive: bool = False,
) -> Bunch:
    """Load the job change of data scientists table (19,158 labeled enrollees, 24.9% positive).

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Folder holding ``hr/job_change_ds`` (default: :func:`get_data_home`).
    subset : {"train", "test"}, default "train"
        ``"train"``: the labeled file; ``"test"``: the 2,129 unlabeled rows (the target is
        an all-missing ``Int64`` Series).
    as_frame : bool, default True
        Return pandas objects; False gives NumPy arrays (categoricals as their integer codes,
        missing as NaN; the levels in ``categories``), and ``frame`` is None.
    include_sensitive : bool, default False
        Put ``gender`` back into ``data`` (only to reproduce published results).

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (DataFrame indexed by ``enrollee_id``; ``experience`` and ``last_new_job``
        in years as floats, categoricals as pandas ``category``, missing values kept),
        ``target`` (int Series, 1 = looking for a job change), ``sensitive`` (``gender``
        with missing values as the level ``"unknown"``), ``frame``, ``feature_names``,
        ``target_names``, ``sensitive_names``, ``quarantine``, ``counts``,
        ``dropped_constant``, ``filename`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If the data home or the file is missing.
    talentml.exceptions.ContractError
        If the file does not have the expected columns.

    See Also
    --------
    load_ibm_attrition : The IBM attrition table.

    Examples
    --------
    >>> from talentml.datasets import load_job_change
    >>> jobs = load_job_change()
    >>> jobs.data.shape, round(float(jobs.target.mean()), 3)
    ((19158, 11), 0.249)
    >>> jobs.sensitive["gender"].value_counts().to_dict()
    {'Male': 13221, 'unknown': 4508, 'Female': 1238, 'Other': 191}
    >>> load_job_change(subset="test").data.shape
    (2129, 11)
    """
    return _load(
        _JOB_CHANGE,
        data_home=data_home,
        subset=subset,
        as_frame=as_frame,
        include_sensitive=include_sensitive,
    )


def load_xapi_edu(
    *,
    data_home: str | os.PathLike | None = None,
    as_frame: bool = True,
    include_sensitive: bool = False,
) -> Bunch:
    """Load xAPI-Edu-Data: 480 students of an LMS tracked with xAPI, grade band L/M/H.

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Folder holding ``hr/xapi_edu`` (default: :func:`get_data_home`).
    as_frame : bool, default True
        Return pandas objects; False gives NumPy arrays (categoricals as their integer codes;
        the levels in ``categories``), and ``frame`` is None.
    include_sensitive : bool, default False
        Put ``gender`` and ``NationalITy`` back into ``data`` (only to reproduce published
        results).

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (DataFrame: four behavior counts as integers, the rest as pandas
        ``category``), ``target`` (ordered categorical ``L < M < H``), ``sensitive``,
        ``frame``, ``feature_names``, ``target_names``, ``sensitive_names``,
        ``quarantine``, ``counts``, ``dropped_constant``, ``filename`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If the data home or the file is missing.
    talentml.exceptions.ContractError
        If the file does not have the expected columns.

    See Also
    --------
    load_ibm_attrition : The IBM attrition table.

    Examples
    --------
    >>> from talentml.datasets import load_xapi_edu
    >>> edu = load_xapi_edu()
    >>> edu.data.shape, edu.target.value_counts().sort_index().to_dict()
    ((480, 14), {'L': 127, 'M': 211, 'H': 142})
    >>> list(edu.sensitive.columns)
    ['gender', 'NationalITy']
    """
    return _load(
        _XAPI_EDU,
        data_home=data_home,
        subset="train",
        as_frame=as_frame,
        include_sensitive=include_sensitive,
    )
