"""Contract errors say what is wrong, where, how often, and how to fix it; in one pass."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from talentml import ContractError, schemas
from talentml.features import make_spine
from talentml.schemas import _messages as msg


def _ts(*values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True)


def _employees(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_id": pd.array([f"E{i}" for i in range(n)], dtype="string"),
            "hire_date": _ts(*["2020-01-01"] * n),
            "termination_date": _ts(*[None] * n),
            "termination_type": pd.array([None] * n, dtype="string"),
            "job_level": np.full(n, 2, dtype="int64"),
            "timezone": pd.array(["Europe/Berlin"] * n, dtype="string"),
        }
    )


def _error(table: str, df: pd.DataFrame, **kwargs) -> ContractError:
    with pytest.raises(ContractError) as err:
        schemas.validate(table, df, **kwargs)
    return err.value


def _one_line(err: ContractError, rule: str) -> str:
    lines = [line for line in str(err).splitlines() if f"rule {rule} " in line]
    assert len(lines) == 1, str(err)
    return lines[0]


# ---------------------------------------------------------------------------- the fix
@pytest.mark.parametrize(
    ("column", "values", "fix"),
    [
        (
            "hire_date",
            pd.Series(["2020-01-01", "2021-02-03", "x"], dtype=object),
            'pd.to_datetime(df["hire_date"], utc=True)',
        ),
        (
            "hire_date",
            pd.to_datetime(pd.Series(["2020-01-01"] * 3)),
            'tz_localize("<their zone>")',
        ),
        (
            "hire_date",
            pd.to_datetime(pd.Series(["2020-01-01"] * 3)).dt.tz_localize("Europe/Berlin"),
            'df["hire_date"].dt.tz_convert("UTC")',
        ),
        ("employee_id", pd.Series([101, 102, 103]), 'df["employee_id"].astype("string")'),
        ("job_level", pd.Series([2.0, 3.0, np.nan]), 'astype("Int64")'),
    ],
)
def test_dtype_errors_name_the_fix(column, values, fix):
    df = _employees()
    df[column] = values.to_numpy() if isinstance(values, pd.Series) else values
    df[column] = values.set_axis(df.index)
    err = _error("employees", df)
    text = str(err)
    assert f"table 'employees' breaks its contract: column {column!r} has dtype" in text
    assert fix in text
    assert 'schemas.coerce("employees", df' in text or "tz_convert" in fix
    # the example rows and the count are there
    assert "first rows [0, 1" in text and re.search(r": [23] value\(s\)", text)


def test_bool_and_list_dtype_errors_name_coerce():
    cat = pd.DataFrame(
        {
            "activity_id": pd.array(["a1", "a2"], dtype="string"),
            "mandatory": ["yes", "no"],
            "skills": pd.array(["python; sql", "excel"], dtype="string"),
        }
    )
    err = _error("catalog", cat)
    text = str(err)
    assert "in 2 ways (dtype)" in text
    mandatory = next(line for line in text.splitlines() if "'mandatory'" in line)
    skills = next(line for line in text.splitlines() if "'skills'" in line)
    assert msg.FIX_BOOL.format(table="catalog", column="mandatory") in mandatory
    assert "values ['yes', 'no']" in mandatory
    assert 'schemas.coerce("catalog", df) (splits text on , ; |)' in skills


def test_missing_column_error_names_rename():
    err = _error("employees", _employees().drop(columns=["hire_date"]))
    text = str(err)
    assert "missing required column(s) ['hire_date'] (all 3 row(s))" in text
    assert 'schemas.coerce("employees", df, rename={"<your column>": "hire_date"})' in text
    assert err.failures["rule"].tolist() == ["missing_column"]


@pytest.mark.parametrize(
    ("column", "value", "rule", "fix"),
    [
        ("employee_id", " ", "non_blank", 'good, bad = schemas.split("employees", df)'),
        ("job_level", 13, "between_1_12", "allowed: 1 to 12"),
        ("timezone", "CET+1", "iana_timezone", '"Europe/Berlin"'),
        ("termination_type", "quit", "isin_voluntary|involuntary", "['voluntary', 'involuntary']"),
        ("hire_date", pd.NaT, "not_null", "fill them, or quarantine the rows"),
    ],
)
def test_value_rule_errors_name_rows_count_and_fix(column, value, rule, fix):
    df = _employees(8)
    rows = [2, 5, 6]
    for r in rows:
        df.loc[r, column] = value
    if column == "termination_type":
        df.loc[rows, "termination_date"] = pd.Timestamp("2023-01-01", tz="UTC")
    err = _error("employees", df, max_rows=2)
    line = _one_line(err, rule)
    assert f"column {column!r} rule {rule} fails in 3 row(s), first rows [2, 5] with" in line
    assert "Fix: " in line and fix in line
    assert err.failures.query("rule == @rule")["row"].tolist() == rows


def test_unique_key_error_names_drop_duplicates():
    df = _employees(4)
    df.loc[3, "employee_id"] = "E1"
    line = _one_line(_error("employees", df), "unique(employee_id)")
    assert "fails in 2 row(s), first rows [1, 3] with values ['E1', 'E1']" in line
    assert "df.drop_duplicates(subset=['employee_id'], keep=\"last\")" in line


# ---------------------------------------------------------------- one line per rule
def test_a_cross_column_rule_is_one_line_naming_its_columns():
    """The issue's case: termination_type_iff_date on a 40-row table was reported for every
    column, about 1,500 characters. Now: one line, both columns, the fix, bounded."""
    df = _employees(40)
    df["termination_type"] = pd.array(["voluntary"] * 40, dtype="string")  # no date
    err = _error("employees", df)
    text = str(err)
    assert "\n" not in text
    assert text.count("termination_type_iff_date") == 1
    assert text.startswith(
        "table 'employees' breaks its contract: columns 'termination_date', "
        "'termination_type' rule termination_type_iff_date fails in 40 row(s), "
        "first rows [0, 1, 2, 3, 4] with values [{termination_date: NaT, "
        "termination_type: 'voluntary'}"
    )
    assert "set termination_type ('voluntary' or 'involuntary') wherever termination_date" in text
    assert len(text) < 700
    # the failures table has one row per failing row, not one per column
    assert len(err.failures) == 40
    assert set(err.failures["column"]) == {"termination_date, termination_type"}
    # and a quarantined row gives the rule once
    bad = schemas.validate("employees", df, lenient=True)
    assert bad["reason"].iloc[0] == "termination_date, termination_type: termination_type_iff_date"


def test_one_pass_reports_every_problem_of_a_table():
    df = _employees(6).drop(columns="employee_id")
    df["job_level"] = [1, 2, 99, 3, 0, 2]  # two out of range
    df["timezone"] = pd.array(["Europe/Berlin", "Mars", None, None, None, None], dtype="string")
    df["hire_date"] = df["hire_date"].dt.tz_localize(None)  # naive
    df.loc[4, "termination_type"] = "voluntary"  # no date
    err = _error("employees", df)
    text = str(err)
    lines = text.splitlines()
    assert lines[0] == msg.CONTRACT_BROKEN_MANY.format(
        table="employees",
        n=5,
        rules="missing_column, dtype, between_1_12, iana_timezone, termination_type_iff_date",
    )
    assert len(lines) == 6
    assert all(line.startswith("- table 'employees': ") for line in lines[1:])
    assert "missing required column(s) ['employee_id']" in lines[1]
    assert "column 'hire_date' has dtype datetime64[" in lines[2]
    assert "rule between_1_12 fails in 2 row(s), first rows [2, 4] with values [99, 0]" in lines[3]
    assert "rule iana_timezone fails in 1 row(s), first rows [1] with values ['Mars']" in lines[4]
    # a rule on a column whose dtype is wrong is not run (hire_date): no noise from it
    assert "termination_after_hire" not in text
    assert sorted(err.failures["rule"].unique()) == sorted(
        ["missing_column", "dtype", "between_1_12", "iana_timezone", "termination_type_iff_date"]
    )
    # whole-column problems raise in lenient mode too, naming every problem
    with pytest.raises(ContractError, match="in 5 ways"):
        schemas.validate("employees", df, lenient=True)
    with pytest.raises(ContractError, match="in 5 ways"):
        schemas.split("employees", df)


def test_messages_are_bounded():
    n = 5_000
    df = pd.DataFrame(
        {
            "statement_id": pd.array(["x" * 500] * n, dtype="string"),
            "actor_key": pd.array([" "] * n, dtype="string"),
            "employee_id": pd.array(["y" * 300] * n, dtype="string"),
            "verb_id": pd.array([None] * n, dtype="string"),
            "verb": pd.array([None] * n, dtype="string"),
            "object_id": pd.array([""] * n, dtype="string"),
            "object_type": pd.array(["Course" * 50] * n, dtype="string"),
            "success": ["maybe"] * n,
            "completion": ["perhaps"] * n,
            "score_scaled": np.full(n, 3.0),
            "score_raw": np.full(n, 500.0),
            "score_min": np.full(n, 10.0),
            "score_max": np.full(n, 1.0),
            "duration_s": np.full(n, -1.0),
            "timestamp": ["2024-01-01"] * n,
            "stored": _ts(*["2020-01-01"] * n),
            **{f"extra_{i}": np.zeros(n) for i in range(60)},
        }
    )
    err = _error("statements", df)
    text = str(err)
    assert len(text) <= msg.MAX_MESSAGE_CHARS
    # more problems than lines: the rest are counted, every failure is in error.failures
    assert text.count("\n- table 'statements': ") == msg.MAX_PROBLEMS
    assert re.search(r"\.\.\. and \d+ more problem\(s\) \(rules .*\): see error.failures$", text)
    assert "x" * 100 not in text  # long values are cut
    assert len(err.failures) > 5 * n


def test_require_makes_an_optional_column_needed():
    df = _employees().drop(columns=["termination_date", "termination_type"])
    schemas.validate("employees", df)  # optional: absent means unknown
    with pytest.raises(ContractError, match=r"missing required column\(s\) \['termination_date"):
        schemas.validate("employees", df, require=("termination_date", "termination_type"))
    with pytest.raises(ValueError, match="not columns of the 'employees' contract"):
        schemas.validate("employees", df, require=("salary",))


def test_make_spine_reports_every_problem_of_employees_at_once():
    df = _employees(4)
    df["employee_id"] = pd.array(["E1", "E1", " ", "E4"], dtype="string")
    df["hire_date"] = df["hire_date"].astype(str)  # text, not dates
    df["job_level"] = [1, 2, 30, 4]
    with pytest.raises(ContractError) as err:
        make_spine(df, start="2024-01-01", end="2024-02-01")
    text = str(err.value)
    assert "in 4 ways (dtype, non_blank, between_1_12, unique(employee_id))" in text
    assert 'pd.to_datetime(df["hire_date"], utc=True)' in text


def test_catalog_rule_ignores_unknown_flags():
    cat = pd.DataFrame(
        {
            "activity_id": pd.array(["a", "b", "c", "d"], dtype="string"),
            "mandatory": pd.array([True, None, True, None], dtype="boolean"),
            "voluntary": pd.array([None, True, True, None], dtype="boolean"),
        }
    )
    bad = schemas.validate("catalog", cat, lenient=True)
    assert bad.index.tolist() == [2]
    assert bad["reason"].tolist() == ["mandatory, voluntary: not_mandatory_and_voluntary"]
