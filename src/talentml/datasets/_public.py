"""Loaders of the public HR tables: IBM attrition, job change of data scientists, xAPI-Edu-Data.

Scikit-learn style (:func:`sklearn.datasets.fetch_openml` is the model): each loader reads a
file from the *data home*, validates it, types every column, and returns a
:class:`sklearn.utils.Bunch` with ``data``, ``target``, ``sensitive``, ``frame`` and
``DESCR``. Nothing is downloaded: the files live next to the repository in
``../shared/data/hr`` (see :func:`get_data_home`).

Every loader follows the same rules:

* **Purpose limitation.** Protected attributes (gender, age, marital status, nationality) are
  returned in ``sensitive``, *not* in ``data``; ``include_sensitive=True`` puts them back in
  ``data`` (only to reproduce published numbers that used them).
* **Nothing lost silently.** A row with a value that cannot be read (an unknown category
  level, a number that does not parse, a missing or invalid target, a duplicated id) is
  quarantined with a reason code in ``quarantine`` and counted in ``counts``
  (``read = accepted + quarantined``). Constant columns and identifiers are dropped with a
  logged note (the identifier becomes the index).
* **Clear errors.** A missing data home, a missing file or a file without the expected
  columns raises with the path, the table and the columns.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import ContractError

__all__ = [
    "DATA_HOME_ENV",
    "get_data_home",
    "load_ibm_attrition",
    "load_job_change",
    "load_xapi_edu",
]

logger = logging.getLogger(__name__)

#: Environment variable naming the data home (the folder that holds ``hr/``).
DATA_HOME_ENV = "TALENTML_DATA_HOME"

#: The repository root when talentml runs from a source checkout (``src/talentml/...``).
_REPO_ROOT = Path(__file__).resolve().parents[3]

MSG_NO_DATA_HOME = (
    "No talentml data home found. Looked at: {looked}. Set the environment variable "
    f"{DATA_HOME_ENV} or pass data_home= (the folder that holds hr/ibm_attrition, "
    "hr/job_change_ds and hr/xapi_edu)."
)
MSG_MISSING_FILE = "{table}: file not found: {path} (data home {home})"
MSG_BAD_COLUMNS = "{table}: {path} does not have the expected columns: {problems}"


# ----------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class _Column:
    """How one column of a public table is read."""

    name: str
    kind: str  # "int", "float", "category", "years", "id"
    levels: tuple[str, ...] = ()
    ordered: bool = False
    nullable: bool = False
    decimals: int | None = None
    recode: Mapping[str, str] = field(default_factory=dict)
    special: Mapping[str, float] = field(default_factory=dict)
    bounds: tuple[float, float] | None = None


@dataclass(frozen=True)
class _Table:
    """A public table: its file(s), columns, target and sensitive attributes."""

    name: str
    folder: str
    files: Mapping[str, str]
    blobs: Mapping[str, str]
    columns: tuple[_Column, ...]
    target: str
    target_map: Mapping[str, Any]
    target_names: tuple[str, ...]
    sensitive: tuple[str, ...]
    title: str
    description: str
    encoding: str = "utf-8"
    id_column: str | None = None
    sensitive_missing: str | None = None
    ordered_target: bool = False


def _likert(name: str, top: int = 4) -> _Column:
    return _Column(name, "int", bounds=(1, top))


_IBM = _Table(
    name="ibm_attrition",
    folder="hr/ibm_attrition",
    files={"train": "WA_Fn-UseC_-HR-Employee-Attrition.csv"},
    blobs={"WA_Fn-UseC_-HR-Employee-Attrition.csv": "b8531237e39eccb4f3c87ee840c3dfbb6cdbce3b"},
    encoding="utf-8-sig",
    id_column="EmployeeNumber",
    target="Attrition",
    target_map={"No": 0, "Yes": 1},
    target_names=("No", "Yes"),
    sensitive=("Gender", "Age", "MaritalStatus"),
    columns=(
        _Column("Age", "int", bounds=(16, 100)),
        _Column("Attrition", "target"),
        _Column(
            "BusinessTravel",
            "category",
            levels=("Non-Travel", "Travel_Rarely", "Travel_Frequently"),
            ordered=True,
        ),
        _Column("DailyRate", "int", bounds=(0, np.inf)),
        _Column(
            "Department",
            "category",
            levels=("Human Resources", "Research & Development", "Sales"),
        ),
        _Column("DistanceFromHome", "int", bounds=(0, np.inf)),
        _likert("Education", 5),
        _Column(
            "EducationField",
            "category",
            levels=(
                "Human Resources",
                "Life Sciences",
                "Marketing",
                "Medical",
                "Other",
                "Technical Degree",
            ),
        ),
        _Column("EmployeeCount", "int"),
        _Column("EmployeeNumber", "id"),
        _likert("EnvironmentSatisfaction"),
        _Column("Gender", "category", levels=("Female", "Male")),
        _Column("HourlyRate", "int", bounds=(0, np.inf)),
        _likert("JobInvolvement"),
        _likert("JobLevel", 5),
        _Column(
            "JobRole",
            "category",
            levels=(
                "Healthcare Representative",
                "Human Resources",
                "Laboratory Technician",
                "Manager",
                "Manufacturing Director",
                "Research Director",
                "Research Scientist",
                "Sales Executive",
                "Sales Representative",
            ),
        ),
        _likert("JobSatisfaction"),
        _Column("MaritalStatus", "category", levels=("Divorced", "Married", "Single")),
        _Column("MonthlyIncome", "int", bounds=(0, np.inf)),
        _Column("MonthlyRate", "int", bounds=(0, np.inf)),
        _Column("NumCompaniesWorked", "int", bounds=(0, np.inf)),
        _Column("Over18", "category", levels=("Y", "N")),
        _Column("OverTime", "category", levels=("No", "Yes")),
        _Column("PercentSalaryHike", "int", bounds=(0, 100)),
        _likert("PerformanceRating"),
        _likert("RelationshipSatisfaction"),
        _Column("StandardHours", "int"),
        _Column("StockOptionLevel", "int", bounds=(0, 3)),
        _Column("TotalWorkingYears", "int", bounds=(0, np.inf)),
        _Column("TrainingTimesLastYear", "int", bounds=(0, np.inf)),
        _likert("WorkLifeBalance"),
        _Column("YearsAtCompany", "int", bounds=(0, np.inf)),
        _Column("YearsInCurrentRole", "int", bounds=(0, np.inf)),
        _Column("YearsSinceLastPromotion", "int", bounds=(0, np.inf)),
        _Column("YearsWithCurrManager", "int", bounds=(0, np.inf)),
    ),
    title="IBM HR Analytics Employee Attrition & Performance",
    description="""\
