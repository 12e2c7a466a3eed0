"""Leading indicators: which early learning behaviours of new hires precede a later outcome.

:func:`leading_indicators` counts what each hire did in the first days after the hire date
(per catalog program, per activity type, overall; only statements in ``[hire, hire + window)``
stored before the window closed), turns each count into "did at least t" (t: the median),
and estimates, for every (behaviour, window), the difference in the outcome between hires who
did and hires who did not, adjusted for what was known at hire (department, level, job
family; never a sensitive attribute) by a doubly robust (AIPW) or an exact-matching
estimator. Intervals come from a cluster bootstrap over employees, p-values from the bootstrap
standard error, and the multiple-testing control (Benjamini-Hochberg or Holm) runs over every
(behaviour, window) tested. The outcome must be measured after the window closes.

A leading indicator is a *marker*, not necessarily a cause: the estimate says how hires who
showed the behaviour fared compared with similar hires who did not. It is what a nudge can
target early; whether the nudge itself helps is a question for
:func:`talentml.loop.learning_impact` or an experiment.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import RandomStateLike, check_purpose
from ._indicators_estimate import _adjust as _adjust_p
from ._indicators_estimate import (
    _behaviours,
    _Cell,
    _describe,
    _design,
    _dichotomize,
    _run,
    _statement_events,
    _user_behaviours,
    _window_days,
)
from ._indicators_outcome import _outcome_table, _sentence
from ._ruleset import RuleSet
from ._tables import _ns, _require, _utc

__all__ = ["LeadingIndicators", "early_behaviours", "leading_indicators"]

logger = logging.getLogger(__name__)

_DAY_NS = 86_400 * 10**9
_COLUMNS = [
    "behaviour",
    "window",
    "column",
    "description",
    "threshold",
    "n",
    "n_with",
    "estimate",
    "ci_low",
    "ci_high",
    "std_error",
    "p_value",
    "q_value",
    "significant",
    "effect",
    "effect_low",
    "effect_high",
    "naive",
    "sentence",
]


def _column(behaviour: str, days: int) -> str:
    return f"{behaviour}_first_{days}d"


@dataclass(frozen=True)
class LeadingIndicators:
    """Early behaviours and their adjusted association with a later outcome.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (behaviour, window), ranked (significant first, then by q-value):
        ``behaviour``, ``window`` (days), ``column`` (its name in :func:`early_behaviours`),
        ``description``, ``threshold`` (did at least this much), ``n`` hires, ``n_with`` who
        did, ``estimate`` and its ``ci_low``/``ci_high``/``std_error`` on the analysis scale
        (log of the outcome for durations), ``p_value``, ``q_value`` (adjusted),
        ``significant`` (``q_value <= alpha``), ``effect``/``effect_low``/``effect_high`` on
        the reported scale (percent change for durations, percentage points for yes/no
        outcomes, units otherwise), ``naive`` (unadjusted difference) and ``sentence``.
    outcome : str
        The outcome's name.
    scale : str
        ``"log"``, ``"binary"`` or ``"linear"``.
    higher_is_better : bool
        Whether a higher outcome is the desired direction (nudges follow it).
    method : str
        ``"doubly_robust"`` or ``"matched"``.
    alpha : float
        The multiple-testing level.
    correction : str
        ``"bh"`` or ``"holm"``.
    confidence : float
        Confidence level of the intervals.
    n_bootstrap : int
        Bootstrap replicates.
    covariates : tuple of str
        The adjustment covariates.
    excluded : pandas.DataFrame
        Outcome rows not used and why (``employee_id``, ``window``, ``reason``), and
        behaviours not tested (``employee_id`` missing).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import LeadingIndicators
    >>> r = LeadingIndicators(table=pd.DataFrame(columns=["significant"]), outcome="ramp_up")
    >>> r.to_frame().empty
    True
    """

    table: pd.DataFrame
    outcome: str
    scale: str = "linear"
    higher_is_better: bool = True
    method: str = "doubly_robust"
    alpha: float = 0.05
    correction: str = "bh"
    confidence: float = 0.95
    n_bootstrap: int = 0
    covariates: tuple[str, ...] = ()
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self, *, significant_only: bool = False) -> pd.DataFrame:
        """The ranked table (a copy), optionally only the significant rows.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import LeadingIndicators
        >>> t = pd.DataFrame({"behaviour": ["a", "b"], "significant": [True, False]})
        >>> len(LeadingIndicators(t, "y").to_frame(significant_only=True))
        1
        """
        out = self.table.copy()
        if significant_only:
            out = out[out["significant"].astype(bool)].reset_index(drop=True)
        return out

    def sentences(self, *, significant_only: bool = True) -> list[str]:
        """Each finding in plain language, ranked.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import LeadingIndicators
        >>> t = pd.DataFrame({"sentence": ["Hires who ..."], "significant": [True]})
        >>> LeadingIndicators(t, "y").sentences()
        ['Hires who ...']
        """
        return self.to_frame(significant_only=significant_only)["sentence"].tolist()

    def to_dict(self) -> dict[str, Any]:
        """Settings and findings as plain Python values (JSON-safe).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import LeadingIndicators
        >>> LeadingIndicators(pd.DataFrame(), "y").to_dict()["findings"]
        []
        """

        def plain(v: Any) -> Any:
            if isinstance(v, bool | np.bool_):
                return bool(v)
            if isinstance(v, int | np.integer):
                return int(v)
            if isinstance(v, float | np.floating):
                return float(v) if np.isfinite(v) else None
            return None if v is None or v is pd.NA else str(v)

        rows = [{k: plain(v) for k, v in r.items()} for r in self.table.to_dict(orient="records")]
        return {
            "report": "talentml.loop.leading_indicators",
            "outcome": self.outcome,
            "scale": self.scale,
            "higher_is_better": self.higher_is_better,
            "method": self.method,
            "alpha": self.alpha,
            "correction": self.correction,
            "confidence": self.confidence,
            "n_bootstrap": self.n_bootstrap,
            "covariates": list(self.covariates),
            "n_excluded": int(len(self.excluded)),
            "findings": rows,
        }

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """Strict JSON (no NaN) of :meth:`to_dict`, written to ``path`` when given.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import LeadingIndicators
        >>> '"outcome": "y"' in LeadingIndicators(pd.DataFrame(), "y").to_json()
        True
        """
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def plot(self, *, max_display: int = 10, ax: Any = None):
        """Forest plot of the top ``max_display`` findings (effect and interval).

        Significant findings are drawn filled, the others hollow; the x axis is the reported
        scale (percent change, percentage points or units).

        Returns
        -------
        matplotlib.axes.Axes
            The axes.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import LeadingIndicators
        >>> t = pd.DataFrame({"description": ["did x"], "window": [30], "effect": [-0.2],
        ...     "effect_low": [-0.3], "effect_high": [-0.1], "significant": [True],
        ...     "q_value": [0.01]})
        >>> LeadingIndicators(t, "ramp_up", scale="log").plot().get_xlabel()
        'Change in ramp_up (%)'
        """
        from matplotlib.figure import Figure

        t = self.table.head(int(max_display))
        if ax is None:
            fig = Figure(figsize=(8.0, 0.45 * max(len(t), 2) + 1.2))
            ax = fig.add_subplot()
        f = 100.0 if self.scale in ("log", "binary") else 1.0
        y = np.arange(len(t))
        eff = t["effect"].to_numpy(float) * f
        lo = eff - t["effect_low"].to_numpy(float) * f
        hi = t["effect_high"].to_numpy(float) * f - eff
        sig = t["significant"].astype(bool).to_numpy()
        for mask, face in ((sig, "#1f4e79"), (~sig, "white")):
            if mask.any():
                ax.errorbar(
                    eff[mask],
                    y[mask],
                    xerr=[lo[mask], hi[mask]],
                    fmt="o",
                    color="#1f4e79",
                    mfc=face,
                    capsize=3,
                )
        ax.axvline(0.0, color="#999999", lw=1)
        labels = [
            f"{d} (first {int(w)} days)" for d, w in zip(t["description"], t["window"], strict=True)
        ]
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        unit = {"log": "%", "binary": "percentage points"}.get(self.scale, "units")
        ax.set_xlabel(f"Change in {self.outcome} ({unit})")
        ax.set_title(
            f"Leading indicators of {self.outcome} ({self.confidence:.0%} intervals; "
            f"filled: q <= {self.alpha:g})",
            fontsize=10,
        )
        return ax

    def nudge_rules(
        self,
        *,
        action: str = "notify",
        targets: Mapping[str, str] | str | None = None,
        kind: str = "other",
        as_dicts: bool = False,
        feature_catalog: pd.DataFrame | None = None,
    ) -> RuleSet | list[dict[str, Any]]:
        """Rules that nudge new hires who do not yet show a significant behaviour.

        One rule per significant behaviour whose effect points the desired way
        (:attr:`higher_is_better`): it fires for a hire still inside the window
        (``days_since_hire`` below it) whose count so far is under the threshold. Evaluate it
        on :func:`early_behaviours` (columns ``days_since_hire`` and the behaviour's
        ``column``) with :meth:`RuleSet.evaluate`; actions then go where every rule's go.

        Parameters
        ----------
        action : str, default "notify"
            The rule action (``enroll``, ``recommend``, ``notify``, ``alert``).
        targets : mapping or str, optional
            The action's target per behaviour name (only the behaviours named get a rule),
            or one target for all: a recipient for ``notify``/``alert`` (default
            ``"manager"``), the activity IRI for ``enroll``/``recommend`` (required then).
        kind : str, default "other"
            The rules' kind.
        as_dicts : bool, default False
            Return the rule dicts instead of a :class:`RuleSet`.
        feature_catalog : pandas.DataFrame, optional
            Passed to :class:`RuleSet`.

        Returns
        -------
        RuleSet or list of dict
            The nudge rules (empty when nothing is significant).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import LeadingIndicators
        >>> t = pd.DataFrame({"behaviour": ["completed_onboarding"], "window": [30],
        ...     "column": ["completed_onboarding_first_30d"], "threshold": [4.0],
        ...     "description": ["completed at least 4 of the 8 onboarding activities"],
        ...     "estimate": [-0.2], "significant": [True], "sentence": ["..."]})
        >>> r = LeadingIndicators(t, "ramp_up", scale="log", higher_is_better=False)
        >>> r.nudge_rules(as_dicts=True)[0]["when"][0]
        {'column': 'days_since_hire', 'op': '<', 'value': 30}
        """
        rules = []
        good = self.table[self.table["significant"].astype(bool)]
        for _, r in good.iterrows():
            if (r["estimate"] > 0) != self.higher_is_better:
                continue
            b = str(r["behaviour"])
            if isinstance(targets, str):
                target = targets
            elif targets is not None:
                if b not in targets:
                    continue
                target = targets[b]
            elif action in ("notify", "alert"):
                target = "manager"
            else:
                raise ValueError(
                    f"nudge_rules(action={action!r}) needs the activity IRI of behaviour "
                    f"{b!r} in targets= (e.g. {{{b!r}: 'https://lms.example.com/course/x'}})"
                )
            rid = f"nudge-{b}-{int(r['window'])}d".replace("_", "-")[:80]
            rules.append(
                {
                    "id": rid,
                    "kind": kind,
                    "description": str(r["sentence"]),
                    "when": [
                        {"column": "days_since_hire", "op": "<", "value": int(r["window"])},
                        {"column": str(r["column"]), "op": "<", "value": float(r["threshold"])},
                    ],
                    "then": [{"action": action, "target": target}],
                    "reason": (
                        f"{{employee_id}}: not yet {r['description']} in the first "
                        f"{int(r['window'])} days (a leading indicator of {self.outcome})"
                    ),
                }
            )
        if as_dicts:
            return rules
        return RuleSet(rules, feature_catalog=feature_catalog)


# ------------------------------------------------------------------------------ behaviours


def _catalog_programs(course_catalog: pd.DataFrame | None) -> dict[str, int]:
    if course_catalog is None:
        return {}
    _require(course_catalog, ("activity_id", "program"), "course_catalog")
    prog = course_catalog.dropna(subset=["program"])
    sizes = prog.groupby(prog["program"].astype(str))["activity_id"].nunique()
    return {str(k): int(v) for k, v in sizes.items()}


def early_behaviours(
    employees: pd.DataFrame,
    statements: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp | None = None,
    course_catalog: pd.DataFrame | None = None,
    windows: Sequence[str | int] = ("30D", "90D"),
) -> pd.DataFrame:
    """Each hire's early learning per window: what :func:`leading_indicators` tests.

    Counts statements in ``[hire, hire + window)`` that were stored before the window
    closed: distinct activities completed per catalog program (``completed_<program>``),
    sessions per activity type (``sessions_<type>``), ``sessions_all``, ``completed_all``
    and ``active_days``, one column per behaviour and window (``<behaviour>_first_<days>d``).

    With ``as_of``, the table is the one nudge rules evaluate: hires with
    ``hire_date <= as_of < hire_date + longest window`` and only what was stored before
    ``as_of`` (the count so far), with ``as_of`` and ``days_since_hire`` columns.

    Parameters
    ----------
    employees : pandas.DataFrame
        ``employee_id`` and ``hire_date`` (UTC).
    statements : pandas.DataFrame
        Normalized statements (``employee_id``, ``verb``, ``object_id``, ``timestamp``;
        ``stored``, ``activity_type``, ``completion``, ``success`` when present).
    as_of : str or Timestamp, optional
        Point in time of a nudge run (see above). Default: every hire, whole windows.
    course_catalog : pandas.DataFrame, optional
        ``activity_id`` and ``program`` (one ``completed_<program>`` per program).
    windows : sequence of str or int, default ("30D", "90D")
        Windows after the hire date.

    Returns
    -------
    pandas.DataFrame
        One row per hire: ``employee_id`` (and ``as_of``, ``days_since_hire``), then the
        behaviour columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import early_behaviours
    >>> emp = pd.DataFrame({"employee_id": ["a", "b"],
    ...     "hire_date": pd.to_datetime(["2025-01-06", "2025-01-06"], utc=True)})
    >>> st = pd.DataFrame({"employee_id": ["a", "a", "b"], "verb": ["completed"] * 3,
    ...     "object_id": ["o1", "o2", "o1"],
    ...     "timestamp": pd.to_datetime(["2025-01-07", "2025-03-01", "2025-01-20"], utc=True)})
    >>> cat = pd.DataFrame({"activity_id": ["o1", "o2"], "program": ["onboarding"] * 2})
    >>> early_behaviours(emp, st, course_catalog=cat, windows=["30D", "90D"])[
    ...     ["employee_id", "completed_onboarding_first_30d", "completed_onboarding_first_90d"]]
      employee_id  completed_onboarding_first_30d  completed_onboarding_first_90d
    0           a                             1.0                             2.0
    1           b                             1.0                             1.0
    """
    _require(employees, ("employee_id", "hire_date"), "employees")
    _require(statements, ("employee_id", "verb", "object_id", "timestamp"), "statements")
    days = [_window_days(w) for w in windows]
    sizes = _catalog_programs(course_catalog)
    events = _statement_events(statements, course_catalog)
    hire = pd.Series(
        _ns(_utc(employees["hire_date"], "employees", "hire_date")),
        index=employees["employee_id"].astype(str).to_numpy(),
    )
    until = None
    if as_of is not None:
        t = pd.Timestamp(as_of)
        t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
        now = t.value
        hire = hire[(hire <= now) & (hire + max(days) * _DAY_NS > now)]
        until = pd.Series(now, index=hire.index)
        events = events[events["known"] < now]
    types = sorted(t for t in events["type"].dropna().unique() if t)
    out = pd.DataFrame({"employee_id": hire.index.astype(str)})
    if as_of is not None:
        out["as_of"] = pd.Timestamp(now, tz="UTC")
        out["days_since_hire"] = (now - hire.to_numpy()) / _DAY_NS
    for d in days:
        b = _behaviours(events, hire, d, programs=sorted(sizes), types=types, until=until)
        b.columns = [_column(c, d) for c in b.columns]
        out = out.join(b, on="employee_id")
    return out.astype({"employee_id": "string"}).reset_index(drop=True)


# ------------------------------------------------------------------------------ estimation
def _validate(method, alpha, confidence, n_bootstrap, correction, early_outcomes, covariates):
    if method not in ("doubly_robust", "matched"):
        raise ValueError(f"method must be 'doubly_robust' or 'matched', got {method!r}")
    for name, v in (("alpha", alpha), ("confidence", confidence)):
        if not isinstance(v, float | int) or not 0 < v < 1:
            raise ValueError(f"{name} must be in (0, 1), got {v!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 20:
        raise ValueError(f"n_bootstrap must be an int >= 20, got {n_bootstrap!r}")
    if correction not in ("bh", "holm"):
        raise ValueError(f"correction must be 'bh' or 'holm', got {correction!r}")
    if early_outcomes not in ("raise", "drop"):
        raise ValueError(f"early_outcomes must be 'raise' or 'drop', got {early_outcomes!r}")
    check_purpose(
        covariates,
        table="covariates",
        message="leading indicators adjust only for what is known at hire and never for a "
        "protected attribute (purpose limitation); drop it from covariates=.",
    )


def _sample(table, employees, covariates, excluded):
    """Outcome rows of known employees, with hire times (ns) and covariates."""
    emp = employees.assign(employee_id=employees["employee_id"].astype(str))
    if emp["employee_id"].duplicated().any():
        raise ValueError("table 'employees': column 'employee_id' must be unique")
    emp = emp.set_index("employee_id")
    unknown = ~table["employee_id"].isin(emp.index)
    if unknown.any():
        raise ValueError(
            f"table 'outcome': {int(unknown.sum())} employee_id(s) are not in employees, e.g. "
            f"{table.loc[unknown, 'employee_id'].head(5).tolist()}"
        )
    hire = pd.Series(_ns(_utc(emp["hire_date"], "employees", "hire_date")), index=emp.index)
    ids = table["employee_id"].to_numpy(str)
    return ids, hire.reindex(ids), emp.loc[ids, list(covariates)].reset_index(drop=True)


def _cells(
    table, ids, hire, days_list, events, sizes, behaviours, early_outcomes, min_share, excluded
):
    """Every (behaviour, window) to test, and the rows each may use."""
    measured = _ns(table["measured_at"])
    types = sorted(t for t in events["type"].dropna().unique() if t)
    names = (
        behaviours if isinstance(behaviours, Sequence) and not isinstance(behaviours, str) else None
    )
    own = behaviours if isinstance(behaviours, pd.DataFrame) else None
    cells = []
    for d in days_list:
        early = measured < hire.to_numpy(np.int64) + d * _DAY_NS
        if early.any() and early_outcomes == "raise":
            rows = table.loc[early, ["employee_id", "measured_at"]].head(5)
            raise ValueError(
                f"table 'outcome': {int(early.sum())} row(s) have a measured_at before the "
                f"{d}-day behaviour window closes (hire_date + {d} days): the outcome must be "
                "measured after the behaviours it is compared with (point in time). Use a "
                "shorter window, or early_outcomes='drop' to leave them out (which conditions "
                f"on the outcome's timing). First rows:\n{rows.to_string(index=False)}"
            )
        excluded += [(e, f"{d}D", "outcome measured before the window closed") for e in ids[early]]
        b = _behaviours(
            events,
            pd.Series(hire.to_numpy(np.int64), index=ids),
            d,
            programs=sorted(sizes),
            types=types,
        )
        values = {c: b[c].reindex(ids).to_numpy(float) for c in b.columns}
        descs = {c: _describe(c, sizes) for c in b.columns}
        if own is not None:
            for c, v in _user_behaviours(
                own, pd.Series(hire.to_numpy(np.int64), index=ids), d, ids
            ).items():
                values[c] = v.to_numpy(float)
                descs[c] = f"had {c} of at least {{t}}"
        for c, v in values.items():
            if names is not None and c not in names:
                continue
            usable = ~early & np.isfinite(v)
            a, t, why = _dichotomize(v[usable], min_share=min_share)
            if a is None:
                logger.info("leading indicators: %s in %d days not tested (%s)", c, d, why)
                continue
            full = np.zeros(len(ids), dtype=bool)
            full[usable] = a
            cells.append(_Cell(c, d, descs[c], t, usable, full))
    return cells


def leading_indicators(
    outcome: pd.DataFrame | str,
    *,
    employees: pd.DataFrame,
    statements: pd.DataFrame,
    course_catalog: pd.DataFrame | None = None,
    behaviours: pd.DataFrame | Sequence[str] | None = None,
    windows: Sequence[str | int] = ("30D", "90D"),
    method: str = "doubly_robust",
    alpha: float = 0.05,
    correction: str = "bh",
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    covariates: Sequence[str] = ("department", "job_level", "job_family"),
    productivity: pd.DataFrame | None = None,
    reviews: pd.DataFrame | None = None,
    observed_until: str | pd.Timestamp | None = None,
    value_column: str = "value",
    outcome_name: str | None = None,
    scale: str = "auto",
    higher_is_better: bool | None = None,
    early_outcomes: str = "raise",
    min_share: float = 0.1,
    random_state: RandomStateLike = 0,
) -> LeadingIndicators:
    """Which early learning behaviours of new hires precede a later outcome, and by how much.

    For every window (e.g. the first 30 and 90 days after the hire date) each hire's learning
    is counted from the statements in ``[hire, hire + window)`` that were stored before the
    window closed (:func:`early_behaviours`: activities completed per catalog program,
    sessions per activity type, overall sessions, completions and active days, and any
    ``behaviours`` table of your own). Each count becomes a yes/no behaviour, "did at least
    t", at the median t (at least 1 when the median is 0). For each (behaviour, window) the
    average difference in the outcome between hires who did and hires who did not is
    estimated with adjustment for the ``covariates`` known at hire:

    * ``method="doubly_robust"``: augmented inverse-probability weighting (a logistic
      propensity model and a linear outcome model per arm on the one-hot covariates; the
      estimate is consistent when either model is right);
    * ``method="matched"``: exact matching on the covariates (within-stratum differences,
      weighted by stratum size; strata without both groups left out).

    Durations (``scale="log"``, e.g. ramp-up) are analysed on the log scale and reported as
    percent changes; yes/no outcomes as percentage points. Intervals are percentile intervals
    of a cluster bootstrap over employees (every (behaviour, window) from the same
    resamples); p-values are two-sided from the bootstrap standard error (normal
    approximation), adjusted over everything tested by Benjamini-Hochberg (``"bh"``, false
    discovery rate ``alpha``) or Holm (``"holm"``, family-wise error rate).

    Parameters
    ----------
    outcome : pandas.DataFrame or {"ramp_up", "exit_1y", "first_rating"}
        One row per hire: ``employee_id``, the value (``value_column``) and ``measured_at``
        (UTC; must be at or after ``hire_date + window`` for every window). Or a shortcut:
        ``"ramp_up"`` (days to sustained productivity, the midpoint of the ramp-up label's
        interval, from ``productivity=``; measured at the end of the first productive
        period; right-censored hires left out), ``"exit_1y"`` (left within 365 days; needs
        ``observed_until=``), ``"first_rating"`` (overall rating of the first review period
        ending 180 days or more after the hire date; needs ``reviews=``).
    employees : pandas.DataFrame
        ``employee_id``, ``hire_date`` and the ``covariates``.
    statements : pandas.DataFrame
        Normalized statements (see :func:`early_behaviours`).
    course_catalog : pandas.DataFrame, optional
        ``activity_id`` and ``program``: one behaviour per program.
    behaviours : pandas.DataFrame or sequence of str, optional
        A sequence keeps only those behaviour names (``"completed_onboarding"``). A table
        adds your own: ``employee_id``, ``behaviour``, ``window``, ``value`` and
        ``observed_at`` (refused when outside ``[hire, hire + window)``).
    windows : sequence of str or int, default ("30D", "90D")
        Windows after the hire date.
    method : {"doubly_robust", "matched"}, default "doubly_robust"
        The adjusted estimator.
    alpha : float, default 0.05
        Level of the multiple-testing control.
    correction : {"bh", "holm"}, default "bh"
        Benjamini-Hochberg q-values or Holm adjusted p-values.
    n_bootstrap : int, default 200
        Cluster bootstrap replicates (at least 20).
    confidence : float, default 0.95
        Confidence level of the intervals.
    covariates : sequence of str, default ("department", "job_level", "job_family")
        Columns of ``employees`` known at hire to adjust for (a sensitive attribute raises
        :class:`~talentml.exceptions.PurposeLimitationError`).
    productivity, reviews : pandas.DataFrame, optional
        For the ``"ramp_up"`` and ``"first_rating"`` shortcuts.
    observed_until : str or Timestamp, optional
        For ``"exit_1y"``: exits are known up to this date.
    value_column : str, default "value"
        The outcome table's value column.
    outcome_name : str, optional
        The outcome in sentences (default: the shortcut's or ``value_column``).
    scale : {"auto", "log", "binary", "linear"}, default "auto"
        ``auto``: the shortcut's; for a table, ``binary`` when values are 0/1, else
        ``linear``.
    higher_is_better : bool, optional
        The desired direction (for nudges); default: the shortcut's, else True.
    early_outcomes : {"raise", "drop"}, default "raise"
        What to do with outcomes measured before a window closes.
    min_share : float, default 0.1
        A behaviour is tested only when at least this share of hires is on each side.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the bootstrap.

    Returns
    -------
    LeadingIndicators
        The ranked findings, with sentences, a forest plot and nudge rules.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.loop import leading_indicators
    >>> rng = np.random.default_rng(0)
    >>> n = 300
    >>> hire = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 200, n), "D")
    >>> emp = pd.DataFrame({"employee_id": [f"e{i}" for i in range(n)], "hire_date": hire,
    ...                     "department": rng.choice(["Sales", "Ops"], n)})
    >>> keen = rng.random(n) < 0.5
    >>> st = pd.DataFrame({"employee_id": emp["employee_id"][keen], "verb": "completed",
    ...     "object_id": "welcome", "timestamp": hire[keen] + pd.Timedelta("3D")})
    >>> cat = pd.DataFrame({"activity_id": ["welcome"], "program": ["onboarding"]})
    >>> days = 90 * np.exp(-0.3 * keen + rng.normal(0, 0.2, n))
    >>> y = pd.DataFrame({"employee_id": emp["employee_id"], "value": days,
    ...                   "measured_at": hire + pd.Timedelta("200D")})
    >>> r = leading_indicators(y, employees=emp, statements=st, course_catalog=cat,
    ...     windows=["30D"], covariates=["department"], scale="log", n_bootstrap=50,
    ...     outcome_name="days to productivity", behaviours=["completed_onboarding"])
    >>> print(r.sentences()[0][:79])
    Hires who completed at least 1 of the 1 onboarding activities in their first 30
    """
    covariates = tuple(covariates)
    _validate(method, alpha, confidence, n_bootstrap, correction, early_outcomes, covariates)
    _require(employees, ("employee_id", "hire_date", *covariates), "employees")
    _require(statements, ("employee_id", "verb", "object_id", "timestamp"), "statements")
    days_list = sorted({_window_days(w) for w in windows})
    if not days_list:
        raise ValueError("windows must name at least one window")
    table, spec, excl = _outcome_table(
        outcome,
        employees=employees,
        productivity=productivity,
        reviews=reviews,
        observed_until=observed_until,
        value_column=value_column,
        outcome_name=outcome_name,
        scale=scale,
        higher_is_better=higher_is_better,
    )
    excluded: list[tuple[str, str, str]] = [(e, "", why) for e, why in excl]
    ids, hire, cov = _sample(table, employees, covariates, excluded)
    sizes = _catalog_programs(course_catalog)
    events = _statement_events(statements, course_catalog)
    cells = _cells(
        table, ids, hire, days_list, events, sizes, behaviours, early_outcomes, min_share, excluded
    )
    y = table["value"].to_numpy(float)
    y = np.log(y) if spec.scale == "log" else y
    x = _design(cov)
    strata = (
        pd.MultiIndex.from_frame(cov.astype("string").fillna("(missing)")).factorize()[0]
        if covariates
        else np.zeros(len(ids), dtype=np.int64)
    )
    stats = _run(cells, method, x, strata, y, ids, n_bootstrap, random_state, confidence)
    p = np.array([s[4] for s in stats])
    qv = _adjust_p(p, correction)
    rows = []
    for c, (est, lo, hi, se, pv), q in zip(cells, stats, qv, strict=True):
        use = c.usable
        naive = float(y[use & c.a].mean() - y[use & ~c.a].mean())
        sig = bool(np.isfinite(q) and q <= alpha)
        eff, elo, ehi, text = _sentence(spec, c, est, lo, hi, q, confidence, alpha)
        rows.append(
            (
                c.behaviour,
                c.days,
                _column(c.behaviour, c.days),
                c.description.format(t=f"{c.threshold:g}"),
                c.threshold,
                int(use.sum()),
                int((use & c.a).sum()),
                est,
                lo,
                hi,
                se,
                pv,
                q,
                sig,
                eff,
                elo,
                ehi,
                naive,
                text,
            )
        )
    out = pd.DataFrame(rows, columns=_COLUMNS)
    if len(out):
        out = (
            out.assign(_abs=out["estimate"].abs())
            .sort_values(
                ["significant", "q_value", "_abs"], ascending=[False, True, False], kind="stable"
            )
            .drop(columns="_abs")
            .reset_index(drop=True)
        )
    result = LeadingIndicators(
        table=out,
        outcome=spec.name,
        scale=spec.scale,
        higher_is_better=spec.higher_is_better,
        method=method,
        alpha=float(alpha),
        correction=correction,
        confidence=float(confidence),
        n_bootstrap=int(n_bootstrap),
        covariates=covariates,
        excluded=pd.DataFrame(excluded, columns=["employee_id", "window", "reason"]).astype(
            "string"
        ),
    )
    logger.info(
        "leading indicators of %s: %d behaviour x window tested on %d hires, %d significant "
        "(%s, %s at %.2f)",
        spec.name,
        len(out),
        len(ids),
        int(out["significant"].sum()) if len(out) else 0,
        method,
        correction,
        alpha,
    )
    return result
