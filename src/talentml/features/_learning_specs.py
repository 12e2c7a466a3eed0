"""The learning features as data: their series, probes, catalog entries, inputs and guards.

See :mod:`talentml.features._learning` for how a selection of them becomes SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
def learning_specs(windows: tuple[Window, ...]) -> list[FeatureSpec]:
    """The learning features for ``windows``, in output order."""
    specs: list[FeatureSpec] = []

    def add(
        name,
        description,
        unit,
        window,
        actionable,
        direction,
        template,
        dtype,
        expr,
        needs=(),
        guards=(),
        **kw,
    ):
        specs.append(
            FeatureSpec(
                name=name,
                description=description,
                unit=unit,
                family="learning",
                window=window,
                actionable=actionable,
                direction=direction,
                template=template,
                dtype=dtype,
                expr=expr,
                needs=("statements", *needs),
                guards=tuple(guards),
                **kw,
            )
        )

    def diff(series: str, hi: str, lo: str) -> str:
        return f"({{{series}@{hi}}} - {{{series}@{lo}}})"

    # what each feature needs beyond the statements, and when a row of it is unknown
    def vol_compl(hi: str, lo: str) -> Guard:
        return Guard(VOL, hi, lo, "n_volu_compl", "n_compl")

    def vol_all(hi: str, lo: str) -> Guard:
        return Guard(VOL, hi, lo, "n_volu", "n")

    def skill(hi: str, lo: str) -> Guard:
        return Guard(SKILLS, hi, lo, "n_sku_cp", "n_cp")

    def level(hi: str, lo: str) -> Guard:
        return Guard(LEVEL, hi, lo, "n_lvu_cp", "n_cp")

    local = Guard(TZ)

    for w in windows:
        lab, lo, days = w.label, f"lo_{w.label}", w.days
        last = f"in the last {days} days"

        def win(series: str, lo=lo) -> str:
            return diff(series, "asof", lo)

        add(
            f"n_statements_{lab}",
            f"Learning statements recorded (any verb) {last}.",
            "statements",
            w.text,
            True,
            "higher_is_better",
            f"{{value:.0f}} learning records {last}",
            "int64",
            win("n"),
        )
        for fam, what in (
            ("launched", "learning activities launched or attempted"),
            ("completed", "courses and modules completed"),
            ("passed", "assessments passed"),
            ("failed", "assessments failed"),
            ("experienced", "videos and other items experienced"),
        ):
            add(
                f"n_{fam}_{lab}",
                f"Number of {what} {last} (verb family '{fam}').",
                "statements",
                w.text,
                fam != "failed",
                "lower_is_better" if fam == "failed" else "higher_is_better",
                f"{{value:.0f}} {what} {last}",
                "int64",
                win(f"n_{fam}"),
            )
        add(
            f"n_distinct_activities_{lab}",
            f"Distinct learning activities with any statement {last}.",
            "activities",
            w.text,
            True,
            "higher_is_better",
            f"worked on {{value:.0f}} different learning activities {last}",
            "int64",
            f"({{act_first@asof}} - {{act_a_{lab}@{lo}}} + {{act_b_{lab}@{lo}}})",
        )
        add(
            f"minutes_{lab}",
            f"Minutes of learning completed {last} (durations of completions).",
            "minutes",
            w.text,
            True,
            "higher_is_better",
            f"{{value:.0f}} minutes of completed learning {last}",
            "float64",
            win("minutes"),
        )
        add(
            f"score_mean_{lab}",
            f"Mean scaled assessment score (0 to 1) {last}; missing without scores.",
            "score (0-1)",
            w.text,
            False,
            "higher_is_better",
            f"an average assessment score of {{value:.0%}} {last}",
            "float64",
            ratio(win("score_sum"), win("score_n")),
        )
        prior = f"lo2_{lab}"
        add(
            f"score_trend_{lab}",
            f"Mean score {last} minus the mean score in the {days} days before; "
            "missing unless both periods have scores.",
            "score points (0-1)",
            f"{w.text} vs prior {w.text}",
            False,
            "higher_is_better",
            f"assessment scores changed by {{value:+.0%}} {last} compared with the {days} days before",
            "float64",
            f"({ratio(win('score_sum'), win('score_n'))} - "
            f"{ratio(diff('score_sum', lo, prior), diff('score_n', lo, prior))})",
        )
        add(
            f"pass_rate_{lab}",
            f"Share of assessments passed (passed / (passed + failed)) {last}.",
            "share",
            w.text,
            False,
            "higher_is_better",
            f"passed {{value:.0%}} of assessments {last}",
            "float64",
            ratio(win("n_passed"), f"({win('n_passed')} + {win('n_failed')})"),
        )
        add(
            f"voluntary_share_{lab}",
            f"Share of learning statements on voluntary catalog activities {last}.",
            "share",
            w.text,
            True,
            "higher_is_better",
            f"{{value:.0%}} of learning {last} was voluntary",
            "float64",
            # over the statements whose voluntariness is known (n_volu: unknown ones)
            ratio(win("n_vol"), f"({win('n')} - {win('n_volu')})"),
            needs=(VOL,),
        )
        add(
            f"n_voluntary_completions_{lab}",
            f"Completions of voluntary catalog activities {last}.",
            "completions",
            w.text,
            True,
            "higher_is_better",
            f"completed {{value:.0f}} voluntary learning activities {last}",
            "int64",
            win("n_vol_compl"),
            needs=(VOL,),
            guards=(vol_compl("asof", lo),),
        )
        add(
            f"offhours_share_{lab}",
            f"Share of learning started off-hours (weekends, weekdays before 08:00 or from "
            f"18:00, employee's local time) {last}. Reflects when people can learn, not how "
            "well: a known proxy for caregiving.",
            "share",
            w.text,
            False,
            "neutral",
            f"{{value:.0%}} of learning {last} started outside working hours",
            "float64",
            ratio(win("n_off"), win("n")),
            sensitive_proxy=True,
            needs=(TZ,),
            guards=(local,),
        )
        add(
            f"weekend_share_{lab}",
            f"Share of learning started on a Saturday or Sunday (local time) {last}.",
            "share",
            w.text,
            False,
            "neutral",
            f"{{value:.0%}} of learning {last} started on a weekend",
            "float64",
            ratio(win("n_wkend"), win("n")),
            sensitive_proxy=True,
            needs=(TZ,),
            guards=(local,),
        )
        add(
            f"active_weeks_{lab}",
            f"Calendar weeks (Monday to Sunday, local time) with any learning {last}.",
            "weeks",
            w.text,
            True,
            "higher_is_better",
            f"learned in {{value:.0f}} different weeks {last}",
            "int64",
            f"({{wk_first@asof}} - {{wk_a_{lab}@{lo}}} + {{wk_b_{lab}@{lo}}})",
            needs=(TZ,),
            guards=(local,),
        )
        add(
            f"skills_acquired_{lab}",
            f"Skills acquired for the first time (a completed or passed catalog activity "
            f"teaching the skill) {last}.",
            "skills",
            w.text,
            True,
            "higher_is_better",
            f"acquired {{value:.0f}} new skills {last}",
            "int64",
            win("skill_new"),
            needs=(SKILLS,),
            guards=(skill("asof", lo),),
        )
        add(
            f"skill_level_gain_{lab}",
            "Increase in the highest catalog level (1-4) completed per skill, summed over "
            f"skills, {last} (a first level-2 course in a skill adds 2).",
            "skill levels",
            w.text,
            True,
            "higher_is_better",
            f"gained {{value:.0f}} skill levels {last}",
            "float64",
            win("skill_gain"),
            needs=(SKILLS, LEVEL),
            guards=(skill("asof", lo), level("asof", lo)),
        )
        add(
            f"agility_offhours_{lab}",
            f"NAIVE learning agility: voluntary completions started off-hours {last}. Kept for "
            "audits only: it rewards learning in evenings and weekends, which caregivers have "
            "less of; do not use it to judge people.",
            "completions",
            w.text,
            False,
            "neutral",
            f"completed {{value:.0f}} voluntary activities outside working hours {last}",
            "int64",
            win("n_vol_compl_off"),
            sensitive_proxy=True,
            needs=(VOL, TZ),
            guards=(vol_compl("asof", lo), local),
        )
        add(
            f"agility_standard_{lab}",
            f"Learning agility {last}: voluntary completions weighted by the pass rate "
            "(1 without assessments) plus skill-level gains.",
            "agility points",
            w.text,
            True,
            "higher_is_better",
            f"a learning agility of {{value:.1f}} {last} (voluntary completions and skill gains)",
            "float64",
            f"({win('n_vol_compl')} * COALESCE("
            f"{ratio(win('n_passed'), '(' + win('n_passed') + ' + ' + win('n_failed') + ')')}, "
            f"{_ONE}) + {win('skill_gain')})",
            needs=(VOL, SKILLS, LEVEL),
            guards=(vol_compl("asof", lo), skill("asof", lo), level("asof", lo)),
        )
        start_day = f"__IDIV__(GREATEST(sp.hire_us, sp.a - {w.us}), {DAY_US})"
        add(
            f"agility_per_workday_{lab}",
            "Opportunity-normalized learning agility: voluntary completions plus skill-level "
            f"gains per working day (Monday to Friday) employed {last}. Independent of the time "
            "of day, so it does not reward off-hours learning.",
            "per working day",
            w.text,
            True,
            "higher_is_better",
            f"{{value:.2f}} voluntary completions and skill gains per working day {last}",
            "float64",
            ratio(
                f"({win('n_vol_compl')} + {win('skill_gain')})",
                f"__WEEKDAYS__({start_day}, __IDIV__(sp.a, {DAY_US}))",
            ),
            needs=(VOL, SKILLS, LEVEL),
            guards=(vol_compl("asof", lo), skill("asof", lo), level("asof", lo)),
        )

    longest = windows[-1]
    add(
        f"skills_per_quarter_{longest.label}",
        f"Skills acquired for the first time per quarter, over the last {longest.days} days.",
        "skills per quarter",
        longest.text,
        True,
        "higher_is_better",
        "acquired {value:.1f} new skills per quarter" + f" over the last {longest.days} days",
        "float64",
        f"(({{skill_new@asof}} - {{skill_new@lo_{longest.label}}}) / "
        f"CAST({longest.days / QUARTER_DAYS!r} AS DOUBLE))",
        needs=(SKILLS,),
        guards=(skill("asof", f"lo_{longest.label}"),),
    )
    since = "since hire"
    for name, series, what, unit, dtype in (
        ("n_statements_since_hire", "n", "learning statements recorded", "statements", "int64"),
        ("n_completions_since_hire", "n_compl", "completions", "completions", "int64"),
        ("minutes_since_hire", "minutes", "minutes of completed learning", "minutes", "float64"),
        (
            "n_voluntary_completions_since_hire",
            "n_vol_compl",
            "voluntary completions",
            "completions",
            "int64",
        ),
        ("skills_acquired_since_hire", "skill_new", "skills acquired", "skills", "int64"),
    ):
        add(
            name,
            f"{what[0].upper() + what[1:]} since the hire date.",
            unit,
            since,
            True,
            "higher_is_better",
            f"{{value:.0f}} {what} since joining",
            dtype,
            diff(series, "asof", "hire"),
            **{
                "n_vol_compl": {"needs": (VOL,), "guards": (vol_compl("asof", "hire"),)},
                "skill_new": {"needs": (SKILLS,), "guards": (skill("asof", "hire"),)},
            }.get(series, {}),
        )
    add(
        "skills_per_quarter_since_hire",
        "Skills acquired for the first time per quarter of tenure (since the hire date).",
        "skills per quarter",
        since,
        True,
        "higher_is_better",
        "acquired {value:.1f} new skills per quarter since joining",
        "float64",
        ratio(
            diff("skill_new", "asof", "hire"),
            f"({days_between('sp.a', 'LEAST(sp.hire_us, sp.a)')} / CAST({QUARTER_DAYS!r} AS DOUBLE))",
        ),
        needs=(SKILLS,),
        guards=(skill("asof", "hire"),),
    )
    add(
        "onboarding_completions_first_30d",
        "Onboarding-program activities completed in the first 30 days after the hire date "
        "(as known at as_of).",
        "completions",
        "first 30 days after hire",
        True,
        "higher_is_better",
        "completed {value:.0f} onboarding activities in the first 30 days",
        "int64",
        diff("n_onb_compl", "hire30", "hire"),
        needs=(PROGRAM,),
        guards=(Guard(PROGRAM, "hire30", "hire", "n_onbu_compl", "n_compl"),),
    )
    add(
        "days_since_last_activity",
        "Days from the last learning statement recorded before as_of to as_of; missing if none.",
        "days",
        "all history",
        True,
        "lower_is_better",
        "no learning activity for {value:.0f} days",
        "float64",
        days_between("sp.a", "{last_t@asof}"),
    )
    recent, prior = _dropoff_windows(windows)
    add(
        f"voluntary_dropoff_{recent.label}_vs_prior_{prior.label}",
        f"Drop in voluntary learning: 1 - (daily rate of voluntary statements in the last "
        f"{recent.days} days) / (daily rate in the {prior.days} days before); positive means "
        "less learning, missing without voluntary learning in the earlier period.",
        "share",
        f"{recent.text} vs prior {prior.text}",
        True,
        "lower_is_better",
        f"voluntary learning dropped {{value:.0%}} in the last {recent.days} days compared "
        f"with the prior {prior.days}",
        "float64",
        f"({_ONE} - "
        + ratio(
            f"{diff('n_vol', 'asof', 'lo_' + recent.label)} / CAST({recent.days} AS DOUBLE)",
            f"{diff('n_vol', 'lo_' + recent.label, 'drop')} / CAST({prior.days} AS DOUBLE)",
        )
        + ")",
        needs=(VOL,),
        guards=(vol_all("asof", f"lo_{recent.label}"), vol_all(f"lo_{recent.label}", "drop")),
    )
    add(
        "mandatory_overdue_count",
        "Mandatory (compliance) courses not passed in the last 365 days and past their due date.",
        "courses",
        "at as_of",
        True,
        "lower_is_better",
        "{value:.0f} mandatory courses overdue",
        "int64",
        "COALESCE(lm.overdue_n, 0)",
        group="mandatory",
        needs=(MANDATORY,),
    )
    add(
        "mandatory_days_overdue",
        "Days the most overdue mandatory course is past due (0 when all are current); "
        "missing when the catalog has no mandatory course.",
        "days",
        "at as_of",
        True,
        "lower_is_better",
        "mandatory training {value:.0f} days overdue",
        "float64",
        f"(CAST(lm.overdue_us AS DOUBLE) / CAST({DAY_US} AS DOUBLE))",
        group="mandatory",
        needs=(MANDATORY,),
    )
    add(
        "mandatory_compliant",
        "1 if every mandatory course is current or within its grace period, else 0.",
        "flag",
        "at as_of",
        True,
        "higher_is_better",
        "mandatory training status: {value:.0f} (1 = compliant)",
        "int64",
        "CASE WHEN COALESCE(lm.overdue_n, 0) = 0 THEN 1 ELSE 0 END",
        group="mandatory",
        needs=(MANDATORY,),
    )
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