A fictional data set created by IBM data scientists: one row per employee (1,470), 35
columns, target ``Attrition`` (Yes = left, 16.1%). Likert-scale columns (satisfaction,
involvement, work-life balance: 1 = low .. 4 = very high; Education 1 = below college ..
5 = doctor) are kept as integers; ``BusinessTravel`` is an ordered categorical. There is no
time axis: every feature is a snapshot taken when the label is known, so this table tests a
model on a tabular frame, not point-in-time correctness.

Reading: the file has a UTF-8 byte-order mark and CRLF line ends. ``EmployeeNumber`` is the
index (not a feature). ``EmployeeCount``, ``Over18`` and ``StandardHours`` are constant and
dropped. ``Gender``, ``Age`` and ``MaritalStatus`` are sensitive: in ``sensitive``, not in
``data``, unless ``include_sensitive=True``.

Published results (5-fold CV, ROC AUC): LightGBM 0.791 (stratified, SMOTE), a stacking of
XGBoost + random forest + logistic regression 0.807; a plain one-hot + logistic regression
reaches about 0.84. Those used every column, sensitive ones included.""",
)

_JOB_CHANGE = _Table(
    name="job_change_ds",
    folder="hr/job_change_ds",
    files={"train": "aug_train.csv", "test": "aug_test.csv"},
    blobs={
        "aug_train.csv": "3167c4bbc5d2bda10313f481cc6ff0e0d6109449",
        "aug_test.csv": "7b830d8810e5fe6a0233442944b2176f4562ecde",
    },
    id_column="enrollee_id",
    target="target",
    target_map={"0.0": 0, "1.0": 1, "0": 0, "1": 1},
    target_names=("not looking", "looking for a job change"),
    sensitive=("gender",),
    sensitive_missing="unknown",
    columns=(
        _Column("enrollee_id", "id"),
        _Column("city", "category"),
        _Column("city_development_index", "float", decimals=3, bounds=(0, 1)),
        _Column("gender", "category", levels=("Female", "Male", "Other"), nullable=True),
        _Column(
            "relevent_experience",
            "category",
            levels=("No relevent experience", "Has relevent experience"),
        ),
        _Column(
            "enrolled_university",
            "category",
            levels=("no_enrollment", "Part time course", "Full time course"),
            nullable=True,
        ),
        _Column(
            "education_level",
            "category",
            levels=("Primary School", "High School", "Graduate", "Masters", "Phd"),
            ordered=True,
            nullable=True,
        ),
        _Column(
            "major_discipline",
            "category",
            levels=("Arts", "Business Degree", "Humanities", "No Major", "Other", "STEM"),
            nullable=True,
        ),
        _Column(
            "experience",
            "years",
            special={"<1": 0.0, ">20": 21.0},
            bounds=(1, 20),
            nullable=True,
        ),
        _Column(
            "company_size",
            "category",
            levels=(
                "<10",
                "10-49",
                "50-99",
                "100-500",
                "500-999",
                "1000-4999",
                "5000-9999",
                "10000+",
            ),
            recode={"10/49": "10-49"},
            ordered=True,
            nullable=True,
        ),
        _Column(
            "company_type",
            "category",
            levels=(
                "Early Stage Startup",
                "Funded Startup",
                "NGO",
                "Other",
                "Public Sector",
                "Pvt Ltd",
            ),
            nullable=True,
        ),
        _Column(
            "last_new_job",
            "years",
            special={"never": 0.0, ">4": 5.0},
            bounds=(1, 4),
            nullable=True,
        ),
        _Column("training_hours", "int", bounds=(0, np.inf)),
        _Column("target", "target"),
    ),
    title="HR Analytics: Job Change of Data Scientists",
    description="""\
