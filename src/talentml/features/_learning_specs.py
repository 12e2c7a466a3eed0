"""The learning features as data: their series, probes, catalog entries, inputs and guards.

The catalog entries are the rows of ``learning_features.toml`` (shipped next to this module),
read by :func:`learning_specs`.

See :mod:`talentml.features._learning` for how a selection of them becomes SQL.
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ._catalog import FeatureSpec, Guard
from ._pit import DAY_US, Window
from ._sql import days_between, ratio

__all__ = [
    "MANDATORY_VALID",
    "UNKNOWN_SERIES",
    "VERB_FAMILIES",
    "Series",
    "effective_expr",
    "guard_condition",
    "learning_specs",
]

VERB_FAMILIES = {
    "launched": ("launched", "initialized", "attempted"),
    "completed": ("completed",),
    "passed": ("passed",),
    "failed": ("failed",),
    "experienced": ("experienced", "played", "watched", "viewed", "read"),
}
#: A mandatory course stays current this long after it was passed.
MANDATORY_VALID = Window(365)
#: Catalog levels (1 foundation .. 4 expert).
SKILL_LEVELS = (1, 2, 3, 4)
#: A quarter, in days, for "per quarter" rates.
QUARTER_DAYS = 365.25 / 4
#: The window of onboarding engagement after the hire date.
ONBOARDING = Window(30)
#: Starts before this local hour, or at or after the next one, are off-hours (weekdays).
WORKDAY_HOURS = (8, 18)
#: Longest duration subtracted from ``timestamp`` to estimate the start of the learning.
MAX_SESSION = Window(1)

#: Inputs of the learning features beyond the statements (see :data:`INPUTS`).
VOL, SKILLS, LEVEL = "catalog.voluntary", "catalog.skills", "catalog.level"
MANDATORY, PROGRAM, TZ = "catalog.mandatory", "catalog.program", "employees.timezone"

_ONE = "CAST(1 AS DOUBLE)"
_ZERO = "CAST(0 AS DOUBLE)"
_TOKEN = re.compile(r"\{(\w+)@(\w+)\}")


def _flag(cond: str) -> str:
    return f"CASE WHEN {cond} THEN {_ONE} ELSE {_ZERO} END"


# ----------------------------------------------------------------------------- series
@dataclass(frozen=True)
class Series:
    """An additive quantity: ``expr`` per row of its source, summed (or maxed) before probes."""

    source: str  # "statement", "activity", "week", "skill"
    expr: str
    agg: str = "SUM"
    #: the weight as a TINYINT, for counts read back by the eager path (compact and exact)
    int_expr: str | None = None


def _count(cond: str | None) -> Series:
    if cond is None:
        return Series("statement", _ONE, int_expr="CAST(1 AS TINYINT)")
    return Series(
        "statement", _flag(cond), int_expr=f"CAST(CASE WHEN {cond} THEN 1 ELSE 0 END AS TINYINT)"
    )


#: Columns of ``l_st`` each kind of series reads (beyond ``k`` and ``t``).
_STATEMENT_COLUMNS = {
    "n_launched": ("vf",),
    "n_completed": ("vf",),
    "n_passed": ("vf",),
    "n_failed": ("vf",),
    "n_experienced": ("vf",),
    "n_compl": ("compl",),
    "minutes": ("minutes",),
    "score_sum": ("score",),
    "score_n": ("score",),
    "n_vol": ("vol",),
    "n_vol_compl": ("vol", "compl"),
    "n_vol_compl_off": ("vol", "compl", "off"),
    "n_off": ("off",),
    "n_wkend": ("wkend",),
    "n_onb_compl": ("onb", "compl"),
    "n_cp": ("compl", "vf"),
    "n_volu": ("volu",),
    "n_volu_compl": ("volu", "compl"),
    "n_sku_cp": ("sku", "compl", "vf"),
    "n_lvu_cp": ("lvu", "compl", "vf"),
    "n_onbu_compl": ("onbu", "compl"),
}
#: Series that count statements whose catalog value is unknown (the activity is in the
#: catalog with a missing value), and the input they are about. They are read only when
#: that input is partly missing; otherwise they are zero by construction and left out.
UNKNOWN_SERIES = {
    "n_volu": "catalog.voluntary",
    "n_volu_compl": "catalog.voluntary",
    "n_sku_cp": "catalog.skills",
    "n_lvu_cp": "catalog.level",
    "n_onbu_compl": "catalog.program",
}
#: Sources of distinct counts and the ``l_st`` column of their key.
_DISTINCT_KEYS = {"activity": "object_id", "week": "week"}
_SOURCE_COLUMNS = {
    "activity": ("object_id",),
    "week": ("week",),
    "skill": ("object_id", "compl", "vf"),
}


def _series(windows: tuple[Window, ...]) -> dict[str, Series]:
    s: dict[str, Series] = {
        "n": _count(None),
        "n_launched": _count("vf = 'launched'"),
        "n_completed": _count("vf = 'completed'"),
        "n_passed": _count("vf = 'passed'"),
        "n_failed": _count("vf = 'failed'"),
        "n_experienced": _count("vf = 'experienced'"),
        "n_compl": _count("compl = 1"),
        "minutes": Series("statement", "minutes"),
        "score_sum": Series("statement", f"COALESCE(score, {_ZERO})"),
        "score_n": _count("score IS NOT NULL"),
        "n_vol": _count("vol = 1"),
        "n_vol_compl": _count("vol = 1 AND compl = 1"),
        "n_vol_compl_off": _count("vol = 1 AND compl = 1 AND off = 1"),
        "n_off": _count("off = 1"),
        "n_wkend": _count("wkend = 1"),
        "n_onb_compl": _count("onb = 1 AND compl = 1"),
        # completions and passes: what skill facts come from
        "n_cp": _count("compl = 1 OR vf = 'passed'"),
        # statements on catalog activities whose value is unknown (see UNKNOWN_SERIES)
        "n_volu": _count("volu = 1"),
        "n_volu_compl": _count("volu = 1 AND compl = 1"),
        "n_sku_cp": _count("sku = 1 AND (compl = 1 OR vf = 'passed')"),
        "n_lvu_cp": _count("lvu = 1 AND (compl = 1 OR vf = 'passed')"),
        "n_onbu_compl": _count("onbu = 1 AND compl = 1"),
        "last_t": Series("statement", "t", agg="MAX"),
        "act_first": Series("activity", "first"),
        "wk_first": Series("week", "first"),
        "skill_new": Series("skill", "new"),
        "skill_gain": Series("skill", "gain"),
    }
    for w in windows:
        for key in ("act", "wk"):
            source = "activity" if key == "act" else "week"
            s[f"{key}_a_{w.label}"] = Series(source, f"a:{w.days}")
            s[f"{key}_b_{w.label}"] = Series(source, f"b:{w.days}")
    return s


def _probes(windows: tuple[Window, ...]) -> dict[str, str]:
    """Probe name -> SQL time (microseconds) over the spine CTE ``sp``."""
    probes = {"asof": "sp.a", "hire": "LEAST(sp.hire_us, sp.a)"}
    probes["hire30"] = f"LEAST(sp.hire_us + {ONBOARDING.us}, sp.a)"
    for w in windows:
        probes[f"lo_{w.label}"] = f"sp.a - {w.us}"
        probes[f"lo2_{w.label}"] = f"sp.a - {2 * w.us}"
    recent, prior = _dropoff_windows(windows)
    probes["drop"] = f"sp.a - {recent.us + prior.us}"
    return probes


def _dropoff_windows(windows: tuple[Window, ...]) -> tuple[Window, Window]:
    return (windows[0], windows[1] if len(windows) > 1 else windows[0])


# ------------------------------------------------------------------------------ specs
#: The catalog of the learning features, shipped in the package (read by :func:`learning_specs`).
TABLE = "learning_features.toml"
#: The shorthands an ``expr`` of the table may use, with their number of arguments.
_MACROS = {"win": 1, "diff": 3, "ratio": 2, "days_between": 2}
_MACRO = re.compile(r"\b(" + "|".join(_MACROS) + r")\(")


@functools.cache
def _table() -> dict[str, Any]:
    """The parsed :data:`TABLE` (read once)."""
    text = resources.files(__package__).joinpath(TABLE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _expand(expr: str, lo: str | None) -> str:
    """Replace the shorthands of an ``expr`` (``win``, ``diff``, ``ratio``, ``days_between``)."""
    out: list[str] = []
    pos = 0
    while match := _MACRO.search(expr, pos):
        out.append(expr[pos : match.start()])
        name = match.group(1)
        args, pos = _split_args(expr, match.end())
        if len(args) != _MACROS[name]:
            raise ValueError(f"{TABLE}: {name} takes {_MACROS[name]} argument(s): {expr!r}")
        args = [_expand(a, lo) for a in args]
        if name == "win":
            if lo is None:
                raise ValueError(f"{TABLE}: win() is for per-window features: {expr!r}")
            args = [args[0], "asof", lo]
            name = "diff"
        if name == "diff":
            series, hi, low = args
            out.append(f"({{{series}@{hi}}} - {{{series}@{low}}})")
        elif name == "ratio":
            out.append(ratio(*args))
        else:
            out.append(days_between(*args))
    out.append(expr[pos:])
    return "".join(out)


def _split_args(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments of the call opened before ``start``, and its end."""
    depth, args, cur = 0, [], start
    for j in range(start, len(text)):
        ch = text[j]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                args.append(text[cur:j].strip())
                return args, j + 1
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[cur:j].strip())
            cur = j + 1
    raise ValueError(f"{TABLE}: unbalanced call in {text!r}")


