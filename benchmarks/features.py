"""Speed and memory of the point-in-time feature builders, against featuretools, SQL and pandas.

Run from the repository root::

    .venv/bin/python benchmarks/features.py            # (a) five features, 20k x 12 x 2M
    .venv/bin/python benchmarks/features.py --full     # (a) and (b) the full feature set,
                                                       #     50k x 24 x 20M, in a subprocess

(a) **Five features** (statements in the 90 days before the cutoff, completions in them, their
mean scaled score, the share of them started off-hours in the employee's time zone, and the
days since the last statement) for 20,000 employees x 12 monthly cutoffs over 2,000,000
statements, computed in one process by

* talentml: ``talentml.features.build(..., features=[...five names...])``;
* featuretools 1.31: ``calculate_feature_matrix`` with ``training_window="90 days"`` and
  ``include_cutoff_time=False`` (the point-in-time rule: strictly before the cutoff);
* one hand-written DuckDB SQL query (a range join of cutoffs and statements);
* a naive pandas merge (cutoffs x statements, filter, group by).

Every method gets the same pandas tables, and the script checks that all four return the
same values (floats to 1e-9). featuretools applies its 90-day training window to every
feature, so its "days since last statement" is missing when the last statement is older
than 90 days: the comparison of that feature is on the rows where it is defined.

(b) **The full feature set** (every feature of ``talentml.features.catalog()``) for 50,000
employees x 24 monthly cutoffs over 20,000,000 statements, with reviews, competency ratings,
job events and the catalog, in a child process that reports wall time and peak RSS.

The data are generated columnar, directly in the contracts' shape (no JSON): employees with
teams, managers, time zones and exits; job events recorded late like an HRIS; reviews twice a
year; and learning sessions (launched -> completed -> passed/failed, videos experienced) on
the simulator's catalog, started in working hours or off-hours in each employee's local time,
stored seconds (sometimes days) after they happened. Results go to
``benchmarks/results/features.json``; ``docs/features.md`` renders them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "features.json"
US_DAY = 86_400_000_000
US_S = 1_000_000
TIMEZONES = np.array(
    [
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "America/Sao_Paulo",
        "Europe/London",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Asia/Singapore",
        "Australia/Sydney",
    ]
)
DEPARTMENTS = np.array(
    ["Engineering", "Data", "Sales", "Support", "Operations", "Product", "Marketing", "Finance"]
)
FIVE = [
    "n_statements_90d",
    "n_completed_90d",
    "score_mean_90d",
    "offhours_share_90d",
    "days_since_last_activity",
]


def _s(values) -> pd.Series:
    return pd.Series(pa.array(values, type=pa.string()), dtype=pd.ArrowDtype(pa.string())).astype(
        "string[pyarrow]"
    )


def _utc(us: np.ndarray) -> pd.Series:
    return (
        pd.Series(np.asarray(us, dtype="int64").astype("datetime64[us]"))
        .dt.tz_localize("UTC")
        .dt.as_unit("ns")
    )


def _eid(idx: np.ndarray) -> np.ndarray:
    return np.char.add("E", np.char.zfill(np.asarray(idx).astype(str), 7))


def make_org(n_employees: int, *, start: str, end: str, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Employees, job events, reviews and competency ratings (contract shape, columnar)."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start, tz="UTC").value // 1000
    t1 = pd.Timestamp(end, tz="UTC").value // 1000
    span_days = (t1 - t0) // US_DAY
    n0 = n_employees
    # leavers (14% a year) are replaced and the organization grows a little: about
    # ``n_employees`` are active at any time
    n_new = int(n0 * (0.14 * span_days / 365 + 0.05))
    n = n0 + n_new
    hire_day = np.concatenate(
        [
            -rng.exponential(3.5 * 365, n0).astype(np.int64) - 1,
            rng.integers(0, span_days, n_new),
        ]
    )
    hire_us = t0 + hire_day * US_DAY
    leave = rng.random(n) < 0.14 * span_days / 365
    term_day = np.where(leave, np.maximum(hire_day, 0) + rng.integers(30, span_days + 30, n), -1)
    leave &= term_day < span_days
    term_us = np.where(leave, t0 + term_day * US_DAY, np.iinfo(np.int64).min)
    ttype = np.where(rng.random(n) < 0.8, "voluntary", "involuntary")
    dept = rng.integers(0, len(DEPARTMENTS), n)
    level = np.clip(rng.poisson(2.5, n) + 1, 1, 8)
    tz = rng.integers(0, len(TIMEZONES), n)
    # teams of about eight: the first n/8 people (by index) are managers
    n_mgr = max(1, n // 8)
    mgr = rng.integers(0, n_mgr, n)
    mgr = np.where(mgr == np.arange(n), (mgr + 1) % n_mgr, mgr)
    ids = _eid(np.arange(n))
    employees = pd.DataFrame(
        {
            "employee_id": _s(ids),
            "hire_date": _utc(hire_us),
            "termination_date": _utc(np.where(leave, term_us, 0)).where(leave),
            "termination_type": _s(np.where(leave, ttype, None)),
            "job_family": _s(np.char.add(DEPARTMENTS[dept], " IC")),
            "job_level": level.astype(np.int64),
            "department": _s(DEPARTMENTS[dept]),
            "location": _s(np.array([z.split("/")[1] for z in TIMEZONES])[tz]),
            "timezone": _s(TIMEZONES[tz]),
            "manager_id": _s(ids[mgr]),
        }
    )
    employees["termination_type"] = employees["termination_type"].where(leave)
    # job events: hires, one promotion for a fifth, manager changes, terminations
    ev_emp, ev_day, ev_kind, ev_from, ev_to = [], [], [], [], []
    ev_emp.append(np.arange(n))
    ev_day.append(hire_day)
    ev_kind.append(np.full(n, "hire"))
    ev_from.append(np.full(n, None))
    ev_to.append((level - (rng.random(n) < 0.2)).clip(1).astype(str))
    promo = np.flatnonzero(rng.random(n) < 0.2)
    ev_emp.append(promo)
    ev_day.append(rng.integers(0, span_days, len(promo)))
    ev_kind.append(np.full(len(promo), "promotion"))
    ev_from.append((level[promo] - 1).clip(1).astype(str))
    ev_to.append(level[promo].astype(str))
    moved = np.flatnonzero(rng.random(n) < 0.1)
    ev_emp.append(moved)
    ev_day.append(rng.integers(0, span_days, len(moved)))
    ev_kind.append(np.full(len(moved), "manager_change"))
    ev_from.append(ids[rng.integers(0, n_mgr, len(moved))])
    ev_to.append(ids[mgr[moved]])
    gone = np.flatnonzero(leave)
    ev_emp.append(gone)
    ev_day.append(term_day[gone])
    ev_kind.append(np.full(len(gone), "termination"))
    ev_from.append(ttype[gone])
    ev_to.append(np.full(len(gone), None))
    e_emp = np.concatenate(ev_emp)
    e_day = np.concatenate(ev_day)
    lag = np.where(
        rng.random(len(e_emp)) < 0.9,
        rng.integers(0, 15, len(e_emp)),
        rng.integers(15, 75, len(e_emp)),
    )
    job_events = pd.DataFrame(
        {
            "employee_id": _s(ids[e_emp]),
            "effective_date": _utc(t0 + e_day * US_DAY),
            "recorded_at": _utc(t0 + (e_day + lag) * US_DAY + rng.integers(0, US_DAY, len(e_emp))),
            "event": _s(np.concatenate(ev_kind)),
            "from_value": _s(np.concatenate(ev_from)),
            "to_value": _s(np.concatenate(ev_to)),
        }
    )
    # reviews twice a year, for people hired 90 days before the period end
    y0, y1 = pd.Timestamp(start).year - 1, pd.Timestamp(end).year
    ends = [
        pd.Timestamp(f"{y}-{md}", tz="UTC")
        for y in range(y0, y1 + 1)
        for md in ("06-30", "12-31")
        if pd.Timestamp(f"{y}-{md}", tz="UTC") < pd.Timestamp(end, tz="UTC")
    ]
    r_emp, r_cycle, r_end = [], [], []
    for e in ends:
        e_us = e.value // 1000
        ok = np.flatnonzero((hire_us <= e_us - 90 * US_DAY) & (~leave | (term_us > e_us)))
        r_emp.append(ok)
        r_cycle.append(np.full(len(ok), f"{e.year}H{1 if e.month == 6 else 2}"))
        r_end.append(np.full(len(ok), e_us))
    r_emp_a = np.concatenate(r_emp)
    r_end_a = np.concatenate(r_end)
    sub = (
        r_end_a + rng.integers(7, 40, len(r_emp_a)) * US_DAY + rng.integers(0, US_DAY, len(r_emp_a))
    )
    reviews = pd.DataFrame(
        {
            "employee_id": _s(ids[r_emp_a]),
            "cycle_id": _s(np.concatenate(r_cycle)),
            "period_end": _utc(r_end_a),
            "submitted_at": _utc(sub),
            "overall_rating": rng.choice(
                [1.0, 2.0, 3.0, 4.0, 5.0], len(r_emp_a), p=[0.03, 0.22, 0.48, 0.24, 0.03]
            ),
            "potential_rating": rng.choice([1.0, 2.0, 3.0], len(r_emp_a)),
            "goal_attainment": np.round(rng.normal(1.0, 0.2, len(r_emp_a)).clip(0, 2), 2),
        }
    )
    comps = np.array(["Communication", "Delivery", "Collaboration", "Craft", "Ownership", "Growth"])
    k = len(comps)
    competency_ratings = pd.DataFrame(
        {
            "employee_id": _s(np.repeat(ids[r_emp_a], k)),
            "cycle_id": _s(np.repeat(reviews["cycle_id"].to_numpy(dtype=object), k)),
            "competency": _s(np.tile(comps, len(r_emp_a))),
            "rating": rng.choice(
                [1.0, 2.0, 3.0, 4.0, 5.0], len(r_emp_a) * k, p=[0.03, 0.2, 0.5, 0.24, 0.03]
            ),
            "submitted_at": _utc(np.repeat(sub, k)),
        }
    )
    return {
        "employees": employees,
        "job_events": job_events,
        "reviews": reviews,
        "competency_ratings": competency_ratings,
    }


def make_catalog() -> pd.DataFrame:
    """The simulator's learning catalog (public API), without its extra columns."""
    from talentml.datasets import simulate_workforce

    org = simulate_workforce(
        n_employees=50, start="2024-01-01", end="2024-12-31", random_state=0, show_progress=False
    )
    return org.catalog[
        [
            "activity_id",
            "title",
            "skills",
            "level",
            "mandatory",
            "voluntary",
            "program",
            "expected_minutes",
        ]
    ]