Enrollees of a data-science training run by a company (CC0): one row per enrollee (19,158
labeled in ``aug_train.csv``, 2,129 unlabeled in ``aug_test.csv``), target ``target``
(1 = looking for a job change, 24.9%). Missing values are frequent (company size 31%,
company type 32%, gender 23.5%) and informative: they are kept as missing, never imputed.

Reading: the target is stored as 1.0/0.0 (returned as int 1/0). ``enrollee_id`` is the index.
``city_development_index`` is rounded to 3 decimals (the file holds float noise such as
0.7759999999999999). ``experience`` becomes years as a float ("<1" -> 0, ">20" -> 21),
``last_new_job`` years since the last job change ("never" -> 0, ">4" -> 5);
``company_size`` level "10/49" (a spreadsheet-mangled "10-49") is read as "10-49" and the
column is an ordered categorical, as is ``education_level``. ``gender`` is sensitive: in
``sensitive`` with missing values kept as their own level "unknown", not in ``data`` unless
``include_sensitive=True``. Edited copies of this file circulate ("Oct-49", "10000",
imputed gender): their unknown levels are quarantined, and the file hash is checked.

Published results: competition private leaderboard ROC AUC 0.691 (a different split); a
default XGBoost with native categoricals reaches about 0.80 in 5-fold CV.""",
)

_XAPI_EDU = _Table(
    name="xapi_edu",
    folder="hr/xapi_edu",
    files={"train": "xAPI-Edu-Data.csv"},
    blobs={"xAPI-Edu-Data.csv": "3b96cdabe794ca620a4485507d1556aab47a7a56"},
    target="Class",
    target_map={"L": "L", "M": "M", "H": "H"},
    target_names=("L", "M", "H"),
    ordered_target=True,
    sensitive=("gender", "NationalITy"),
    columns=(
        _Column("gender", "category", levels=("F", "M")),
        _Column("NationalITy", "category"),
        _Column("PlaceofBirth", "category"),
        _Column(
            "StageID",
            "category",
            levels=("lowerlevel", "MiddleSchool", "HighSchool"),
            ordered=True,
        ),
        _Column(
            "GradeID",
            "category",
            levels=tuple(f"G-{g:02d}" for g in range(1, 13)),
            ordered=True,
        ),
        _Column("SectionID", "category"),
        _Column("Topic", "category"),
        _Column("Semester", "category", levels=("F", "S")),
        _Column("Relation", "category", levels=("Father", "Mum")),
        _Column("raisedhands", "int", bounds=(0, 100)),
        _Column("VisITedResources", "int", bounds=(0, 100)),
        _Column("AnnouncementsView", "int", bounds=(0, 100)),
        _Column("Discussion", "int", bounds=(0, 100)),
        _Column("ParentAnsweringSurvey", "category", levels=("No", "Yes")),
        _Column("ParentschoolSatisfaction", "category", levels=("Bad", "Good")),
        _Column("StudentAbsenceDays", "category", levels=("Under-7", "Above-7"), ordered=True),
        _Column("Class", "target"),
    ),
    title="xAPI-Edu-Data (students' academic performance, Kalboard 360 LMS)",
    description="""\
