"""``schemas.coerce``: real tables adapted to their contract, every change reported, no row lost."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from talentml import ContractError, schemas
from talentml.features import make_spine

#: An HR spreadsheet as people export it: spaces in names, integer ids, naive local dates,
#: yes/no flags, levels as floats, blank cells, a value in the wrong case, and garbage.
HR_CSV = """Employee ID,Hire Date,Termination Date,Termination Type,Job Family,Job Level,Manager ID
1001,2019-03-01,,,Sales, 2.0,1004
1002,2020-07-15 09:30,2023-01-31,Voluntary,Sales,3.0,1004
1003,15/13/2021,,,  Finance  ,,1004
1004,2016-11-20,,,Finance,5,
1005,2021-02-30,,, ,4.5,1004
"""


def _hr() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(HR_CSV))


def _values(s: pd.Series) -> list:
    """Values with every kind of missing as None (pandas 2 and 3 differ in which NA)."""
    return [None if pd.isna(v) else v for v in s.tolist()]


def _changes(report: pd.DataFrame, column: str) -> dict[str, int]:
    part = report[report["column"] == column]
    return dict(zip(part["change"], part["count"], strict=True))


def test_an_hr_spreadsheet_is_adapted_and_every_change_reported():
    raw = _hr()
    result = schemas.coerce("employees", raw, timezone="Europe/Berlin")
    df, report = result
    # no row lost, same order and index, nothing changed in the input
    assert df.index.equals(raw.index) and len(df) == 5
    assert raw.columns[0] == "Employee ID"
    assert df.dtypes.astype(str).to_dict() == {
        "employee_id": "string",
        "hire_date": "datetime64[ns, UTC]",
        "termination_date": "datetime64[ns, UTC]",
        "termination_type": "string",
        "job_family": "string",
        "job_level": "Int64",
        "manager_id": "string",
    }
    assert df["employee_id"].tolist() == ["1001", "1002", "1003", "1004", "1005"]
    assert _values(df["manager_id"])[:4] == ["1004", "1004", "1004", None]
    # naive local times are read in the stated zone (CET/CEST), then UTC
    assert df["hire_date"].iloc[0] == pd.Timestamp("2019-02-28 23:00", tz="UTC")
    assert df["hire_date"].iloc[1] == pd.Timestamp("2020-07-15 07:30", tz="UTC")
    # unreadable dates stay, as NaT, counted with examples
    assert df["hire_date"].isna().tolist() == [False, False, True, False, True]
    hire = _changes(report, "hire_date")
    assert hire["renamed from 'Hire Date'"] == 5
    assert hire["text parsed to UTC date-times"] == 3
    assert hire["unreadable date-times to missing (NaT)"] == 2
    assert hire["naive times read in Europe/Berlin, then UTC"] == 3
    bad = report[report["change"] == "unreadable date-times to missing (NaT)"]
    assert bad["examples"].item() == "'15/13/2021', '2021-02-30'"
    # a fixed set of values is matched whatever the case; categories are trimmed
    assert df["termination_type"].tolist()[1] == "voluntary"
    assert _changes(report, "termination_type") == {
        "renamed from 'Termination Type'": 5,
        "matched to ['involuntary', 'voluntary'] ignoring case": 1,
    }
    assert _values(df["job_family"]) == ["Sales", "Sales", "Finance", "Finance", None]
    family = _changes(report, "job_family")
    assert family["surrounding blanks trimmed"] == 1 and family["blank text to missing"] == 1
    # levels: floats like 3.0 become integers, 4.5 is not an integer level
    assert _values(df["job_level"]) == [2, 3, None, 5, None]
    assert _changes(report, "job_level")["non-integer values to missing"] == 1
    assert set(report.columns) == set(schemas._coerce.REPORT_COLUMNS)
    # the rows coerce could not read are what validate reports and split quarantines
    with pytest.raises(ContractError, match=r"column 'hire_date' rule not_null fails in 2 row"):
        schemas.validate("employees", df)
    good, quarantine = schemas.split("employees", df)
    assert good["employee_id"].tolist() == ["1001", "1002", "1004"]
    assert quarantine["reason"].tolist() == ["hire_date: not_null"] * 2
    # and the good rows make a spine
    spine = make_spine(good, start="2023-01-01", end="2023-03-01", freq="MS")
    assert spine.groupby("as_of")["employee_id"].count().tolist() == [3, 2, 2]


def test_repr_and_html_show_the_changes():
    result = schemas.coerce("employees", _hr())
    text = repr(result)
    assert text.startswith("Coerced(table='employees', rows=5, columns=7, changes=")
    assert "hire_date: naive times read as UTC (pass timezone= for local times) (3)" in text
    assert str(result) == text
    html = result._repr_html_()
    assert "<table" in html and "naive times read as UTC" in html


def test_booleans_lists_numbers_and_defaults_in_a_catalog():
    raw = pd.DataFrame(
        {
            "activity_id": [" https://lms/1", "https://lms/2", "https://lms/3", "https://lms/4"],
            "mandatory": ["Yes", "no", "maybe", None],
            "voluntary": [0, 1, 1.0, np.nan],
            "skills": ["python; sql", '["excel", "sql"]', "", None],
            "level": ["1", "2.0", "x", None],
            "expected_minutes": ["30", " 45.5 ", "", "n/a"],
        }
    )
    df, report = schemas.coerce("catalog", raw, defaults={"program": "elective"})
    assert df["activity_id"].tolist()[0] == "https://lms/1"
    assert _values(df["mandatory"]) == [True, False, None, None]
    assert str(df["mandatory"].dtype) == "boolean"
    assert _values(df["voluntary"]) == [False, True, True, None]
    assert df["skills"].tolist() == [["python", "sql"], ["excel", "sql"], None, None]
    assert _values(df["level"]) == [1, 2, None, None]
    assert df["expected_minutes"].tolist()[:2] == [30.0, 45.5]
    assert df["program"].tolist() == ["elective"] * 4
    assert _changes(report, "mandatory") == {
        "yes/no, true/false, 1/0 read as booleans": 2,
        "unreadable booleans to missing": 1,
    }
    assert _changes(report, "program") == {"added with default 'elective'": 4}
    assert _changes(report, "level")["unreadable numbers to missing"] == 1
    assert _changes(report, "expected_minutes")["unreadable numbers to missing"] == 1
    schemas.validate("catalog", df)  # missing is unknown: the coerced catalog is valid
    # defaults fill missing values of a column that is there too
    filled, report = schemas.coerce("catalog", raw, defaults={"mandatory": False})
    assert filled["mandatory"].tolist() == [True, False, False, False]
    assert _changes(report, "mandatory")["missing values filled with default False"] == 2


def test_values_with_an_offset_keep_their_instant():
    raw = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c"],
            "hire_date": ["2024-03-31T01:30:00Z", "2024-03-31 02:30", "2024-10-27 02:30:00+01:00"],
        }
    )
    df, report = schemas.coerce("employees", raw, timezone="Europe/Berlin")
    assert df["hire_date"].tolist() == [
        pd.Timestamp("2024-03-31 01:30", tz="UTC"),
        # 02:30 does not exist in Berlin that night (clocks jump to 03:00)
        pd.Timestamp("2024-03-31 01:00", tz="UTC"),
        pd.Timestamp("2024-10-27 01:30", tz="UTC"),
    ]
    assert _changes(report, "hire_date")["naive times read in Europe/Berlin, then UTC"] == 1
    # a tz-aware column in another zone is converted; a naive datetime column localized
    aware = raw.assign(hire_date=pd.to_datetime(["2024-01-01"] * 3).tz_localize("Asia/Tokyo"))
    df, report = schemas.coerce("employees", aware)
    assert df["hire_date"].iloc[0] == pd.Timestamp("2023-12-31 15:00", tz="UTC")
    assert "converted from Asia/Tokyo to UTC" in report["change"].tolist()


def test_argument_errors_say_what_to_pass():
    raw = _hr()
    with pytest.raises(ValueError, match=r"rename: column\(s\) \['EmpNo'\] are not in the table"):
        schemas.coerce("employees", raw, rename={"EmpNo": "employee_id"})
    with pytest.raises(
        ValueError, match=r"\['hire_dt'\] are not columns .* \{'hire_dt': \['hire_date'"
    ):
        schemas.coerce("employees", raw, rename={"Hire Date": "hire_dt"})
    with pytest.raises(ValueError, match="defaults: \\['salary'\\]"):
        schemas.coerce("employees", raw, defaults={"salary": 1})
    with pytest.raises(ValueError, match="timezone='CET\\+1' is not an IANA time zone"):
        schemas.coerce("employees", raw, timezone="CET+1")
    with pytest.raises(ValueError, match="unknown table 'staff'"):
        schemas.coerce("staff", raw)


def test_ibm_attrition_table(shared_data):
    """IBM's table has integer EmployeeNumber ids and no dates: coerce maps what it can, and
    validate says exactly what is still missing and how to add it."""
    path = shared_data / "hr" / "ibm_attrition" / "WA_Fn-UseC_-HR-Employee-Attrition.csv"
    raw = pd.read_csv(path, encoding="utf-8-sig")
    df, report = schemas.coerce("employees", raw, rename={"EmployeeNumber": "employee_id"})
    assert len(df) == len(raw) == 1470
    assert df["employee_id"].tolist() == raw["EmployeeNumber"].astype(str).tolist()
    # JobLevel and Department are found by name, whatever their case
    assert _changes(report, "job_level") == {"renamed from 'JobLevel'": 1470}
    assert _changes(report, "department") == {"renamed from 'Department'": 1470}
    assert df["job_level"].between(1, 5).all()
    with pytest.raises(ContractError) as err:
        schemas.validate("employees", df)
    assert "missing required column(s) ['hire_date']" in str(err.value)
    assert 'rename={"<your column>": "hire_date"}' in str(err.value)
    # the user derives a hire date from tenure at the export date, and it validates
    export = pd.Timestamp("2017-06-30")
    hire = [export - pd.DateOffset(years=int(y)) for y in raw["YearsAtCompany"]]
    dated, _ = schemas.coerce("employees", df.assign(hire_date=[str(h.date()) for h in hire]))
    assert schemas.validate("employees", dated) is dated
    spine = make_spine(dated, start="2017-06-01", end="2017-06-01", freq="MS")
    assert len(spine) == (raw["YearsAtCompany"] > 0).sum()


def test_job_change_table(shared_data):
    raw = pd.read_csv(shared_data / "hr" / "job_change_ds" / "aug_train.csv")
    df, report = schemas.coerce(
        "employees", raw, rename={"enrollee_id": "employee_id", "city": "location"}
    )
    assert len(df) == 19_158
    assert df["employee_id"].tolist() == raw["enrollee_id"].astype(str).tolist()
    assert _changes(report, "employee_id")["numbers written as text (1001.0 -> '1001')"] == 19_158
    assert df["location"].str.startswith("city_").all()
    assert df["employee_id"].is_unique
