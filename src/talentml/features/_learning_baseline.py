"""Learning relative to the person: personal baselines, agility per opportunity, onboarding.

Three kinds of learning features that fixed-window counts miss, all point in time (facts
stored strictly before ``as_of``) and all SQL over the same series and probes as the rest of
the learning family (:mod:`talentml.features._learning`), so they run on every engine.

**Personal baseline** (family ``learning_baseline``). A *voluntary session* is a statement of
the launched or experienced verb family (launched, initialized, attempted; experienced,
played, watched, viewed, read) on a catalog activity with ``voluntary = true``. The
employee's *baseline* is their rate of voluntary sessions in the 365 days before the last 90
(:data:`BASELINE_GAP`, :data:`BASELINE_SPAN`), counted from the hire date and the start of the
learning records when those are later, and **shrunk toward the job family**: with ``n``
sessions over ``e`` days of their own history,

    rate = (n + PRIOR_DAYS x family rate) / (e + PRIOR_DAYS)

per day, so the family's rate weighs as :data:`PRIOR_DAYS` (90) days of the employee's own
history: an employee with two months of history gets a baseline 60% the family's, one with a
full year 20%. The *family rate* at ``as_of`` is the family's voluntary sessions per day
employed over the whole UTC days of the same window (sessions by ``stored``; employment from
the hire dates, and the terminations known at ``as_of``, as for team exits); a family with
less than :data:`FAMILY_MIN_DAYS` days of employment in that window (or an employee without a
job family) borrows the organization's rate. From the baseline:

* the ratio of the rate in the last 90 days to the baseline;
* the days since the last voluntary session, and the sessions the baseline predicts for that
  gap (*expected missed sessions*: ``rate x gap``; without any voluntary session, the gap runs
  from the later of the hire date and the start of the records);
* a change-point statistic: the largest log-likelihood ratio, over ``d`` in
  :data:`CHANGE_DAYS`, of "the rate fell to a fraction ``f`` of the baseline ``d`` days ago"
  against "it did not", with ``f`` at its most likely value (Poisson counts:
  ``n log(n / mu) + mu - n`` when ``n`` sessions in the last ``d`` days fall short of the
  ``mu = rate x d`` expected, else 0);
* the change in the share of voluntary sessions completed, last 90 days minus the baseline.

**Learning agility per opportunity** (family ``learning``): skill-level gains per learning
activity worked on in the longest window, and the mean days from an activity's first record to
its first pass. Neither depends on the time of day (the off-hours share is a caregiving proxy,
see docs/fairness.md).

**Onboarding** (family ``learning``, for ramp-up rows at hire + 30 days): onboarding sessions,
the share of the onboarding program completed, the days to the first and the mean days to each
onboarding completion in the first 30 days after the hire date, and the onboarding activities
completed relative to the *cohort*: the mean of the hires whose first 30 days ended in the 365
days before ``as_of`` (and after the learning records started). For an employee hired before
the learning records started they are missing: no record is no evidence.
"""

from __future__ import annotations

from ._catalog import FeatureSpec, Guard
from ._learning_specs import (
    _ONE,
    _ZERO,
    LEVEL,
    ONBOARDING,
    PROGRAM,
    SKILLS,
    VERB_FAMILIES,
    VOL,
    Series,
    _count,
)
from ._pit import DAY_US, Window, visible
from ._sql import Dialect, days_between, ratio

__all__ = [
    "BASELINE_GAP",
    "BASELINE_SPAN",
    "CHANGE_DAYS",
    "COHORT",
    "FAMILY_MIN_DAYS",
    "PRIOR_DAYS",
    "SINCE_GROUPS",
    "baseline_probes",
    "baseline_series",
    "baseline_specs",
    "extra_learning_specs",
    "org_ctes",
]

#: The recent period left out of the baseline (and compared with it).
BASELINE_GAP = Window(90)
#: The baseline: this long before the recent period.
BASELINE_SPAN = Window(365)
#: Weight of the job family's rate in the baseline, in days of the employee's own history.
PRIOR_DAYS = 90
#: Days of employment a job family needs in the baseline window to be its own prior (else the
#: organization's rate is used).
FAMILY_MIN_DAYS = 365
#: ``d`` of the change-point statistic: "the rate fell ``d`` days ago".
CHANGE_DAYS = (14, 30, 60, 90, 120, 180)
#: Hires whose first 30 days ended this long before ``as_of`` make the onboarding cohort.
COHORT = Window(365)
#: Groups that need the start of the learning records (``l_hs``).
SINCE_GROUPS = frozenset({"mandatory", "baseline", "onboarding", "cohort"})

