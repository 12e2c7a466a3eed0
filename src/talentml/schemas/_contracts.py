"""The contracts themselves: columns, kinds, value rules, unique keys and row rules, as data."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "JOB_EVENTS",
    "KIND_DTYPES",
    "KINDS",
    "MAX_CLOCK_SKEW",
    "OBJECT_TYPES",
    "PROGRAMS",
    "TABLES",
    "TERMINATION_TYPES",
    "Col",
    "Contract",
    "RowRule",
    "contract",
    "dtype_of",
]

#: How far ``stored`` may precede ``timestamp`` in a statement (device clocks drift; the LRS
#: clock is authoritative). A statement stored more than this before it happened is invalid.
MAX_CLOCK_SKEW = pd.Timedelta(minutes=10)

TERMINATION_TYPES = ("voluntary", "involuntary")
JOB_EVENTS = ("hire", "promotion", "transfer", "manager_change", "termination")
OBJECT_TYPES = ("Activity", "Agent", "Group", "StatementRef", "SubStatement")
PROGRAMS = ("onboarding", "compliance", "leadership", "elective", "product", "technical")
_TIMEZONES = frozenset(zoneinfo.available_timezones())

#: Logical kinds of a column.
KINDS = ("string", "datetime", "float", "int", "bool", "list")
#: The dtype talentml writes for each kind.
KIND_DTYPES = {
    "string": "string",
    "datetime": "datetime64[ns, UTC]",
    "float": "float64",
    "int": "int64",
    "bool": "boolean",
    "list": "object",
}


@dataclass(frozen=True)
class Col:
    """One column of a contract.

    ``required`` columns must be present; an optional column may be absent, which means
    "unknown" (``if_absent`` says what talentml then does). ``nullable`` columns may hold
    missing values. ``checks`` are ``(rule name, function)`` pairs; a function takes the
    column's non-missing values and returns True for the good ones.
    """

    name: str
    kind: str  # "string", "datetime", "float", "int", "bool", "list"
    nullable: bool = False
    required: bool = True
    description: str = ""
    checks: tuple[tuple[str, Callable[[pd.Series], pd.Series]], ...] = ()
    if_absent: str = ""


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row; ``check`` returns True for good rows.

    ``fix`` says how to repair a row that breaks it (shown in the error message).
    """

    name: str
    description: str
    columns: tuple[str, ...]
    check: Callable[[pd.DataFrame], pd.Series]
    fix: str = ""


