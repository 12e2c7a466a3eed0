"""Learning relative to the person (issue 18): personal baselines, agility, onboarding.

Values are checked by hand on a small hand-made organization (the arithmetic is written out
below from docs/features.md, not taken from the library); the row-by-row reference of
test_features_reference checks the same features on a simulated organization. Then: point
in time (facts stored at or after ``as_of`` change nothing, terminations count only once
recorded), the engines agree, absent inputs give NaN (never 0), and the no-effect control:
without the simulator's disengagement the baseline features carry no flight-risk signal.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml._compat import pyarrow_from_pandas
from talentml.features import build, build_report, catalog

AS_OF = pd.Timestamp("2024-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)
SINCE = "2022-01-01"
HIRES = {
    "e1": "2020-01-01",
    "e2": "2020-01-01",
    "e3": "2023-11-01",  # 61 days before as_of: no baseline of their own
    "e4": "2023-07-01",  # 94 days of baseline history
    "e5": "2020-01-01",
}
FAMILIES = {"e1": "Eng", "e2": "Eng", "e3": "Eng", "e4": "Ops", "e5": None}
BASELINE = [
    "voluntary_baseline_per_30d",
    "voluntary_90d_vs_baseline",
    "days_since_voluntary_session",
    "voluntary_sessions_missed",
    "voluntary_drop_llr",
    "voluntary_completion_share_change_90d",
]
EXTRA = [
    "mastery_per_activity_365d",
    "days_to_pass_365d",
    "onboarding_sessions_first_30d",
    "onboarding_share_first_30d",
    "days_to_first_onboarding_completion",
    "onboarding_days_mean_first_30d",
    "onboarding_vs_cohort_first_30d",
]
REVIEWS = [
    "rating_mean_all",
    "rating_trend_all",
    "potential_mean_all",
    "potential_change",
    "competency_mean_all",
    "competency_mean_change",
]


def _ts(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True)


def employees(**overrides) -> pd.DataFrame:
    ids = list(HIRES)
    base = {
        "employee_id": pd.array(ids, dtype="string"),
        "hire_date": _ts([HIRES[e] for e in ids]),
        "termination_date": _ts([None] * len(ids)),
        "termination_type": pd.array([None] * len(ids), dtype="string"),
        "job_family": pd.array([FAMILIES[e] for e in ids], dtype="string"),
        "job_level": np.full(len(ids), 2, dtype="int64"),
        "department": pd.array(["R&D"] * len(ids), dtype="string"),
        "location": pd.array(["Berlin"] * len(ids), dtype="string"),
        "timezone": pd.array(["Europe/Berlin"] * len(ids), dtype="string"),
        "manager_id": pd.array([None] * len(ids), dtype="string"),
    }
    base.update(overrides)
    return pd.DataFrame(base)


def learning_catalog(**overrides) -> pd.DataFrame:
    ids = ["c/vol", "c/vid", "c/asm", "c/asm2", "c/onb1", "c/onb2", "c/onb3", "c/onb4"]
    base = {
        "activity_id": ids,
        "title": [i.upper() for i in ids],
        "skills": [[], [], ["x"], ["y"], [], [], [], []],
        "level": np.array([1, 1, 2, 1, 1, 1, 1, 1], dtype="int64"),
        "mandatory": [False] * 8,
        "voluntary": [True, True, False, False, False, False, False, False],
        "program": ["elective", "elective", "technical", "technical"] + ["onboarding"] * 4,
        "expected_minutes": [30.0] * 8,
    }
    base.update(overrides)
    return pd.DataFrame(base)


def _before(days: float, hours: float = 12) -> pd.Timestamp:
    """``days`` whole days before as_of, at ``hours`` o'clock (UTC)."""
    return AS_OF - days * DAY + hours * HOUR


def _after_hire(e: str, days: float, hours: float = 12) -> pd.Timestamp:
    return pd.Timestamp(HIRES[e], tz="UTC") + days * DAY + hours * HOUR


