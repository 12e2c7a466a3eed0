"""Features compute what their inputs allow: an absent input gives missing (NaN), never 0.

A real organization brings an HRIS export with a few columns and an LRS export without a
catalog. Every feature names its inputs in the catalog; the build report and the log say,
once, which features are missing and why; partly known inputs are used where known.
"""

from __future__ import annotations

import io
import logging
import re

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml import schemas
from talentml._compat import pyarrow_from_pandas
from talentml.datasets import SIMULATION_SECRET, simulate_workforce
from talentml.features import build, build_report, catalog, make_spine
from talentml.xapi import build_identities, ingest

SECRET = "features-inputs-test-secret"
#: The HRIS export of the issue: integer ids, naive dates, three columns.
EMPLOYEES_CSV = """employee_id,hire_date,job_family
101,2019-03-01,Medic
102,2018-07-15,Medic
103,2020-01-06,Instructor
104,2017-11-20,Instructor
105,2019-09-09,Medic
106,2016-05-02,Instructor
"""
PEOPLE = ["alice", "sally", "bob", "fred", "steve", "phil"]
AS_OF = pd.Timestamp("2020-03-02", tz="UTC")


# --------------------------------------------------------------- a minimal organization
@pytest.fixture(scope="module")
def minimal(shared_data):
    """Employees from a CSV, DATASIM's real statements from an LRS export (no catalog)."""
    raw = pd.read_csv(io.StringIO(EMPLOYEES_CSV))
    employees, report = schemas.coerce("employees", raw, timezone="America/New_York")
    schemas.validate("employees", employees)
    hris = pd.DataFrame(
        {
            "employee_id": employees["employee_id"].astype(str).tolist(),
            "email": [f"{p}@example.org" for p in PEOPLE],
        }
    )
    statements = ingest(
        shared_data / "xapi" / "datasim",
        identities=build_identities(hris, secret=SECRET),
        secret=SECRET,
        received=pd.Timestamp("2020-03-01", tz="UTC"),
    ).statements
    spine = make_spine(employees, start=AS_OF, end=AS_OF, freq="D")
    return employees, report, statements, spine


