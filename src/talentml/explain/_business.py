"""Business features: model columns folded back to what people talk about, with their codes.

A *business feature* is what a reason names. By default every column that is in the feature
catalog (:func:`talentml.features.catalog`) is its own business feature; a column that is not,
but starts with a catalog name followed by ``_``, ``=``, ``.`` or ``:`` (``department_Sales``,
a one-hot level) is folded into that catalog feature; ``groups`` folds any other columns
(one-hot levels of a non-catalog column, derived columns such as ``log_tenure`` into
``tenure_days``). The SHAP value of a business feature is the sum of its columns' values, so
explanations stay additive.

With ``groups="auto"`` (the default of :func:`talentml.explain.explain`), the concepts of
:data:`CONCEPTS` are folded too: ``learning_dropoff`` gathers the signs of a drop in learning
- the voluntary drop-off ratio, the days since the last activity and the 30- and 90-day
learning volumes - which the simulator's disengaged leavers show together but a model
spreads over many correlated columns. A concept's text is rendered, row by row, from its
member with the largest contribution in the reason's direction ("no learning activity for
95 days (team median: 12)"), and its code names the concept (``FR-LEARN-DROPOFF-UP``).

Codes are stable and machine-readable: ``{MODEL}-{FAMILY}-{FEATURE}-{UP|DOWN}``, e.g.
``FR-LEARN-DROPOFF-UP`` (flight risk, learning family, voluntary learning drop-off, raising
the score). ``MODEL`` is ``FR`` (FlightRisk), ``HP`` (HighPotential), ``RU`` (RampUp) or ``M``
(any other booster); ``FAMILY`` is ``LEARN``, ``REVIEW``, ``HRIS`` or ``FEAT`` (not in the
catalog); ``FEATURE`` is the name in upper case with ``-`` between words, a leading ``N-``
dropped (``n_voluntary_completions_90d`` -> ``VOLUNTARY-COMPLETIONS-90D``), with a few
shorter names (:data:`SHORT_CODES`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ._columns import column_label, fallback_template

__all__ = [
    "CONCEPTS",
    "FAMILY_CODES",
    "SHORT_CODES",
    "BusinessFeatures",
    "business_features",
    "feature_token",
    "value_spec",
]

#: Family part of a reason code.
FAMILY_CODES = {
    "learning": "LEARN",
    "learning_baseline": "LEARN",
    "reviews": "REVIEW",
    "hris": "HRIS",
    "other": "FEAT",
}
#: Shorter code names (regular expression over the feature name -> token).
SHORT_CODES: dict[str, str] = {
    r"voluntary_dropoff_\w+": "DROPOFF",
    r"days_since_last_activity": "INACTIVE-DAYS",
    r"mandatory_overdue_count": "MANDATORY-OVERDUE",
    r"mandatory_days_overdue": "MANDATORY-DAYS-OVERDUE",
    r"onboarding_completions_first_30d": "ONBOARDING-30D",
}
_SEPARATORS = ("_", "=", ".", ":")

#: Concepts folded by ``groups="auto"``: name -> regular expression over catalog column
#: names, family, description and code token.
CONCEPTS: dict[str, dict[str, str]] = {
    "learning_dropoff": {
        "pattern": (
            r"voluntary_dropoff_\w+|days_since_last_activity|"
            r"(n_statements|n_launched|n_completed|n_experienced|n_distinct_activities|minutes|"
            r"n_voluntary_completions|voluntary_share|active_weeks)_(30d|90d)|"
            r"voluntary_90d_vs_baseline|days_since_voluntary_session|voluntary_sessions_missed|"
            r"voluntary_drop_llr|voluntary_completion_share_change_90d"
        ),
        "family": "learning",
        "description": (
            "Drop-off in learning: the voluntary drop-off ratio, the days since the last "
            "learning activity, the learning volumes of the last 30 and 90 days, and voluntary "
            "learning against the person's own usual rate"
        ),
        "token": "DROPOFF",
    },
}


def feature_token(name: str) -> str:
    """The ``FEATURE`` part of a reason code for the business feature ``name``.

    >>> feature_token("voluntary_dropoff_30d_vs_prior_90d")
    'DROPOFF'
    >>> feature_token("n_voluntary_completions_90d")
    'VOLUNTARY-COMPLETIONS-90D'
    >>> feature_token("MonthlyIncome")
    'MONTHLY-INCOME'
    """
    for pattern, token in SHORT_CODES.items():
        if re.fullmatch(pattern, name):
            return token
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name)
    token = re.sub(r"[^A-Za-z0-9]+", "-", spaced).strip("-").upper()
    if token.startswith("N-") and len(token) > 2:
        token = token[2:]
    return token or "FEATURE"


def value_spec(template: str) -> str:
    """The format spec of ``{value}`` in a catalog template (``""`` if none).

    >>> value_spec("voluntary learning dropped {value:.0%} in the last 30 days")
    '.0%'
    """
    for _, field, spec, _ in string.Formatter().parse(template):
        if field == "value":
            return spec or ""
    return ""


def short_description(description: str) -> str:
    """The first clause of a catalog description, lower-cased (for texts)."""
    text = re.split(r"[:.;(]", str(description), maxsplit=1)[0].strip()
    return text[:1].lower() + text[1:] if text else text


@dataclass
class BusinessFeatures:
    """The business features of a model's columns (see the module docstring).

    ``info`` has one row per business feature (``kind``: ``numeric`` or ``categorical`` for
    a single column, ``onehot`` for levels folded into a catalog feature, ``group`` for
    columns folded by ``groups``, ``concept`` for a :data:`CONCEPTS` concept); ``columns``
    one row per model column with its catalog entry (template, description, flags).
    """

    names: list[str]
    member: np.ndarray  # (p,) business index of each model column
    level: list[object]  # per model column: the one-hot level it stands for, or None
    info: pd.DataFrame  # one row per business feature
    columns: pd.DataFrame  # one row per model column
    matrix: sparse.csr_matrix  # (p, B) 0/1

    def fold(self, values: np.ndarray) -> np.ndarray:
        """Sum per-column values (n, p) into business features (n, B)."""
        if len(self.names) == len(self.member):
            return np.asarray(values, dtype=np.float64)
        V = np.asarray(values, dtype=np.float64)
        if len(V) == 1:  # bincount adds in column order too: the same sums, faster
            return np.bincount(self.member, weights=V[0], minlength=len(self.names))[None, :]
        # members are added in column order, the same for one row and for a million, so
        # that a served reason and an explanation carry the very same contribution
        out = V[:, self._first]
        for bs, js in self._more:
            out[:, bs] += V[:, js]
        return out

    def __post_init__(self) -> None:
        # plain records: per-row pandas lookups are too slow for one-employee explanations
        self.records = {r["business_feature"]: r for r in self.info.to_dict("records")}
        self.column_records = {r["column"]: r for r in self.columns.to_dict("records")}
        self.column_position = {c: j for j, c in enumerate(self.columns.index)}
        self.kind = self.info["kind"].to_numpy(dtype=object)
        self.family = self.info["family"].to_numpy(dtype=object)
        self.actionable = self.info["actionable"].to_numpy(dtype=bool)
        self.proxy = self.info["sensitive_proxy"].to_numpy(dtype=bool)
        self._codes: dict[tuple[str, str], np.ndarray] = {}
        # per model column: the format of its value (an index into ``specs``), and the
        # single member of each business feature (-1: several, or one-hot levels)
        specs = [value_spec(str(t)) for t in self.columns["template"].tolist()]
        self.specs = list(dict.fromkeys(specs))
        self.spec_id = np.asarray([self.specs.index(x) for x in specs], dtype=np.int64)
        single = np.full(len(self.names), -1, dtype=np.int64)
        for b, name in enumerate(self.names):
            r = self.records[name]
            if r["kind"] != "onehot" and len(r["columns"]) == 1:
                single[b] = self.column_position[r["columns"][0]]
        self.single = single
        members = [np.flatnonzero(self.member == b) for b in range(len(self.names))]
        self._first = np.asarray([m[0] for m in members], dtype=np.int64)
        depth = max((len(m) for m in members), default=1)
        self._more = []
        for k in range(1, depth):
            bs = np.asarray([b for b, m in enumerate(members) if len(m) > k], dtype=np.int64)
            js = np.asarray([m[k] for m in members if len(m) > k], dtype=np.int64)
            self._more.append((bs, js))

    def codes(self, prefix: str, direction: str) -> np.ndarray:
        """Reason codes of every business feature for ``direction`` (``"UP"``/``"DOWN"``)."""
        key = (prefix, direction)
        if key not in self._codes:
            fam = [FAMILY_CODES.get(f, "FEAT") for f in self.family]
            tok = self.info["token"].tolist()
            self._codes[key] = np.asarray(
                [f"{prefix}-{f}-{t}-{direction}" for f, t in zip(fam, tok, strict=True)],
                dtype=object,
            )
        return self._codes[key]


def concept_groups(columns: list[str]) -> dict[str, str]:
    """``{column: concept}`` for the columns matching :data:`CONCEPTS` (at least two)."""
    out: dict[str, str] = {}
    for name, spec in CONCEPTS.items():
        members = [c for c in columns if re.fullmatch(spec["pattern"], c)]
        if len(members) >= 2:
            out.update({c: name for c in members})
    return out


def _normalize_groups(groups: Mapping | str | None, columns: list[str]) -> dict[str, str]:
    """``{column: business feature}`` from either mapping direction."""
    if groups is None:
        return {}
    if isinstance(groups, str):
        raise ValueError(f"groups must be 'auto', None or a mapping, got {groups!r}")
    if not isinstance(groups, Mapping):
        raise TypeError(
            "groups must be 'auto', None, a mapping {column: business feature} or "
            f"{{business feature: [columns]}}, got {type(groups).__name__}"
        )
    out: dict[str, str] = {}
    for key, value in groups.items():
        if isinstance(value, str):
            out[str(key)] = value
        else:
            for col in value:
                out[str(col)] = str(key)
    unknown = sorted(c for c in out if c not in columns)
    if unknown:
        raise ValueError(f"groups names column(s) that are not model columns: {unknown[:10]}")
    return out


def _catalog_records(cat: pd.DataFrame) -> dict[str, dict[str, object]]:
    """``{name: catalog row}`` (later rows override earlier ones)."""
    if len(cat) == 0:
        return {}
    return {str(r["name"]): r for r in cat.to_dict("records")}


def _text(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    return str(value)


def _entry(
    cat: Mapping[str, Mapping[str, object]], name: str, *, categorical: bool = False
) -> dict[str, object]:
    """Catalog fields of ``name``; a column outside the catalog reads as its name in words.

    ``template`` is never empty: a described column without one, or a column outside the
    catalog, gets :func:`~talentml.explain._columns.fallback_template`; ``subject`` is what a
    text names when the value is missing ("...: no data").
    """
    r = cat.get(name)
    if r is not None:
        label = _text(r.get("label"))
        description = _text(r.get("description")) or label or column_label(name)
        unit = _text(r.get("unit"))
        template = _text(r.get("template"))
        subject = label or short_description(description)
        fallback = not template
        if not template:
            template = fallback_template(
                label or column_label(name), categorical=categorical, unit=unit
            )
        levels = r.get("levels")
        return {
            "family": _text(r.get("family")) or "other",
            "description": description,
            "unit": unit,
            "template": template,
            "actionable": bool(r.get("actionable")) if not _na(r.get("actionable")) else False,
            "direction": _text(r.get("direction")) or "neutral",
            "sensitive_proxy": bool(r.get("sensitive_proxy"))
            if not _na(r.get("sensitive_proxy"))
            else False,
            "in_catalog": True,
            "fallback": fallback,
            "label": label,
            "subject": subject,
            "group": _text(r.get("group")),
            "window": _text(r.get("window")),
            "dtype": _text(r.get("dtype")),
            "levels": list(levels) if isinstance(levels, list | tuple | np.ndarray) else None,
        }
    label = column_label(name)
    return {
        "family": "other",
        "description": label,
        "unit": "",
        "template": fallback_template(label, categorical=categorical),
        "actionable": False,
        "direction": "neutral",
        "sensitive_proxy": False,
        "in_catalog": False,
        "fallback": True,
        "label": label,
        "subject": label,
        "group": "",
        "window": "",
        "dtype": "",
        "levels": None,
    }


def _na(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def _onehot_levels(name: str, members: list[str]) -> list[str] | None:
    """The levels of ``members`` when each is ``name`` + separator + level, else None."""
    levels = []
    for col in members:
        hit = None
        for sep in _SEPARATORS:
            if col.startswith(name + sep) and len(col) > len(name) + 1:
                hit = col[len(name) + 1 :]
                break
        if hit is None:
            return None
        levels.append(hit)
    return levels


def business_features(
    columns: list[str],
    catalog: pd.DataFrame,
    *,
    groups: Mapping | str | None = None,
    categorical: set[str] | None = None,
) -> BusinessFeatures:
    """Map the model ``columns`` to business features (see the module docstring).

    A catalog (or :func:`~talentml.explain.describe_columns`) row with a ``group`` folds its
    column into that business feature, as ``groups`` does; ``groups`` wins where both say.
    """
    categorical = categorical or set()
    cat = _catalog_records(catalog)
    names_in_catalog = set(cat)
    concepts = concept_groups(columns) if groups == "auto" else {}
    explicit = {
        c: _text(cat[c].get("group"))
        for c in columns
        if c in cat and _text(cat[c].get("group")) and _text(cat[c].get("group")) != c
    }
    if groups != "auto":
        explicit.update(_normalize_groups(groups, columns))
    for col in explicit:
        concepts.pop(col, None)
    column_set = set(columns)
    # catalog names that could head one-hot levels: longest first
    bases = sorted((n for n in names_in_catalog if n not in column_set), key=len, reverse=True)
    names: list[str] = []
    index: dict[str, int] = {}
    member = np.empty(len(columns), dtype=np.int64)
    level: list[object] = []
    kinds: dict[str, str] = {}
    for j, col in enumerate(columns):
        lvl: object = None
        kind = "categorical" if col in categorical else "numeric"
        if col in explicit:
            b = explicit[col]
            if b != col:
                kind = "group"
        elif col in concepts:
            b, kind = concepts[col], "concept"
        elif col in names_in_catalog:
            b = col
        else:
            b = col
            for base in bases:
                for sep in _SEPARATORS:
                    if col.startswith(base + sep) and len(col) > len(base) + 1:
                        b, lvl, kind = base, col[len(base) + 1 :], "onehot"
                        break
                if b != col:
                    break
        if b not in index:
            index[b] = len(names)
            names.append(b)
            kinds[b] = kind
        elif kinds[b] != kind:
            kinds[b] = "group"
        member[j] = index[b]
        level.append(lvl)
    rows = []
    for b in names:
        members = [c for c, m in zip(columns, member, strict=True) if names[m] == b]
        kind = kinds[b]
        if kind in ("numeric", "categorical") and (len(members) > 1 or members[0] != b):
            kind = "group"
        if kind == "group" and not any(c in categorical for c in members):
            # one-hot levels of a column outside the catalog, folded by groups= or a group
            # description ("Department_Sales" into "Department"): the text shows the level
            found = _onehot_levels(b, members)
            if found is not None:
                kind = "onehot"
                for c, lvl in zip(members, found, strict=True):
                    level[columns.index(c)] = lvl
        if kind == "concept":
            spec = CONCEPTS[b]
            entry = {
                **_entry(cat, b),
                "family": spec["family"],
                "description": spec["description"],
                "subject": short_description(spec["description"]),
                "unit": "",
                "template": "",
                "actionable": all(_entry(cat, c)["actionable"] for c in members),
                "direction": "neutral",
                "sensitive_proxy": any(_entry(cat, c)["sensitive_proxy"] for c in members),
                "in_catalog": False,
                "fallback": False,
            }
            token = spec["token"]
        else:
            entry = _entry(cat, b, categorical=kind in ("onehot", "categorical"))
            if kind == "group" and not entry["in_catalog"]:
                entry["sensitive_proxy"] = any(_entry(cat, c)["sensitive_proxy"] for c in members)
                fams = {_entry(cat, c)["family"] for c in members}
                entry["family"] = fams.pop() if len(fams) == 1 else "other"
            token = feature_token(b)
        rows.append(
            {"business_feature": b, **entry, "kind": kind, "columns": members, "token": token}
        )
    info = pd.DataFrame(rows).set_index("business_feature", drop=False)
    col_rows = [{"column": c, **_entry(cat, c, categorical=c in categorical)} for c in columns]
    col_info = pd.DataFrame(col_rows).set_index("column", drop=False)
    matrix = sparse.csr_matrix(
        (np.ones(len(columns)), (np.arange(len(columns)), member)),
        shape=(len(columns), len(names)),
    )
    return BusinessFeatures(
        names=names, member=member, level=level, info=info, columns=col_info, matrix=matrix
    )
