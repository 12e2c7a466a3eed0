"""Loaders of the public HR tables on the real files of ``../shared/data/hr``."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talentml.datasets import (
    get_data_home,
    load_ibm_attrition,
    load_job_change,
    load_xapi_edu,
)
from talentml.exceptions import ContractError

LOADERS = [load_ibm_attrition, load_job_change, load_xapi_edu]


@pytest.fixture(scope="module")
def ibm(shared_data: Path):
    return load_ibm_attrition(data_home=shared_data)


@pytest.fixture(scope="module")
def jobs(shared_data: Path):
    return load_job_change(data_home=shared_data)


# ------------------------------------------------------------------------------ IBM
def test_ibm_shapes_target_and_sensitive_split(shared_data: Path, caplog):
    with caplog.at_level(logging.INFO, logger="talentml.datasets"):
        ibm = load_ibm_attrition(data_home=shared_data)
    assert ibm.data.shape == (1470, 27)
    assert ibm.counts == {"read": 1470, "accepted": 1470, "quarantined": 0}
    assert ibm.quarantine.empty
    # 237 of 1,470 left: 16.1%
    assert int(ibm.target.sum()) == 237
    assert round(float(ibm.target.mean()), 3) == 0.161
    assert ibm.target.dtype == np.int64
    assert ibm.target_names == ["No", "Yes"]
    # purpose limitation: sensitive attributes are apart, aligned on the same index
    assert list(ibm.sensitive.columns) == ["Gender", "Age", "MaritalStatus"]
    assert not set(ibm.sensitive.columns) & set(ibm.data.columns)
    assert ibm.sensitive.index.equals(ibm.data.index)
    assert ibm.sensitive["Gender"].value_counts().to_dict() == {"Male": 882, "Female": 588}
    # ids removed (the index), constants dropped with a logged note
    assert ibm.data.index.name == "EmployeeNumber"
    assert ibm.data.index.is_unique
    assert "EmployeeNumber" not in ibm.data.columns
    for col in ("EmployeeCount", "Over18", "StandardHours"):
        assert col not in ibm.data.columns
    assert ibm.dropped_constant == {"EmployeeCount": 1, "Over18": "Y", "StandardHours": 80}
    assert "constant column(s) dropped" in caplog.text
    assert "StandardHours=80" in caplog.text
    # typed: categoricals as category, Likert scales as integers
    assert isinstance(ibm.data["JobRole"].dtype, pd.CategoricalDtype)
    assert ibm.data["BusinessTravel"].cat.ordered
    assert ibm.data["OverTime"].value_counts().to_dict() == {"No": 1054, "Yes": 416}
    assert ibm.data["JobSatisfaction"].dtype == np.int64
    assert sorted(ibm.data["JobSatisfaction"].unique()) == [1, 2, 3, 4]
    assert ibm.data.notna().all().all()
    # frame = data + target
    assert list(ibm.frame.columns) == [*ibm.data.columns, "Attrition"]
    assert ibm.feature_names == list(ibm.data.columns)


def test_ibm_byte_order_mark_is_not_in_a_column_name(shared_data: Path):
    ibm = load_ibm_attrition(data_home=shared_data, include_sensitive=True)
    # the file starts with a BOM before "Age": read naively, the column would be "\ufeffAge"
    assert "Age" in ibm.data.columns
    assert not any("\ufeff" in c for c in ibm.data.columns)
    assert ibm.data["Age"].between(18, 60).all()


def test_ibm_include_sensitive_restores_file_order(shared_data: Path, caplog):
    with caplog.at_level(logging.INFO, logger="talentml.datasets"):
        ibm = load_ibm_attrition(data_home=shared_data, include_sensitive=True)
    assert ibm.data.shape == (1470, 30)
    cols = list(ibm.data.columns)
    assert cols[0] == "Age"
    assert cols.index("Gender") < cols.index("HourlyRate") < cols.index("MaritalStatus")
    pd.testing.assert_series_equal(ibm.data["Gender"], ibm.sensitive["Gender"])
    assert "included in data (include_sensitive=True)" in caplog.text


def test_descr_carries_the_provenance(shared_data: Path, ibm, jobs):
    source = (shared_data / "hr" / "ibm_attrition" / "SOURCE.txt").read_text().strip()
    assert source in ibm.DESCR
    assert "b8531237e39eccb4f3c87ee840c3dfbb6cdbce3b" in ibm.DESCR
    assert ibm.DESCR.startswith("IBM HR Analytics")
    assert "CC0" in jobs.DESCR
    assert "emelkhovsky" in jobs.DESCR


# ---------------------------------------------------------------------- job change
def test_job_change_shapes_target_and_quirks(jobs):
    assert jobs.data.shape == (19158, 11)
    assert jobs.counts["quarantined"] == 0
    # target stored as 1.0/0.0 -> int 1/0; 4,777 of 19,158 = 24.9%
    assert jobs.target.dtype == np.int64
    assert set(jobs.target.unique()) == {0, 1}
    assert int(jobs.target.sum()) == 4777
    assert round(float(jobs.target.mean()), 3) == 0.249
    assert jobs.data.index.name == "enrollee_id"
    assert jobs.data.index.is_unique
    # gender is sensitive; missing kept as its own level
    assert "gender" not in jobs.data.columns
    gender = jobs.sensitive["gender"]
    assert gender.isna().sum() == 0
    assert gender.value_counts().to_dict() == {
        "Male": 13221,
        "unknown": 4508,
        "Female": 1238,
        "Other": 191,
    }
    # experience: "<1" -> 0, ">20" -> 21, missing kept
    exp = jobs.data["experience"]
    assert exp.dtype == np.float64
    assert int((exp == 0).sum()) == 522
    assert int((exp == 21).sum()) == 3286
    assert int(exp.isna().sum()) == 65
    last = jobs.data["last_new_job"]
    assert int((last == 0).sum()) == 2452
    assert int((last == 5).sum()) == 3290
    # company size "10/49" read as "10-49", ordered, missing kept (31%)
    size = jobs.data["company_size"]
    assert size.cat.ordered
    assert list(size.cat.categories)[:3] == ["<10", "10-49", "50-99"]
    assert int((size == "10-49").sum()) == 1471
    assert int(size.isna().sum()) == 5938
    # float noise rounded away
    cdi = jobs.data["city_development_index"]
    assert np.allclose(cdi, cdi.round(3), atol=0, rtol=0)
    assert cdi.nunique() == 93
    assert jobs.data["education_level"].cat.ordered


def test_job_change_include_sensitive_keeps_unknown_level(shared_data: Path):
    jobs = load_job_change(data_home=shared_data, include_sensitive=True)
    assert list(jobs.data.columns).index("gender") == 2
    assert int((jobs.data["gender"] == "unknown").sum()) == 4508


def test_job_change_test_subset_is_unlabeled(shared_data: Path, jobs):
    test = load_job_change(data_home=shared_data, subset="test")
    train = jobs
    assert test.data.shape == (2129, 11)
    assert list(test.data.columns) == list(train.data.columns)
    assert test.target.dtype == "Int64"
    assert test.target.isna().all()
    assert not set(test.data.index) & set(train.data.index)
    with pytest.raises(ValueError, match="subset must be one of"):
        load_job_change(data_home=shared_data, subset="validation")


# ---------------------------------------------------------------------------- xAPI
def test_xapi_edu(shared_data: Path):
    edu = load_xapi_edu(data_home=shared_data)
    assert edu.data.shape == (480, 14)
    assert edu.target.cat.ordered
    assert list(edu.target.cat.categories) == ["L", "M", "H"]
    assert edu.target.value_counts().to_dict() == {"M": 211, "H": 142, "L": 127}
    assert list(edu.sensitive.columns) == ["gender", "NationalITy"]
    assert not {"gender", "NationalITy"} & set(edu.data.columns)
    assert edu.data["raisedhands"].between(0, 100).all()
    assert edu.data["StageID"].cat.ordered
    assert load_xapi_edu(data_home=shared_data, include_sensitive=True).data.shape == (480, 16)


def test_as_frame_false_gives_arrays(shared_data: Path, ibm):
    frame = ibm
    ibm = load_ibm_attrition(data_home=shared_data, as_frame=False)
    assert isinstance(ibm.data, np.ndarray)
    assert ibm.data.shape == (1470, 27)
    assert ibm.data.dtype == np.float64
    assert ibm.frame is None
    col = ibm.feature_names.index("OverTime")
    assert ibm.categories["OverTime"] == ["No", "Yes"]
    np.testing.assert_array_equal(ibm.data[:, col], frame.data["OverTime"].cat.codes)
    np.testing.assert_array_equal(ibm.target, frame.target.to_numpy())
    jobs = load_job_change(data_home=shared_data, as_frame=False)
    size = jobs.feature_names.index("company_size")
    assert int(np.isnan(jobs.data[:, size]).sum()) == 5938


# ----------------------------------------------------------------------- data home
def test_data_home_from_environment(shared_data: Path, monkeypatch):
    monkeypatch.setenv("TALENTML_DATA_HOME", str(shared_data))
    assert get_data_home() == shared_data.resolve()
    assert load_xapi_edu().data.shape == (480, 14)


def test_default_data_home_is_next_to_the_repository(shared_data: Path, monkeypatch):
    monkeypatch.delenv("TALENTML_DATA_HOME", raising=False)
    assert get_data_home() == shared_data.resolve()


def test_missing_data_home_says_where_it_looked(tmp_path: Path, monkeypatch):
    from talentml.datasets import _public

    monkeypatch.delenv("TALENTML_DATA_HOME", raising=False)
    monkeypatch.setattr(_public, "_REPO_ROOT", tmp_path / "no-repo")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(FileNotFoundError, match="No talentml data home found") as info:
        load_ibm_attrition()
    message = str(info.value)
    assert "$TALENTML_DATA_HOME (unset)" in message
    assert str(tmp_path / "shared" / "data") in message
    assert "TALENTML_DATA_HOME" in message


@pytest.mark.parametrize("loader", LOADERS)
def test_explicit_missing_directory(loader, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="data_home=.*nowhere.*missing"):
        loader(data_home=tmp_path / "nowhere")


def test_environment_pointing_nowhere_is_an_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TALENTML_DATA_HOME", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match=r"\$TALENTML_DATA_HOME=.*gone"):
        load_job_change()


@pytest.mark.parametrize("loader", LOADERS)
def test_missing_file_names_table_and_path(loader, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"file not found: .*hr"):
        loader(data_home=tmp_path)


# ------------------------------------------------------------------ validation
def _copy(shared_data: Path, tmp_path: Path, folder: str, name: str) -> Path:
    target = tmp_path / "hr" / folder
    target.mkdir(parents=True)
    shutil.copy(shared_data / "hr" / folder / "SOURCE.txt", target / "SOURCE.txt")
    return shutil.copy(shared_data / "hr" / folder / name, target / name)


def test_missing_column_is_a_contract_error(shared_data: Path, tmp_path: Path):
    path = _copy(shared_data, tmp_path, "ibm_attrition", "WA_Fn-UseC_-HR-Employee-Attrition.csv")
    df = pd.read_csv(path, encoding="utf-8-sig")
    df.drop(columns=["OverTime"]).rename(columns={"JobRole": "Role"}).to_csv(path, index=False)
    with pytest.raises(
        ContractError, match=r"ibm_attrition: .* missing \['JobRole', 'OverTime'\]"
    ) as info:
        load_ibm_attrition(data_home=tmp_path)
    assert info.value.table == "ibm_attrition"
    assert "unexpected ['Role']" in str(info.value)
    failures = info.value.failures
    assert set(zip(failures["column"], failures["rule"], strict=True)) == {
        ("JobRole", "missing_column"),
        ("OverTime", "missing_column"),
        ("Role", "unexpected_column"),
    }


def test_edited_copy_is_quarantined_row_by_row(shared_data: Path, tmp_path: Path, caplog):
    path = _copy(shared_data, tmp_path, "job_change_ds", "aug_train.csv")
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    size, target, hours = (header.index(c) for c in ("company_size", "target", "training_hours"))

    def edit(i: int, col: int, value: str) -> None:
        cells = lines[i].split(",")
        cells[col] = value
        lines[i] = ",".join(cells)

    edit(1, size, "Oct-49")  # the spreadsheet-edited copies
    edit(2, target, "2.0")
    edit(3, target, "")
    edit(4, hours, "many")
    lines.append(lines[5])  # a duplicated enrollee
    path.write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.INFO, logger="talentml.datasets"):
        jobs = load_job_change(data_home=tmp_path)
    assert jobs.counts == {"read": 19159, "accepted": 19154, "quarantined": 5}
    assert jobs.counts["read"] == jobs.counts["accepted"] + jobs.counts["quarantined"]
    assert len(jobs.data) == len(jobs.target) == len(jobs.sensitive) == 19154
    q = jobs.quarantine
    assert q[["line", "column", "reason"]].to_dict("records") == [
        {"line": 2, "column": "company_size", "reason": "unknown_level"},
        {"line": 3, "column": "target", "reason": "invalid_target"},
        {"line": 4, "column": "target", "reason": "missing_target"},
        {"line": 5, "column": "training_hours", "reason": "not_a_number"},
        {"line": 19160, "column": "enrollee_id", "reason": "duplicate_id"},
    ]
    assert q.loc[0, "value"] == "Oct-49"
    assert "not the documented file" in caplog.text
    assert "5 of 19159 rows quarantined" in caplog.text


def test_documented_file_is_not_flagged(shared_data: Path, caplog):
    with caplog.at_level(logging.WARNING, logger="talentml.datasets"):
        for loader in LOADERS:
            loader(data_home=shared_data)
    assert "not the documented file" not in caplog.text


def test_bad_flag_types(shared_data: Path):
    with pytest.raises(TypeError, match="include_sensitive must be a bool"):
        load_ibm_attrition(data_home=shared_data, include_sensitive="yes")
    with pytest.raises(TypeError, match="as_frame must be a bool"):
        load_xapi_edu(data_home=shared_data, as_frame=1)
