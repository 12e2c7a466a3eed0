"""The same features on every engine: pandas, polars, DuckDB relations and Spark (local mode).

Results must be identical (floats to 1e-9) and come back in the kind that went in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml._compat import pyarrow_from_pandas
from talentml.datasets import SIMULATION_SECRET, simulate_workforce

TABLES = (
    "statements",
    "employees",
    "reviews",
    "competency_ratings",
    "job_events",
    "course_catalog",
)


@pytest.fixture(scope="module")
def world():
    org = simulate_workforce(
        n_employees=40, start="2023-07-01", end="2024-12-31", random_state=11, show_progress=False
    )
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    tables = {
        "statements": statements,
        "employees": org.employees,
        "reviews": org.reviews,
        "competency_ratings": org.competency_ratings,
        "job_events": org.job_events,
        "course_catalog": org.catalog,
    }
    spine = tml.features.make_spine(org.employees, start="2024-04-01", end="2024-12-01", freq="2MS")
    expected = tml.features.build(spine, **tables)
    return spine, tables, expected


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    expected = expected.reset_index(drop=True)
    assert got.columns.tolist() == expected.columns.tolist()
    assert got["employee_id"].astype(str).tolist() == expected["employee_id"].astype(str).tolist()
    as_of = pd.to_datetime(got["as_of"], utc=True)
    assert (as_of == expected["as_of"]).all()
    for col in expected.columns[2:]:
        if expected[col].dtype == "string":
            a = got[col].astype(object).where(got[col].notna(), None).tolist()
            b = expected[col].astype(object).where(expected[col].notna(), None).tolist()
            assert a == b, col
            continue
        g = got[col].to_numpy(dtype=float)
        x = expected[col].to_numpy(dtype=float)
        same = np.isclose(g, x, rtol=1e-9, atol=1e-9) | (np.isnan(g) & np.isnan(x))
        assert same.all(), f"{col}: rows {np.flatnonzero(~same)[:5].tolist()}"


def test_polars_in_polars_out(world):
    pl = pytest.importorskip("polars")
    spine, tables, expected = world
    got = tml.features.build(
        pl.from_arrow(pyarrow_from_pandas(spine, preserve_index=False)),
        **{
            k: pl.from_arrow(pyarrow_from_pandas(v, preserve_index=False))
            for k, v in tables.items()
        },
    )
    assert isinstance(got, pl.DataFrame)
    assert_same(got.to_pandas(), expected)


def test_duckdb_relations_stay_lazy_in_their_connection(world):
    import duckdb

    spine, tables, expected = world
    con = duckdb.connect()
    rel = {
        k: con.from_arrow(pyarrow_from_pandas(v, preserve_index=False)) for k, v in tables.items()
    }
    got = tml.features.build(
        con.from_arrow(pyarrow_from_pandas(spine, preserve_index=False)), **rel
    )
    assert isinstance(got, duckdb.DuckDBPyRelation)
    assert_same(tml.features._frame.arrow_to_pandas(got.to_arrow_table()), expected)
    # mixed: the big table as a relation, the rest in pandas (brought into its connection)
    mixed = tml.features.build(spine, **{**tables, "statements": rel["statements"]})
    assert isinstance(mixed, duckdb.DuckDBPyRelation)
    assert_same(tml.features._frame.arrow_to_pandas(mixed.to_arrow_table()), expected)


def test_make_spine_on_every_kind(world):
    import duckdb

    pl = pytest.importorskip("polars")
    spine, tables, _ = world
    employees = tables["employees"]
    args = {"start": "2024-04-01", "end": "2024-12-01", "freq": "2MS"}
    as_polars = tml.features.make_spine(
        pl.from_arrow(pyarrow_from_pandas(employees, preserve_index=False)), **args
    )
    assert isinstance(as_polars, pl.DataFrame)
    assert_frame = pd.testing.assert_frame_equal
    assert_frame(tml.features._frame.arrow_to_pandas(as_polars.to_arrow()), spine)
    rel = duckdb.connect().from_arrow(pyarrow_from_pandas(employees, preserve_index=False))
    as_rel = tml.features.make_spine(rel, **args)
    assert isinstance(as_rel, duckdb.DuckDBPyRelation)
    assert_frame(tml.features._frame.arrow_to_pandas(as_rel.to_arrow_table()), spine)


def test_engine_duckdb_is_the_pandas_default(world):
    spine, tables, expected = world
    got = tml.features.build(spine, engine="duckdb", **tables)
    pd.testing.assert_frame_equal(got, expected)


@pytest.fixture
def spark(spark_session):
    # a session time zone far from UTC: results must not depend on it
    spark_session.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    return spark_session


@pytest.mark.spark
@pytest.mark.slow
def test_spark_in_spark_out_with_identical_values(world, spark):
    from talentml.features._frame import SparkSQLSession

    spine, tables, expected = world
    to_spark = SparkSQLSession(spark)._from_arrow
    frames = {k: to_spark(pyarrow_from_pandas(v, preserve_index=False)) for k, v in tables.items()}
    got = tml.features.build(to_spark(pyarrow_from_pandas(spine, preserve_index=False)), **frames)
    from pyspark.sql import DataFrame

    assert isinstance(got, DataFrame)
    # nothing was collected: the result is a plan; collect it here, in UTC
    local = got.toPandas()
    local["as_of"] = pd.to_datetime(local["as_of"]).dt.tz_localize("America/Los_Angeles")
    assert_same(local, expected)
    # the spine can be made in Spark too
    spark_spine = tml.features.make_spine(
        frames["employees"], start="2024-04-01", end="2024-12-01", freq="2MS"
    ).toPandas()
    assert spark_spine["employee_id"].tolist() == spine["employee_id"].tolist()