def make_statements(
    employees: pd.DataFrame,
    catalog: pd.DataFrame,
    n_statements: int,
    *,
    start: str,
    end: str,
    seed: int = 0,
    compact: bool = False,
) -> pd.DataFrame:
    """About ``n_statements`` statements in the ``statements`` contract's shape.

    ``compact=True`` stores the repetitive string columns as categoricals (allowed by the
    contract), so that 20 million statements fit in a few GB.
    """
    rng = np.random.default_rng(seed + 1)
    t0 = pd.Timestamp(start, tz="UTC").value // 1000
    t1 = pd.Timestamp(end, tz="UTC").value // 1000
    n_emp = len(employees)
    hire = employees["hire_date"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    term = employees["termination_date"].to_numpy(dtype="datetime64[us]")
    term = np.where(np.isnat(term), np.int64(t1), term.astype(np.int64))
    lo = np.maximum(hire, t0)
    hi = np.minimum(term, t1)
    alive = np.maximum(hi - lo, 0).astype(float)
    # sessions: ~2.3 statements each; heterogeneous learners
    rate = rng.gamma(2.0, 1.0, n_emp) * alive
    n_sessions = int(n_statements / 2.3 * 1.1)  # ~9% are dropped at the period edges
    emp = rng.choice(n_emp, n_sessions, p=rate / rate.sum())
    day0 = lo[emp] + (rng.random(n_sessions) * (hi[emp] - lo[emp])).astype(np.int64)
    # local start time: working hours (09:00-17:30) or off-hours (evenings, weekends)
    caregiver = rng.random(n_emp) < 0.3
    p_off = np.where(caregiver[emp], 0.09, 0.35)
    off = rng.random(n_sessions) < p_off
    day = day0 // US_DAY
    sod = (
        np.where(off, rng.uniform(19, 22.5, n_sessions), rng.uniform(9, 17.5, n_sessions))
        * 3600
        * US_S
    )
    tz_names = employees["timezone"].to_numpy(dtype=object)[emp]
    local = day * US_DAY + sod.astype(np.int64)
    utc = np.empty(n_sessions, dtype=np.int64)
    for name in np.unique(tz_names):
        sel = np.flatnonzero(tz_names == name)
        idx = pd.DatetimeIndex(local[sel].astype("datetime64[us]"))
        loc = idx.tz_localize(
            name, ambiguous=np.zeros(len(sel), dtype=bool), nonexistent="shift_forward"
        )
        utc[sel] = loc.tz_convert("UTC").as_unit("us").asi8
    act = rng.integers(0, len(catalog), n_sessions)
    media = rng.random(n_sessions) < 0.15
    completed = media | (rng.random(n_sessions) < 0.8)
    assessed = rng.random(n_sessions) < 0.6
    minutes = catalog["expected_minutes"].to_numpy()[act]
    dur = np.round(minutes * 60 * rng.lognormal(0, 0.35, n_sessions))
    score = np.round(rng.beta(6, 2, n_sessions), 2)
    # verbs per session
    parts = [
        (np.flatnonzero(~media), "launched", 0),
        (np.flatnonzero(~media & completed), "completed", 1),
        (np.flatnonzero(~media & completed & assessed), "scored", 2),
        (np.flatnonzero(media), "experienced", 1),
    ]
    s_idx = np.concatenate([p[0] for p in parts])
    step = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    verb = np.concatenate([np.full(len(p[0]), p[1], dtype=object) for p in parts])
    passed = score[s_idx] >= 0.7
    verb = np.where(verb == "scored", np.where(passed, "passed", "failed"), verb)
    ts = utc[s_idx] + np.where(step >= 1, (dur[s_idx] * US_S).astype(np.int64), 0) + step * US_S
    u = rng.random(len(s_idx))
    lag = np.where(
        u < 0.96,
        rng.uniform(0.2, 20, len(u)),
        np.where(
            u < 0.99,
            rng.uniform(3600, 72 * 3600, len(u)),
            rng.uniform(3 * 86400, 14 * 86400, len(u)),
        ),
    )
    stored = ts + (lag * US_S).astype(np.int64)
    keep = (stored < t1) & (ts >= t0)
    s_idx, verb, ts, stored, step = s_idx[keep], verb[keep], ts[keep], stored[keep], step[keep]
    scored = (verb == "passed") | (verb == "failed")
    has_result = verb != "launched"
    n = len(s_idx)
    names = np.array(["launched", "completed", "passed", "failed", "experienced"])
    verb_code = np.select([verb == v for v in names], np.arange(len(names)))
    acts = catalog["activity_id"].astype(str).to_numpy()
    ids = employees["employee_id"].astype(str).to_numpy()

    def text(codes, categories):
        # categorical (compact) or Arrow-backed strings, built from codes without Python strings
        codes = np.asarray(codes, dtype=np.int32)
        if compact:
            return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))
        dictionary = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(list(categories)))
        return pd.arrays.ArrowStringArray(dictionary.cast(pa.string()))

    def numbered(values):
        return pd.arrays.ArrowStringArray(
            pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
        )

    zeros = np.zeros(n, dtype=np.int32)
    return pd.DataFrame(
        {
            "statement_id": numbered(np.arange(n)),
            "actor_key": text(emp[s_idx], np.char.add("k", np.arange(n_emp).astype(str))),
            "employee_id": text(emp[s_idx], ids),
            "verb_id": text(verb_code, np.char.add("http://adlnet.gov/expapi/verbs/", names)),
            "verb": text(verb_code, names),
            "object_id": text(act[s_idx], acts),
            "object_type": text(zeros, ["Activity"]),
            "activity_type": text(zeros, ["http://adlnet.gov/expapi/activities/course"]),
            "object_name": text(act[s_idx], catalog["title"].astype(str).to_numpy()),
            "success": pd.array(np.where(scored, passed[keep], None), dtype="boolean"),
            "completion": pd.array(np.where(has_result, True, None), dtype="boolean"),
            "score_scaled": np.where(scored, score[s_idx], np.nan),
            "score_raw": np.where(scored, score[s_idx] * 100, np.nan),
            "score_min": np.where(scored, 0.0, np.nan),
            "score_max": np.where(scored, 100.0, np.nan),
            "duration_s": np.where(has_result, dur[s_idx], np.nan),
            "timestamp": _utc(ts),
            "stored": _utc(stored),
            "registration": numbered(s_idx),
            "platform": text(zeros, ["Bench LMS"]),
        }
    )