_SESSION = "vol = 1 AND vf IN ('launched', 'experienced')"
#: ``l_st`` columns of the series here (see ``_STATEMENT_COLUMNS``).
STATEMENT_COLUMNS = {"n_vsess": ("vol", "vf"), "last_vsess": ("vol", "vf")}
#: ``l_st`` columns of the ``pass`` source (time to pass).
PASS_COLUMNS = ("object_id", "vf", "pass_c")
#: ``l_st`` columns the onboarding join reads.
ONBOARDING_COLUMNS = ("object_id", "vf", "compl", "onb")


def baseline_series() -> dict[str, Series]:
    """Series of the features here: voluntary sessions, the last one, time to pass."""
    return {
        "n_vsess": _count(_SESSION),
        "last_vsess": Series("statement", f"CASE WHEN {_SESSION} THEN t END", agg="MAX"),
        "tp_days": Series("pass", "tp_days"),
        "tp_n": Series("pass", "tp_n"),
    }


def _ago(days: int) -> str:
    return f"lo_{days}d"


def baseline_probes() -> dict[str, str]:
    """Probes of the features here (``lo_<d>d`` as in the windows, so they are shared)."""
    hire = "LEAST(sp.hire_us, sp.a)"
    probes = {
        "bl_lo": f"GREATEST({hire}, sp.a - {(BASELINE_GAP.days + BASELINE_SPAN.days) * DAY_US})",
        "bl_hi": f"GREATEST({hire}, sp.a - {BASELINE_GAP.us})",
    }
    for d in CHANGE_DAYS:
        probes[_ago(d)] = f"sp.a - {d * DAY_US}"
    return probes


# ------------------------------------------------------------------------------ specs
def _spec(name, description, unit, family, window, actionable, direction, template, dtype, expr,
          *, needs=(), guards=(), group="main") -> FeatureSpec:  # fmt: skip
    return FeatureSpec(
        name=name,
        description=description,
        unit=unit,
        family=family,
        window=window,
        actionable=actionable,
        direction=direction,
        template=template,
        dtype=dtype,
        expr=expr,
        needs=("statements", *needs),
        guards=tuple(guards),
        group=group,
    )


def _diff(series: str, hi: str, lo: str) -> str:
    return f"({{{series}@{hi}}} - {{{series}@{lo}}})"


def _days(us: str) -> str:
    return f"(CAST({us} AS DOUBLE) / CAST({DAY_US} AS DOUBLE))"


def _pos(expr: str) -> str:
    """``max(expr, 0)``, NULL when ``expr`` is (GREATEST ignores NULL on both engines)."""
    return f"(CASE WHEN ({expr}) IS NULL THEN NULL ELSE GREATEST({expr}, 0) END)"


def _share(num: str, den: str) -> str:
    """``num / den`` capped at 1 (a completion recorded in a window whose session started
    before it), NULL without sessions."""
    r = ratio(num, den)
    return f"(CASE WHEN {r} IS NULL THEN NULL ELSE LEAST({r}, {_ONE}) END)"


def _after_start(us: str) -> str:
    """The later of ``us`` and the start ``lb.s0`` (hire date, records), NULL if unknown."""
    return f"(CASE WHEN lb.s0 IS NULL THEN NULL ELSE GREATEST({us}, lb.s0) END)"


