"""pandas 2 and pandas 3: both string dtypes and every datetime resolution are accepted.

These tests run in both test environments (``make test`` runs the suite on pandas 2 and on
pandas 3). pandas 3 infers its ``str`` dtype for text and keeps the time unit of its inputs
(microseconds when it parses strings); pandas 2 gives object columns and nanoseconds. Users
bring either, and talentml's results and output dtypes must not depend on which.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from packaging.requirements import Requirement

import talentml as tml
from talentml import ContractError, schemas
from talentml._compat import PANDAS_3, as_ns
from talentml.datasets import SIMULATION_SECRET, simulate_workforce

ROOT = Path(__file__).resolve().parent.parent
PROFILE = os.environ.get("TALENTML_TEST_PROFILE", "")


def _str_dtype(kind: str):
    """The string dtypes a user's frame may carry, on either pandas."""
    if kind == "object":
        return object
    if kind == "str":  # pandas 3's default (Arrow-backed, NaN for missing), also in pandas 2.3
        try:
            return pd.StringDtype("pyarrow", na_value=np.nan)
        except TypeError:  # pragma: no cover - pandas 2.2 has no na_value
            pytest.skip("this pandas has no NaN-semantics string dtype")
    if kind == "str-python":
        try:
            return pd.StringDtype("python", na_value=np.nan)
        except TypeError:  # pragma: no cover - pandas 2.2
            pytest.skip("this pandas has no NaN-semantics string dtype")
    return kind  # "string" (python, NA), "string[pyarrow]"


STRING_KINDS = ["object", "string", "string[pyarrow]", "str", "str-python"]
UNITS = ["s", "ms", "us", "ns"]


