"""Column descriptions: what reasons and recourse know about columns outside the catalog.

The feature catalog (:func:`talentml.features.catalog`) describes the simulator's features.
An organization's own columns (``MonthlyIncome``, ``monthly_hrs_avg``, ``had_accident``) are
described with :func:`describe_columns`, whose rows have the catalog's columns, so that they
extend it or override its entries; every entry point that takes ``feature_catalog=`` (``explain``,
``Explainer``, ``ReasonCoder``, ``recourse``, ``serving.Scorer``, ``tracking.train``) accepts
the result, or the mapping itself (then merged with the default catalog).

A column without a description still reads as plain language: its label is its name in
words (``MonthlyIncome`` -> "monthly income", ``monthly_hrs_avg`` -> "monthly hours
average"), a 0/1 flag reads "yes"/"no", a category reads "job role: Sales Executive" or
"works in the Sales department".
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters

__all__ = [
    "DESCRIBE_KEYS",
    "DESCRIPTION_COLUMNS",
    "column_label",
    "describe_columns",
    "fallback_template",
    "resolve_catalog",
]

#: Columns of :func:`describe_columns` (the catalog's, then ``label``, ``group``, ``levels``).
DESCRIPTION_COLUMNS = (
    "name",
    "description",
    "unit",
    "family",
    "window",
    "actionable",
    "direction",
    "sensitive_proxy",
    "template",
    "dtype",
    "label",
    "group",
    "levels",
)
#: Keys a column's description may have.
DESCRIBE_KEYS = DESCRIPTION_COLUMNS[1:]
#: Values of ``direction``.
DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")
#: Values of ``family`` (``other``: a column of the organization's own, code family FEAT).
FAMILIES = ("learning", "reviews", "hris", "other")
_TEXT = ("description", "unit", "family", "window", "direction", "template", "dtype", "label")

MSG_NOT_MAPPING = (
    "describe_columns: columns must be a mapping {{column: {{key: value}}}} (or {{column: "
    "label}}), got {kind}; e.g. describe_columns({{'OverTime': {{'actionable': True, "
    "'direction': 'lower_is_better', 'levels': ['No', 'Yes']}}}})"
)
MSG_BAD_ENTRY = (
    "describe_columns: column {column!r}: the description must be a mapping of {allowed} or a "
    "label string, got {kind}"
)
MSG_UNKNOWN_KEYS = (
    "describe_columns: column {column!r}: unknown key(s) {keys}; a description may give {allowed}"
)
MSG_BAD_DIRECTION = (
    "describe_columns: column {column!r}: direction must be one of {allowed}, got {value!r}"
)
MSG_BAD_FAMILY = (
    "describe_columns: column {column!r}: family must be one of {allowed}, got {value!r}"
)
MSG_BAD_FLAG = "describe_columns: column {column!r}: {key} must be True or False, got {value!r}"
MSG_ACTIONABLE_DIRECTION = (
    "describe_columns: column {column!r} is actionable, but its direction is {value!r}: "
    "recourse moves a feature only in its good direction; give direction='higher_is_better' "
    "or 'lower_is_better' (and levels=[...], lowest first, for a categorical column)"
)
MSG_BAD_TEMPLATE = (
    "describe_columns: column {column!r}: the template {value!r} must show the value once as "
    "{{value}} (with an optional format, e.g. 'works {{value:.0f}} hours a month')"
)
MSG_BAD_LEVELS = (
    "describe_columns: column {column!r}: levels must be a list of distinct category labels, "
    "lowest first, got {value!r}"
)
MSG_CATALOG_NAME = (
    "catalog: a catalog (or describe_columns result) needs a 'name' column; got columns {columns}"
)
MSG_CATALOG_TYPE = (
    "catalog must be a DataFrame (talentml.features.catalog(), describe_columns(...) or both "
    "concatenated) or a mapping {{column: description}} for describe_columns, got {kind}"
)

#: Short words of column names and what they read as in texts.
ABBREVIATIONS = {
    "avg": "average",
    "hrs": "hours",
    "yrs": "years",
    "mths": "months",
    "mos": "months",
    "num": "number",
    "pct": "percent",
    "perc": "percent",
    "mgr": "manager",
    "dept": "department",
    "cnt": "count",
    "amt": "amount",
    "qty": "quantity",
    "tenure_yrs": "tenure years",
}
#: Last words of a category's label that read "works in the {value} {label}".
ORG_UNITS = ("department", "division", "unit", "team", "function", "family", "organization")
#: Last words of a category's label that read "works as {value}".
ROLES = ("role", "title", "position", "occupation")
#: Units that add nothing after the value.
_SILENT_UNITS = ("", "flag", "category", "count", "number", "share", "level", "score", "rating")
#: Name prefixes and suffixes of 0/1 flags (a column of zeros only is still a flag).
_FLAG_NAME = re.compile(r"^(is|has|had|was|did|can|got|flag)_|_(flag|yn|bool)$", re.IGNORECASE)


def column_label(name: str) -> str:
    """A column name in words, for texts.

    Parameters
    ----------
    name : str
        A column name (snake_case, CamelCase or words).

    Returns
    -------
    str
        Lower-case words, acronyms kept, a few abbreviations spelled out.

    Examples
    --------
    >>> from talentml.explain import column_label
    >>> column_label("MonthlyIncome"), column_label("monthly_hrs_avg")
    ('monthly income', 'monthly hours average')
    >>> column_label("n_projects"), column_label("HRBusinessPartner")
    ('number of projects', 'HR business partner')
    """
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    words = [w for w in re.split(r"[\s_\-.:=/]+", text) if w]
    out = []
    for i, word in enumerate(words):
        if len(word) > 1 and word.isupper():
            out.append(word)  # an acronym: HR, ID, KPI
            continue
        low = word.lower()
        if i == 0 and low == "n" and len(words) > 1:
            out.append("number of")
            continue
        out.append(ABBREVIATIONS.get(low, low))
    return " ".join(out) if out else str(name)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def fallback_template(label: str, *, categorical: bool = False, unit: str = "") -> str:
    """The template of a column without one: "label: {value}", a unit, or a workplace.

    Examples
    --------
    >>> from talentml.explain._columns import fallback_template
    >>> fallback_template("monthly hours", unit="hours")
    'monthly hours: {value} hours'
    >>> fallback_template("department", categorical=True)
    'works in the {value} department'
    >>> fallback_template("job role", categorical=True)
    'works as {value}'
    """
    shown = _escape(label)
    last = label.split(" ")[-1].lower() if label else ""
    if categorical:
        if last in ORG_UNITS:
            return f"works in the {{value}} {shown}"
        if last in ROLES:
            return "works as {value}"
        return f"{shown}: {{value}}"
    unit = str(unit or "").strip()
    if unit == "share":
        return f"{shown}: {{value:.0%}}"
    suffix = "" if unit.lower() in _SILENT_UNITS else f" {_escape(unit)}"
    return f"{shown}: {{value}}{suffix}"


#: Fewer reference rows than this do not show that a column only ever holds 0 and 1 (a
#: level 0-3 column reads 0/1 on three rows): then only a flag-like name makes a flag.
MIN_FLAG_ROWS = 50


def looks_like_flag(name: str, values: Any) -> bool:
    """True for a numeric column holding only 0 and 1 (both, or a flag-like name).

    On fewer than :data:`MIN_FLAG_ROWS` values only a flag-like name (``is_``, ``has_``,
    ``had_``, ``..._flag``) makes a flag.
    """
    v = np.asarray(values, dtype=np.float64)
    head = v[:256]
    if not ((head == 0) | (head == 1) | np.isnan(head)).all():
        return False  # the common case, decided on the first rows
    if not ((v == 0) | (v == 1) | np.isnan(v)).all():
        return False
    ones = int(np.count_nonzero(v == 1))
    zeros = int(np.count_nonzero(v == 0))
    if ones + zeros == 0:
        return False
    named = bool(_FLAG_NAME.search(str(name)))
    if ones + zeros < MIN_FLAG_ROWS:
        return named
    return (ones > 0 and zeros > 0) or named


def _has_value_field(template: str) -> bool:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return False
    return fields == ["value"]


def _check_entry(column: str, entry: Any) -> dict[str, Any]:
    allowed = list(DESCRIBE_KEYS)
    if isinstance(entry, str):
        return {"label": entry}
    if not isinstance(entry, Mapping):
        raise TypeError(
            MSG_BAD_ENTRY.format(column=column, allowed=allowed, kind=type(entry).__name__)
        )
    unknown = sorted(str(k) for k in entry if k not in DESCRIBE_KEYS)
    if unknown:
        raise ValueError(MSG_UNKNOWN_KEYS.format(column=column, keys=unknown, allowed=allowed))
    out = dict(entry)
    for key in ("actionable", "sensitive_proxy"):
        if key in out and not isinstance(out[key], bool | np.bool_):
            raise ValueError(MSG_BAD_FLAG.format(column=column, key=key, value=out[key]))
    if "direction" in out and out["direction"] not in DIRECTIONS:
        raise ValueError(
            MSG_BAD_DIRECTION.format(
                column=column, allowed=list(DIRECTIONS), value=out["direction"]
            )
        )
    if "family" in out and out["family"] not in FAMILIES:
        raise ValueError(
            MSG_BAD_FAMILY.format(column=column, allowed=list(FAMILIES), value=out["family"])
        )
    if out.get("template") and not _has_value_field(str(out["template"])):
        raise ValueError(MSG_BAD_TEMPLATE.format(column=column, value=out["template"]))
    if "levels" in out and out["levels"] is not None:
        levels = out["levels"]
        if isinstance(levels, str) or not hasattr(levels, "__iter__"):
            raise ValueError(MSG_BAD_LEVELS.format(column=column, value=levels))
        levels = [str(v) for v in levels]
        if len(set(levels)) != len(levels) or len(levels) < 2:
            raise ValueError(MSG_BAD_LEVELS.format(column=column, value=out["levels"]))
        out["levels"] = levels
    return out


def _defaults(name: str) -> dict[str, Any]:
    label = column_label(name)
    return {
        "name": name,
        "description": label,
        "unit": "",
        "family": "other",
        "window": "",
        "actionable": False,
        "direction": "neutral",
        "sensitive_proxy": False,
        "template": "",
        "dtype": "",
        "label": label,
        "group": "",
        "levels": None,
    }


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for col in _TEXT + ("group",):
        if col in frame.columns:
            frame[col] = frame[col].astype("string")
    for col in ("actionable", "sensitive_proxy"):
        if col in frame.columns:
            frame[col] = frame[col].astype("boolean").fillna(False).astype(bool)
    return frame


@renamed_parameters(catalog="feature_catalog")
def describe_columns(
    columns: Mapping[str, Mapping[str, Any] | str], *, feature_catalog: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Describe columns for reasons and recourse, as rows of the feature catalog.

    Parameters
    ----------
    columns : mapping
        ``{column: {key: value}}`` with any of the keys ``label`` (the column in words,
        default: its name in words), ``description``, ``unit`` (``"flag"`` for a 0/1
        column: it reads yes/no; ``"share"``: shown as a percentage), ``template`` (a
        sentence showing ``{value}``, e.g. ``"works {value:.0f} hours a month"``),
        ``actionable`` (recourse may propose changing it), ``direction``
        (``higher_is_better``, ``lower_is_better`` or ``neutral``), ``group`` (the business
        feature it folds into, e.g. the one-hot levels of a department), ``family``
        (``learning``, ``reviews``, ``hris`` or ``other``), ``sensitive_proxy`` (reported
        but marked, never proposed by recourse), ``window``, ``dtype`` and ``levels`` (a
        categorical column's levels, lowest first: how recourse moves it). A string is a
        label.
    feature_catalog : pandas.DataFrame, optional
        A catalog to extend: its rows come first, a described column that is already in it
        keeps its other fields and takes the given ones.

    Returns
    -------
    pandas.DataFrame
        One row per column with the catalog's columns (``name``, ``description``, ``unit``,
        ``family``, ``window``, ``actionable``, ``direction``, ``sensitive_proxy``,
        ``template``, ``dtype``) and ``label``, ``group``, ``levels``: pass it as
        ``feature_catalog=`` to :func:`explain`, :class:`Explainer`, :class:`ReasonCoder`,
        :func:`recourse` or :class:`talentml.serving.Scorer`.

    Raises
    ------
    ValueError
        For an unknown key, a direction or family that does not exist, a template without
        ``{value}``, or an actionable column without a good direction.

    See Also
    --------
    talentml.features.catalog : The simulator's features, described the same way.

    Examples
    --------
    >>> from talentml.explain import describe_columns
    >>> cols = describe_columns({
    ...     "monthly_hrs_avg": {"label": "average monthly hours", "unit": "hours"},
    ...     "TrainingTimesLastYear": {"actionable": True, "direction": "higher_is_better",
    ...                               "template": "trained {value:.0f} times last year"},
    ...     "had_accident": "had a work accident"})
    >>> cols[["name", "label", "actionable", "direction"]].to_numpy().tolist()
    [['monthly_hrs_avg', 'average monthly hours', False, 'neutral'], ['TrainingTimesLastYear', 'training times last year', True, 'higher_is_better'], ['had_accident', 'had a work accident', False, 'neutral']]
    """
    if not isinstance(columns, Mapping):
        raise TypeError(MSG_NOT_MAPPING.format(kind=type(columns).__name__))
    base = None if feature_catalog is None else resolve_catalog(feature_catalog)
    known = {}
    if base is not None and len(base):
        known = {str(r["name"]): r for r in base.to_dict("records")}
    rows = []
    for name, entry in columns.items():
        name = str(name)
        given = _check_entry(name, entry)
        row = dict(known[name]) if name in known else _defaults(name)
        if name in known:
            for key, value in _defaults(name).items():
                if key not in row or _missing(row[key]):
                    row[key] = value
            if "label" not in given and name in known and _missing(known[name].get("label")):
                row["label"] = pd.NA  # a catalog entry keeps its own wording
        row.update(given)
        if "label" in given and "description" not in given and name not in known:
            row["description"] = given["label"]
        if row["actionable"] and row["direction"] not in ("higher_is_better", "lower_is_better"):
            raise ValueError(MSG_ACTIONABLE_DIRECTION.format(column=name, value=row["direction"]))
        rows.append(row)
    if base is None:
        return _typed(pd.DataFrame(rows, columns=list(DESCRIPTION_COLUMNS)))
    # the catalog's rows first (its own extra columns kept), then the described ones; built
    # from records, so that a column only one side has is missing, not a dtype question
    columns = [*DESCRIPTION_COLUMNS, *(c for c in base.columns if c not in DESCRIPTION_COLUMNS)]
    names = {r["name"] for r in rows}
    keep = base[~base["name"].astype(str).isin(names)].astype(object)
    records = [*keep.to_dict("records"), *rows]
    out = pd.DataFrame.from_records(records, columns=columns)
    for col in base.columns:
        if col not in DESCRIPTION_COLUMNS and pd.api.types.is_string_dtype(base[col].dtype):
            out[col] = out[col].astype("string")
    return _typed(out)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def resolve_catalog(catalog: Any) -> pd.DataFrame:
    """The catalog to use: the default one, a given frame, or a mapping of descriptions.

    A frame's later rows override earlier ones of the same name (so that
    ``pd.concat([tml.features.catalog(), describe_columns({...})])`` overrides entries).
    """
    if catalog is None:
        from ..features import catalog as default_catalog

        return default_catalog()
    if isinstance(catalog, Mapping):
        from ..features import catalog as default_catalog

        return describe_columns(catalog, feature_catalog=default_catalog())
    if not isinstance(catalog, pd.DataFrame):
        raise TypeError(MSG_CATALOG_TYPE.format(kind=type(catalog).__name__))
    if len(catalog.columns) and "name" not in catalog.columns:
        raise ValueError(MSG_CATALOG_NAME.format(columns=list(catalog.columns)[:12]))
    if len(catalog) == 0:
        return catalog
    if catalog["name"].duplicated().any():
        catalog = catalog.drop_duplicates("name", keep="last")
    return catalog.reset_index(drop=True)