def stage_columns() -> tuple[dict[str, str], dict[str, str]]:
    """The columns the baseline features are computed from, in two stages.

    ``inner``: readings and times per spine row (``{series@probe}`` placeholders, ``sp``
    and ``lb``), computed in the learning family's final SELECT; ``mid``: the baseline
    rate (sessions per day) over them. The features (group ``baseline``) are expressions
    over both, one level up (see ``LearningPlan.select``): each quantity is written once,
    which keeps the SQL small for the query optimizers.
    """
    probes = baseline_probes()
    inner = {
        "b_prior": "lb.prior",
        "b_nbase": f"CAST({_diff('n_vsess', 'bl_hi', 'bl_lo')} AS DOUBLE)",
        "b_nrec": f"CAST({_diff('n_vsess', 'asof', 'bl_hi')} AS DOUBLE)",
        "b_cbase": f"CAST({_diff('n_vol_compl', 'bl_hi', 'bl_lo')} AS DOUBLE)",
        "b_crec": f"CAST({_diff('n_vol_compl', 'asof', 'bl_hi')} AS DOUBLE)",
        "b_ebase": _days(_pos(f"{probes['bl_hi']} - {_after_start(probes['bl_lo'])}")),
        "b_erec": _days(_pos(f"sp.a - {_after_start(probes['bl_hi'])}")),
        "b_emp": _days(_pos("sp.a - lb.s0")),
        "b_since": days_between("sp.a", "{last_vsess@asof}"),
    }
    for d in CHANGE_DAYS:
        inner[f"b_n{d}"] = f"CAST({_diff('n_vsess', 'asof', _ago(d))} AS DOUBLE)"
    m = f"CAST({PRIOR_DAYS} AS DOUBLE)"
    # sessions per day: the person's own baseline shrunk toward the family (or organization)
    mid = {
        "b_rate": f"(CASE WHEN b_prior IS NULL THEN {ratio('b_nbase', 'b_ebase')} "
        f"ELSE (b_nbase + {m} * b_prior) / (b_ebase + {m}) END)"
    }
    for d in CHANGE_DAYS:
        mid[f"b_mu{d}"] = f"(b_rate * LEAST(CAST({d} AS DOUBLE), b_emp))"
    return inner, mid


def baseline_specs() -> list[FeatureSpec]:
    """The personal-baseline features (family ``learning_baseline``), in output order.

    The features of group ``baseline`` are expressions over :func:`stage_columns`.
    """
    gap, span = BASELINE_GAP.days, BASELINE_SPAN.days
    rate = "b_rate"
    since_last = days_between("sp.a", "{last_vsess@asof}")
    terms = []
    for d in CHANGE_DAYS:
        n_d, mu = f"b_n{d}", f"b_mu{d}"
        terms.append(
            f"(CASE WHEN {mu} IS NULL OR {mu} <= {_ZERO} OR {n_d} >= {mu} THEN {_ZERO} "
            f"WHEN {n_d} = {_ZERO} THEN {mu} "
            f"ELSE {n_d} * LN({n_d} / {mu}) + {mu} - {n_d} END)"
        )
    vol_all = Guard(VOL, "asof", "bl_lo", "n_volu", "n")
    common = {"needs": (VOL,), "guards": (vol_all,), "group": "baseline"}
    fam = "learning_baseline"
    base_window = f"{span}D before the last {gap}D"
    vs = f"{gap}D vs baseline"
    usual = "this person's usual rate"
    return [
        _spec(
            "voluntary_baseline_per_30d",
            f"The employee's usual rate of voluntary learning sessions (launched or experienced "
            f"voluntary catalog activities), per 30 days: their rate in the {span} days before "
            f"the last {gap} (from the hire date and the start of the learning records), shrunk "
            f"toward their job family's rate, which weighs as {PRIOR_DAYS} days of their own "
            "history; missing before any learning record.",
            "sessions per 30 days",
            fam,
            base_window,
            True,
            "higher_is_better",
            "usually starts {value:.1f} voluntary learning sessions every 30 days",
            "float64",
            f"(CAST(30 AS DOUBLE) * {rate})",
            **common,
        ),
        _spec(
            f"voluntary_{gap}d_vs_baseline",
            f"Rate of voluntary learning sessions in the last {gap} days (since the hire date "
            "when later) divided by the employee's baseline rate (voluntary_baseline_per_30d); "
            "1 = as usual, missing when the baseline is 0.",
            "ratio",
            fam,
            vs,
            True,
            "higher_is_better",
            f"voluntary learning in the last {gap} days is {{value:.0%}} of {usual}",
            "float64",
            ratio(ratio("b_nrec", "b_erec"), rate),
            **common,
        ),
        _spec(
            "days_since_voluntary_session",
            "Days from the last voluntary learning session recorded before as_of to as_of; "
            "missing if none.",
            "days",
            fam,
            "all history",
            True,
            "lower_is_better",
            "no voluntary learning session for {value:.0f} days",
            "float64",
            since_last,
            needs=(VOL,),
            guards=(Guard(VOL, "asof", "hire", "n_volu", "n"),),
        ),
        _spec(
            "voluntary_sessions_missed",
            "Voluntary learning sessions the employee's baseline rate predicts for the time "
            "since their last voluntary session (or, without one, since the later of the hire "
            "date and the start of the learning records): expected missed sessions.",
            "sessions",
            fam,
            "since the last voluntary session",
            True,
            "lower_is_better",
            f"{{value:.1f}} voluntary learning sessions expected at {usual} since the last one",
            "float64",
            f"({rate} * COALESCE(b_since, b_emp))",
            **common,
        ),
        _spec(
            "voluntary_drop_llr",
            "Change-point evidence that voluntary learning fell below the baseline: the largest "
            "log-likelihood ratio, over d = "
            f"{', '.join(str(d) for d in CHANGE_DAYS)} days, of 'the rate fell to a fraction of "
            "the baseline d days ago' against 'it did not' (Poisson counts, the fraction at its "
            "most likely value; 0 when learning kept up).",
            "log-likelihood ratio",
            fam,
            f"last {CHANGE_DAYS[0]} to {CHANGE_DAYS[-1]} days vs baseline",
            False,
            "lower_is_better",
            "evidence of a slowdown in voluntary learning against this person's usual pace: "
            "{value:.1f} (0 = none, 3 or more = strong)",
            "float64",
            f"(CASE WHEN {rate} IS NULL THEN NULL ELSE GREATEST({', '.join(terms)}) END)",
            **common,
        ),
        _spec(
            f"voluntary_completion_share_change_{gap}d",
            f"Share of voluntary sessions completed in the last {gap} days minus the share in "
            "the baseline window (completions of voluntary activities per voluntary session, at most 1); "
            "missing without sessions in either.",
            "share points",
            fam,
            vs,
            True,
            "higher_is_better",
            f"the share of voluntary learning completed in the last {gap} days increased "
            "{value:.0%} compared with this person's usual share",
            "float64",
            f"({_share('b_crec', 'b_nrec')} - {_share('b_cbase', 'b_nbase')})",
            **common,
        ),
    ]