def statement_rows() -> list[tuple]:
    """(employee, verb, activity, stored, completion, success)."""
    rows = []
    # e1: 12 voluntary sessions in the baseline window, 9 of them completed; one recent
    for k in range(12):
        rows.append(("e1", "launched", "c/vol", _before(100 + 30 * k), None, None))
        if k < 9:
            rows.append(("e1", "completed", "c/vol", _before(100 + 30 * k, 13), True, None))
    rows.append(("e1", "launched", "c/vol", _before(40), None, None))
    # e2: 24 in the baseline window, 2 recent
    rows += [("e2", "launched", "c/vol", _before(95 + 15 * k), None, None) for k in range(24)]
    rows += [("e2", "launched", "c/vol", _before(d), None, None) for d in (10, 20)]
    # e3: onboarding (c/onb1 twice; c/onb3 after day 30), then two voluntary sessions
    for act, day in (("c/onb1", 3), ("c/onb2", 10), ("c/onb1", 12), ("c/onb3", 35)):
        rows.append(("e3", "launched", act, _after_hire("e3", day), None, None))
        rows.append(("e3", "completed", act, _after_hire("e3", day, 13), True, None))
    rows += [("e3", "launched", "c/vol", _before(d), None, None) for d in (30, 10)]
    # e4: the whole onboarding program in the first 8 days; 3 baseline sessions, 1 recent
    for i, day in enumerate((2, 4, 6, 8)):
        rows.append(("e4", "launched", f"c/onb{i + 1}", _after_hire("e4", day), None, None))
        rows.append(("e4", "completed", f"c/onb{i + 1}", _after_hire("e4", day, 13), True, None))
    rows += [("e4", "launched", "c/vol", _after_hire("e4", d), None, None) for d in (10, 40, 70)]
    rows.append(("e4", "launched", "c/vol", _before(20), None, None))
    # e5: six videos watched to the end; an assessment failed then passed 15 days later, and
    # another passed within the hour
    rows += [("e5", "experienced", "c/vid", _before(100 + 40 * k), True, None) for k in range(6)]
    rows += [
        ("e5", "launched", "c/asm", _before(20), None, None),
        ("e5", "failed", "c/asm", _before(20, 13), True, False),
        ("e5", "passed", "c/asm", _before(5), True, True),
        ("e5", "launched", "c/asm2", _before(3), None, None),
        ("e5", "passed", "c/asm2", _before(3, 13), True, True),
    ]
    return rows


def statements(rows) -> pd.DataFrame:
    n = len(rows)
    stored = pd.to_datetime([r[3] for r in rows], utc=True)
    return pd.DataFrame(
        {
            "statement_id": pd.array([f"s{i}" for i in range(n)], dtype="string"),
            "actor_key": pd.array([f"a{i}" for i in range(n)], dtype="string"),
            "employee_id": pd.array([r[0] for r in rows], dtype="string"),
            "verb_id": pd.array([f"http://adlnet.gov/expapi/verbs/{r[1]}" for r in rows]),
            "verb": pd.array([r[1] for r in rows], dtype="string"),
            "object_id": pd.array([r[2] for r in rows], dtype="string"),
            "object_type": pd.array(["Activity"] * n, dtype="string"),
            "activity_type": pd.array([None] * n, dtype="string"),
            "object_name": pd.array([None] * n, dtype="string"),
            "success": pd.array([r[5] for r in rows], dtype="boolean"),
            "completion": pd.array([r[4] for r in rows], dtype="boolean"),
            "score_scaled": np.full(n, np.nan),
            "score_raw": np.full(n, np.nan),
            "score_min": np.full(n, np.nan),
            "score_max": np.full(n, np.nan),
            "duration_s": np.full(n, np.nan),
            "timestamp": stored,
            "stored": stored,
            "registration": pd.array([None] * n, dtype="string"),
            "platform": pd.array([None] * n, dtype="string"),
        }
    ).assign(verb_id=lambda d: d["verb_id"].astype("string"))


def spine(rows=None) -> pd.DataFrame:
    rows = rows or [(e, AS_OF) for e in HIRES] + [
        ("e3", pd.Timestamp("2023-12-01", tz="UTC")),  # hire + 30 days
        ("e4", pd.Timestamp("2023-07-31", tz="UTC")),
    ]
    return pd.DataFrame(
        {
            "employee_id": pd.array([r[0] for r in rows], dtype="string"),
            "as_of": pd.to_datetime([r[1] for r in rows], utc=True),
        }
    )