Students of the Kalboard 360 LMS, collected with an xAPI tracker (Amrieh, Hamtini and Aljarah
2016): one row per student (480), 17 columns, target ``Class`` (ordered L < M < H, grade
bands 0-69, 70-89, 90-100). The four behavior columns (``raisedhands``,
``VisITedResources``, ``AnnouncementsView``, ``Discussion``) are counts 0-100 from the
learning records. Column names keep the source spelling (``NationalITy``,
``VisITedResources``) so published code applies unchanged.

``gender`` and ``NationalITy`` are sensitive: in ``sensitive``, not in ``data`` unless
``include_sensitive=True``. ``PlaceofBirth`` stays in ``data`` but is a strong proxy of
nationality (they agree for most students): audit it before using it as a feature.

Published results: "more than 80%" accuracy (Amrieh et al. 2016, ensemble methods).""",
)

_TABLES = {t.name: t for t in (_IBM, _JOB_CHANGE, _XAPI_EDU)}


# ------------------------------------------------------------------------- data home
def _candidates() -> list[tuple[str, Path | None]]:
    env = os.environ.get(DATA_HOME_ENV)
    out: list[tuple[str, Path | None]] = [(f"${DATA_HOME_ENV}", Path(env) if env else None)]
    if (_REPO_ROOT / "pyproject.toml").is_file():
        out.append(("next to the repository", _REPO_ROOT.parent / "shared" / "data"))
    out.append(("next to the working directory", Path.cwd().parent / "shared" / "data"))
    return out


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder that holds the public tables (``hr/...``).

    The first that applies: ``data_home`` if given (it must exist); the environment variable
    ``TALENTML_DATA_HOME`` if set (it must exist); ``../shared/data`` next to the repository (when talentml runs
    from a source checkout); ``../shared/data`` next to the current working directory.

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        An explicit folder; it must exist.

    Returns
    -------
    pathlib.Path
        The resolved, absolute data home.

    Raises
    ------
    FileNotFoundError
        If ``data_home`` or ``$TALENTML_DATA_HOME`` does not exist, or none of the places
        exists (the message lists where it looked).

    Examples
    --------
    >>> from talentml.datasets import get_data_home
    >>> (get_data_home() / "hr" / "ibm_attrition").is_dir()
    True
    """
    if data_home is not None:
        path = Path(data_home).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(MSG_NO_DATA_HOME.format(looked=f"data_home={path} (missing)"))
        return path.resolve()
    env = os.environ.get(DATA_HOME_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                MSG_NO_DATA_HOME.format(looked=f"${DATA_HOME_ENV}={path} (missing)")
            )
    looked = []
    for where, path in _candidates():
        if path is None:
            looked.append(f"{where} (unset)")
            continue
        if path.is_dir():
            logger.debug("data home: %s (%s)", path, where)
            return path.resolve()
        looked.append(f"{where}: {path} (missing)")
    raise FileNotFoundError(MSG_NO_DATA_HOME.format(looked="; ".join(looked)))