def _recorded(expr: str) -> str:
    """``expr`` where the learning records cover the first 30 days (they started at or
    before the hire date, and before ``as_of``), else NULL: no record is no evidence."""
    return f"(CASE WHEN lhs.hs <= sp.hire_us AND lhs.hs < sp.a THEN {expr} END)"


def extra_learning_specs(windows: tuple[Window, ...]) -> list[FeatureSpec]:
    """Learning agility per opportunity and onboarding engagement (family ``learning``)."""
    longest = windows[-1]
    lab, lo = longest.label, f"lo_{longest.label}"
    last = f"in the last {longest.days} days"
    skill = Guard(SKILLS, "asof", lo, "n_sku_cp", "n_cp")
    level = Guard(LEVEL, "asof", lo, "n_lvu_cp", "n_cp")
    onb_guard = Guard(PROGRAM, "hire30", "hire", "n_onbu_compl", "n_compl")
    first30 = "first 30 days after hire"
    activities = f"({{act_first@asof}} - {{act_a_{lab}@{lo}}} + {{act_b_{lab}@{lo}}})"
    end30 = f"LEAST(sp.hire_us + {ONBOARDING.us}, sp.a)"
    return [
        _spec(
            f"mastery_per_activity_{lab}",
            f"Learning agility per opportunity: skill-level gains (skill_level_gain_{lab}) per "
            f"learning activity worked on (n_distinct_activities_{lab}) {last}. Independent of "
            "the time of day and of the volume of learning.",
            "skill levels per activity",
            "learning",
            longest.text,
            True,
            "higher_is_better",
            f"gained {{value:.2f}} skill levels per learning activity {last}",
            "float64",
            ratio(_diff("skill_gain", "asof", lo), activities),
            needs=(SKILLS, LEVEL),
            guards=(skill, level),
        ),
        _spec(
            f"days_to_pass_{lab}",
            "Mean days from the first record of an activity to its first pass (verb passed, or "
            f"success), over the activities first passed {last}; missing without one.",
            "days",
            "learning",
            longest.text,
            False,
            "lower_is_better",
            f"took {{value:.1f}} days on average to pass an activity {last}",
            "float64",
            ratio(_diff("tp_days", "asof", lo), _diff("tp_n", "asof", lo)),
        ),
        _spec(
            "onboarding_sessions_first_30d",
            "Onboarding-program activities launched or experienced in the first 30 days after "
            "the hire date (as known at as_of); missing when the learning records started after "
            "the hire date.",
            "sessions",
            "learning",
            first30,
            True,
            "higher_is_better",
            "started {value:.0f} onboarding sessions in the first 30 days",
            "float64",
            _recorded("COALESCE(lo.n_sess, 0)"),
            needs=(PROGRAM,),
            guards=(onb_guard,),
            group="onboarding",
        ),
        _spec(
            "onboarding_share_first_30d",
            "Share of the onboarding program (catalog activities with program 'onboarding') "
            "completed in the first 30 days after the hire date (distinct activities).",
            "share",
            "learning",
            first30,
            True,
            "higher_is_better",
            "completed {value:.0%} of the onboarding program in the first 30 days",
            "float64",
            _recorded(ratio("COALESCE(lo.n_act, 0)", "lon.n")),
            needs=(PROGRAM,),
            guards=(onb_guard,),
            group="onboarding",
        ),
        _spec(
            "days_to_first_onboarding_completion",
            "Days from the hire date to the first completed onboarding activity in the first "
            "30 days; without one, the days observed (30, or fewer before day 30).",
            "days",
            "learning",
            first30,
            True,
            "lower_is_better",
            "first onboarding activity completed {value:.0f} days after joining",
            "float64",
            _recorded(days_between(f"COALESCE(lo.first_t, {end30})", "sp.hire_us")),
            needs=(PROGRAM,),
            guards=(onb_guard,),
            group="onboarding",
        ),
        _spec(
            "onboarding_days_mean_first_30d",
            "Mean days from the hire date to each onboarding completion in the first 30 days "
            "(how quickly the program was worked through); missing without one.",
            "days",
            "learning",
            first30,
            True,
            "lower_is_better",
            "completed onboarding activities {value:.0f} days after joining on average",
            "float64",
            _recorded(f"(lo.mean_us / CAST({DAY_US} AS DOUBLE))"),
            needs=(PROGRAM,),
            guards=(onb_guard,),
            group="onboarding",
        ),
        _spec(
            "onboarding_vs_cohort_first_30d",
            "Onboarding activities completed in the first 30 days (distinct) divided by the "
            "mean of the cohort: the hires whose first 30 days ended in the "
            f"{COHORT.days} days before as_of; missing without a cohort.",
            "ratio",
            "learning",
            f"{first30} vs cohort",
            True,
            "higher_is_better",
            "completed {value:.0%} of the onboarding a typical recent hire completed in the "
            "first 30 days",
            "float64",
            _recorded(ratio("COALESCE(lo.n_act, 0)", "lc.mean_v")),
            needs=(PROGRAM,),
            guards=(onb_guard,),
            group="cohort",
        ),
    ]