# ----------------------------------------------------------------------------- (a) five
def offhours_flags(statements: pd.DataFrame, employees: pd.DataFrame) -> np.ndarray:
    """talentml's off-hours rule per statement, in pandas (for the peers that need a column).

    The learning started at ``timestamp - duration`` (capped at a day); off-hours: Saturday,
    Sunday, or a weekday before 08:00 or from 18:00 in the employee's time zone.
    """
    tz = statements["employee_id"].map(employees.set_index("employee_id")["timezone"])
    dur = statements["duration_s"].fillna(0).clip(lower=0)
    dur_us = np.minimum(np.floor(dur.to_numpy() * 1e6).astype(np.int64), US_DAY)
    start = statements["timestamp"].to_numpy(dtype="datetime64[us]").astype(np.int64) - dur_us
    off = np.zeros(len(statements), dtype=bool)
    tz_values = tz.to_numpy(dtype=object)
    for name in pd.unique(tz_values):
        sel = np.flatnonzero(tz_values == name)
        local = (
            pd.DatetimeIndex(start[sel].astype("datetime64[us]"))
            .tz_localize("UTC")
            .tz_convert(name)
        )
        off[sel] = (local.dayofweek >= 5) | (local.hour < 8) | (local.hour >= 18)
    return off


def run_talentml(spine, statements, employees):
    import talentml as tml

    X = tml.features.build(spine, statements=statements, employees=employees, features=FIVE)
    return X[["employee_id", "as_of", *FIVE]]