def _restyle(df: pd.DataFrame, *, strings=None, unit: str | None = None) -> pd.DataFrame:
    """The same table with other string dtypes and/or another datetime resolution."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if unit is not None and isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.as_unit(unit)
        elif strings is not None and (
            pd.api.types.is_string_dtype(s.dtype)
            and not isinstance(s.dtype, pd.CategoricalDtype)
            and s.dropna().map(lambda v: isinstance(v, str)).all()
        ):
            values = s.astype(object).where(s.notna(), None)
            out[col] = values.astype(strings) if strings is not object else values
    return out


#: contract table name -> features.build keyword, where they differ
KWARG = {"catalog": "course_catalog"}


@pytest.fixture(scope="module")
def small():
    org = simulate_workforce(
        n_employees=60, start="2024-01-01", end="2025-03-31", random_state=3, show_progress=False
    )
    ing = tml.xapi.ingest(org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET)
    tables = {
        "statements": ing.statements,
        "employees": org.employees,
        "reviews": org.reviews,
        "competency_ratings": org.competency_ratings,
        "job_events": org.job_events,
        "catalog": org.catalog,
    }
    # whole seconds, so that every resolution holds the same instants
    for name, df in tables.items():
        times = [c for c in df.columns if isinstance(df[c].dtype, pd.DatetimeTZDtype)]
        tables[name] = df.assign(**{c: df[c].dt.floor("s") for c in times})
    spine = tml.features.make_spine(org.employees, start="2024-09-01", end="2025-03-01", freq="MS")
    kwargs = {KWARG.get(name, name): df for name, df in tables.items()}
    X = tml.features.build(spine, **kwargs, show_progress=False)
    return tables, spine, X


@pytest.mark.parametrize("kind", STRING_KINDS)
def test_contracts_accept_every_string_dtype(small, kind):
    tables, _, _ = small
    strings = _str_dtype(kind)
    for name, df in tables.items():
        styled = _restyle(df, strings=strings)
        assert schemas.validate(name, styled) is styled


@pytest.mark.parametrize("unit", UNITS)
def test_contracts_accept_every_datetime_resolution(small, unit):
    tables, _, _ = small
    for name, df in tables.items():
        styled = _restyle(df, unit=unit)
        assert schemas.validate(name, styled) is styled


@pytest.mark.parametrize("kind", ["str", "object"])
def test_rules_still_fire_on_every_string_dtype(kind):
    strings = _str_dtype(kind)
    df = pd.DataFrame(
        {
            "actor_key": pd.Series(["a1", " ", None], dtype=object).astype(strings),
            "employee_id": pd.Series(["e1", "e2", "e3"], dtype=object).astype(strings),
        }
    )
    bad = schemas.validate("identities", df, lenient=True)
    assert sorted(bad["reason"].tolist()) == ["actor_key: non_blank", "actor_key: not_null"]
    with pytest.raises(ContractError, match="non_blank"):
        schemas.validate("identities", df)


@pytest.mark.parametrize(("kind", "unit"), [("str", "us"), ("object", "ms"), ("string", "s")])
def test_features_do_not_depend_on_dtypes_or_units(small, kind, unit):
    tables, spine, X = small
    strings = _str_dtype(kind)
    styled = {
        KWARG.get(name, name): _restyle(df, strings=strings, unit=unit)
        for name, df in tables.items()
    }
    got = tml.features.build(
        _restyle(spine, strings=strings, unit=unit), **styled, show_progress=False
    )
    # the spine's columns pass through as they came; every feature is identical
    assert got["as_of"].dtype == pd.DatetimeTZDtype(unit, "UTC")
    assert got["employee_id"].astype(object).tolist() == X["employee_id"].astype(object).tolist()
    assert (got["as_of"] == X["as_of"]).all()
    keys = ["employee_id", "as_of"]
    pd.testing.assert_frame_equal(got.drop(columns=keys), X.drop(columns=keys))


def test_outputs_are_nanoseconds_whatever_the_input(small):
    tables, spine, _ = small
    employees = _restyle(tables["employees"], unit="us")
    made = tml.features.make_spine(employees, start="2024-09-01", end="2025-03-01", freq="MS")
    assert str(made["as_of"].dtype) == "datetime64[ns, UTC]"
    assert (made["as_of"] == spine["as_of"]).all()
    y = tml.labels.flight_risk(_restyle(spine, unit="us"), employees, horizon="180D")
    assert y["as_of"].dtype == pd.DatetimeTZDtype("us", "UTC")  # the spine's own column
    expected = tml.labels.flight_risk(spine, tables["employees"], horizon="180D")
    pd.testing.assert_frame_equal(y.drop(columns="as_of"), expected.drop(columns="as_of"))
    parsed = pd.Series(pd.to_datetime(["2024-01-01T10:00:00Z"], utc=True))
    assert str(as_ns(parsed).dtype) == "datetime64[ns, UTC]"
    assert as_ns(parsed).iloc[0] == parsed.iloc[0]


# ------------------------------------------------------------------ packaging and environments
def _requirements(group: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    raw = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return [Requirement(r) for r in raw]


def _pandas_spec(group: str | None):
    found = [r.specifier for r in _requirements(group) if r.name == "pandas"]
    return found[0] if found else None


def test_core_allows_pandas_2_2_through_3_and_extras_constrain_only_themselves():
    core = _pandas_spec(None)
    for version in ("2.2.0", "2.3.3", "3.0.0", "3.1.1", "3.9.0"):
        assert core.contains(version), version
    assert not core.contains("2.1.4")
    below_3 = {"spark", "bench"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for extra in project["optional-dependencies"]:
        spec = _pandas_spec(extra)
        if extra in below_3:
            assert spec is not None and not spec.contains("3.0.0"), extra
        else:  # an extra that says nothing about pandas leaves the core's range
            assert spec is None or spec.contains("3.1.1"), extra


def test_the_environment_is_what_its_profile_says():
    if not PROFILE:
        pytest.skip("TALENTML_TEST_PROFILE is unset: no environment is promised")
    installed = {m: importlib.util.find_spec(m) is not None for m in ("pyspark", "featuretools")}
    if PROFILE == "full":
        assert not PANDAS_3, pd.__version__  # the spark and bench extras hold pandas below 3
        assert all(installed.values()), installed
        assert importlib.util.find_spec("polars") is not None
    else:
        assert PANDAS_3, pd.__version__
        assert not any(installed.values()), installed  # extras pinned below pandas 3 are out
        assert sys.version_info >= (3, 11)