def test_a_minimal_employees_table_builds_features(minimal, caplog):
    employees, report, statements, spine = minimal
    assert employees.columns.tolist() == ["employee_id", "hire_date", "job_family"]
    assert report.query("column == 'hire_date'")["change"].tolist() == [
        "naive times read in America/New_York, then UTC",
        "text parsed to UTC date-times",
    ]
    assert len(spine) == 6
    with caplog.at_level(logging.WARNING, logger="talentml.features"):
        X = build(spine, statements=statements, employees=employees, show_progress=False)
    assert X.columns.tolist() == ["employee_id", "as_of", *catalog()["name"]]

    # the learning family from statements alone: counts, recency, scores, durations
    seen = statements[statements["stored"] < AS_OF]
    by = seen.groupby("employee_id")
    ids = X["employee_id"].astype(str)
    expected_n = by.size().reindex(ids).to_numpy()
    assert X["n_statements_30d"].tolist() == expected_n.tolist()
    assert (X["n_statements_30d"] > 400).all()
    completed = seen[seen["verb"] == "completed"].groupby("employee_id").size()
    assert X["n_completed_30d"].tolist() == completed.reindex(ids).tolist()
    assert X["n_completions_since_hire"].gt(0).all()
    mean_score = seen.groupby("employee_id")["score_scaled"].mean().reindex(ids).to_numpy()
    np.testing.assert_allclose(X["score_mean_30d"].to_numpy(), mean_score, rtol=1e-12)
    assert X["minutes_30d"].gt(0).all()
    assert X["n_distinct_activities_30d"].gt(5).all()
    np.testing.assert_allclose(X["days_since_last_activity"], 1.0)
    assert X["tenure_days"].gt(0).all()
    assert X["job_family"].astype(str).tolist() == employees["job_family"].astype(str).tolist()

    # every catalog-fed feature is missing, never 0, and named once in the report
    cat = catalog()
    fed = cat.loc[cat["inputs"].str.contains("catalog."), "name"].tolist()
    assert len(fed) == 42
    assert X[fed].isna().all().all()
    skipped = X.attrs["talentml_build_report"]["missing"]
    assert all(skipped[name].startswith("no catalog table") for name in fed)
    # so is every feature of an absent table or column; the rest is computed
    rep = build_report(statements=statements, employees=employees)
    assert rep["status"].isin(["computed", "missing"]).all()
    missing = rep.loc[rep["status"] == "missing", "name"].tolist()
    assert sorted(missing) == sorted(skipped)
    assert X[missing].isna().all().all()
    computed = cat[cat["name"].isin(rep.loc[rep["status"] == "computed", "name"])]
    counts = computed.loc[computed["dtype"] == "int64", "name"].tolist()
    assert len(counts) == 23 and X[counts].dtypes.eq("int64").all()
    assert set(rep.set_index("name").loc[["offhours_share_30d", "team_size"], "reason"]) == {
        "no column employees.timezone",
        "no column employees.manager_id",
    }
    # one warning lists the missing features, each once
    warnings = [r.getMessage() for r in caplog.records if "missing (NaN)" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{len(missing)} feature(s) are missing (NaN) on every row")
    for name in missing:
        assert len(re.findall(rf"(?<=[:,] ){name}(?=[,;]|$)", warnings[0])) == 1, name


# ---------------------------------------------------------------- partly known inputs
def _emp(tz: list[str | None]) -> pd.DataFrame:
    n = len(tz)
    return pd.DataFrame(
        {
            "employee_id": pd.array([f"e{i + 1}" for i in range(n)], dtype="string"),
            "hire_date": pd.to_datetime(["2023-01-02"] * n, utc=True),
            "timezone": pd.array(tz, dtype="string"),
        }
    )


def _stmts(rows) -> pd.DataFrame:
    n = len(rows)
    t = pd.to_datetime([r[3] for r in rows], utc=True)
    return pd.DataFrame(
        {
            "statement_id": pd.array([f"s{i}" for i in range(n)], dtype="string"),
            "actor_key": pd.array([f"a{i}" for i in range(n)], dtype="string"),
            "employee_id": pd.array([r[0] for r in rows], dtype="string"),
            "verb_id": pd.array([f"http://adlnet.gov/expapi/verbs/{r[1]}" for r in rows], "string"),
            "verb": pd.array([r[1] for r in rows], dtype="string"),
            "object_id": pd.array([r[2] for r in rows], dtype="string"),
            "object_type": pd.array(["Activity"] * n, dtype="string"),
            "activity_type": pd.array([None] * n, dtype="string"),
            "object_name": pd.array([None] * n, dtype="string"),
            "success": pd.array([None] * n, dtype="boolean"),
            "completion": pd.array([None] * n, dtype="boolean"),
            "score_scaled": np.full(n, np.nan),
            "score_raw": np.full(n, np.nan),
            "score_min": np.full(n, np.nan),
            "score_max": np.full(n, np.nan),
            "duration_s": np.full(n, 600.0),
            "timestamp": t,
            "stored": t,
            "registration": pd.array([None] * n, dtype="string"),
            "platform": pd.array([None] * n, dtype="string"),
        }
    )


#: A catalog as an inference from statements gives it: what is not known is missing.
CATALOG = pd.DataFrame(
    {
        "activity_id": pd.array(["vol", "req", "unk"], dtype="string"),
        "skills": pd.Series([["python"], [], None], dtype=object),
        "level": pd.array([2, 1, None], dtype="Int64"),
        "mandatory": pd.array([False, True, None], dtype="boolean"),
        "voluntary": pd.array([True, False, None], dtype="boolean"),
        "program": pd.array(["elective", "compliance", None], dtype="string"),
    }
)
ROWS = [
    # e1: a voluntary course, and an activity whose voluntariness is unknown
    ("e1", "completed", "vol", "2024-02-20 10:00"),
    ("e1", "completed", "unk", "2024-02-21 10:00"),
    ("e1", "launched", "unk", "2024-02-21 09:00"),
    # e2: only the unknown activity
    ("e2", "completed", "unk", "2024-02-20 10:00"),
    # e3: the required course (known: not voluntary, no skills)
    ("e3", "completed", "req", "2024-02-20 10:00"),
    # e4: nothing in the window
]
SELECTED = [
    "n_statements_30d",
    "voluntary_share_30d",
    "n_voluntary_completions_30d",
    "skills_acquired_30d",
    "skill_level_gain_30d",
    "agility_standard_30d",
    "offhours_share_30d",
    "active_weeks_30d",
]


def _partial_build(catalog_table=CATALOG, tz=("Europe/Berlin", None, "UTC", "UTC")):
    emp = _emp(list(tz))
    spine = make_spine(emp, start="2024-03-01", end="2024-03-01", freq="D")
    return build(
        spine,
        statements=_stmts(ROWS),
        employees=emp,
        course_catalog=catalog_table,
        features=SELECTED,
    )


def test_partly_known_catalog_is_used_where_known():
    X = _partial_build().set_index("employee_id")
    nan = float("nan")

    def row(e):
        return [float(v) for v in X.loc[e, SELECTED]]

    # e1: the share is over the statement whose voluntariness is known (1 of 1); the count
    # and the skills come from the known activities
    np.testing.assert_equal(row("e1"), [3, 1.0, 1, 1, 2, 3.0, 0.0, 1])
    # e2: everything it did is of unknown voluntariness and skills: missing, not 0; its
    # time zone is unknown too: the off-hours share and weeks are missing
    np.testing.assert_equal(row("e2"), [1, nan, nan, nan, nan, nan, nan, nan])
    # e3: known, and zero
    np.testing.assert_equal(row("e3"), [1, 0.0, 0, 0, 0, 0.0, 0.0, 1])
    # e4: no learning in the window is a known zero (the share has no denominator)
    np.testing.assert_equal(row("e4"), [0, nan, 0, 0, 0, 0.0, nan, 0])
    # integer features missing on some rows are float with NaN
    assert str(X["n_voluntary_completions_30d"].dtype) == "float64"
    assert X.attrs["talentml_build_report"]["partial"]["voluntary_share_30d"] == (
        "catalog.voluntary is missing for 1 of 3 activities"
    )


def test_a_complete_catalog_gives_the_values_of_before():
    known = CATALOG.copy()
    known.loc[2, ["voluntary", "mandatory"]] = False
    known.loc[2, "program"] = "elective"
    known.loc[2, "level"] = 1
    known.at[2, "skills"] = ["sql"]
    X = _partial_build(known, tz=("Europe/Berlin", "UTC", "UTC", "UTC")).set_index("employee_id")
    assert "talentml_build_report" not in X.attrs
    assert str(X["n_voluntary_completions_30d"].dtype) == "int64"
    assert X.loc["e1", "voluntary_share_30d"] == pytest.approx(1 / 3)
    assert X.loc["e2", "n_voluntary_completions_30d"] == 0
    assert X.loc["e2", "skills_acquired_30d"] == 1


def test_absent_catalog_columns_leave_out_only_their_features(caplog):
    only_voluntary = CATALOG[["activity_id", "voluntary"]]
    with caplog.at_level(logging.WARNING, logger="talentml.features"):
        X = _partial_build(only_voluntary).set_index("employee_id")
    assert X.loc["e1", "n_voluntary_completions_30d"] == 1
    assert (
        X[["skills_acquired_30d", "skill_level_gain_30d", "agility_standard_30d"]]
        .isna()
        .all(axis=None)
    )
    assert "[no column catalog.skills] 1: skills_acquired_30d" in caplog.text
    assert "[no column catalog.skills; no column catalog.level] 2: skill_level_gain_30d" in (
        caplog.text
    )
    # an empty column is no better than an absent one
    empty = CATALOG.assign(voluntary=pd.array([None] * 3, dtype="boolean"))
    rep = build_report(statements=_stmts(ROWS), employees=_emp(["UTC"]), course_catalog=empty)
    assert rep.set_index("name").loc["voluntary_share_30d", "reason"] == (
        "catalog.voluntary is empty (all 3 values missing)"
    )


def test_the_build_report_of_every_input(tmp_path):
    rep = build_report()
    assert rep["status"].eq("missing").all()
    assert rep.columns.tolist() == ["name", "family", "inputs", "status", "reason"]
    cat = catalog()
    assert rep["name"].tolist() == cat["name"].tolist()
    assert rep["inputs"].tolist() == cat["inputs"].tolist()
    only = build_report(employees=_emp(["UTC"]), features="hris")
    assert only.set_index("name")["status"].to_dict() == {
        "tenure_days": "computed",
        "job_level": "missing",
        "job_family": "missing",
        "department": "missing",
        "days_in_role": "missing",
        "days_since_promotion": "missing",
        "n_promotions": "missing",
        "manager_changes_365d": "missing",
        "manager_changes_since_hire": "missing",
        "team_size": "missing",
        "team_voluntary_exits_182d": "missing",
        "team_voluntary_exits_365d": "missing",
    }


# ---------------------------------------------------------------------- every engine
@pytest.fixture(scope="module")
def partial_world():
    org = simulate_workforce(
        n_employees=40, start="2024-01-01", end="2024-12-31", random_state=7, show_progress=False
    )
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    cat = org.catalog.copy()
    cat["voluntary"] = cat["voluntary"].astype("boolean")
    cat.loc[cat.index[::3], "voluntary"] = pd.NA
    cat["level"] = cat["level"].astype("Int64")
    cat.loc[cat.index[1::4], "level"] = pd.NA
    skills = cat["skills"].copy()
    skills.iloc[2::5] = None
    cat["skills"] = skills
    cat = cat.drop(columns=["program"])
    emp = org.employees.drop(columns=["department"])
    emp.loc[emp.index[::4], "timezone"] = pd.NA
    tables = dict(
        statements=statements,
        employees=emp,
        course_catalog=cat,
        job_events=org.job_events,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
    )
    spine = make_spine(emp, start="2024-10-01", end="2024-11-01", freq="MS")
    X = build(spine, **tables)
    return spine, tables, X


def test_partial_inputs_are_partly_missing(partial_world):
    _, _, X = partial_world
    rep = X.attrs["talentml_build_report"]
    program = [
        "onboarding_completions_first_30d",
        "onboarding_sessions_first_30d",
        "onboarding_share_first_30d",
        "days_to_first_onboarding_completion",
        "onboarding_days_mean_first_30d",
        "onboarding_vs_cohort_first_30d",
    ]
    assert rep["missing"] == {
        **dict.fromkeys(program, "no column catalog.program"),
        "department": "no column employees.department",
    }
    assert X["onboarding_completions_first_30d"].isna().all()
    # the off-hours share is missing exactly for the employees without a time zone
    tz_missing = X["employee_id"].isin(
        partial_world[1]["employees"].loc[lambda e: e["timezone"].isna(), "employee_id"]
    )
    assert X.loc[tz_missing, "offhours_share_90d"].isna().all()
    assert X.loc[~tz_missing & X["n_statements_90d"].gt(0), "offhours_share_90d"].notna().all()
    assert 0 < X["n_voluntary_completions_90d"].isna().sum() < len(X)


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert got.columns.tolist() == expected.columns.tolist()
    for col in expected.columns[2:]:
        if expected[col].dtype == "string":
            a = got[col].astype(object).where(got[col].notna(), None).tolist()
            b = expected[col].astype(object).where(expected[col].notna(), None).tolist()
            assert a == b, col
            continue
        g, x = got[col].to_numpy(dtype=float), expected[col].to_numpy(dtype=float)
        assert (np.isclose(g, x, rtol=1e-9, atol=1e-9) | (np.isnan(g) & np.isnan(x))).all(), col


def test_partial_inputs_agree_on_polars_and_duckdb(partial_world):
    import duckdb

    pl = pytest.importorskip("polars")
    spine, tables, X = partial_world
    got = build(
        pl.from_arrow(pyarrow_from_pandas(spine, preserve_index=False)),
        **{
            k: pl.from_arrow(pyarrow_from_pandas(v, preserve_index=False))
            for k, v in tables.items()
        },
    )
    _same(got.to_pandas(), X)
    con = duckdb.connect()
    rel = {
        k: con.from_arrow(pyarrow_from_pandas(v, preserve_index=False)) for k, v in tables.items()
    }
    got = build(con.from_arrow(pyarrow_from_pandas(spine, preserve_index=False)), **rel)
    assert isinstance(got, duckdb.DuckDBPyRelation)
    _same(got.df(), X)
    report = build_report(**rel)
    assert report.query("status == 'missing'")["name"].tolist() == [
        "onboarding_completions_first_30d",
        "onboarding_sessions_first_30d",
        "onboarding_share_first_30d",
        "days_to_first_onboarding_completion",
        "onboarding_days_mean_first_30d",
        "onboarding_vs_cohort_first_30d",
        "department",
    ]


@pytest.mark.spark
@pytest.mark.slow
def test_partial_inputs_agree_on_spark(partial_world, spark_session):
    from talentml.features._frame import SparkSQLSession

    spark = spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spine, tables, X = partial_world
    to_spark = SparkSQLSession(spark)._from_arrow
    frames = {k: to_spark(pyarrow_from_pandas(v, preserve_index=False)) for k, v in tables.items()}
    got = build(to_spark(pyarrow_from_pandas(spine, preserve_index=False)), **frames)
    _same(got.toPandas(), X)
