"""Leakage: facts available at or after ``as_of`` never change a feature at ``as_of``.

Property-based (hypothesis): a small world of three employees is drawn around a cutoff; its
*future* (every statement stored, review or competency rating submitted, HR event recorded at
or after the cutoff) is then replaced by another arbitrary future, and every feature at the
cutoff must stay the same (the engines agree with each other: test_features_engines). The futures include
the cases that leak in practice: statements that happened before the cutoff but were synced
after it, reviews of a period that ended before the cutoff but submitted after it, a
promotion, transfer, manager change or termination effective before the cutoff but recorded
after it, and exits of teammates.

HR histories are drawn as consistent chains (each event's ``from_value`` is the previous
``to_value``) and the employees snapshot is derived from the whole history, as an HRIS export
at a later date would be: so the snapshot changes with the future too.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import talentml as tml

AS_OF = pd.Timestamp("2024-06-01", tz="UTC")
DAY = pd.Timedelta(days=1)
IDS = ["e1", "e2", "e3", "e4"]
TIMEZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
VERBS = ["launched", "completed", "passed", "failed", "experienced", "answered"]
ACTIVITIES = ["c/vol1", "c/vol2", "c/mand", "c/onb", "c/uncatalogued"]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CATALOG = pd.DataFrame(
    {
        "activity_id": ["c/vol1", "c/vol2", "c/mand", "c/onb"],
        "title": ["V1", "V2", "M", "O"],
        "skills": [["python"], ["python", "sql"], ["compliance"], ["company"]],
        "level": np.array([1, 3, 1, 1], dtype="int64"),
        "mandatory": [False, False, True, False],
        "voluntary": [True, True, False, False],
        "program": ["elective", "technical", "compliance", "onboarding"],
        "expected_minutes": [30.0, 60.0, 20.0, 15.0],
    }
)

# offsets in minutes from the cutoff: dense near it, reaching 400 days back
_before = st.integers(min_value=-400 * 1440, max_value=-1)
_after = st.integers(min_value=0, max_value=120 * 1440)


def _at(minutes: int) -> pd.Timestamp:
    return AS_OF + pd.Timedelta(minutes=minutes)


@st.composite
def statement(draw, stored):
    lag = draw(st.sampled_from([0, 1, 30, 3 * 1440, 20 * 1440]))
    verb = draw(st.sampled_from(VERBS))
    return {
        "employee_id": draw(st.sampled_from(IDS[:3])),
        "verb": verb,
        "object_id": draw(st.sampled_from(ACTIVITIES)),
        "success": draw(st.sampled_from([None, True, False])),
        "completion": draw(st.sampled_from([None, True])),
        "score_scaled": draw(st.sampled_from([np.nan, 0.4, 0.75, 1.0])),
        "duration_s": draw(st.sampled_from([np.nan, 0.0, 600.0, 7200.0])),
        "stored": _at(stored),
        "timestamp": _at(stored - lag),
    }


def _statements(rows) -> pd.DataFrame:
    n = len(rows)
    df = pd.DataFrame(rows, columns=list(statement_fields()))
    return pd.DataFrame(
        {
            "statement_id": pd.array([f"s{i}" for i in range(n)], dtype="string"),
            "actor_key": pd.array([f"a{i}" for i in range(n)], dtype="string"),
            "employee_id": pd.array(df["employee_id"], dtype="string"),
            "verb_id": pd.array("http://adlnet.gov/expapi/verbs/" + df["verb"], dtype="string"),
            "verb": pd.array(df["verb"], dtype="string"),
            "object_id": pd.array(df["object_id"], dtype="string"),
            "object_type": pd.array(["Activity"] * n, dtype="string"),
            "activity_type": pd.array([None] * n, dtype="string"),
            "object_name": pd.array([None] * n, dtype="string"),
            "success": pd.array(df["success"], dtype="boolean"),
            "completion": pd.array(df["completion"], dtype="boolean"),
            "score_scaled": df["score_scaled"].astype(float),
            "score_raw": np.full(n, np.nan),
            "score_min": np.full(n, np.nan),
            "score_max": np.full(n, np.nan),
            "duration_s": df["duration_s"].astype(float),
            "timestamp": pd.to_datetime(df["timestamp"], utc=True),
            "stored": pd.to_datetime(df["stored"], utc=True),
            "registration": pd.array([None] * n, dtype="string"),
            "platform": pd.array([None] * n, dtype="string"),
        }
    )


def statement_fields():
    return (
        "employee_id",
        "verb",
        "object_id",
        "success",
        "completion",
        "score_scaled",
        "duration_s",
        "stored",
        "timestamp",
    )


@st.composite
def hr_history(draw):
    """Employees, job events and the snapshot they imply; events split by recorded time."""
    hires = {e: AS_OF - draw(st.integers(40, 2000)) * DAY for e in IDS}
    tz = {e: draw(st.sampled_from(TIMEZONES)) for e in IDS}
    events = []  # dicts with employee_id, effective, recorded, event, from, to
    final = {}
    for e in IDS:
        level = draw(st.integers(1, 5))
        events.append(
            {
                "employee_id": e,
                "effective_date": hires[e],
                "recorded_at": hires[e] - draw(st.integers(0, 20)) * DAY,
                "event": "hire",
                "from_value": None,
                "to_value": str(level),
            }
        )
        state = {"manager": "e4" if e != "e4" else None, "department": "Sales", "level": level}
        # a chain of changes; each change effective after the previous one
        t = hires[e]
        for _ in range(draw(st.integers(0, 4))):
            t = t + draw(st.integers(1, 300)) * DAY
            kind = draw(st.sampled_from(["promotion", "transfer", "manager_change"]))
            lag = draw(st.sampled_from([0, 2, 10, 60])) * DAY + draw(
                st.integers(0, 1439)
            ) * pd.Timedelta(minutes=1)
            if kind == "promotion":
                old, new = state["level"], min(state["level"] + 1, 8)
                state["level"] = new
                old, new = str(old), str(new)
            elif kind == "transfer":
                old = state["department"]
                new = draw(st.sampled_from([d for d in ["Sales", "Finance", "Data"] if d != old]))
                state["department"] = new
            else:
                old = state["manager"]
                new = draw(st.sampled_from([m for m in IDS if m not in (e, old)]))
                state["manager"] = new
            events.append(
                {
                    "employee_id": e,
                    "effective_date": t,
                    "recorded_at": t + lag,
                    "event": kind,
                    "from_value": old,
                    "to_value": new,
                }
            )
        final[e] = dict(state)
        if e != "e1" and draw(st.booleans()):
            t_end = t + draw(st.integers(1, 200)) * DAY
            kind = draw(st.sampled_from(["voluntary", "involuntary"]))
            events.append(
                {
                    "employee_id": e,
                    "effective_date": t_end,
                    "recorded_at": t_end + draw(st.integers(0, 30)) * DAY,
                    "event": "termination",
                    "from_value": kind,
                    "to_value": None,
                }
            )
            final[e]["termination"] = (t_end, kind)
    return hires, tz, events, final


def _hr_tables(hires, tz, events, final):
    ev = pd.DataFrame(events)
    job_events = pd.DataFrame(
        {
            "employee_id": pd.array(ev["employee_id"], dtype="string"),
            "effective_date": pd.to_datetime(ev["effective_date"], utc=True),
            "recorded_at": pd.to_datetime(ev["recorded_at"], utc=True),
            "event": pd.array(ev["event"], dtype="string"),
            "from_value": pd.array(ev["from_value"], dtype="string"),
            "to_value": pd.array(ev["to_value"], dtype="string"),
        }
    )
    term = {e: final[e].get("termination") for e in IDS}
    employees = pd.DataFrame(
        {
            "employee_id": pd.array(IDS, dtype="string"),
            "hire_date": pd.to_datetime([hires[e] for e in IDS], utc=True),
            "termination_date": pd.to_datetime(
                [term[e][0] if term[e] else None for e in IDS], utc=True
            ),
            "termination_type": pd.array(
                [term[e][1] if term[e] else None for e in IDS], dtype="string"
            ),
            "job_family": pd.array(["Sales IC"] * 4, dtype="string"),
            "job_level": np.array([final[e]["level"] for e in IDS], dtype="int64"),
            "department": pd.array([final[e]["department"] for e in IDS], dtype="string"),
            "location": pd.array(["X"] * 4, dtype="string"),
            "timezone": pd.array([tz[e] for e in IDS], dtype="string"),
            "manager_id": pd.array([final[e]["manager"] for e in IDS], dtype="string"),
        }
    )
    return employees, job_events


def _spine(employees):
    return pd.DataFrame(
        {
            "employee_id": pd.array(IDS[:3], dtype="string"),
            "as_of": pd.to_datetime([AS_OF] * 3, utc=True),
        }
    )


def _reviews(rows):
    df = pd.DataFrame(
        rows,
        columns=[
            "employee_id",
            "cycle_id",
            "period_end",
            "submitted_at",
            "overall_rating",
            "goal_attainment",
        ],
    )
    return pd.DataFrame(
        {
            "employee_id": pd.array(df["employee_id"], dtype="string"),
            "cycle_id": pd.array(df["cycle_id"], dtype="string"),
            "period_end": pd.to_datetime(df["period_end"], utc=True),
            "submitted_at": pd.to_datetime(df["submitted_at"], utc=True),
            "overall_rating": df["overall_rating"].astype(float),
            "goal_attainment": df["goal_attainment"].astype(float),
        }
    )


def _competencies(rows):
    df = pd.DataFrame(
        rows, columns=["employee_id", "cycle_id", "competency", "rating", "submitted_at"]
    )
    return pd.DataFrame(
        {
            "employee_id": pd.array(df["employee_id"], dtype="string"),
            "cycle_id": pd.array(df["cycle_id"], dtype="string"),
            "competency": pd.array(df["competency"], dtype="string"),
            "rating": df["rating"].astype(float),
            "submitted_at": pd.to_datetime(df["submitted_at"], utc=True),
        }
    )


def _fixed_hr():
    hires = {e: AS_OF - (300 + 100 * i) * DAY for i, e in enumerate(IDS)}
    tz = dict(zip(IDS, TIMEZONES, strict=True))
    final = {
        e: {"manager": "e4" if e != "e4" else None, "department": "Sales", "level": 2} for e in IDS
    }
    events = [
        {
            "employee_id": e,
            "effective_date": hires[e],
            "recorded_at": hires[e],
            "event": "hire",
            "from_value": None,
            "to_value": "2",
        }
        for e in IDS
    ]
    return _hr_tables(hires, tz, events, final)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-12)


def _build(spine, **tables):
    return tml.features.build(spine, show_progress=False, **tables)


@SETTINGS
@given(
    past=st.lists(_before.flatmap(statement), min_size=0, max_size=25),
    future=st.lists(_after.flatmap(statement), min_size=0, max_size=10),
    other_future=st.lists(_after.flatmap(statement), min_size=0, max_size=10),
)
def test_future_statements_never_change_learning_features(past, future, other_future):
    employees, job_events = _fixed_hr()
    spine = _spine(employees)
    kw = dict(
        employees=employees,
        job_events=job_events,
        course_catalog=CATALOG,
        features=["learning", "learning_baseline"],
    )
    one = _build(spine, statements=_statements(past + future), **kw)
    two = _build(spine, statements=_statements(past + other_future), **kw)
    _same(one, two)
    # and the past is what they saw
    seen = sum(_at(-365 * 1440) <= s["stored"] for s in past)
    assert one["n_statements_365d"].sum() == seen


@st.composite
def review(draw, submitted):
    employee = draw(st.sampled_from(IDS[:3]))
    period_end = _at(submitted) - draw(st.integers(0, 100)) * DAY
    return (
        employee,
        f"c{draw(st.integers(0, 9))}",
        period_end,
        _at(submitted),
        float(draw(st.integers(1, 5))),
        draw(st.sampled_from([np.nan, 0.8, 1.1])),
    )


@st.composite
def competency(draw, submitted):
    return (
        draw(st.sampled_from(IDS[:3])),
        f"c{draw(st.integers(0, 9))}",
        draw(st.sampled_from(["a", "b", "c"])),
        float(draw(st.integers(1, 5))),
        _at(submitted),
    )


def _dedupe(rows, key):
    seen, out = set(), []
    for r in rows:
        if key(r) not in seen:
            seen.add(key(r))
            out.append(r)
    return out


@SETTINGS
@given(
    past=st.lists(_before.flatmap(review), max_size=8),
    future=st.lists(_after.flatmap(review), max_size=5),
    other=st.lists(_after.flatmap(review), max_size=5),
    cpast=st.lists(_before.flatmap(competency), max_size=10),
    cfuture=st.lists(_after.flatmap(competency), max_size=6),
    cother=st.lists(_after.flatmap(competency), max_size=6),
)
def test_future_reviews_never_change_review_features(past, future, other, cpast, cfuture, cother):
    employees, job_events = _fixed_hr()
    spine = _spine(employees)
    statements = _statements([])

    def tables(revs, comps):
        revs = _dedupe(revs, lambda r: (r[0], r[1]))
        comps = _dedupe(comps, lambda r: (r[0], r[1], r[2]))
        return _reviews(revs), _competencies(comps)

    r1, c1 = tables(past + future, cpast + cfuture)
    r2, c2 = tables(past + other, cpast + cother)
    kw = dict(statements=statements, employees=employees, features="reviews")
    one = _build(spine, reviews=r1, competency_ratings=c1, **kw)
    two = _build(spine, reviews=r2, competency_ratings=c2, **kw)
    # a future row may take a (employee, cycle) key a past row also uses: only compare when
    # the visible rows are the same in both worlds
    vis = lambda df, col: df[df[col] < AS_OF].reset_index(drop=True)  # noqa: E731
    if vis(r1, "submitted_at").equals(vis(r2, "submitted_at")) and vis(c1, "submitted_at").equals(
        vis(c2, "submitted_at")
    ):
        _same(one, two)


@SETTINGS
@given(world=hr_history(), other=hr_history())
def test_future_hr_events_never_change_hris_features(world, other):
    hires, tz, events, final = world
    # the other world: the same past (events recorded before the cutoff, the same hires and
    # time zones), with the other draw's future appended after it, as consistent chains
    visible = [e for e in events if e["recorded_at"] < AS_OF]
    _, _, other_events, _ = other
    future = []
    merged_final = {}
    for emp in IDS:
        mine = sorted(
            [e for e in visible if e["employee_id"] == emp],
            key=lambda e: (e["effective_date"], e["recorded_at"]),
        )
        last_eff = max([e["effective_date"] for e in mine] + [hires[emp]])
        # the state after the visible chain
        state = {"manager": "e4" if emp != "e4" else None, "department": "Sales"}
        level = None
        for e in mine:
            if e["event"] in ("hire", "promotion"):
                level = int(e["to_value"])
            elif e["event"] == "transfer":
                state["department"] = e["to_value"]
            elif e["event"] == "manager_change":
                state["manager"] = e["to_value"]
        state["level"] = level if level is not None else 1
        terminated = any(e["event"] == "termination" for e in mine)
        t = last_eff
        for e in sorted(
            [x for x in other_events if x["employee_id"] == emp and x["event"] != "hire"],
            key=lambda e: e["effective_date"],
        ):
            if terminated:
                break
            t = t + (e["effective_date"] - hires[emp]) % (90 * DAY) + DAY
            rec = (
                max(t + (e["recorded_at"] - e["effective_date"]), AS_OF)
                + (e["recorded_at"] - e["effective_date"]) % DAY
            )
            if e["event"] == "promotion":
                old, new = str(state["level"]), str(min(state["level"] + 1, 8))
                state["level"] = int(new)
            elif e["event"] == "transfer":
                old = state["department"]
                new = "Data" if old != "Data" else "Finance"
                state["department"] = new
            elif e["event"] == "manager_change":
                old = state["manager"]
                new = next(m for m in IDS if m not in (emp, old))
                state["manager"] = new
            else:
                old, new = e["from_value"], None
                if emp == "e1":
                    continue
                terminated = True
                state["termination"] = (t, e["from_value"])
            future.append(
                {
                    "employee_id": emp,
                    "effective_date": t,
                    "recorded_at": rec,
                    "event": e["event"],
                    "from_value": old,
                    "to_value": new,
                }
            )
        merged_final[emp] = state
    # recompute the first world's snapshot the same way (its own future included)
    emp1, ev1 = _hr_tables(hires, tz, events, final)
    emp2, ev2 = _hr_tables(hires, tz, visible + future, merged_final)
    spine = _spine(emp1)
    statements = _statements([])
    one = _build(spine, statements=statements, employees=emp1, job_events=ev1, features="hris")
    two = _build(spine, statements=statements, employees=emp2, job_events=ev2, features="hris")
    _same(one, two)


@settings(max_examples=10, deadline=None)
@given(world=hr_history())
def test_hr_leakage_world_generator_is_consistent(world):
    """The chains the HR property draws from agree with their snapshot."""
    hires, tz, events, final = world
    employees, job_events = _hr_tables(hires, tz, events, final)
    for e in IDS:
        mine = job_events[job_events["employee_id"] == e].sort_values("effective_date")
        levels = mine[mine["event"].isin(["hire", "promotion"])]["to_value"]
        assert int(levels.iloc[-1]) == employees.set_index("employee_id").loc[e, "job_level"]
    assert isinstance(AS_OF.to_pydatetime(), dt.datetime)