def _git_blob(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


# ---------------------------------------------------------------------------- reading
def _read(table: _Table, subset: str, home: Path) -> tuple[pd.DataFrame, Path, str]:
    name = table.files[subset]
    path = home / table.folder / name
    if not path.is_file():
        raise FileNotFoundError(MSG_MISSING_FILE.format(table=table.name, path=path, home=home))
    content = path.read_bytes()
    blob = _git_blob(content)
    if blob == table.blobs.get(name):
        logger.debug("%s: %s matches the documented git blob %s", table.name, name, blob)
    else:
        logger.warning(
            "%s: %s is not the documented file (git blob %s, expected %s): an edited copy? "
            "Rows that do not read are quarantined.",
            table.name,
            path,
            blob,
            table.blobs.get(name),
        )
    raw = pd.read_csv(
        BytesIO(content),
        encoding=table.encoding,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
    )
    # A BOM left in the header (a file re-saved with another encoding) is not a column name.
    raw.columns = [str(c).lstrip("\ufeff").strip() for c in raw.columns]
    expected = [c.name for c in table.columns if not (subset == "test" and c.kind == "target")]
    missing = [c for c in expected if c not in raw.columns]
    extra = [c for c in raw.columns if c not in expected]
    duplicated = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if missing or extra or duplicated:
        problems = []
        rows = []
        if missing:
            problems.append(f"missing {missing}")
            rows += [(c, "missing_column") for c in missing]
        if extra:
            problems.append(f"unexpected {extra}")
            rows += [(c, "unexpected_column") for c in extra]
        if duplicated:
            problems.append(f"duplicated {duplicated}")
            rows += [(c, "duplicated_column") for c in duplicated]
        failures = pd.DataFrame(
            [{"column": c, "rule": r, "row": None, "value": None} for c, r in rows]
        )
        raise ContractError(
            MSG_BAD_COLUMNS.format(table=table.name, path=path, problems="; ".join(problems))
            + f" (expected {expected})",
            table=table.name,
            failures=failures,
        )
    return raw[expected], path, blob


def _parse(
    table: _Table, raw: pd.DataFrame, subset: str
) -> tuple[dict[str, pd.Series], list[tuple[np.ndarray, str, str]]]:
    """Typed columns, and the (mask, column, reason) of every value that does not read."""
    out: dict[str, pd.Series] = {}
    problems: list[tuple[np.ndarray, str, str]] = []
    for col in table.columns:
        if col.name not in raw.columns:
            continue
        text = raw[col.name].str.strip()
        present = text.notna().to_numpy()
        if col.kind == "target":
            mapped = text.map(table.target_map)
            problems.append((~present, col.name, "missing_target"))
            problems.append((present & mapped.isna().to_numpy(), col.name, "invalid_target"))
            out[col.name] = mapped
            continue
        if col.kind == "id":
            problems.append((~present, col.name, "missing_id"))
            problems.append(
                (present & text.duplicated(keep="first").to_numpy(), col.name, "duplicate_id")
            )
            out[col.name] = text
            continue
        if not col.nullable:
            problems.append((~present, col.name, "missing_value"))
        if col.kind == "category":
            values = text.replace(dict(col.recode)) if col.recode else text
            if col.levels:
                unknown = present & ~values.isin(col.levels).to_numpy()
                problems.append((unknown, col.name, "unknown_level"))
                levels = list(col.levels)
            else:
                levels = sorted(values.dropna().unique())
            # unknown levels become missing (they are reported above)
            categories = pd.Index(levels, dtype=object)
            codes = categories.get_indexer(values.astype(object).to_numpy())
            out[col.name] = pd.Series(
                pd.Categorical.from_codes(codes, categories=categories, ordered=col.ordered),
                index=raw.index,
                name=col.name,
            )
            continue
        if col.kind == "years":
            special = text.map(dict(col.special))
            number = pd.to_numeric(text.where(special.isna()), errors="coerce")
            values = special.astype("float64").fillna(number)
            bad = present & values.isna().to_numpy()
            problems.append((bad, col.name, "unknown_level"))
            inside = number.between(*col.bounds) | number.isna()
            whole = (number.fillna(0) % 1 == 0).to_numpy()
            problems.append((present & ~(inside.to_numpy() & whole), col.name, "out_of_range"))
            out[col.name] = values.astype("float64")
            continue
        number = pd.to_numeric(text, errors="coerce")
        unreadable = present & number.isna().to_numpy()
        problems.append((unreadable, col.name, "not_a_number"))
        if col.kind == "int":
            fractional = present & ~unreadable & (number.fillna(0) % 1 != 0).to_numpy()
            problems.append((fractional, col.name, "not_an_integer"))
        if col.bounds is not None:
            outside = present & ~unreadable & ~number.between(*col.bounds).to_numpy()
            problems.append((outside, col.name, "out_of_range"))
        if col.kind == "int":
            values = number.astype("Int64") if col.nullable else number.fillna(0).astype("int64")
        else:
            values = number.astype("float64")
            if col.decimals is not None:
                values = values.round(col.decimals)
        out[col.name] = values
    if subset == "test":
        problems = [p for p in problems if p[2] not in ("missing_target", "invalid_target")]
    return out, problems


def _quarantine(
    table: _Table, raw: pd.DataFrame, problems: list[tuple[np.ndarray, str, str]]
) -> tuple[pd.DataFrame, np.ndarray]:
    records = []
    bad = np.zeros(len(raw), dtype=bool)
    for mask, column, reason in problems:
        if not mask.any():
            continue
        bad |= mask
        for i in np.flatnonzero(mask):
            records.append(
                {
                    "line": int(i) + 2,
                    "id": raw[table.id_column].iloc[i] if table.id_column else None,
                    "column": column,
                    "value": raw[column].iloc[i],
                    "reason": reason,
                }
            )
    quarantine = pd.DataFrame(records, columns=["line", "id", "column", "value", "reason"])
    if len(quarantine):
        quarantine = quarantine.sort_values(["line", "column"], kind="stable")
        quarantine = quarantine.reset_index(drop=True)
    return quarantine, bad


def _load(
    table: _Table,
    *,
    data_home: str | os.PathLike | None,
    subset: str,
    as_frame: bool,
    include_sensitive: bool,
) -> Bunch:
    if subset not in table.files:
        raise ValueError(
            f"{table.name}: subset must be one of {sorted(table.files)}, got {subset!r}"
        )
    if not isinstance(as_frame, bool):
        raise TypeError(f"as_frame must be a bool, got {as_frame!r}")
    if not isinstance(include_sensitive, bool):
        raise TypeError(f"include_sensitive must be a bool, got {include_sensitive!r}")
    home = get_data_home(data_home)
    raw, path, blob = _read(table, subset, home)
    typed, problems = _parse(table, raw, subset)
    quarantine, bad = _quarantine(table, raw, problems)
    n_read = len(raw)
    keep = ~bad
    counts = {"read": n_read, "accepted": int(keep.sum()), "quarantined": int(bad.sum())}
    if bad.any():
        reasons = quarantine.drop_duplicates("line")["reason"].value_counts().to_dict()
        logger.warning(
            "%s: %d of %d rows quarantined (%s); see bunch.quarantine",
            table.name,
            counts["quarantined"],
            n_read,
            reasons,
        )
    index = None
    if table.id_column:
        ids = pd.to_numeric(typed[table.id_column][keep], errors="coerce")
        if ids.notna().all() and (ids % 1 == 0).all():
            ids = ids.astype("int64")
        else:
            ids = typed[table.id_column][keep]
        index = pd.Index(ids.to_numpy(), name=table.id_column)
    else:
        index = pd.RangeIndex(int(keep.sum()))

    def take(name: str) -> pd.Series:
        s = typed[name][keep]
        s.index = index
        return s

    features = [
        c.name
        for c in table.columns
        if c.kind not in ("id", "target") and c.name not in table.sensitive
    ]
    dropped = {}
    for name in list(features):
        s = take(name)
        if len(s) and s.nunique(dropna=False) <= 1:
            value = s.iloc[0]
            dropped[name] = value.item() if isinstance(value, np.generic) else value
            features.remove(name)
    if dropped:
        logger.info(
            "%s: constant column(s) dropped (a single value in every row): %s",
            table.name,
            ", ".join(f"{k}={v!r}" for k, v in dropped.items()),
        )
    if table.id_column:
        logger.info("%s: identifier %r is the index, not a feature", table.name, table.id_column)

    sensitive = pd.DataFrame({name: take(name) for name in table.sensitive}, index=index)
    if table.sensitive_missing is not None:
        for name in table.sensitive:
            s = sensitive[name]
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.cat.add_categories([table.sensitive_missing])
                sensitive[name] = s.fillna(table.sensitive_missing)
    data_columns = [
        c.name
        for c in table.columns
        if c.name in features or (include_sensitive and c.name in table.sensitive)
    ]
    data = pd.DataFrame(
        {
            name: (sensitive[name] if name in table.sensitive else take(name))
            for name in data_columns
        },
        index=index,
    )
    if include_sensitive:
        logger.info(
            "%s: sensitive column(s) %s included in data (include_sensitive=True): use them only "
            "to reproduce published results or for audits, never in a model that decides about "
            "people",
            table.name,
            list(table.sensitive),
        )

    if subset == "test":
        target = pd.Series(pd.NA, index=index, dtype="Int64", name=table.target)
    elif table.ordered_target:
        target = pd.Series(
            pd.Categorical(
                take(table.target).to_numpy(), categories=list(table.target_names), ordered=True
            ),
            index=index,
            name=table.target,
        )
    else:
        target = take(table.target).astype("int64")
    frame = data.copy()
    frame[table.target] = target
    descr = _descr(table, path, blob, data, target, counts, dropped)
    bunch = Bunch(
        data=data,
        target=target,
        sensitive=sensitive,
        frame=frame,
        feature_names=list(data.columns),
        target_names=list(table.target_names),
        sensitive_names=list(table.sensitive),
        quarantine=quarantine,
        counts=counts,
        dropped_constant=dropped,
        filename=str(path),
        DESCR=descr,
    )
    if not as_frame:
        categories = {
            c: list(data[c].cat.categories)
            for c in data.columns
            if isinstance(data[c].dtype, pd.CategoricalDtype)
        }
        matrix = np.column_stack(
            [
                (
                    np.where(data[c].cat.codes.to_numpy() < 0, np.nan, data[c].cat.codes)
                    if c in categories
                    else data[c].to_numpy(dtype="float64", na_value=np.nan)
                )
                for c in data.columns
            ]
        ).astype("float64")
        bunch.data = matrix
        bunch.target = target.to_numpy()
        bunch.sensitive = sensitive.to_numpy(dtype=object)
        bunch.frame = None
        bunch.categories = categories
    return bunch


def _descr(
    table: _Table,
    path: Path,
    blob: str,
    data: pd.DataFrame,
    target: pd.Series,
    counts: Mapping[str, int],
    dropped: Mapping[str, Any],
) -> str:
    source = path.parent / "SOURCE.txt"
    provenance = (
        source.read_text(encoding="utf-8").strip() if source.is_file() else "(no SOURCE.txt)"
    )
    lines = [
        table.title,
        "=" * len(table.title),
        "",
        table.description,
        "",
        f"File: {path.name} (git blob {blob}); rows read {counts['read']}, accepted "
        f"{counts['accepted']}, quarantined {counts['quarantined']}.",
        f"data: {data.shape[0]} rows x {data.shape[1]} columns; target {target.name!r}.",
    ]
    if dropped:
        lines.append("Constant columns dropped: " + ", ".join(dropped) + ".")
    lines += ["", "Provenance (SOURCE.txt)", "-----------------------", provenance]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- public
def load_ibm_attrition(
    *,
    data_home: str | os.PathLike | None = None,
    as_frame: bool = True,
    include_sensitive: bool = False,
) -> Bunch:
    """Load the IBM HR Analytics attrition table (1,470 employees, 16.1% attrition).

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Folder holding ``hr/ibm_attrition`` (default: :func:`get_data_home`).
    as_frame : bool, default True
        Return pandas objects; False gives NumPy arrays (categoricals as their integer codes,
        missing as NaN; the levels in ``categories``), and ``frame`` is None.
    include_sensitive : bool, default False
        Put ``Gender``, ``Age`` and ``MaritalStatus`` back into ``data`` (only to reproduce
        published results that used them). They are always in ``sensitive``.

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (DataFrame indexed by ``EmployeeNumber``: integers, Likert scales as
        integers, categoricals as pandas ``category``), ``target`` (int Series, 1 = left),
        ``sensitive`` (DataFrame), ``frame`` (``data`` plus the target), ``feature_names``,
        ``target_names`` (``["No", "Yes"]``), ``sensitive_names``, ``quarantine`` (one row
        per unreadable value: ``line``, ``id``, ``column``, ``value``, ``reason``),
        ``counts`` (``read``, ``accepted``, ``quarantined``), ``dropped_constant``,
        ``filename`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If the data home or the file is missing.
    talentml.exceptions.ContractError
        If the file does not have the expected columns.

    See Also
    --------
    load_job_change : The job change of data scientists table.

    Examples
    --------
    >>> from talentml.datasets import load_ibm_attrition
    >>> ibm = load_ibm_attrition()
    >>> ibm.data.shape, round(float(ibm.target.mean()), 3)
    ((1470, 27), 0.161)
    >>> list(ibm.sensitive.columns)
    ['Gender', 'Age', 'MaritalStatus']
    >>> load_ibm_attrition(include_sensitive=True).data.shape
    (1470, 30)
    """
    return _load(
        _IBM,
        data_home=data_home,
        subset="train",
        as_frame=as_frame,
        include_sensitive=include_sensitive,
    )


def load_job_change(
    *,
    data_home: str | os.PathLike | None = None,
    subset: str = "train",
    as_frame: bool = True,
    include_sensitive: bool = False,
) -> Bunch:
    """Load the job change of data scientists table (19,158 labeled enrollees, 24.9% positive).

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Folder holding ``hr/job_change_ds`` (default: :func:`get_data_home`).
    subset : {"train", "test"}, default "train"
        ``"train"``: the labeled file; ``"test"``: the 2,129 unlabeled rows (the target is
        an all-missing ``Int64`` Series).
    as_frame : bool, default True
        Return pandas objects; False gives NumPy arrays (categoricals as their integer codes,
        missing as NaN; the levels in ``categories``), and ``frame`` is None.
    include_sensitive : bool, default False
        Put ``gender`` back into ``data`` (only to reproduce published results).

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (DataFrame indexed by ``enrollee_id``; ``experience`` and ``last_new_job``
        in years as floats, categoricals as pandas ``category``, missing values kept),
        ``target`` (int Series, 1 = looking for a job change), ``sensitive`` (``gender``
        with missing values as the level ``"unknown"``), ``frame``, ``feature_names``,
        ``target_names``, ``sensitive_names``, ``quarantine``, ``counts``,
        ``dropped_constant``, ``filename`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If the data home or the file is missing.
    talentml.exceptions.ContractError
        If the file does not have the expected columns.

    See Also
    --------
    load_ibm_attrition : The IBM attrition table.

    Examples
    --------
    >>> from talentml.datasets import load_job_change
    >>> jobs = load_job_change()
    >>> jobs.data.shape, round(float(jobs.target.mean()), 3)
    ((19158, 11), 0.249)
    >>> jobs.sensitive["gender"].value_counts().to_dict()
    {'Male': 13221, 'unknown': 4508, 'Female': 1238, 'Other': 191}
    >>> load_job_change(subset="test").data.shape
    (2129, 11)
    """
    return _load(
        _JOB_CHANGE,
        data_home=data_home,
        subset=subset,
        as_frame=as_frame,
        include_sensitive=include_sensitive,
    )


def load_xapi_edu(
    *,
    data_home: str | os.PathLike | None = None,
    as_frame: bool = True,
    include_sensitive: bool = False,
) -> Bunch:
    """Load xAPI-Edu-Data: 480 students of an LMS tracked with xAPI, grade band L/M/H.

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Folder holding ``hr/xapi_edu`` (default: :func:`get_data_home`).
    as_frame : bool, default True
        Return pandas objects; False gives NumPy arrays (categoricals as their integer codes;
        the levels in ``categories``), and ``frame`` is None.
    include_sensitive : bool, default False
        Put ``gender`` and ``NationalITy`` back into ``data`` (only to reproduce published
        results).

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (DataFrame: four behavior counts as integers, the rest as pandas
        ``category``), ``target`` (ordered categorical ``L < M < H``), ``sensitive``,
        ``frame``, ``feature_names``, ``target_names``, ``sensitive_names``,
        ``quarantine``, ``counts``, ``dropped_constant``, ``filename`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If the data home or the file is missing.
    talentml.exceptions.ContractError
        If the file does not have the expected columns.

    See Also
    --------
    load_ibm_attrition : The IBM attrition table.

    Examples
    --------
    >>> from talentml.datasets import load_xapi_edu
    >>> edu = load_xapi_edu()
    >>> edu.data.shape, edu.target.value_counts().sort_index().to_dict()
    ((480, 14), {'L': 127, 'M': 211, 'H': 142})
    >>> list(edu.sensitive.columns)
    ['gender', 'NationalITy']
    """
    return _load(
        _XAPI_EDU,
        data_home=data_home,
        subset="train",
        as_frame=as_frame,
        include_sensitive=include_sensitive,
    )