# -------------------------------------------------------------------------------- SQL
def _verb_family(col: str) -> str:
    whens = " ".join(
        f"WHEN {col} IN ({', '.join(repr(v) for v in verbs)}) THEN '{fam}'"
        for fam, verbs in VERB_FAMILIES.items()
    )
    return f"CASE {whens} ELSE 'other' END"


def since_sql(t: dict[str, str], d: Dialect, *, learning_since_us, first_stored_us) -> str:
    """SQL of the start of the learning records (``hs``, microseconds): given, computed once
    ahead of the chunks, or the first ``stored`` of every statement."""
    if learning_since_us is not None:
        return f"CAST({int(learning_since_us)} AS BIGINT)"
    if first_stored_us is not None:
        first = first_stored_us[0]
        return f"CAST({'NULL' if first is None else int(first)} AS BIGINT)"
    everything = t.get("statements_all", t["statements"])
    return f"(SELECT MIN({d.epoch_us('stored')}) FROM {everything})"


def org_ctes(
    d: Dialect,
    t: dict[str, str],
    groups: set[str] | frozenset[str],
    *,
    learning_since_us: int | None,
) -> list[tuple[str, str]]:
    """Organization-level CTEs over every statement and employee (after ``emp`` and ``sp``).

    ``lbp_rates`` (``a``, ``fam``, ``rate``, ``org``): voluntary sessions per day employed in
    the baseline window of each ``as_of``, per job family (``org = 0``, only families with
    :data:`FAMILY_MIN_DAYS` of employment) and for the organization (``org = 1``); ``lbc``
    (``a``, ``mean_v``): the onboarding cohort's mean. The eager build computes them once
    over every statement and hands them to each chunk.
    """
    ep, idiv = d.epoch_us, d.idiv
    stm = t.get("statements_all", t["statements"])
    since_known = "TRUE" if learning_since_us is not None else visible("h.hs", "w.a")
    hs = since_sql(t, d, learning_since_us=learning_since_us, first_stored_us=None)
    vf = _verb_family("lower(x.verb)")
    ctes = [
        ("lbp_hs", f"SELECT {hs} AS hs"),
        (
            "lbp_w",
            f"""SELECT w.a, CASE WHEN {since_known} THEN h.hs END AS ls
            FROM (SELECT DISTINCT a FROM sp) w CROSS JOIN lbp_hs h""",
        ),
        (
            "lbp_cat",
            f"""SELECT activity_id, MAX(CASE WHEN voluntary THEN 1 ELSE 0 END) AS vol,
              MAX(CASE WHEN program = 'onboarding' THEN 1 ELSE 0 END) AS onb
            FROM {t["catalog"]} GROUP BY activity_id""",
        ),
    ]
    usable = "x.stored IS NOT NULL AND x.timestamp IS NOT NULL"
    if "baseline" in groups:
        day = idiv(ep("x.stored"), DAY_US)
        start = idiv(f"w.ls + {DAY_US - 1}", DAY_US)
        first = f"{idiv('w.a', DAY_US)} - {BASELINE_GAP.days + BASELINE_SPAN.days}"
        ctes += [
            (
                "lbp_ses",
                f"""SELECT e.job_family AS fam, {day} AS dy, COUNT(*) AS n
                FROM {stm} x JOIN emp e ON x.employee_id = e.eid
                JOIN lbp_cat c ON c.activity_id = x.object_id
                WHERE {usable} AND c.vol = 1 AND {vf} IN ('launched', 'experienced')
                GROUP BY e.job_family, {day}""",
            ),
            (
                # whole UTC days [d0, d1): the baseline window, from the start of the records
                "lbp_win",
                f"""SELECT w.a, CASE WHEN w.ls IS NULL THEN NULL
                    ELSE GREATEST({first}, {start}) END AS d0,
                  {idiv("w.a", DAY_US)} - {BASELINE_GAP.days} AS d1
                FROM lbp_w w""",
            ),
            (
                # terminations as known at as_of (recorded before it), as for team exits
                "lbp_term",
                f"""SELECT e.k, {ep("x.effective_date")} AS eff, {ep("x.recorded_at")} AS rec
                FROM {t["job_events"]} x JOIN emp e ON x.employee_id = e.eid
                WHERE lower(x.event) = 'termination' AND x.effective_date IS NOT NULL
                  AND x.recorded_at IS NOT NULL
                UNION ALL
                SELECT e.k, e.term_us AS eff, e.term_us AS rec FROM emp e
                WHERE e.term_us IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM {t["job_events"]} x
                  WHERE x.employee_id = e.eid AND lower(x.event) = 'termination')""",
            ),
            (
                "lbp_end",
                f"""SELECT w.a, x.k, MIN(x.eff) AS eff FROM lbp_win w
                JOIN lbp_term x ON {visible("x.rec", "w.a")} GROUP BY w.a, x.k""",
            ),
            (
                "lbp_exp",
                f"""SELECT w.a, e.job_family AS fam, SUM(GREATEST(CAST(0 AS DOUBLE), CAST(
                    LEAST(w.d1 * {DAY_US}, COALESCE(x.eff, w.d1 * {DAY_US}))
                    - GREATEST(w.d0 * {DAY_US}, e.hire_us) AS DOUBLE))) / {float(DAY_US)} AS days
                FROM lbp_win w JOIN emp e ON e.hire_us < w.d1 * {DAY_US}
                LEFT JOIN lbp_end x ON x.a = w.a AND x.k = e.k
                WHERE w.d0 IS NOT NULL AND w.d0 < w.d1
                GROUP BY w.a, e.job_family""",
            ),
            (
                "lbp_n",
                """SELECT w.a, s.fam, SUM(s.n) AS n FROM lbp_win w
                JOIN lbp_ses s ON s.dy >= w.d0 AND s.dy < w.d1 GROUP BY w.a, s.fam""",
            ),
            (
                "lbp_rates",
                f"""SELECT x.a, x.fam, CAST(COALESCE(n.n, 0) AS DOUBLE) / x.days AS rate, 0 AS org
                FROM lbp_exp x LEFT JOIN lbp_n n ON n.a = x.a AND n.fam = x.fam
                WHERE x.fam IS NOT NULL AND x.days >= {float(FAMILY_MIN_DAYS)}
                UNION ALL
                SELECT x.a, CAST(NULL AS {d.string}) AS fam,
                  CAST(COALESCE(n.n, 0) AS DOUBLE) / x.days AS rate, 1 AS org
                FROM (SELECT a, SUM(days) AS days FROM lbp_exp GROUP BY a) x
                LEFT JOIN (SELECT a, SUM(n) AS n FROM lbp_n GROUP BY a) n ON n.a = x.a
                WHERE x.days > 0""",
            ),
        ]
    if "cohort" in groups:
        compl = f"({vf} = 'completed' OR ({vf} = 'experienced' AND COALESCE(x.completion, FALSE)))"
        ctes += [
            (
                "lbc_c",
                f"""SELECT e.k, {ep("x.stored")} AS t, x.object_id
                FROM {stm} x JOIN emp e ON x.employee_id = e.eid
                JOIN lbp_cat c ON c.activity_id = x.object_id
                WHERE {usable} AND c.onb = 1 AND {compl}""",
            ),
            (
                "lbc_v",
                f"""SELECT e.k, e.hire_us, COUNT(DISTINCT c.object_id) AS v
                FROM emp e LEFT JOIN lbc_c c ON c.k = e.k AND c.t >= e.hire_us
                  AND c.t < e.hire_us + {ONBOARDING.us}
                WHERE e.hire_us IS NOT NULL GROUP BY e.k, e.hire_us""",
            ),
            (
                "lbc",
                f"""SELECT w.a, AVG(CAST(v.v AS DOUBLE)) AS mean_v FROM lbp_w w
                JOIN lbc_v v ON v.hire_us + {ONBOARDING.us} < w.a
                  AND v.hire_us + {ONBOARDING.us} >= w.a - {COHORT.us} AND v.hire_us >= w.ls
                GROUP BY w.a""",
            ),
        ]
    return ctes