def _placeholders(windows: tuple[Window, ...]) -> dict[str, object]:
    """The values of the placeholders every row of the table may use."""
    longest = windows[-1]
    recent, prior = _dropoff_windows(windows)
    return {
        "longest_lab": longest.label,
        "longest_days": longest.days,
        "longest_window": longest.text,
        "per_quarter": repr(longest.days / QUARTER_DAYS),
        "recent_lab": recent.label,
        "recent_days": recent.days,
        "recent_window": recent.text,
        "prior_lab": prior.label,
        "prior_days": prior.days,
        "prior_window": prior.text,
        "quarter_days": repr(QUARTER_DAYS),
        "day_us": DAY_US,
    }


def _window_placeholders(w: Window) -> dict[str, object]:
    """The values of the per-window placeholders for ``w``."""
    return {
        "lab": w.label,
        "days": w.days,
        "window": w.text,
        "last": f"in the last {w.days} days",
        "lo": f"lo_{w.label}",
        "prior": f"lo2_{w.label}",
        "w_us": w.us,
    }


def _guard(text: str, kinds: dict[str, dict[str, str]]) -> Guard:
    """A :class:`~talentml.features._catalog.Guard` from ``"kind hi lo"`` (or ``"kind"``)."""
    kind, *probes = text.split()
    spec = kinds[kind]
    if not probes:
        return Guard(spec["input"])
    hi, lo = probes
    return Guard(spec["input"], hi, lo, spec["unknown"], spec["base"])


