"""Data contracts: every rule is caught on a crafted bad table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentml import ContractError, schemas


def _ts(*values: str) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True)


def _employees() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_id": pd.Series(["E1", "E2", "E3"], dtype="string"),
            "hire_date": _ts("2020-01-01", "2021-06-01", "2022-03-15"),
            "termination_date": _ts(None, "2023-01-31", None),
            "termination_type": pd.Series([None, "voluntary", None], dtype="string"),
            "job_family": pd.Series(["Sales"] * 3, dtype="string"),
            "job_level": np.array([2, 3, 1], dtype="int64"),
            "department": pd.Series(["Sales"] * 3, dtype="string"),
            "location": pd.Series(["London", "Berlin", "New York"], dtype="string"),
            "timezone": pd.Series(
                ["Europe/London", "Europe/Berlin", "America/New_York"], dtype="string"
            ),
            "manager_id": pd.Series([None, "E1", "E1"], dtype="string"),
        }
    )


def _statements() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "statement_id": pd.Series(["s1", "s2"], dtype="string"),
            "actor_key": pd.Series(["k1", "k2"], dtype="string"),
            "employee_id": pd.Series(["E1", None], dtype="string"),
            "verb_id": pd.Series(["http://adlnet.gov/expapi/verbs/completed"] * 2, dtype="string"),
            "verb": pd.Series(["completed"] * 2, dtype="string"),
            "object_id": pd.Series(["https://lms.example/c/1"] * 2, dtype="string"),
            "object_type": pd.Series(["Activity"] * 2, dtype="string"),
            "activity_type": pd.Series([None, None], dtype="string"),
            "object_name": pd.Series(["Course", None], dtype="string"),
            "success": pd.Series([True, None], dtype="boolean"),
            "completion": pd.Series([True, True], dtype="boolean"),
            "score_scaled": [0.8, np.nan],
            "score_raw": [80.0, np.nan],
            "score_min": [0.0, np.nan],
            "score_max": [100.0, np.nan],
            "duration_s": [600.0, np.nan],
            "timestamp": _ts("2024-01-02T10:00:00Z", "2024-01-03T10:00:00Z"),
            "stored": _ts("2024-01-02T10:00:05Z", "2024-01-05T10:00:00Z"),
            "registration": pd.Series([None, None], dtype="string"),
            "platform": pd.Series(["LMS", None], dtype="string"),
        }
    )


def test_valid_tables_pass(org):
    for name, table in org.tables.items():
        assert schemas.validate(name, table) is table
    assert schemas.validate("employees", _employees()) is not None
    assert schemas.validate("statements", _statements()) is not None


def test_every_table_has_a_contract():
    assert set(schemas.TABLES) == {
        "statements",
        "employees",
        "job_events",
        "reviews",
        "competency_ratings",
        "catalog",
        "productivity",
        "sensitive",
        "identities",
    }


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("termination_type", "quit", "isin_voluntary|involuntary"),
        ("job_level", 0, "between_1_12"),
        ("timezone", "CET+1", "iana_timezone"),
        ("employee_id", " ", "non_blank"),
    ],
)
def test_employees_value_rules(column, value, rule):
    df = _employees()
    df.loc[2, column] = value
    if column == "termination_type":
        df.loc[2, "termination_date"] = pd.Timestamp("2023-05-01", tz="UTC")
    with pytest.raises(ContractError) as err:
        schemas.validate("employees", df)
    msg = str(err.value)
    assert "table 'employees'" in msg
    assert f"column '{column}'" in msg
    assert rule in msg
    assert "first rows [2]" in msg
    assert err.value.table == "employees"
    assert err.value.failures["row"].tolist() == [2]


def test_employees_row_rules():
    df = _employees()
    df.loc[1, "termination_date"] = pd.Timestamp("2020-01-01", tz="UTC")  # before hire
    df.loc[2, "termination_type"] = "involuntary"  # type without date
    df.loc[0, "manager_id"] = "E1"  # own manager
    bad = schemas.validate("employees", df, lenient=True)
    assert bad.index.tolist() == [1, 2, 0] or sorted(bad.index) == [0, 1, 2]
    reasons = bad["reason"].to_dict()
    assert "termination_after_hire" in reasons[1]
    assert "termination_type_iff_date" in reasons[2]
    assert "not_own_manager" in reasons[0]


def test_unique_key_and_not_null():
    df = _employees()
    df.loc[1, "employee_id"] = "E1"
    df.loc[2, "hire_date"] = pd.NaT
    with pytest.raises(ContractError, match=r"unique\(employee_id\)") as err:
        schemas.validate("employees", df)
    assert "not_null" in str(err.value)
    assert "'hire_date'" in str(err.value)


def test_naive_timestamps_are_refused_even_when_lenient():
    df = _employees()
    df["hire_date"] = df["hire_date"].dt.tz_localize(None)
    for lenient in (False, True):
        with pytest.raises(
            ContractError, match=r"column 'hire_date' has dtype datetime64\[(ns|us)\]"
        ):
            schemas.validate("employees", df, lenient=lenient)


def test_missing_column_is_named():
    with pytest.raises(ContractError, match=r"missing required column\(s\) \['hire_date'\]"):
        schemas.validate("employees", _employees().drop(columns="hire_date"))


def test_unknown_table():
    with pytest.raises(ValueError, match="unknown table 'staff'"):
        schemas.validate("staff", _employees())


def test_statement_rules():
    df = _statements()
    df.loc[0, "stored"] = df.loc[0, "timestamp"] - pd.Timedelta(minutes=11)  # beyond the skew
    df.loc[1, "score_scaled"] = 1.5
    df.loc[1, "object_type"] = "Course"
    bad = schemas.validate("statements", df, lenient=True)
    assert "stored_after_timestamp" in bad.loc[0, "reason"]
    assert "score_scaled: between_-1_1" in bad.loc[1, "reason"]
    assert "object_type" in bad.loc[1, "reason"]


def test_clock_skew_within_tolerance_passes():
    df = _statements()
    df.loc[0, "stored"] = df.loc[0, "timestamp"] - schemas.MAX_CLOCK_SKEW + pd.Timedelta(seconds=1)
    schemas.validate("statements", df)


def test_score_order_rule():
    df = _statements()
    df.loc[0, "score_raw"] = 120.0
    with pytest.raises(ContractError, match="score_min_raw_max"):
        schemas.validate("statements", df)


def test_reviews_rules(org):
    df = org.reviews.head(20).copy()
    df.loc[3, "overall_rating"] = 6.0
    df.loc[4, "submitted_at"] = df.loc[4, "period_end"] - pd.Timedelta(days=1)
    df.loc[5, "cycle_id"] = df.loc[6, "cycle_id"]
    df.loc[5, "employee_id"] = df.loc[6, "employee_id"]
    df.loc[7, "potential_rating"] = 4.0
    good, bad = schemas.split("reviews", df)
    assert set(bad.index) == {3, 4, 5, 6, 7}
    assert len(good) == 15
    assert "between_1_5" in bad.loc[3, "reason"]
    assert "submitted_after_period_end" in bad.loc[4, "reason"]
    assert "unique(employee_id, cycle_id)" in bad.loc[5, "reason"]
    assert "potential_rating: between_1_3" in bad.loc[7, "reason"]


def test_optional_columns_may_be_absent(org):
    schemas.validate("reviews", org.reviews.drop(columns=["potential_rating", "goal_attainment"]))


def test_catalog_rules(org):
    df = org.catalog.head(10).copy()
    df.loc[0, "mandatory"] = True
    df.loc[0, "voluntary"] = True
    df.at[1, "skills"] = "Python"  # a string, not a list
    df.loc[2, "expected_minutes"] = 0.0
    df.loc[3, "program"] = "fun"
    bad = schemas.validate("catalog", df, lenient=True)
    assert set(bad.index) == {0, 1, 2, 3}
    assert "not_mandatory_and_voluntary" in bad.loc[0, "reason"]
    assert "list_of_strings" in bad.loc[1, "reason"]


def test_competency_productivity_job_events_sensitive_identities(org):
    cr = org.competency_ratings.head(5).copy()
    cr.loc[0, "rating"] = 0.0
    assert schemas.validate("competency_ratings", cr, lenient=True).index.tolist() == [0]
    pr = org.productivity.head(5).copy()
    pr.loc[1, "target"] = 0.0
    pr.loc[2, "recorded_at"] = pr.loc[2, "period_end"] - pd.Timedelta(days=2)
    assert sorted(schemas.validate("productivity", pr, lenient=True).index) == [1, 2]
    ev = org.job_events.head(5).copy()
    ev.loc[0, "event"] = "fired"
    assert schemas.validate("job_events", ev, lenient=True).index.tolist() == [0]
    se = org.sensitive.head(5).copy()
    se.loc[3, "employee_id"] = se.loc[4, "employee_id"]
    assert sorted(schemas.validate("sensitive", se, lenient=True).index) == [3, 4]
    ids = org.identities.head(4).copy()
    ids.loc[0, "employee_id"] = None
    assert schemas.validate("identities", ids, lenient=True).index.tolist() == [0]


def test_lenient_on_valid_table_is_empty(org):
    bad = schemas.validate("employees", org.employees, lenient=True)
    assert bad.empty
    assert "reason" in bad.columns


def test_error_message_lists_first_rows_only():
    df = pd.concat([_employees()] * 4, ignore_index=True)
    df["employee_id"] = pd.Series([f"E{i}" for i in range(len(df))], dtype="string")
    df["manager_id"] = pd.Series([None] * len(df), dtype="string")
    df["job_level"] = 99
    with pytest.raises(ContractError) as err:
        schemas.validate("employees", df, max_rows=3)
    assert "fails in 12 row(s), first rows [0, 1, 2]" in str(err.value)
    assert len(err.value.failures) == 12


def test_describe_and_empty():
    d = schemas.describe()
    assert set(d["table"]) == set(schemas.TABLES)
    assert {"column", "type", "nullable", "rules", "description"} <= set(d.columns)
    for name in schemas.TABLES:
        empty = schemas.empty(name)
        assert len(empty) == 0
        schemas.validate(name, empty)


def test_wrong_input_type():
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        schemas.validate("employees", [1, 2, 3])


def test_docs_contract_tables_are_current():
    """docs/contracts.md carries the contract tables; regenerate it when a contract changes."""
    from pathlib import Path

    from talentml.schemas._markdown import (
        CONTRACTS_DOC_END,
        CONTRACTS_DOC_START,
        contracts_markdown,
    )

    page = Path(__file__).resolve().parent.parent / "docs" / "contracts.md"
    text = page.read_text(encoding="utf-8")
    start, end = text.index(CONTRACTS_DOC_START), text.index(CONTRACTS_DOC_END)
    shown = text[start + len(CONTRACTS_DOC_START) : end].strip("\n") + "\n"
    assert shown == contracts_markdown(), (
        "docs/contracts.md is out of date: rewrite what lies between its markers with "
        "talentml.schemas._markdown.contracts_markdown(), e.g. "
        "talentml.features._catalog.replace_between(text, CONTRACTS_DOC_START, "
        "CONTRACTS_DOC_END, contracts_markdown())"
    )
    # and it describes every column of every contract
    for row in schemas.describe().itertuples():
        assert f"| `{row.column}` | `{row.type}` |" in shown