def pass_ctes() -> list[tuple[str, str]]:
    """``l_tpv``: one fact per employee and activity at its first pass, weighing the days
    from the activity's first record (``tp_days``) and 1 (``tp_n``)."""
    return [
        (
            "l_tpf",
            "SELECT k, object_id, MIN(t) AS t0, MIN(CASE WHEN pass_c = 1 THEN t END) AS tp "
            "FROM l_st GROUP BY k, object_id",
        ),
        (
            "l_tpv",
            f"SELECT k, tp AS t, CAST(tp - t0 AS DOUBLE) / CAST({DAY_US} AS DOUBLE) AS tp_days, "
            f"{_ONE} AS tp_n FROM l_tpf WHERE tp IS NOT NULL",
        ),
    ]


def final_ctes(
    d: Dialect, t: dict[str, str], groups: set[str], *, learning_since_us: int | None
) -> list[tuple[str, str]]:
    """CTEs of ``groups`` after ``l_st`` and ``l_hs`` (see :func:`final_joins`).

    The organization-level tables come from :func:`org_ctes`, or, when the eager build
    computed them once ahead of the chunks, from the tables ``t["@lbp_rates"]`` and
    ``t["@lbc"]``.
    """
    ctes: list[tuple[str, str]] = []
    org = {"baseline", "cohort"} & groups
    pre = {"baseline": t.get("@lbp_rates"), "cohort": t.get("@lbc")}
    todo = {g for g in org if pre[g] is None}
    if todo:
        ctes += org_ctes(d, t, todo, learning_since_us=learning_since_us)
    for g, name in (("baseline", "lbp_rates"), ("cohort", "lbc")):
        if g in org and pre[g] is not None:
            ctes.append((name, f"SELECT * FROM {pre[g]}"))
    if "baseline" in groups:
        since_known = "TRUE" if learning_since_us is not None else visible("h.hs", "sp.a")
        ctes.append(
            (
                "lb_s",
                f"""SELECT sp.rid,
                  CASE WHEN {since_known} THEN GREATEST(sp.hire_us, h.hs) END AS s0,
                  COALESCE(fp.rate, op.rate) AS prior
                FROM sp CROSS JOIN l_hs h JOIN emp e ON e.k = sp.k
                LEFT JOIN (SELECT a, fam, rate FROM lbp_rates WHERE org = 0) fp
                  ON fp.a = sp.a AND fp.fam = e.job_family
                LEFT JOIN (SELECT a, rate FROM lbp_rates WHERE org = 1) op ON op.a = sp.a""",
            )
        )
    if {"onboarding", "cohort"} & groups:
        ctes += [
            (
                "lo_j",
                f"""SELECT sp.rid,
                  COUNT(DISTINCT CASE WHEN s.compl = 1 THEN s.object_id END) AS n_act,
                  MIN(CASE WHEN s.compl = 1 THEN s.t END) AS first_t,
                  AVG(CASE WHEN s.compl = 1 THEN CAST(s.t - sp.hire_us AS DOUBLE) END) AS mean_us,
                  SUM(CASE WHEN s.vf IN ('launched', 'experienced') THEN 1 ELSE 0 END) AS n_sess
                FROM sp JOIN l_st s ON s.k = sp.k
                WHERE s.onb = 1 AND s.t >= sp.hire_us
                  AND s.t < LEAST(sp.hire_us + {ONBOARDING.us}, sp.a)
                GROUP BY sp.rid""",
            ),
            (
                "lo_n",
                f"SELECT COUNT(DISTINCT activity_id) AS n FROM {t['catalog']} "
                "WHERE program = 'onboarding'",
            ),
        ]
    return ctes