@dataclass(frozen=True)
class Contract:
    """The contract of one table."""

    name: str
    description: str
    columns: tuple[Col, ...]
    unique: tuple[str, ...] = ()
    rules: tuple[RowRule, ...] = ()
    extra_columns: bool = True
    time_columns: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """The columns that must be present."""
        return [c.name for c in self.columns if c.required]

    def col(self, name: str) -> Col:
        """The column ``name`` (KeyError if the contract has none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def dtype_of(col: Col) -> str:
    """The dtype talentml writes for ``col`` (nullable integers as ``Int64``)."""
    if col.kind == "int" and col.nullable:
        return "Int64"
    return KIND_DTYPES[col.kind]


def contract(table: str) -> Contract:
    """The contract of ``table``; ValueError naming the known tables otherwise."""
    try:
        return TABLES[table]
    except (KeyError, TypeError):
        raise ValueError(f"unknown table {table!r}; contracts exist for {sorted(TABLES)}") from None


# --------------------------------------------------------------------------- value rules
def _between(lo: float, hi: float) -> tuple[str, Callable[[pd.Series], pd.Series]]:
    return (f"between_{lo:g}_{hi:g}", lambda s: s.between(lo, hi))


def _isin(values: Sequence[str]) -> tuple[str, Callable[[pd.Series], pd.Series]]:
    allowed = set(values)
    return ("isin_" + "|".join(values), lambda s: s.isin(allowed))


def _positive(s: pd.Series) -> pd.Series:
    return s > 0


def _non_negative(s: pd.Series) -> pd.Series:
    return s >= 0


def _non_blank(s: pd.Series) -> pd.Series:
    return s.astype("string[pyarrow]").str.strip().str.len() > 0


def _iana(s: pd.Series) -> pd.Series:
    return s.isin(_TIMEZONES)


def _list_of_strings(s: pd.Series) -> pd.Series:
    return s.map(
        lambda v: isinstance(v, list | tuple | np.ndarray) and all(isinstance(x, str) for x in v)
    )


# ----------------------------------------------------------------------------- row rules
def _nullable_pair(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: df[a].isna() == df[b].isna()


def _ordered(
    early: str, late: str, slack: pd.Timedelta | None = None
) -> Callable[[pd.DataFrame], pd.Series]:
    def check(df: pd.DataFrame) -> pd.Series:
        lhs = df[late] if slack is None else df[late] + slack
        return df[early].isna() | df[late].isna() | (lhs >= df[early])

    return check


def _score_order(df: pd.DataFrame) -> pd.Series:
    raw, lo, hi = df["score_raw"], df["score_min"], df["score_max"]
    ok = lo.isna() | hi.isna() | (lo <= hi)
    ok &= raw.isna() | lo.isna() | (raw >= lo)
    ok &= raw.isna() | hi.isna() | (raw <= hi)
    return ok


def _true(s: pd.Series) -> np.ndarray:
    """True where ``s`` is True; missing (unknown) is not True."""
    return s.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _not_both(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
    # a missing flag is unknown, never a conflict
    return lambda df: pd.Series(~(_true(df[a]) & _true(df[b])), index=df.index)


def _not_own_manager(df: pd.DataFrame) -> pd.Series:
    ok = df["manager_id"].isna() | (df["manager_id"] != df["employee_id"])
    return ok.fillna(True).astype(bool)


S, DT, F, INT, B, L = KINDS
_ID = (("non_blank", _non_blank),)
_QUARANTINE = 'or quarantine the rows: good, bad = schemas.split("{table}", df)'

TABLES: dict[str, Contract] = {
    c.name: c
    for c in [
        Contract(
            "statements",
            "Normalized xAPI statements, one row per accepted statement.",
            (
                Col("statement_id", S, checks=_ID, description="xAPI statement id (UUID)"),
                Col("actor_key", S, checks=_ID, description="keyed hash of the actor's IFI"),
                Col(
                    "employee_id",
                    S,
                    nullable=True,
                    description="employee, when the actor is mapped",
                ),
                Col("verb_id", S, checks=_ID, description="verb IRI"),
                Col("verb", S, description="verb short name (last IRI segment)"),
                Col(
                    "object_id",
                    S,
                    checks=_ID,
                    description="activity IRI, or the object's identifier",
                ),
                Col("object_type", S, checks=(_isin(OBJECT_TYPES),), description="xAPI objectType"),
                Col("activity_type", S, nullable=True, description="activity type IRI"),
                Col(
                    "object_name",
                    S,
                    nullable=True,
                    description="activity name from its language map",
                ),
                Col("success", B, nullable=True, description="result.success"),
                Col("completion", B, nullable=True, description="result.completion"),
                Col(
                    "score_scaled",
                    F,
                    nullable=True,
                    checks=(_between(-1, 1),),
                    description="scaled score in [-1, 1]",
                ),
                Col("score_raw", F, nullable=True, description="raw score"),
                Col("score_min", F, nullable=True, description="minimum possible score"),
                Col("score_max", F, nullable=True, description="maximum possible score"),
                Col(
                    "duration_s",
                    F,
                    nullable=True,
                    checks=(("non_negative", _non_negative),),
                    description="result.duration in seconds",
                ),
                Col("timestamp", DT, description="when the experience happened (UTC)"),
                Col("stored", DT, description="when the LRS stored it: the available time (UTC)"),
                Col("registration", S, nullable=True, description="context.registration"),
                Col("platform", S, nullable=True, description="context.platform"),
            ),
            unique=("statement_id",),
            rules=(
                RowRule(
                    "stored_after_timestamp",
                    f"stored >= timestamp - {MAX_CLOCK_SKEW}",
                    ("timestamp", "stored"),
                    _ordered("timestamp", "stored", MAX_CLOCK_SKEW),
                    fix="the LRS clock is authoritative: re-read the statements with "
                    "talentml.xapi.ingest (it sets stored, quarantines the rest), "
                    + _QUARANTINE.format(table="statements"),
                ),
                RowRule(
                    "score_min_raw_max",
                    "score_min <= score_raw <= score_max",
                    ("score_raw", "score_min", "score_max"),
                    _score_order,
                    fix="correct score_min, score_raw or score_max (or set them missing), "
                    + _QUARANTINE.format(table="statements"),
                ),
            ),
            time_columns=("timestamp", "stored"),
        ),
        Contract(
            "employees",
            "HRIS employee records, one row per employee. Only employee_id and hire_date are "
            "required: an absent column is unknown, and the features it feeds are missing.",
            (
                Col("employee_id", S, checks=_ID, description="employee identifier"),
                Col("hire_date", DT, description="first day of employment (UTC)"),
                Col(
                    "termination_date",
                    DT,
                    nullable=True,
                    required=False,
                    description="last day, null while employed",
                    if_absent="no exit is known: everyone counts as employed (make_spine); "
                    "labels.flight_risk needs it",
                ),
                Col(
                    "termination_type",
                    S,
                    nullable=True,
                    required=False,
                    checks=(_isin(TERMINATION_TYPES),),
                    description="voluntary / involuntary / null",
                    if_absent="exits cannot be told voluntary: team exit features are missing",
                ),
                Col(
                    "job_family",
                    S,
                    nullable=True,
                    required=False,
                    description="job family",
                    if_absent="the job_family feature is missing",
                ),
                Col(
                    "job_level",
                    INT,
                    nullable=True,
                    required=False,
                    checks=(_between(1, 12),),
                    description="job level (1 = entry)",
                    if_absent="the job_level feature is missing",
                ),
                Col(
                    "department",
                    S,
                    nullable=True,
                    required=False,
                    description="department",
                    if_absent="the department feature is missing",
                ),
                Col(
                    "location",
                    S,
                    nullable=True,
                    required=False,
                    description="work location",
                    if_absent="nothing (no feature reads it)",
                ),
                Col(
                    "timezone",
                    S,
                    nullable=True,
                    required=False,
                    checks=(("iana_timezone", _iana),),
                    description="IANA time zone of the employee",
                    if_absent="off-hours, weekend and calendar-week features are missing; "
                    "give one with schemas.coerce(..., defaults={'timezone': ...})",
                ),
                Col(
                    "manager_id",
                    S,
                    nullable=True,
                    required=False,
                    description="employee_id of the manager",
                    if_absent="team features are missing",
                ),
            ),
            unique=("employee_id",),
            rules=(
                RowRule(
                    "termination_after_hire",
                    "termination_date >= hire_date",
                    ("hire_date", "termination_date"),
                    _ordered("hire_date", "termination_date"),
                    fix="correct hire_date or termination_date (a rehire is a new hire_date), "
                    + _QUARANTINE.format(table="employees"),
                ),
                RowRule(
                    "termination_type_iff_date",
                    "termination_type is set exactly when termination_date is",
                    ("termination_date", "termination_type"),
                    _nullable_pair("termination_date", "termination_type"),
                    fix="set termination_type ('voluntary' or 'involuntary') wherever "
                    "termination_date is set and clear it elsewhere, "
                    + _QUARANTINE.format(table="employees"),
                ),
                RowRule(
                    "not_own_manager",
                    "manager_id != employee_id",
                    ("employee_id", "manager_id"),
                    _not_own_manager,
                    fix="set manager_id to the manager's employee_id, or leave it missing",
                ),
            ),
            time_columns=("hire_date", "termination_date"),
        ),
        Contract(
            "job_events",
            "Dated HR events; recorded_at is when the event became known.",
            (
                Col("employee_id", S, checks=_ID),
                Col("effective_date", DT, description="when the event takes effect"),
                Col(
                    "recorded_at",
                    DT,
                    description="when it was entered in the HRIS: the available time",
                ),
                Col(
                    "event",
                    S,
                    checks=(_isin(JOB_EVENTS),),
                    description="hire, promotion, transfer, manager_change, termination",
                ),
                Col(
                    "from_value",
                    S,
                    nullable=True,
                    description="value before (level, department, manager)",
                ),
                Col("to_value", S, nullable=True, description="value after"),
            ),
            time_columns=("effective_date", "recorded_at"),
        ),
        Contract(
            "reviews",
            "Performance reviews, one row per employee and cycle.",
            (
                Col("employee_id", S, checks=_ID),
                Col("cycle_id", S, checks=_ID, description="review cycle, e.g. 2024H1"),
                Col("period_end", DT, description="end of the reviewed period"),
                Col(
                    "submitted_at",
                    DT,
                    description="when the rating was submitted: the available time",
                ),
                Col(
                    "overall_rating",
                    F,
                    checks=(_between(1, 5),),
                    description="overall rating, 1 (low) to 5",
                ),
                Col(
                    "potential_rating",
                    F,
                    nullable=True,
                    required=False,
                    checks=(_between(1, 3),),
                    description="potential, 1 (low) to 3",
                    if_absent="the potential_latest feature is missing",
                ),
                Col(
                    "goal_attainment",
                    F,
                    nullable=True,
                    required=False,
                    checks=(_between(0, 2),),
                    description="share of goals attained (1 = 100%)",
                    if_absent="the goal_attainment_latest feature is missing",
                ),
            ),
            unique=("employee_id", "cycle_id"),
            rules=(
                RowRule(
                    "submitted_after_period_end",
                    "submitted_at >= period_end",
                    ("period_end", "submitted_at"),
                    _ordered("period_end", "submitted_at"),
                    fix="a rating is submitted after its period ends: correct period_end or "
                    "submitted_at, " + _QUARANTINE.format(table="reviews"),
                ),
            ),
            time_columns=("period_end", "submitted_at"),
        ),
        Contract(
            "competency_ratings",
            "Competency ratings given in a review cycle.",
            (
                Col("employee_id", S, checks=_ID),
                Col("cycle_id", S, checks=_ID),
                Col("competency", S, checks=_ID, description="competency (skill) name"),
                Col("rating", F, checks=(_between(1, 5),), description="1 (low) to 5"),
                Col("submitted_at", DT, description="available time"),
            ),
            unique=("employee_id", "cycle_id", "competency"),
            time_columns=("submitted_at",),
        ),
        Contract(
            "catalog",
            "Learning activities: courses, modules and programs. Only activity_id is required; "
            "a missing value is unknown (never guessed), and the features it feeds are missing.",
            (
                Col(
                    "activity_id",
                    S,
                    checks=_ID,
                    description="activity IRI, as in statements.object_id",
                ),
                Col(
                    "title",
                    S,
                    nullable=True,
                    required=False,
                    description="activity title",
                    if_absent="nothing (no feature reads it)",
                ),
                Col(
                    "skills",
                    L,
                    nullable=True,
                    required=False,
                    checks=(("list_of_strings", _list_of_strings),),
                    description="skills the activity teaches (a list of strings)",
                    if_absent="skill and agility features are missing",
                ),
                Col(
                    "level",
                    INT,
                    nullable=True,
                    required=False,
                    checks=(_between(1, 4),),
                    description="1 foundation .. 4 expert",
                    if_absent="skill-level gains and agility features are missing",
                ),
                Col(
                    "mandatory",
                    B,
                    nullable=True,
                    required=False,
                    description="required (compliance)",
                    if_absent="mandatory-compliance features are missing",
                ),
                Col(
                    "voluntary",
                    B,
                    nullable=True,
                    required=False,
                    description="chosen by the learner",
                    if_absent="voluntary-learning and agility features are missing",
                ),
                Col(
                    "program",
                    S,
                    nullable=True,
                    required=False,
                    checks=(_isin(PROGRAMS),),
                    description="onboarding, compliance, leadership, elective, product, technical",
                    if_absent="the onboarding feature is missing",
                ),
                Col(
                    "expected_minutes",
                    F,
                    nullable=True,
                    required=False,
                    checks=(("positive", _positive),),
                    description="expected time to complete",
                    if_absent="nothing (no feature reads it)",
                ),
            ),
            unique=("activity_id",),
            rules=(
                RowRule(
                    "not_mandatory_and_voluntary",
                    "an activity is not both mandatory and voluntary (missing is unknown)",
                    ("mandatory", "voluntary"),
                    _not_both("mandatory", "voluntary"),
                    fix="set one of mandatory / voluntary to False, or to missing when unknown",
                ),
            ),
        ),
        Contract(
            "productivity",
            "Periodic productivity measurements (used for ramp-up).",
            (
                Col("employee_id", S, checks=_ID),
                Col("period_end", DT),
                Col("recorded_at", DT, description="available time"),
                Col("metric", S, checks=_ID),
                Col("value", F),
                Col("target", F, checks=(("positive", _positive),)),
            ),
            unique=("employee_id", "period_end", "metric"),
            rules=(
                RowRule(
                    "recorded_after_period_end",
                    "recorded_at >= period_end",
                    ("period_end", "recorded_at"),
                    _ordered("period_end", "recorded_at"),
                    fix="a measurement is recorded after its period ends: correct period_end "
                    "or recorded_at, " + _QUARANTINE.format(table="productivity"),
                ),
            ),
            time_columns=("period_end", "recorded_at"),
        ),
        Contract(
            "sensitive",
            "Protected attributes: read only by talentml.fairness.",
            (
                Col("employee_id", S, checks=_ID),
                Col("sex", S, nullable=True),
                Col("race_ethnicity", S, nullable=True),
                Col("age_band", S, nullable=True),
                Col("caregiver", B, nullable=True),
            ),
            unique=("employee_id",),
        ),
        Contract(
            "identities",
            "Map from pseudonymized actor keys to employees.",
            (
                Col("actor_key", S, checks=_ID, description="keyed hash of a canonical actor IFI"),
                Col("employee_id", S, checks=_ID),
            ),
            unique=("actor_key",),
        ),
    ]
}