HAND_SQL = """
WITH s AS (
  SELECT x.employee_id, x.stored, x.verb, x.score_scaled,
         timezone(e.timezone, x.timestamp - to_microseconds(
           CAST(LEAST(floor(GREATEST(COALESCE(x.duration_s, 0), 0) * 1000000), 86400000000) AS BIGINT)
         )) AS local_start
  FROM statements x JOIN employees e ON e.employee_id = x.employee_id
),
w AS (
  SELECT sp.employee_id, sp.as_of,
         COUNT(*) AS n_statements_90d,
         COUNT(*) FILTER (WHERE s.verb = 'completed') AS n_completed_90d,
         AVG(s.score_scaled) AS score_mean_90d,
         AVG(CASE WHEN isodow(s.local_start) >= 6 OR hour(s.local_start) < 8
                    OR hour(s.local_start) >= 18 THEN 1.0 ELSE 0.0 END) AS offhours_share_90d
  FROM spine sp JOIN s ON s.employee_id = sp.employee_id
   AND s.stored < sp.as_of AND s.stored >= sp.as_of - INTERVAL 90 DAY
  GROUP BY sp.employee_id, sp.as_of
),
l AS (
  SELECT sp.employee_id, sp.as_of, s.stored AS last_stored
  FROM spine sp ASOF LEFT JOIN s ON s.employee_id = sp.employee_id AND sp.as_of > s.stored
)
SELECT sp.employee_id, sp.as_of,
       COALESCE(w.n_statements_90d, 0) AS n_statements_90d,
       COALESCE(w.n_completed_90d, 0) AS n_completed_90d,
       w.score_mean_90d, w.offhours_share_90d,
       epoch_us(sp.as_of - l.last_stored) / 86400000000.0 AS days_since_last_activity
FROM spine sp
LEFT JOIN w ON w.employee_id = sp.employee_id AND w.as_of = sp.as_of
LEFT JOIN l ON l.employee_id = sp.employee_id AND l.as_of = sp.as_of
ORDER BY sp.as_of, sp.employee_id
"""