def _build(st=None, emp=None, cat="default", sp=None, **kw) -> pd.DataFrame:
    kw.setdefault("learning_since", SINCE)
    kw.setdefault("features", ["learning", "learning_baseline"])
    return build(
        spine() if sp is None else sp,
        statements=statements(statement_rows()) if st is None else st,
        employees=employees() if emp is None else emp,
        course_catalog=learning_catalog() if isinstance(cat, str) else cat,
        show_progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def X() -> pd.DataFrame:
    return _build()


def row(X: pd.DataFrame, e: str, as_of=AS_OF) -> pd.Series:
    when = pd.Timestamp(as_of)
    when = when.tz_localize("UTC") if when.tzinfo is None else when
    hit = X[(X["employee_id"] == e) & (X["as_of"] == when)]
    assert len(hit) == 1
    return hit.iloc[0]


def _llr(n: int, mu: float) -> float:
    if n >= mu:
        return 0.0
    return mu if n == 0 else n * math.log(n / mu) + mu - n


# ---------------------------------------------------------------- the arithmetic
# Baseline window: [as_of - 455 days, as_of - 90 days), 365 days. Voluntary sessions in it:
# e1 12, e2 24, e3 0 (hired later), e4 3 (over 94 days), e5 6. Job family Eng (e1, e2,
# e3): 36 sessions over 365 + 365 + 0 = 730 days employed. Ops (e4 alone) has 94 < 365 days:
# it borrows the organization's rate, as does e5 (no family): 45 sessions over 1,189 days.
FAM = 36 / 730
ORG = 45 / 1189
RATE = {
    "e1": (12 + 90 * FAM) / (365 + 90),
    "e2": (24 + 90 * FAM) / (365 + 90),
    "e3": FAM,  # no history of their own: the family's rate
    "e4": (3 + 90 * ORG) / (94 + 90),
    "e5": (6 + 90 * ORG) / (365 + 90),
}


def test_baseline_is_the_own_rate_shrunk_toward_the_job_family(X):
    for e, rate in RATE.items():
        assert row(X, e)["voluntary_baseline_per_30d"] == pytest.approx(30 * rate, rel=1e-12), e
    # a full year of history: the family weighs 90 / 455 = 20%; two months: 100%
    assert row(X, "e3")["voluntary_baseline_per_30d"] == pytest.approx(30 * 36 / 730)


def test_recent_rate_against_the_baseline(X):
    # e1: 1 session in the last 90 days; e3: 2 in the 61 days since the hire date
    assert row(X, "e1")["voluntary_90d_vs_baseline"] == pytest.approx((1 / 90) / RATE["e1"])
    assert row(X, "e3")["voluntary_90d_vs_baseline"] == pytest.approx((2 / 61) / FAM)
    assert row(X, "e4")["voluntary_90d_vs_baseline"] == pytest.approx((1 / 90) / RATE["e4"])
    assert row(X, "e5")["voluntary_90d_vs_baseline"] == 0


def test_gap_and_expected_missed_sessions(X):
    # the last sessions were at noon, 40, 10 and 100 days before a midnight as_of
    assert row(X, "e1")["days_since_voluntary_session"] == pytest.approx(39.5)
    assert row(X, "e3")["days_since_voluntary_session"] == pytest.approx(9.5)
    assert row(X, "e5")["days_since_voluntary_session"] == pytest.approx(99.5)
    assert row(X, "e1")["voluntary_sessions_missed"] == pytest.approx(39.5 * RATE["e1"])
    assert row(X, "e5")["voluntary_sessions_missed"] == pytest.approx(99.5 * RATE["e5"])


def test_change_point_statistic(X):
    # e1's sessions in the last d days: 14 -> 0, 30 -> 0, 60 -> 1, 90 -> 1, 120 -> 2, 180 -> 4
    rate = RATE["e1"]
    counts = {14: 0, 30: 0, 60: 1, 90: 1, 120: 2, 180: 4}
    by_d = {d: _llr(n, rate * d) for d, n in counts.items()}
    # the strongest evidence: no session in 30 days where 1.08 were expected
    assert max(by_d, key=by_d.get) == 30 and by_d[30] == pytest.approx(30 * rate)
    assert row(X, "e1")["voluntary_drop_llr"] == pytest.approx(30 * rate)
    # e2 kept learning, but less: 2 sessions in the last 90 days where 5.6 were expected
    rate = RATE["e2"]
    counts = {14: 1, 30: 2, 60: 2, 90: 2, 120: 4, 180: 8}
    by_d = {d: _llr(n, rate * d) for d, n in counts.items()}
    assert max(by_d, key=by_d.get) == 90
    assert row(X, "e2")["voluntary_drop_llr"] == pytest.approx(by_d[90])
    # e3 was hired 61 days ago: d counts only the days employed
    rate3 = FAM
    expected = max(
        _llr(n, rate3 * min(d, 61)) for d, n in {14: 1, 30: 2, 60: 2, 90: 2, 120: 2, 180: 2}.items()
    )
    assert row(X, "e3")["voluntary_drop_llr"] == pytest.approx(expected)


def test_completion_share_change(X):
    # e1 completed 9 of 12 baseline sessions and 0 of 1 recent one
    assert row(X, "e1")["voluntary_completion_share_change_90d"] == pytest.approx(-0.75)
    # e5 has no recent session: no share to compare
    assert math.isnan(row(X, "e5")["voluntary_completion_share_change_90d"])


def test_onboarding_in_the_first_30_days_and_against_the_cohort(X):
    at30 = row(X, "e3", "2023-12-01")
    # launches of c/onb1 (twice) and c/onb2; c/onb3 came after day 30
    assert at30["onboarding_sessions_first_30d"] == 3
    assert at30["onboarding_share_first_30d"] == pytest.approx(2 / 4)
    assert at30["days_to_first_onboarding_completion"] == pytest.approx(3 + 13 / 24)
    assert at30["onboarding_days_mean_first_30d"] == pytest.approx((3 + 10 + 12) / 3 + 13 / 24)
    # the cohort on 2023-12-01: e4 (hired 2023-07-01), who completed all 4
    assert at30["onboarding_vs_cohort_first_30d"] == pytest.approx(2 / 4)
    e4 = row(X, "e4", "2023-07-31")
    assert e4["onboarding_share_first_30d"] == 1
    assert e4["days_to_first_onboarding_completion"] == pytest.approx(2 + 13 / 24)
    assert e4["onboarding_days_mean_first_30d"] == pytest.approx(5 + 13 / 24)
    assert math.isnan(e4["onboarding_vs_cohort_first_30d"])  # nobody hired before e4
    # on 2024-01-01 the cohort is e3 (2) and e4 (4)
    assert row(X, "e3")["onboarding_vs_cohort_first_30d"] == pytest.approx(2 / 3)
    # e1 joined in 2020, before the learning records (2022): no evidence either way
    onboarding = EXTRA[2:]
    assert row(X, "e1")[onboarding].isna().all()
    # with records from 2019, e1 is known to have done no onboarding
    e1 = row(_build(learning_since="2019-01-01", features=onboarding), "e1")
    assert e1["onboarding_sessions_first_30d"] == 0
    assert e1["days_to_first_onboarding_completion"] == 30  # none: the 30 days observed
    assert e1["onboarding_vs_cohort_first_30d"] == 0
    assert math.isnan(e1["onboarding_days_mean_first_30d"])  # no completion: no mean


def test_agility_per_opportunity(X):
    e5 = row(X, "e5")
    # skill x at level 2 and skill y at level 1 over 3 activities (c/vid, c/asm, c/asm2)
    assert e5["mastery_per_activity_365d"] == pytest.approx(3 / 3)
    # c/asm: first record 15 days before its pass; c/asm2: one hour
    assert e5["days_to_pass_365d"] == pytest.approx((15 + 1 / 24) / 2)
    assert math.isnan(row(X, "e1")["days_to_pass_365d"])


# ---------------------------------------------------------------- point in time
def test_facts_stored_at_or_after_as_of_change_nothing(X):
    late = statement_rows() + [
        ("e1", "launched", "c/vol", AS_OF, None, None),  # stored exactly at as_of
        ("e1", "launched", "c/vol", AS_OF + HOUR, None, None),
        ("e2", "launched", "c/vol", AS_OF + 5 * DAY, None, None),
        ("e4", "completed", "c/onb1", AS_OF + 2 * DAY, True, None),
        ("e5", "passed", "c/vid", AS_OF + DAY, True, True),
    ]
    st = statements(late)
    # a statement that happened before as_of but was synced after it
    st.loc[len(st) - 4, "timestamp"] = AS_OF - 3 * DAY
    # a termination effective before the baseline window ended, recorded after as_of
    term = pd.DataFrame(
        {
            "employee_id": pd.array(["e2"], dtype="string"),
            "effective_date": _ts(["2023-06-01"]),
            "recorded_at": _ts(["2024-01-05"]),
            "event": pd.array(["termination"], dtype="string"),
            "from_value": pd.array(["voluntary"], dtype="string"),
            "to_value": pd.array([None], dtype="string"),
        }
    )
    emp = employees(
        termination_date=_ts([None, "2023-06-01", None, None, None]),
        termination_type=pd.array([None, "voluntary", None, None, None], dtype="string"),
    )
    sp = spine([(e, AS_OF) for e in ("e1", "e3", "e4", "e5")])
    later = _build(st=st, emp=emp, job_events=term, sp=sp)
    now = X[X["employee_id"] != "e2"]
    now = now[now["as_of"] == AS_OF].reset_index(drop=True)
    pd.testing.assert_frame_equal(later.reset_index(drop=True), now, check_exact=False, rtol=1e-12)


def test_a_termination_counts_once_recorded():
    term = pd.DataFrame(
        {
            "employee_id": pd.array(["e2"], dtype="string"),
            "effective_date": _ts(["2023-06-01"]),
            "recorded_at": _ts(["2023-06-05"]),
            "event": pd.array(["termination"], dtype="string"),
            "from_value": pd.array(["voluntary"], dtype="string"),
            "to_value": pd.array([None], dtype="string"),
        }
    )
    X = _build(job_events=term, sp=spine([("e1", AS_OF)]), features=BASELINE)
    # e2 was employed from as_of - 455 days (2022-10-03) to 2023-06-01: 241 days
    fam = 36 / (365 + 241)
    expected = 30 * (12 + 90 * fam) / 455
    assert X["voluntary_baseline_per_30d"].iloc[0] == pytest.approx(expected)


# ---------------------------------------------------------------- engines
def test_duckdb_relations_run_the_same_sql_lazily(X):
    import duckdb

    con = duckdb.connect()
    tables = dict(
        statements=statements(statement_rows()),
        employees=employees(),
        course_catalog=learning_catalog(),
    )
    rel = {
        k: con.from_arrow(pyarrow_from_pandas(v, preserve_index=False)) for k, v in tables.items()
    }
    got = build(
        con.from_arrow(pyarrow_from_pandas(spine(), preserve_index=False)),
        learning_since=SINCE,
        features=["learning", "learning_baseline"],
        **rel,
    )
    assert isinstance(got, duckdb.DuckDBPyRelation)
    _same(tml.features._frame.arrow_to_pandas(got.to_arrow_table()), X)


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert got.columns.tolist() == expected.columns.tolist()
    for col in expected.columns[2:]:
        g, x = got[col].to_numpy(dtype=float), expected[col].to_numpy(dtype=float)
        same = np.isclose(g, x, rtol=1e-9, atol=1e-9) | (np.isnan(g) & np.isnan(x))
        assert same.all(), f"{col}: rows {np.flatnonzero(~same)[:5].tolist()}"


@pytest.mark.spark
@pytest.mark.slow
def test_spark_agrees(X, spark_session):
    from talentml.features._frame import SparkSQLSession

    spark = spark_session
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    to_spark = SparkSQLSession(spark)._from_arrow
    tables = dict(
        statements=statements(statement_rows()),
        employees=employees(),
        course_catalog=learning_catalog(),
    )
    frames = {k: to_spark(pyarrow_from_pandas(v, preserve_index=False)) for k, v in tables.items()}
    got = build(
        to_spark(pyarrow_from_pandas(spine(), preserve_index=False)),
        learning_since=SINCE,
        features=BASELINE + EXTRA,
        **frames,
    ).toPandas()
    _same(got, X[["employee_id", "as_of", *EXTRA, *BASELINE]])


# ---------------------------------------------------------------- absent inputs
def test_absent_inputs_give_missing_features_never_zero():
    no_catalog = build(
        spine(),
        statements=statements(statement_rows()),
        employees=employees(),
        features=BASELINE + EXTRA,
        show_progress=False,
    )
    fed = [f for f in BASELINE + EXTRA if f != "days_to_pass_365d"]
    assert no_catalog[fed].isna().all().all()
    assert no_catalog["days_to_pass_365d"].notna().any()  # needs the statements only
    assert set(no_catalog.attrs["talentml_build_report"]["missing"]) == set(fed)
    report = build_report(statements=statements([]), employees=employees(), features=BASELINE)
    assert report["reason"].eq("no catalog table").all()
    # a catalog without its voluntary column
    X = _build(cat=learning_catalog().drop(columns=["voluntary"]), features=BASELINE)
    assert X[BASELINE].isna().all().all()
    # no learning record known at as_of (and no learning_since): no evidence, not zero
    late = [r[:3] + (AS_OF + DAY, *r[4:]) for r in statement_rows()]
    X = _build(st=statements(late), learning_since=None, features=BASELINE)
    assert X[BASELINE].isna().all().all()


def test_without_job_families_the_organization_is_the_prior():
    emp = employees().drop(columns=["job_family"])
    X = _build(emp=emp, features=BASELINE, sp=spine([("e1", AS_OF), ("e3", AS_OF)]))
    assert X["voluntary_baseline_per_30d"].iloc[0] == pytest.approx(30 * (12 + 90 * ORG) / 455)
    assert X["voluntary_baseline_per_30d"].iloc[1] == pytest.approx(30 * ORG)


def test_unknown_voluntariness_is_left_out_and_rows_of_unknowns_are_missing():
    cat = learning_catalog(voluntary=pd.array([pd.NA, True] + [False] * 6, dtype="boolean"))
    X = _build(cat=cat, features=BASELINE)
    by = X[X["as_of"] == AS_OF].set_index("employee_id")
    # e1 and e2 learned only on c/vol, of unknown voluntariness: missing
    assert by.loc[["e1", "e2"], BASELINE].isna().all().all()
    # e5's sessions are known (c/vid); c/vol's sessions no longer count for the organization
    org = 6 / 1189
    assert by.loc["e5", "voluntary_baseline_per_30d"] == pytest.approx(30 * (6 + 90 * org) / 455)


# ---------------------------------------------------------------- the catalog
def test_catalog_entries_and_templates():
    cat = catalog().set_index("name")
    assert cat.loc[BASELINE, "family"].eq("learning_baseline").all()
    assert cat.loc[EXTRA, "family"].eq("learning").all()
    assert cat.loc[REVIEWS, "family"].eq("reviews").all()
    assert not cat.loc[BASELINE + EXTRA + REVIEWS, "sensitive_proxy"].any()
    assert cat.loc["voluntary_90d_vs_baseline", "template"].format(value=0.2) == (
        "voluntary learning in the last 90 days is 20% of this person's usual rate"
    )
    assert cat.loc["voluntary_baseline_per_30d", "inputs"] == "statements; catalog.voluntary"
    # reason codes read them as a manager would (a fall reads "decreased")
    from talentml.explain._reasons import render_values

    share = cat.loc["voluntary_completion_share_change_90d", "template"]
    assert render_values(share, np.array([-0.22])) == [
        "the share of voluntary learning completed in the last 90 days decreased 22% compared "
        "with this person's usual share"
    ]
    assert render_values(cat.loc["voluntary_sessions_missed", "template"], np.array([4.5])) == [
        "4.5 voluntary learning sessions expected at this person's usual rate since the last one"
    ]


# ---------------------------------------------------------------- the no-effect control
@pytest.mark.statistical
@pytest.mark.slow
def test_no_signal_without_disengagement():
    """A model on the baseline features alone: AUC within 0.03 of 0.5 when the simulator's
    disengagement is off (the planted effect that these features target)."""
    from sklearn.metrics import roc_auc_score

    from talentml.datasets import SIMULATION_SECRET, simulate_workforce
    from talentml.models import FlightRisk, TimeSplit

    org = simulate_workforce(
        n_employees=1_500,
        start="2022-01-01",
        end="2025-06-30",
        random_state=0,
        effects={"disengagement": False},
        show_progress=False,
    )
    ingested = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET, show_progress=False
    )
    stmts = tml.xapi.ActivityResolver().fit(ingested, course_catalog=org.catalog).apply(ingested)
    sp = tml.features.make_spine(org.employees, start="2022-07-01", end="2025-06-30", freq="MS")
    Xs = build(
        sp,
        statements=stmts,
        employees=org.employees,
        job_events=org.job_events,
        course_catalog=org.catalog,
        learning_since="2022-01-01",
        features="learning_baseline",
        show_progress=False,
    )
    y = tml.labels.flight_risk(Xs[["employee_id", "as_of"]], org.employees, horizon="180D")
    train, test = next(TimeSplit(n_splits=1, horizon="180D").split(Xs, y))
    known = y["label"].notna().to_numpy()
    train, test = train[known[train]], test[known[test]]
    model = FlightRisk(
        horizon="180D",
        survival=False,
        n_estimators=200,
        max_depth=3,
        learning_rate=0.05,
        random_state=0,
        show_progress=False,
    )
    model.fit(Xs.iloc[train].reset_index(drop=True), y.iloc[train].reset_index(drop=True))
    p = model.predict_proba(Xs.iloc[test].reset_index(drop=True))[:, 1]
    auc = roc_auc_score(y["label"].iloc[test].astype(int), p)
    assert abs(auc - 0.5) < 0.03, auc