def _spec(row: dict[str, Any], values: dict[str, object], kinds: dict) -> FeatureSpec:
    """One row of the table as a :class:`~talentml.features._catalog.FeatureSpec`."""

    def fill(text: str) -> str:
        return string.Template(text).substitute(values)

    lo = values.get("lo")
    return FeatureSpec(
        name=fill(row["name"]),
        description=fill(row["description"]),
        unit=row["unit"],
        family="learning",
        window=fill(row["window"]),
        actionable=row["actionable"],
        direction=row["direction"],
        template=fill(row["template"]),
        dtype=row["dtype"],
        expr=_expand(fill(row["expr"]), None if lo is None else str(lo)),
        sensitive_proxy=row.get("sensitive_proxy", False),
        group=row.get("group", "main"),
        needs=("statements", *row.get("needs", ())),
        guards=tuple(_guard(fill(g), kinds) for g in row.get("guards", ())),
    )


def learning_specs(windows: tuple[Window, ...]) -> list[FeatureSpec]:
    """The learning features for ``windows``, in output order.

    They are the rows of :data:`TABLE` (``learning_features.toml``, next to this module): a
    run of per-window rows is repeated for every window, window by window.
    """
    table = _table()
    kinds = table["guard"]
    values = _placeholders(windows)
    specs: list[FeatureSpec] = []
    block: list[dict[str, Any]] = []
    for row in [*table["feature"], None]:
        if row is not None and row.get("per_window", False):
            block.append(row)
            continue
        for w in windows if block else ():
            for r in block:
                specs.append(_spec(r, {**values, **_window_placeholders(w)}, kinds))
        block = []
        if row is not None:
            specs.append(_spec(row, values, kinds))
    return specs


def effective_expr(spec: FeatureSpec, partial: frozenset[str] | set[str]) -> str:
    """The expression of ``spec`` for inputs of which ``partial`` are partly missing.

    Readings of an :data:`UNKNOWN_SERIES` whose input is complete are zero (they are not
    computed); each :class:`~talentml.features._catalog.Guard` of a partly missing input
    makes the feature NULL on the rows where that input is unknown. With complete inputs
    the expression is the spec's own, so the values are exactly those of a complete build.
    """
    expr = _TOKEN.sub(lambda m: _zero_unknown(m, partial), spec.expr)
    cond = guard_condition(spec, partial)
    if cond is None:
        return expr
    return f"(CASE WHEN {cond} THEN NULL ELSE {expr} END)"


def _zero_unknown(m: re.Match, partial) -> str:
    name = m.group(1)
    if name in UNKNOWN_SERIES and UNKNOWN_SERIES[name] not in partial:
        return _ZERO
    return m.group(0)


def guard_condition(spec: FeatureSpec, partial: frozenset[str] | set[str]) -> str | None:
    """SQL condition (``{series@probe}`` placeholders) under which ``spec`` is NULL because a
    partly missing input is unknown on the row; None when no guard applies."""
    conds: list[str] = []
    for g in spec.guards:
        if g.input not in partial:
            continue
        if not g.unknown:
            # a per-employee input (the time zone): unknown for the whole row
            conds.append("sp.tz IS NULL")
            continue
        unknown = f"({{{g.unknown}@{g.hi}}} - {{{g.unknown}@{g.lo}}})"
        base = f"({{{g.base}@{g.hi}}} - {{{g.base}@{g.lo}}})"
        conds.append(f"({unknown} > {_ZERO} AND {base} - {unknown} = {_ZERO})")
    if not conds:
        return None
    return " OR ".join(dict.fromkeys(conds))