def run_sql(spine, statements, employees):
    """One hand-written DuckDB query, as an analyst would write it (UTC session)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register(
        "statements",
        statements[["employee_id", "verb", "score_scaled", "duration_s", "timestamp", "stored"]],
    )
    con.register("employees", employees[["employee_id", "timezone"]])
    con.register("spine", spine[["employee_id", "as_of"]])
    out = con.sql(HAND_SQL).df()
    con.close()
    return out


def run_featuretools(spine, statements, employees):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import featuretools as ft
        from featuretools.primitives import Count, Mean, Sum, TimeSinceLast

        st = pd.DataFrame(
            {
                "statement_id": np.arange(len(statements)),
                "employee_id": statements["employee_id"].astype(str).to_numpy(),
                "stored": statements["stored"].to_numpy(),
                "completed": (statements["verb"] == "completed").to_numpy(dtype=float),
                "score_scaled": statements["score_scaled"].to_numpy(),
                "offhours": offhours_flags(statements, employees).astype(float),
            }
        )
        st["stored"] = pd.to_datetime(st["stored"], utc=True)
        emp = pd.DataFrame({"employee_id": employees["employee_id"].astype(str).to_numpy()})
        es = ft.EntitySet("bench")
        es.add_dataframe(dataframe_name="employees", dataframe=emp, index="employee_id")
        es.add_dataframe(
            dataframe_name="statements", dataframe=st, index="statement_id", time_index="stored"
        )
        es.add_relationship("employees", "employee_id", "statements", "employee_id")
        col = es["statements"].ww
        feats = [
            ft.Feature(col["statement_id"], parent_dataframe_name="employees", primitive=Count),
            ft.Feature(col["completed"], parent_dataframe_name="employees", primitive=Sum),
            ft.Feature(col["score_scaled"], parent_dataframe_name="employees", primitive=Mean),
            ft.Feature(col["offhours"], parent_dataframe_name="employees", primitive=Mean),
            ft.Feature(col["stored"], parent_dataframe_name="employees", primitive=TimeSinceLast),
        ]
        cutoff = pd.DataFrame(
            {
                "employee_id": spine["employee_id"].astype(str).to_numpy(),
                "time": spine["as_of"].to_numpy(),
            }
        )
        cutoff["time"] = pd.to_datetime(cutoff["time"], utc=True)
        fm = ft.calculate_feature_matrix(
            feats,
            es,
            cutoff_time=cutoff,
            training_window="90 days",
            include_cutoff_time=False,
            cutoff_time_in_index=True,
        )
    fm = fm.reset_index()
    fm.columns = ["employee_id", "as_of", *FIVE]
    fm["days_since_last_activity"] = fm["days_since_last_activity"] / 86400.0
    return fm


def run_pandas(spine, statements, employees):
    """A naive pandas merge: every cutoff with every statement of the employee, then filter."""
    st = statements[["employee_id", "stored", "score_scaled"]].copy()
    st["employee_id"] = st["employee_id"].astype(str)
    st["completed"] = (statements["verb"] == "completed").to_numpy(dtype=float)
    st["offhours"] = offhours_flags(statements, employees)
    sp = spine[["employee_id", "as_of"]].copy()
    sp["employee_id"] = sp["employee_id"].astype(str)
    m = sp.merge(st, on="employee_id")
    m = m[m["stored"] < m["as_of"]]
    last = m.groupby(["employee_id", "as_of"])["stored"].max()
    w = m[m["stored"] >= m["as_of"] - pd.Timedelta(days=90)]
    g = w.groupby(["employee_id", "as_of"])
    agg = pd.DataFrame(
        {
            "n_statements_90d": g.size(),
            "n_completed_90d": g["completed"].sum(),
            "score_mean_90d": g["score_scaled"].mean(),
            "offhours_share_90d": g["offhours"].mean(),
        }
    )
    out = sp.merge(agg.reset_index(), on=["employee_id", "as_of"], how="left")
    out = out.merge(last.rename("last").reset_index(), on=["employee_id", "as_of"], how="left")
    out["n_statements_90d"] = out["n_statements_90d"].fillna(0)
    out["n_completed_90d"] = out["n_completed_90d"].fillna(0)
    out["days_since_last_activity"] = (out["as_of"] - out["last"]) / pd.Timedelta(days=1)
    return out[["employee_id", "as_of", *FIVE]]


def compare(
    reference: pd.DataFrame, other: pd.DataFrame, name: str, *, windowed_last: bool = False
) -> dict:
    """Row-aligned comparison on (employee_id, as_of); returns mismatch counts per feature."""
    key = ["employee_id", "as_of"]
    a = reference.assign(employee_id=reference["employee_id"].astype(str))
    b = other.assign(employee_id=other["employee_id"].astype(str))
    b["as_of"] = pd.to_datetime(b["as_of"], utc=True)
    merged = a.merge(b, on=key, how="outer", suffixes=("", "_other"), indicator=True)
    result = {"rows": len(a), "missing_rows": int((merged["_merge"] != "both").sum())}
    for f in FIVE:
        x = merged[f].to_numpy(dtype=float)
        y = merged[f + "_other"].to_numpy(dtype=float)
        if f == "days_since_last_activity" and windowed_last:
            # featuretools only sees the 90-day window: missing there <=> older than 90 days
            undefined = np.isnan(y)
            ok_missing = np.isnan(x) | (x >= 90)
            same = np.where(undefined, ok_missing, np.isclose(x, y, rtol=1e-9, atol=1e-9))
        else:
            same = np.isclose(x, y, rtol=1e-9, atol=1e-9) | (np.isnan(x) & np.isnan(y))
        result[f] = int((~same).sum())
    result["identical"] = result["missing_rows"] == 0 and all(result[f] == 0 for f in FIVE)
    print(f"  {name}: identical={result['identical']} {result}", flush=True)
    return result


def timed(fn, *args, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, out


def five(args) -> dict:
    load = _load()
    import talentml as tml

    start, end = "2023-01-01", "2025-01-01"
    t0 = time.perf_counter()
    org = make_org(args.employees, start=start, end=end, seed=0)
    catalog = make_catalog()
    statements = make_statements(
        org["employees"], catalog, args.statements, start=start, end=end, seed=0
    )
    employees = org["employees"]
    spine = tml.features.make_spine(employees, start="2024-01-01", end="2024-12-01", freq="MS")
    print(
        f"(a) data: {len(employees):,} employees, {len(statements):,} statements, "
        f"{len(spine):,} spine rows ({time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    rows = {}
    t, ref = timed(run_talentml, spine, statements, employees, repeat=args.repeat)
    rows["talentml"] = {"seconds": t}
    print(f"  talentml: {t:.2f} s", flush=True)
    t, sql = timed(run_sql, spine, statements, employees, repeat=args.repeat)
    rows["duckdb_sql"] = {"seconds": t, **compare(ref, sql, "duckdb_sql")}
    print(f"  hand-written DuckDB SQL: {t:.2f} s", flush=True)
    t, pdf = timed(run_pandas, spine, statements, employees)
    rows["pandas_merge"] = {"seconds": t, **compare(ref, pdf, "pandas_merge")}
    print(f"  naive pandas merge: {t:.2f} s", flush=True)
    if not args.skip_featuretools:
        t, fm = timed(run_featuretools, spine, statements, employees)
        rows["featuretools"] = {
            "seconds": t,
            **compare(ref, fm, "featuretools", windowed_last=True),
        }
        print(f"  featuretools: {t:.2f} s", flush=True)
    base = rows["talentml"]["seconds"]
    for r in rows.values():
        r["ratio_to_talentml"] = r["seconds"] / base
    return {
        "load_average_at_start": load,
        "employees": len(employees),
        "statements": len(statements),
        "spine_rows": len(spine),
        "cutoffs": int(spine["as_of"].nunique()),
        "features": FIVE,
        "methods": rows,
    }


# ------------------------------------------------------------------------------ (b) full
def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


TABLES = ("employees", "job_events", "reviews", "competency_ratings", "catalog", "statements")


def generate_child(args) -> dict:
    """Runs in a child process: generate the data of (b) and write it as parquet files."""
    start, end = "2023-01-01", "2026-01-01"
    t0 = time.perf_counter()
    org = make_org(args.employees, start=start, end=end, seed=1)
    org["catalog"] = make_catalog()
    org["statements"] = make_statements(
        org["employees"],
        org["catalog"],
        args.statements,
        start=start,
        end=end,
        seed=1,
        compact=True,
    )
    out = Path(args.data)
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        org[name].to_parquet(out / f"{name}.parquet", index=False)
    return {"generate_s": time.perf_counter() - t0}


def full_child(args) -> dict:
    """Runs in a fresh child process: read the parquet files, then time the full feature set.

    The process does nothing else, so its peak RSS (``ru_maxrss``) is the memory the build
    needs, the input tables included.
    """
    import threading

    import talentml as tml

    data = Path(args.data)
    t0 = time.perf_counter()
    # strings as pandas' Arrow-backed string dtype (the default of pandas 3; in pandas 2 the
    # default would hold every statement id as a Python object)
    strings = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
    tables = {
        name: pq.read_table(data / f"{name}.parquet").to_pandas(types_mapper=strings.get)
        for name in TABLES
    }
    spine = tml.features.make_spine(
        tables["employees"], start="2024-01-01", end="2025-12-01", freq="MS"
    )
    read_s = time.perf_counter() - t0
    before = _rss_mb()
    peak = [before]
    done = threading.Event()

    def watch():
        while not done.wait(0.05):
            peak[0] = max(peak[0], _rss_mb())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    X = tml.features.build(
        spine,
        statements=tables["statements"],
        employees=tables["employees"],
        reviews=tables["reviews"],
        competency_ratings=tables["competency_ratings"],
        job_events=tables["job_events"],
        course_catalog=tables["catalog"],
    )
    build_s = time.perf_counter() - t1
    # CPU time of every thread of the process (DuckDB's included): steadier than wall time
    # on a shared machine
    build_cpu_s = time.process_time() - cpu1
    done.set()
    watcher.join()
    peak[0] = max(peak[0], _rss_mb())
    return {
        "employees": len(tables["employees"]),
        "statements": len(tables["statements"]),
        "spine_rows": len(spine),
        "cutoffs": int(spine["as_of"].nunique()),
        "features": X.shape[1] - 2,
        "read_s": read_s,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "rss_before_build_mb": before,
        "peak_rss_sampled_mb": peak[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(flag: str, args, data: str) -> dict:
    cmd = [
        sys.executable,
        __file__,
        flag,
        "--data",
        data,
        "--employees",
        str(args.full_employees),
        "--statements",
        str(args.full_statements),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        raise SystemExit(proc.returncode)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def full(args) -> dict:
    import tempfile

    load = _load()
    with tempfile.TemporaryDirectory(prefix="talentml-bench-") as tmp:
        data = args.data or tmp
        if (Path(data) / "statements.parquet").exists():
            print(f"(b) full feature set: reusing the data in {data}", flush=True)
            generated = {}
        else:
            print(
                f"(b) full feature set: generating {args.full_employees:,} employees and "
                f"{args.full_statements:,} statements into {data}",
                flush=True,
            )
            generated = _child("--child-generate", args, data)
            print(f"  generated in {generated['generate_s']:.1f} s", flush=True)
        runs = []
        for i in range(args.full_repeat):
            print(f"  build {i + 1} of {args.full_repeat}, in a fresh process", flush=True)
            runs.append(_child("--child-full", args, data))
            print(
                f"    {runs[-1]['build_s']:.1f} s ({runs[-1]['build_cpu_s']:.1f} s of CPU), "
                f"peak {runs[-1]['peak_rss_mb']:,.0f} MB",
                flush=True,
            )
        times = sorted(r["build_s"] for r in runs)
        result = {
            "load_average_at_start": load,
            **generated,
            **max(runs, key=lambda r: r["peak_rss_mb"]),
            "build_s": float(np.median(times)),
            "build_s_runs": [r["build_s"] for r in runs],
        }
    print(f"  {result}", flush=True)
    return result


DOCS = ROOT / "docs" / "features.md"
BENCH_START, BENCH_END = "<!-- bench-features:start -->", "<!-- bench-features:end -->"


def bench_markdown(results: dict) -> str:
    """The benchmark section of docs/features.md, from the results file."""
    m = results.get("meta", {})
    lines = [
        f"Recorded by `benchmarks/features.py` (Python {m.get('python')}, DuckDB "
        f"{m.get('duckdb')}, {m.get('cpus')} cores). "
        "Every method gets the same pandas tables in the same process; times include reading "
        "them and returning pandas.",
        "",
    ]
    five = results.get("five")
    if five:
        lines += [
            f"**Five features** (statements in the last 90 days, completions, mean score, "
            f"off-hours share, days since the last statement) for "
            f"{five['spine_rows'] / five['cutoffs']:,.0f} active employees on average x "
            f"{five['cutoffs']} monthly cutoffs ({five['spine_rows']:,} spine rows) "
            f"over {five['statements']:,} statements ({_load_text(five)}):",
            "",
            "| method | time | time / talentml | same values as talentml |",
            "|---|---|---|---|",
        ]
        names = {
            "talentml": "talentml `build(..., features=[...])`",
            "duckdb_sql": "one hand-written DuckDB query (range join)",
            "pandas_merge": "naive pandas merge",
            "featuretools": 'featuretools 1.31 `calculate_feature_matrix` (`training_window="90 days"`)',
        }
        for key, row in five["methods"].items():
            same = "-" if key == "talentml" else ("yes" if row.get("identical") else "**no**")
            lines.append(
                f"| {names.get(key, key)} | {row['seconds']:.2f} s | "
                f"{row['ratio_to_talentml']:.2f} | {same} |"
            )
        lines.append("")
    full = results.get("full")
    if full:
        lines += [
            f"**Full feature set** ({full['features']} features) for "
            f"{full['spine_rows'] / full['cutoffs']:,.0f} active employees on average x "
            f"{full['cutoffs']} monthly cutoffs ({full['spine_rows']:,} spine rows; "
            f"{full['employees']:,} employees ever) "
            f"over {full['statements']:,} statements, with reviews, competency ratings, job "
            f"events and the catalog, read from parquet into pandas (Arrow-backed strings) in a "
            f"fresh process: "
            f"**{full['build_s']:.0f} s** to build (median of "
            f"{len(full.get('build_s_runs', [0]))} runs: "
            f"{', '.join(f'{x:.0f}' for x in full.get('build_s_runs', [full['build_s']]))} s), "
            f"peak memory of the process "
            f"**{full['peak_rss_mb'] / 1024:.1f} GB** (of which "
            f"{full['rss_before_build_mb'] / 1024:.1f} GB are the input tables and the "
            f"spine, read in {full['read_s']:.0f} s; {_load_text(full)}).",
            "",
        ]
    return "\n".join(lines)


def write_docs(results: dict) -> None:
    text = DOCS.read_text(encoding="utf-8")
    i, j = text.index(BENCH_START) + len(BENCH_START), text.index(BENCH_END)
    DOCS.write_text(
        text[:i] + "\n" + bench_markdown(results).rstrip() + "\n" + text[j:], encoding="utf-8"
    )


def _load() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def _load_text(part: dict) -> str:
    load = part.get("load_average_at_start")
    return f"load average {', '.join(f'{x:.1f}' for x in load)} at the start" if load else ""


def meta() -> dict:
    import duckdb

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--statements", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for talentml and SQL")
    parser.add_argument("--skip-featuretools", action="store_true")
    parser.add_argument("--full", action="store_true", help="also run (b), the full feature set")
    parser.add_argument("--only-full", action="store_true", help="run (b) only")
    parser.add_argument("--full-employees", type=int, default=50_000)
    parser.add_argument("--full-statements", type=int, default=20_000_000)
    parser.add_argument("--full-repeat", type=int, default=3, help="builds of (b); median")
    parser.add_argument("--child-full", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--data", help="directory for the data of (b): reused when it holds them, kept afterwards"
    )
    parser.add_argument("--no-write", action="store_true", help="do not update the results file")
    parser.add_argument("--docs", action="store_true", help="only re-render docs/features.md")
    args = parser.parse_args()
    os.environ.setdefault("TALENTML_SHOW_PROGRESS", "0")
    if args.child_full:
        print(json.dumps(full_child(args)))
        return
    if args.child_generate:
        print(json.dumps(generate_child(args)))
        return
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.docs:
        write_docs(results)
        return
    results["meta"] = meta()
    if not args.only_full:
        results["five"] = five(args)
    if args.full or args.only_full:
        results["full"] = full(args)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        write_docs(results)
        print(f"wrote {RESULTS.relative_to(ROOT)} and {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