def typed(d: Dialect, expr: str, spec: FeatureSpec) -> str:
    """``expr AS name``, cast to the feature's SQL type."""
    return f"CAST({expr} AS {d.string if spec.dtype == 'string' else spec.sql_type}) AS {spec.name}"


def staged_select(d, level1, cols, specs, guards, resolve) -> str:
    """The learning family's final SELECT when baseline features are selected.

    ``level1`` (a SELECT over ``sp`` and the joins, with ``{}`` for its columns) computes
    ``cols`` (every other feature), the :func:`stage_columns` ``inner`` columns and the guard
    condition ``g_<name>`` of each baseline feature with one; a second level adds the ``mid``
    columns (the baseline rate), and the outermost computes the baseline features over them,
    with every feature in ``specs`` order. ``resolve`` turns placeholders into SQL.
    """
    inner, mid = stage_columns()
    guards = {n: g for n, g in guards.items() if g}
    cols = cols + [f"{resolve(e)} AS {n}" for n, e in inner.items()]
    cols += [f"{resolve(g)} AS g_{n}" for n, g in guards.items()]
    level2 = ", ".join(f"{e} AS {n}" for n, e in mid.items())
    out = []
    for s in specs:
        if s.group != "baseline":
            out.append(s.name)
        elif s.name in guards:
            out.append(typed(d, f"CASE WHEN g_{s.name} THEN NULL ELSE {s.expr} END", s))
        else:
            out.append(typed(d, s.expr, s))
    return (
        f"SELECT m.rid, {', '.join(out)} FROM ("
        f"SELECT z.*, {level2} FROM ({level1.format(', '.join(cols))}) z) m"
    )


def final_joins(groups: set[str]) -> list[str]:
    """Joins of the final SELECT of the learning family for ``groups`` (on ``sp``)."""
    joins = []
    if "baseline" in groups:
        joins.append("LEFT JOIN lb_s lb ON lb.rid = sp.rid")
    if {"onboarding", "cohort"} & groups:
        joins += [
            "LEFT JOIN lo_j lo ON lo.rid = sp.rid",
            "CROSS JOIN lo_n lon",
            "CROSS JOIN l_hs lhs",
        ]
    if "cohort" in groups:
        joins.append("LEFT JOIN lbc lc ON lc.a = sp.a")
    return joins
