"""The specs of the public HR tables read by :mod:`talentml.datasets._public`: columns, levels,
targets and sensitive attributes of each file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
