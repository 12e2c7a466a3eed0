"""The return on a learning program: retention, productivity, efficiency, and the money.

:func:`roi` measures what can be measured - participants' voluntary exits against matched
non-participants (Kaplan-Meier, :mod:`talentml.loop._roi_retention`) and the rating change of
:func:`learning_impact` - counts what the loop automated, and turns them into money with the
user's own costs and values. Every monetary figure rests on assumptions (salaries, the cost of
replacing a leaver, hourly rates, minutes per manual action); each output names them, and the
sensitivity table shows how far each one moves the result and where it breaks even.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import RandomStateLike, check_purpose, spawn_seed
from ..config import show_progress as _show_progress
from ._impact import learning_impact
from ._roi_rampup import _ramp_design, _ramp_up
from ._roi_result import ROI
from ._roi_retention import _as_utc, _design, _retention
from ._tables import _utc_ts

__all__ = ["DEFAULT_ASSUMPTIONS", "roi", "roi_money"]

logger = logging.getLogger(__name__)

#: The assumptions :func:`roi` uses when the user sets none, and what each means. Costs have
#: no default: ``costs["per_participant"]`` is required.
DEFAULT_ASSUMPTIONS: dict[str, tuple[float, str]] = {
    "per_participant": (np.nan, "program cost per participant (money)"),
    "hours_per_participant": (0.0, "working hours each participant spends in the program"),
    "fixed": (0.0, "fixed program cost (money)"),
    "annual_salary": (80_000.0, "average annual salary of a participant (money)"),
    "replacement_cost_multiple": (0.5, "cost of replacing a leaver, as a multiple of salary"),
    "hourly_rate": (50.0, "loaded cost of one working hour (money)"),
    "value_per_rating_point": (0.0, "value of one rating point per participant (money)"),
    "minutes_per_manual_action": (12.0, "minutes one action would take done by hand"),
    "productivity_share_while_ramping": (
        0.5,
        "share of full productivity a hire delivers while ramping up (0 to 1)",
    ),
}
_GROUPS = {
    "costs": ("per_participant", "hours_per_participant", "fixed"),
    "values": (
        "annual_salary",
        "replacement_cost_multiple",
        "hourly_rate",
        "value_per_rating_point",
    ),
    "assumptions": ("minutes_per_manual_action", "productivity_share_while_ramping"),
}


def _inputs(costs, values, assumptions) -> pd.DataFrame:
    """The assumptions table: every input, its value, whether the user set it."""
    rows = []
    for group, given in (("costs", costs), ("values", values), ("assumptions", assumptions)):
        given = dict(given or {})
        unknown = sorted(set(given) - set(_GROUPS[group]))
        if unknown:
            raise ValueError(f"unknown {group} key(s) {unknown}; known: {list(_GROUPS[group])}")
        for name in _GROUPS[group]:
            default, description = DEFAULT_ASSUMPTIONS[name]
            value = float(given.get(name, default))
            if not np.isfinite(value) or value < 0:
                raise ValueError(
                    f"{group}[{name!r}] must be a number >= 0, got {given.get(name)!r}"
                    + (" (it has no default: set it)" if name not in given else "")
                )
            if name == "productivity_share_while_ramping" and value > 1:
                raise ValueError(f"{group}[{name!r}] must be between 0 and 1, got {value!r}")
            source = "user" if name in given else "default"
            rows.append((name, value, "assumption", source, group, description))
    return pd.DataFrame(rows, columns=["name", "value", "kind", "source", "group", "description"])


def roi_money(
    inputs: Mapping[str, float],
    *,
    difference: float,
    rating_change: float,
    n_participants: int,
    n_actions: int,
    ramp_up_days_saved: float = 0.0,
    n_ramp_up: int = 0,
) -> dict[str, float]:
    """The money of a program from measured effects and assumed costs and values.

    Over the horizon, for ``n_participants`` completers:

    * exits avoided = ``-difference x n_participants`` (``difference``: participants' exit
      probability minus the matched comparisons');
    * retention value = exits avoided x ``replacement_cost_multiple`` x ``annual_salary``;
    * hours saved = ``n_actions x minutes_per_manual_action / 60``; efficiency value = hours
      saved x ``hourly_rate``;
    * productivity value = ``rating_change x n_participants x value_per_rating_point``;
    * ramp-up value = ``ramp_up_days_saved x n_ramp_up x annual_salary / 365 x (1 -
      productivity_share_while_ramping)``: a calendar day is 260/365 working days worth
      ``annual_salary / 260`` each, of which a ramping hire delivers only the share;
    * cost = ``fixed + n_participants x (per_participant + hours_per_participant x hourly_rate)``;
    * net value = the four values minus the cost; ROI = net value / cost.

    Parameters
    ----------
    inputs : mapping
        The assumptions (names of :data:`DEFAULT_ASSUMPTIONS`); a missing one takes its
        default, except ``per_participant`` (no default).
    difference : float
        Difference in exit probability within the horizon (participants minus comparisons).
    rating_change : float
        Effect on the rating (rating points); NaN counts as 0.
    n_participants : int
        Completers the program is costed for.
    n_actions : int
        Actions the loop automated.
    ramp_up_days_saved : float, default 0.0
        Calendar days of ramp-up saved per completer (comparisons' median minus completers');
        NaN counts as 0.
    n_ramp_up : int, default 0
        Completers the ramp-up estimate is about.

    Returns
    -------
    dict
        ``exits_avoided``, ``retention_value``, ``hours_saved``, ``efficiency_value``,
        ``productivity_value``, ``ramp_up_value``, ``cost``, ``net_value`` and ``roi``.

    Examples
    --------
    >>> from talentml.loop import roi_money
    >>> m = roi_money({"per_participant": 1000, "hours_per_participant": 10, "fixed": 0,
    ...     "annual_salary": 100_000, "replacement_cost_multiple": 0.5, "hourly_rate": 50,
    ...     "value_per_rating_point": 0, "minutes_per_manual_action": 12},
    ...     difference=-0.05, rating_change=0.0, n_participants=100, n_actions=500)
    >>> m["exits_avoided"], m["retention_value"], m["cost"], m["net_value"]
    (5.0, 250000.0, 150000.0, 105000.0)
    """
    if "per_participant" not in inputs:
        raise ValueError("inputs['per_participant'] is required (it has no default)")
    g = {k: float(inputs.get(k, d)) for k, (d, _) in DEFAULT_ASSUMPTIONS.items()}
    n = float(n_participants)
    exits_avoided = -float(difference) * n
    retention_value = exits_avoided * g["replacement_cost_multiple"] * g["annual_salary"]
    hours_saved = float(n_actions) * g["minutes_per_manual_action"] / 60.0
    efficiency_value = hours_saved * g["hourly_rate"]
    rating = 0.0 if not np.isfinite(rating_change) else float(rating_change)
    productivity_value = rating * n * g["value_per_rating_point"]
    saved = 0.0 if not np.isfinite(ramp_up_days_saved) else float(ramp_up_days_saved)
    ramp_up_value = (
        saved * float(n_ramp_up) * g["annual_salary"] / 365.0
        * (1.0 - g["productivity_share_while_ramping"])
    )  # fmt: skip
    cost = g["fixed"] + n * (g["per_participant"] + g["hours_per_participant"] * g["hourly_rate"])
    net = retention_value + efficiency_value + productivity_value + ramp_up_value - cost
    return {
        "exits_avoided": exits_avoided,
        "retention_value": retention_value,
        "hours_saved": hours_saved,
        "efficiency_value": efficiency_value,
        "productivity_value": productivity_value,
        "ramp_up_value": ramp_up_value,
        "cost": cost,
        "net_value": net,
        "roi": net / cost if cost > 0 else np.nan,
    }


def _sensitivity(inputs: dict[str, float], measured: dict[str, Any]) -> pd.DataFrame:
    """Each assumption at -50% and +50% (others fixed) and its break-even value.

    The net value is linear in each assumption on its own, so the break-even value is where
    the line through two evaluations crosses 0 (NaN when the assumption does not move it).
    """
    rows = []
    for name, value in inputs.items():
        at = {}
        for label, x in (("low", 0.5 * value), ("high", 1.5 * value), ("zero", 0.0),
                         ("one", 1.0)):  # fmt: skip
            at[label] = roi_money({**inputs, name: x}, **measured)
        slope = at["one"]["net_value"] - at["zero"]["net_value"]
        if abs(slope) < 1e-12 * max(1.0, abs(at["zero"]["net_value"])):
            break_even = np.nan
        else:
            break_even = -at["zero"]["net_value"] / slope
        rows.append(
            (
                name,
                value,
                at["low"]["net_value"],
                at["high"]["net_value"],
                at["low"]["roi"],
                at["high"]["roi"],
                break_even,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "name", "value", "net_value_low", "net_value_high", "roi_low", "roi_high",
            "break_even",
        ],
    )  # fmt: skip


def _count_actions(actions: Any) -> int:
    if actions is None:
        return 0
    if isinstance(actions, bool):
        raise TypeError("actions must be a DataFrame, an ActionStore or a count, not a bool")
    if isinstance(actions, int | np.integer):
        if actions < 0:
            raise ValueError(f"actions must be >= 0, got {actions}")
        return int(actions)
    if isinstance(actions, pd.DataFrame):
        return len(actions)
    if hasattr(actions, "actions"):  # an ActionStore
        return len(actions.actions())
    raise TypeError(
        f"actions must be a DataFrame, an ActionStore or a count, got {type(actions).__name__}"
    )


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return np.nan, np.nan
    a = (1 - confidence) / 2
    lo, hi = np.quantile(v, [a, 1 - a])
    return float(lo), float(hi)


def roi(
    program: str,
    *,
    employees: pd.DataFrame,
    participation: pd.DataFrame,
    reviews: pd.DataFrame,
    costs: Mapping[str, float],
    values: Mapping[str, float] | None = None,
    assumptions: Mapping[str, float] | None = None,
    actions: Any = None,
    competency_ratings: pd.DataFrame | None = None,
    ramp_up: pd.DataFrame | None = None,
    ramp_up_window: str | pd.Timedelta = "30D",
    outcome: str | None = "overall_rating",
    horizon: str | pd.Timedelta = "365D",
    end: Any = None,
    covariates: Sequence[str] | None = None,
    n_neighbors: int = 5,
    caliper: float = 0.2,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    random_state: RandomStateLike = 0,
    show_progress: bool | None = None,
) -> ROI:
    """The return on a learning program: retention, productivity, efficiency and money.

    * **Retention** (measured): each completer enters follow-up at the start of the month after
      completion and is matched (propensity score, as :func:`learning_impact`) to employees
      of the same start and completion months who had not started the program, on what was
      known before the start month (the latest submitted review's ``covariates`` and the
      tenure). Weighted Kaplan-Meier curves of a voluntary exit (involuntary exits, ``end``
      and a comparison's later start censor) give each group's exit probability within
      ``horizon``, their difference and the rate ratio of voluntary exits.
    * **Productivity** (measured): the rating change of :func:`learning_impact` on ``outcome``
      (``None`` to leave it out).
    * **Ramp-up** (measured, with ``ramp_up``): hires who completed the program within their
      first ``ramp_up_window`` against hires of the same department, job level and hire
      quarter who had not, at that landmark (both still employed and ramping up then; a
      completion after the ramp-up ended is excluded). The difference of the Kaplan-Meier
      median days to productivity (interval midpoints; unfinished ramp-ups censored, not
      dropped) gives the ramp-up days saved, valued with ``annual_salary`` and
      ``productivity_share_while_ramping``.
    * **Efficiency** (counted x assumed): ``actions`` automated x
      ``minutes_per_manual_action``.
    * **Money** (derived): :func:`roi_money` of the measured effects and the assumptions; the
      interval comes from the bootstrap replicates of the measured effects, the sensitivity
      table from moving one assumption at a time.

    Parameters
    ----------
    program : str
        The program's name, in the outputs.
    employees : pandas.DataFrame
        The ``employees`` table (``hire_date``, ``termination_date``, ``termination_type``).
    participation : pandas.DataFrame
        ``employee_id``, ``started_at``, ``completed_at`` (e.g. :func:`track_completions`).
    reviews : pandas.DataFrame
        The ``reviews`` table (``submitted_at``, the covariates, the outcome).
    costs : mapping
        ``per_participant`` (required), ``hours_per_participant``, ``fixed``.
    values : mapping, optional
        ``annual_salary``, ``replacement_cost_multiple``, ``hourly_rate``,
        ``value_per_rating_point`` (defaults in :data:`DEFAULT_ASSUMPTIONS`).
    assumptions : mapping, optional
        ``minutes_per_manual_action``, ``productivity_share_while_ramping``.
    actions : DataFrame, ActionStore or int, optional
        The actions the loop automated (rows of an actions table, a store's actions, or a count).
    competency_ratings : pandas.DataFrame, optional
        For a competency ``outcome``.
    ramp_up : pandas.DataFrame, optional
        Ramp-up labels of the hires (:func:`talentml.labels.ramp_up`: ``employee_id``,
        ``hire_date``, ``lower_days``, ``upper_days``, ``observed``); None skips ramp-up.
    ramp_up_window : str or Timedelta, default "30D"
        Completing the program within this time after hire makes a hire a participant of the
        ramp-up comparison; the comparison is made at this landmark.
    outcome : str or None, default "overall_rating"
        The rating of the productivity estimate; None skips it.
    horizon : str or Timedelta, default "365D"
        Follow-up window after completion.
    end : str or Timestamp, optional
        End of the observed data (censoring): the date of the HR extract. Default the latest
        hire or termination date of ``employees``; pass it when you know it.
    covariates : sequence of str, optional
        Review columns to match on; default those of ``overall_rating``,
        ``potential_rating``, ``goal_attainment`` the reviews have.
    n_neighbors : int, default 5
        Comparisons per completer.
    caliper : float, default 0.2
        Maximum propensity logit distance, in standard deviations.
    n_bootstrap : int, default 200
        Bootstrap replicates (of the retention and the productivity estimates).
    confidence : float, default 0.95
        Confidence level.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the bootstraps.
    show_progress : bool, optional
        Progress bar (default from :func:`talentml.set_config`).

    Returns
    -------
    ROI

    Examples
    --------
    >>> import talentml as tml
    >>> from talentml.loop import roi
    >>> org = tml.datasets.simulate_workforce(n_employees=200, start="2023-01-01",
    ...     end="2024-12-31", random_state=0, show_progress=False)
    >>> part = org.truth.latent.dropna(subset=["track_start"]).rename(
    ...     columns={"track_start": "started_at", "track_end": "completed_at"})
    >>> result = roi("Emerging Leaders", employees=org.employees, participation=part,
    ...     reviews=org.reviews, costs={"per_participant": 2000}, actions=120,
    ...     outcome=None, n_bootstrap=10)
    >>> hours = result.money.set_index("item").loc["hours saved"]
    >>> float(hours["value"]), hours["kind"]  # 120 actions x 12 minutes (an assumption)
    (24.0, 'derived')
    >>> sorted(result.inputs["kind"].unique())
    ['assumption']
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    for name, v, lo in (("n_neighbors", n_neighbors, 1), ("n_bootstrap", n_bootstrap, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    inputs_table = _inputs(costs, values, assumptions)
    inputs = dict(zip(inputs_table["name"], inputs_table["value"], strict=True))
    if covariates is None:
        covariates = [
            c for c in ("overall_rating", "potential_rating", "goal_attainment")
            if c in reviews.columns
        ]  # fmt: skip
    check_purpose(
        covariates, table="reviews", message="they may not be matched on (purpose limitation)."
    )
    h = pd.Timedelta(horizon)
    if h <= pd.Timedelta(0):
        raise ValueError(f"horizon must be positive, got {horizon!r}")
    end_ts = _utc_ts(end) if end is not None else _latest(employees)
    n_actions = _count_actions(actions)
    design = _design(employees, participation, reviews, covariates=covariates, end=end_ts)
    show = _show_progress() if show_progress is None else bool(show_progress)
    ramp_design = None
    if ramp_up is not None:
        window = pd.Timedelta(ramp_up_window) / pd.Timedelta(days=1)
        if window <= 0:
            raise ValueError(f"ramp_up_window must be positive, got {ramp_up_window!r}")
        ramp_design = _ramp_design(ramp_up, participation, employees, window_days=window)

    def progress(it):
        return tqdm(it, desc="ROI bootstrap", disable=not show, leave=False)

    full, reps = _retention(
        design,
        horizon_days=h / pd.Timedelta(days=1),
        n_neighbors=n_neighbors,
        caliper=caliper,
        n_bootstrap=n_bootstrap,
        random_state=spawn_seed(random_state, 0),
        progress=progress,
    )
    wt, wc = full["weights"]
    n_part = int((wt > 0).sum())
    n_comp = int(len(np.unique(design.c_emp[wc > 0])))
    impact = None
    if outcome is not None:
        impact = learning_impact(
            participation,
            reviews,
            competency_ratings=competency_ratings,
            outcome=outcome,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            random_state=spawn_seed(random_state, 1),
            show_progress=show_progress,
        )
    rating = impact.estimate if impact is not None else np.nan
    rating_reps = impact.bootstrap if impact is not None else np.full(n_bootstrap, np.nan)
    ramp_full, ramp_reps = _ramp(ramp_design, n_bootstrap, spawn_seed(random_state, 2), progress)
    measured = {"difference": full["difference"], "rating_change": rating,
                "n_participants": n_part, "n_actions": n_actions,
                "ramp_up_days_saved": -ramp_full["difference"],
                "n_ramp_up": ramp_full["n_participants"]}  # fmt: skip
    # a count typed in is the user's figure; a store or an actions table is counted
    actions_kind = "assumption" if isinstance(actions, Integral) else "measured"
    base = roi_money(inputs, **measured)
    boot = []
    for i in range(n_bootstrap):
        r = rating_reps[i] if i < len(rating_reps) else np.nan
        saved = -ramp_reps["difference"][i]
        m = roi_money(
            inputs,
            **{**measured, "difference": reps["difference"][i], "rating_change": r,
               "ramp_up_days_saved": saved},
        )  # fmt: skip
        boot.append((reps["difference"][i], r, saved, m["net_value"], m["roi"], m))
    boot_frame = pd.DataFrame(
        [b[:5] for b in boot],
        columns=["difference", "rating_change", "ramp_up_days_saved", "net_value", "roi"],
    )
    money = _money_table(
        base,
        boot,
        {**measured, "actions_kind": actions_kind},
        full,
        reps,
        impact,
        inputs,
        confidence,
        h,
        ramp=(ramp_full, ramp_reps, ramp_up_window) if ramp_design is not None else None,
    )
    retention = pd.DataFrame(
        [
            (k.replace("_", " "), full[k], *_interval(reps[k], confidence))
            for k in ("p_exit_participants", "p_exit_comparison", "difference", "rate_ratio")
        ],
        columns=["measure", "estimate", "ci_low", "ci_high"],
    ).set_index("measure")
    retention.index.name = None
    curves = _curves(full, reps, confidence)
    net_lo, net_hi = _interval(boot_frame["net_value"], confidence)
    roi_lo, roi_hi = _interval(boot_frame["roi"], confidence)
    result = ROI(
        program=str(program),
        horizon=str(horizon),
        net_value=base["net_value"],
        net_value_ci_low=net_lo,
        net_value_ci_high=net_hi,
        roi=base["roi"],
        roi_ci_low=roi_lo,
        roi_ci_high=roi_hi,
        confidence=float(confidence),
        money=money,
        retention=retention,
        productivity=impact.summary() if impact is not None else pd.DataFrame(),
        ramp_up=(
            _ramp_table(ramp_full, ramp_reps, confidence)
            if ramp_design is not None
            else pd.DataFrame()
        ),
        inputs=inputs_table,
        sensitivity=_sensitivity(inputs, measured),
        curves=curves,
        excluded=_excluded(design, ramp_design),
        n_participants=n_part,
        n_comparison=n_comp,
        n_actions=n_actions,
        bootstrap=boot_frame,
    )
    logger.info(
        "ROI of %s over %s: exit probability %+.3f [%.3f, %.3f] (%d completers), net value "
        "%.0f [%.0f, %.0f] (assumptions: %s)",
        program, horizon, full["difference"], *_interval(reps["difference"], confidence),
        n_part, base["net_value"], net_lo, net_hi, inputs,
    )  # fmt: skip
    return result


def _latest(employees: pd.DataFrame) -> pd.Timestamp:
    """The latest hire or termination date of the HR table (the end of follow-up by default)."""
    found = [
        _as_utc(employees[c]).max() for c in ("hire_date", "termination_date") if c in employees
    ]
    found = [v for v in found if not pd.isna(v)]
    if not found:
        raise ValueError("table 'employees' has no hire_date or termination_date: pass end=")
    end = max(found)
    logger.info("ROI: end= not given; following up until the latest HR date, %s", end)
    return end


def _ramp(design, n_bootstrap: int, seed, progress) -> tuple[dict, dict[str, np.ndarray]]:
    """Ramp-up statistics and replicates; NaN (no ramp-up money) without ``ramp_up``."""
    if design is None:
        nan = np.full(n_bootstrap, np.nan)
        return {"difference": np.nan, "n_participants": 0}, {"difference": nan}
    return _ramp_up(design, n_bootstrap=n_bootstrap, random_state=seed, progress=progress)


def _ramp_table(full: dict, reps: dict, confidence: float) -> pd.DataFrame:
    """Median days to productivity of both groups and their difference, with intervals."""
    rows = [
        (k.replace("_", " "), full[k], *_interval(reps[k], confidence))
        for k in ("median_days_participants", "median_days_comparison", "difference")
    ]
    rows += [(f"{k.replace('_', ' ')}", full[k], np.nan, np.nan)
             for k in ("n_participants", "n_comparison")]  # fmt: skip
    out = pd.DataFrame(rows, columns=["measure", "estimate", "ci_low", "ci_high"])
    out = out.astype({"estimate": float}).set_index("measure")
    out.index.name = None
    return out


def _excluded(design, ramp_design) -> pd.DataFrame:
    """Completers left out, with the analysis (retention or ramp-up) and the reason."""
    rows = [(e, "retention", why) for e, why in design.excluded]
    if ramp_design is not None:
        rows += [(e, "ramp-up", why) for e, why in ramp_design.excluded]
    return pd.DataFrame(rows, columns=["employee_id", "analysis", "reason"])


def _money_table(
    base, boot, measured, full, reps, impact, inputs, confidence, h, ramp=None
) -> pd.DataFrame:
    """One row per line item with its interval, its kind and how it is computed."""
    days = f"{h / pd.Timedelta(days=1):g} days"

    def iv(key):
        return _interval([b[5][key] for b in boot], confidence)

    d_lo, d_hi = _interval(reps["difference"], confidence)
    r_lo, r_hi = (impact.ci_low, impact.ci_high) if impact is not None else (np.nan, np.nan)
    n = measured["n_participants"]
    rows = [
        ("participants", n, n, n, "measured", "completers matched to non-participants"),
        ("difference in exit probability", full["difference"], d_lo, d_hi, "measured",
         f"participants minus matched comparisons, voluntary exits within {days} (Kaplan-Meier)"),
        ("rating change", measured["rating_change"], r_lo, r_hi, "measured",
         "matched difference in differences (learning_impact)"),
        *_ramp_rows(base, measured, ramp, iv, confidence),
        ("automated actions", measured["n_actions"], measured["n_actions"],
         measured["n_actions"], measured.get("actions_kind", "measured"),
         "actions the loop opened without manual work"
         + (" (a count given by the user)" if measured.get("actions_kind") == "assumption"
            else "")),
        ("exits avoided", base["exits_avoided"], *iv("exits_avoided"), "derived",
         "-difference x participants"),
        ("retention value", base["retention_value"], *iv("retention_value"), "derived",
         "exits avoided x replacement_cost_multiple x annual_salary (assumptions)"),
        ("hours saved", base["hours_saved"], *iv("hours_saved"), "derived",
         "automated actions x minutes_per_manual_action / 60 (assumption)"),
        ("efficiency value", base["efficiency_value"], *iv("efficiency_value"), "derived",
         "hours saved x hourly_rate (assumption)"),
        ("productivity value", base["productivity_value"], *iv("productivity_value"), "derived",
         "rating change x participants x value_per_rating_point (assumption)"),
        ("cost", base["cost"], *iv("cost"), "derived",
         "fixed + participants x (per_participant + hours_per_participant x hourly_rate) "
         "(assumptions)"),
        ("net value", base["net_value"], *iv("net_value"), "derived",
         "retention + efficiency + productivity + ramp-up value - cost"),
        ("ROI", base["roi"], *iv("roi"), "derived", "net value / cost"),
    ]  # fmt: skip
    rows += [(k, v, v, v, "assumption", DEFAULT_ASSUMPTIONS[k][1]) for k, v in inputs.items()]
    frame = pd.DataFrame(rows, columns=["item", "value", "ci_low", "ci_high", "kind", "basis"])
    return frame.astype({"value": float, "ci_low": float, "ci_high": float})


def _ramp_rows(base, measured, ramp, iv, confidence) -> list[tuple]:
    """The ramp-up line items (none without ``ramp_up``)."""
    if ramp is None:
        return []
    full, reps, window = ramp
    lo, hi = _interval(-reps["difference"], confidence)
    n = measured["n_ramp_up"]
    return [
        ("ramp-up participants", n, n, n, "measured",
         f"hires who completed within {window} of hire, matched on department, job level "
         "and hire quarter"),
        ("ramp-up days saved", measured["ramp_up_days_saved"], lo, hi, "measured",
         "matched comparisons' minus completers' median days to productivity (Kaplan-Meier "
         "on interval midpoints, unfinished ramp-ups censored)"),
        ("ramp-up value", base["ramp_up_value"], *iv("ramp_up_value"), "derived",
         "ramp-up days saved x ramp-up participants x annual_salary / 365 x "
         "(1 - productivity_share_while_ramping) (assumptions)"),
    ]  # fmt: skip


def _curves(full: dict, reps: dict, confidence: float) -> pd.DataFrame:
    """Survival of both groups on the grid with pointwise bootstrap bands."""
    out = pd.DataFrame({"day": full["grid"]})
    a = (1 - confidence) / 2
    for group in ("participants", "comparison"):
        out[group] = full[f"curve_{group}"]
        r = reps[f"curve_{group}"]
        if r.ndim == 2 and len(r) > 1:
            out[f"{group}_low"] = np.nanquantile(r, a, axis=0)
            out[f"{group}_high"] = np.nanquantile(r, 1 - a, axis=0)
        else:
            out[f"{group}_low"] = np.nan
            out[f"{group}_high"] = np.nan
    return out
