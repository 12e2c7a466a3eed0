"""The public API of talentml.features: spine, catalog, selection, validation, quarantine."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, simulate_workforce
from talentml.exceptions import ContractError
from talentml.features import build, catalog, make_spine


def _ts(*values):
    return pd.to_datetime(list(values), utc=True)


def _employees(**overrides) -> pd.DataFrame:
    base = {
        "employee_id": pd.array(["e1", "e2", "e3"], dtype="string"),
        "hire_date": _ts("2023-05-10", "2024-02-15", "2024-03-01"),
        "termination_date": _ts("2024-02-29", None, None),
        "termination_type": pd.array(["voluntary", None, None], dtype="string"),
        "job_family": pd.array(["Sales", "Sales", "Finance"], dtype="string"),
        "job_level": np.array([2, 3, 4], dtype="int64"),
        "department": pd.array(["Sales", "Sales", "Finance"], dtype="string"),
        "location": pd.array(["Berlin", "Berlin", "London"], dtype="string"),
        "timezone": pd.array(["Europe/Berlin", "Europe/Berlin", "Europe/London"], dtype="string"),
        "manager_id": pd.array(["e3", "e3", None], dtype="string"),
    }
    base.update(overrides)
    return pd.DataFrame(base)


def _statements(rows) -> pd.DataFrame:
    """Statements from (employee_id, verb, object_id, stored) tuples; timestamp = stored."""
    n = len(rows)
    stored = pd.to_datetime([r[3] for r in rows], utc=True, format="ISO8601")
    return pd.DataFrame(
        {
            "statement_id": pd.array([f"s{i}" for i in range(n)], dtype="string"),
            "actor_key": pd.array([f"a{i}" for i in range(n)], dtype="string"),
            "employee_id": pd.array([r[0] for r in rows], dtype="string"),
            "verb_id": pd.array(
                [f"http://adlnet.gov/expapi/verbs/{r[1]}" for r in rows], dtype="string"
            ),
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
            "duration_s": np.full(n, np.nan),
            "timestamp": stored,
            "stored": stored,
            "registration": pd.array([None] * n, dtype="string"),
            "platform": pd.array([None] * n, dtype="string"),
        }
    )


# --------------------------------------------------------------------------- spine
def test_make_spine_calendar_is_inclusive_and_respects_employment():
    spine = make_spine(_employees(), start="2024-01-01", end="2024-03-01", freq="MS")
    assert spine.columns.tolist() == ["employee_id", "as_of"]
    assert spine.dtypes.astype(str).tolist() == ["string", "datetime64[ns, UTC]"]
    got = set(zip(spine["employee_id"], spine["as_of"].dt.strftime("%Y-%m-%d"), strict=True))
    # e1 works through its last day, 2024-02-29; e2 from 2024-02-15; e3 from 2024-03-01
    assert got == {
        ("e1", "2024-01-01"),
        ("e1", "2024-02-01"),
        ("e2", "2024-03-01"),
        ("e3", "2024-03-01"),
    }
    # ordered by as_of, then employee
    assert spine["as_of"].is_monotonic_increasing


def test_make_spine_last_day_and_hire_day_are_active():
    emp = _employees()
    spine = make_spine(emp, start="2024-02-29", end="2024-03-01", freq="D")
    pairs = set(zip(spine["employee_id"], spine["as_of"].dt.strftime("%Y-%m-%d"), strict=True))
    assert ("e1", "2024-02-29") in pairs and ("e1", "2024-03-01") not in pairs
    assert ("e3", "2024-03-01") in pairs and ("e3", "2024-02-29") not in pairs


def test_make_spine_from_cutoffs_passes_columns_through(caplog):
    cutoffs = pd.DataFrame(
        {
            "employee_id": pd.array(["e2", "e1", "e1"], dtype="string"),
            "as_of": _ts("2024-06-01", "2024-01-15", "2024-06-01"),
            "label": [1, 0, 1],
        }
    )
    with caplog.at_level(logging.INFO, logger="talentml.features"):
        spine = make_spine(_employees(), cutoffs=cutoffs)
    # e1 left in February: its June row is dropped, and counted
    assert spine[["employee_id", "label"]].values.tolist() == [["e2", 1], ["e1", 0]]
    assert "1 of 3 cutoff rows dropped" in caplog.text
    every = make_spine(_employees(), cutoffs=pd.DataFrame({"as_of": _ts("2024-03-05")}))
    assert sorted(every["employee_id"]) == ["e2", "e3"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"end": "2024-02-01"}, "start is required"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, "before start"),
        (
            {"start": "2024-01-01", "end": "2024-02-01", "freq": "fortnightly"},
            "not a pandas frequency",
        ),
        ({"cutoffs": pd.DataFrame({"as_of": ["2024-01-01"]})}, "timezone-aware"),
        ({"cutoffs": pd.DataFrame({"when": _ts("2024-01-01")})}, "'as_of' column"),
    ],
)
def test_make_spine_rejects_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, ContractError), match=message):
        make_spine(_employees(), **kwargs)


# ------------------------------------------------------------------------- catalog
@pytest.fixture(scope="module")
def tiny_org():
    org = simulate_workforce(
        n_employees=40, start="2024-01-01", end="2024-12-31", random_state=7, show_progress=False
    )
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    return org, statements


def _all_tables(org):
    return dict(
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
    )


@pytest.mark.parametrize("windows", [("30D", "90D", "365D"), ("7D",), ("2W", "60D", "180D", "1W")])
def test_catalog_lists_exactly_the_columns_build_emits(tiny_org, windows):
    org, statements = tiny_org
    spine = make_spine(org.employees, start="2024-10-01", end="2024-11-01", freq="MS")
    X = build(spine, statements=statements, windows=windows, **_all_tables(org))
    cat = catalog(windows=windows)
    assert X.columns.tolist() == ["employee_id", "as_of", *cat["name"]]
    assert cat["name"].is_unique
    assert cat.columns.tolist() == [
        "name",
        "description",
        "unit",
        "family",
        "window",
        "actionable",
        "direction",
        "sensitive_proxy",
        "template",
        "dtype",
        "inputs",
    ]
    for name, dtype in zip(cat["name"], cat["dtype"], strict=True):
        expected = {"int64": "int64", "float64": "float64", "string": "string"}[dtype]
        assert str(X[name].dtype) == expected, name
    # every template renders a plain sentence from a value of the feature
    for row, value in zip(cat.itertuples(), X.iloc[0][cat["name"]], strict=True):
        shown = (
            "x" if pd.isna(value) and row.dtype == "string" else (0 if pd.isna(value) else value)
        )
        text = row.template.format(value=shown)
        assert text and "{" not in text


def test_catalog_flags_the_caregiver_proxies():
    cat = catalog().set_index("name")
    assert cat.loc["agility_offhours_90d", "sensitive_proxy"]
    assert not cat.loc["agility_offhours_90d", "actionable"]
    assert cat.loc["offhours_share_90d", "sensitive_proxy"]
    assert not cat.loc["agility_per_workday_90d", "sensitive_proxy"]
    assert cat.loc["agility_per_workday_90d", "actionable"]
    assert set(cat["family"]) == {"learning", "learning_baseline", "reviews", "hris"}
    assert set(cat["direction"]) <= {"higher_is_better", "lower_is_better", "neutral"}


def test_feature_selection_by_name_and_family(tiny_org):
    org, statements = tiny_org
    spine = make_spine(org.employees, start="2024-10-01", end="2024-11-01", freq="MS")
    full = build(spine, statements=statements, **_all_tables(org))
    some = build(
        spine,
        statements=statements,
        features=["days_since_last_activity", "reviews", "n_statements_30d"],
        **_all_tables(org),
    )
    reviews = catalog().query("family == 'reviews'")["name"].tolist()
    # catalog order, whatever the order asked for
    assert some.columns[2:].tolist() == ["n_statements_30d", "days_since_last_activity", *reviews]
    pd.testing.assert_frame_equal(some, full[some.columns])
    with pytest.raises(ValueError, match="n_statements_90"):
        build(spine, statements=statements, features=["n_statements_91d"], **_all_tables(org))


def test_spine_columns_pass_through_in_order(tiny_org):
    org, statements = tiny_org
    spine = make_spine(org.employees, start="2024-10-01", end="2024-11-01", freq="MS")
    spine = spine.sample(frac=1.0, random_state=0)
    spine["label"] = np.arange(len(spine))
    spine.index = spine.index + 1000
    X = build(spine, statements=statements, features="hris", **_all_tables(org))
    assert X.index.equals(spine.index)
    assert X[["employee_id", "as_of", "label"]].equals(spine)
    with pytest.raises(ValueError, match="clash"):
        build(spine.assign(tenure_days=1), statements=statements, **_all_tables(org))


# ---------------------------------------------------------------------- validation
def test_spine_rows_before_hire_or_unknown_are_an_error():
    emp = _employees()
    st = _statements([("e1", "completed", "x", "2024-01-05")])
    bad = pd.DataFrame(
        {
            "employee_id": pd.array(["e1", "zz", "e2"], dtype="string"),
            "as_of": _ts("2024-01-10", "2024-01-10", "2024-01-10"),
        }
    )
    with pytest.raises(
        ContractError, match=r"2 row\(s\).*row 1 \(zz: not in employees\).*row 2 \(e2"
    ):
        build(bad, statements=st, employees=emp)
    naive = bad.iloc[:1].assign(as_of=pd.to_datetime(["2024-01-10"]))
    with pytest.raises(ContractError, match="as_of"):
        build(naive, statements=st, employees=emp)


def test_inputs_are_validated_against_their_contracts():
    emp = _employees()
    st = _statements([("e1", "completed", "x", "2024-01-05")])
    spine = make_spine(emp, start="2024-01-10", end="2024-01-10", freq="D")
    with pytest.raises(ContractError, match="statements.*missing required column.*stored"):
        build(spine, statements=st.drop(columns="stored"), employees=emp)
    with pytest.raises(ContractError, match="timezone"):
        build(
            spine,
            statements=st,
            employees=_employees(timezone=pd.array(["Mars/Olympus"] * 3, dtype="string")),
        )
    with pytest.raises(ValueError, match="window"):
        build(spine, statements=st, employees=emp, windows=("30 days",))
    with pytest.raises(ValueError, match="same length"):
        build(spine, statements=st, employees=emp, windows=("14D", "2W"))
    with pytest.raises(ValueError, match="engine must be one of"):
        build(spine, statements=st, employees=emp, engine="pandas")
    with pytest.raises(ValueError, match="needs at least one PySpark"):
        build(spine, statements=st, employees=emp, engine="spark")


def test_unusable_statements_are_counted_not_silently_dropped(caplog):
    emp = _employees()
    st = _statements(
        [
            ("e1", "completed", "x", "2024-01-05"),
            (None, "completed", "x", "2024-01-05"),
            ("ghost", "completed", "x", "2024-01-05"),
            ("ghost", "launched", "x", "2024-01-06"),
        ]
    )
    spine = make_spine(emp, start="2024-01-10", end="2024-01-10", freq="D")
    with caplog.at_level(logging.WARNING, logger="talentml.features"):
        X = build(spine, statements=st, employees=emp, features=["n_statements_30d"])
    assert X["n_statements_30d"].tolist() == [1]
    assert "statements: 3 row(s) not used by any feature" in caplog.text
    assert "unknown_employee: 2" in caplog.text and "unmapped_actor: 1" in caplog.text


def test_missing_optional_tables_give_missing_features(caplog):
    emp = _employees()
    st = _statements([("e1", "completed", "x", "2024-01-05")])
    spine = make_spine(emp, start="2024-01-10", end="2024-01-10", freq="D")
    with caplog.at_level(logging.WARNING, logger="talentml.features"):
        X = build(spine, statements=st, employees=emp)
    row = X.iloc[0]
    # no reviews, no job events, no catalog: their features are unknown (NaN), never 0
    assert pd.isna(row["n_reviews"]) and pd.isna(row["rating_latest"])
    assert pd.isna(row["n_promotions"]) and pd.isna(row["days_in_role"])
    assert pd.isna(row["voluntary_share_30d"]) and pd.isna(row["mandatory_overdue_count"])
    # what the inputs allow is computed
    assert row["n_completed_30d"] == 1
    assert row["job_level"] == 2 and row["department"] == "Sales"
    assert "[no catalog table] 42: voluntary_share_30d" in caplog.text


def test_strictly_before_as_of():
    emp = _employees()
    st = _statements(
        [
            ("e1", "completed", "x", "2024-01-09 23:59:59.999999"),
            ("e1", "completed", "y", "2024-01-10 00:00:00"),
            ("e1", "completed", "z", "2023-10-12 00:00:00"),  # exactly as_of - 90 days: inside
            ("e1", "completed", "w", "2023-10-11 23:59:59.999999"),  # just outside
        ]
    )
    spine = make_spine(emp, start="2024-01-10", end="2024-01-10", freq="D")
    X = build(
        spine,
        statements=st,
        employees=emp,
        features=["n_completed_90d", "days_since_last_activity", "n_distinct_activities_90d"],
    )
    assert X["n_completed_90d"].tolist() == [2]
    assert X["n_distinct_activities_90d"].tolist() == [2]
    assert X["days_since_last_activity"].iloc[0] == pytest.approx(1e-6 / 86400)


def test_docs_catalog_is_current():
    """docs/features.md carries the catalog table; regenerate it when features change."""
    from pathlib import Path

    from talentml.features._catalog import (
        CATALOG_DOC_END,
        CATALOG_DOC_START,
        catalog_markdown,
        replace_between,
    )

    page = Path(__file__).resolve().parent.parent / "docs" / "features.md"
    text = page.read_text(encoding="utf-8")
    fresh = replace_between(text, CATALOG_DOC_START, CATALOG_DOC_END, catalog_markdown(catalog()))
    assert text == fresh, (
        "docs/features.md is out of date: rewrite it with talentml.features._catalog."
        "replace_between(text, CATALOG_DOC_START, CATALOG_DOC_END, catalog_markdown(catalog()))"
    )


def test_chunks_and_categorical_columns_give_the_same_features(tiny_org, monkeypatch):
    """Large statement tables are processed in chunks of employees; categoricals are text."""
    from talentml.features import _build

    org, statements = tiny_org
    spine = make_spine(org.employees, start="2024-06-01", end="2024-12-01", freq="2MS")
    whole = build(spine, statements=statements, **_all_tables(org))
    monkeypatch.setattr(_build, "CHUNK_STATEMENTS", max(1, len(statements) // 5))
    compact = statements.copy()
    for col in ("employee_id", "verb", "object_id"):
        compact[col] = compact[col].astype(str).astype("category")
    chunked = build(spine, statements=compact, **_all_tables(org))
    pd.testing.assert_frame_equal(chunked, whole)
