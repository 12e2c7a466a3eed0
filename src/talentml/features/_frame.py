"""The dataframe boundary: the only module that knows pandas, polars, DuckDB and PySpark.

Feature definitions are SQL (:mod:`talentml.features._sql`); this module decides where that
SQL runs and in what kind the result comes back:

=====================  ===========  =========================================================
inputs                 engine       result
=====================  ===========  =========================================================
pandas                 DuckDB       pandas (frames are scanned zero-copy through Arrow)
polars                 DuckDB       polars
DuckDB relations       DuckDB       a DuckDB relation (lazy, in the relations' connection)
PySpark DataFrames     Spark SQL    a PySpark DataFrame (lazy; nothing collected to the driver)
=====================  ===========  =========================================================

With mixed inputs the "largest" kind wins (PySpark > DuckDB relation > polars > pandas) and
the other tables are brought to it: pandas and polars tables become temporary views of the
relations' connection or Spark DataFrames. Optional libraries are imported only when such an
object is passed in (detection uses :mod:`narwhals.dependencies`, which imports nothing).
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import narwhals.dependencies as nwd
import pandas as pd
import pyarrow as pa

from ._sql import DIALECTS, Dialect

__all__ = ["ENGINES", "KINDS", "Session", "kind_of", "open_session"]

logger = logging.getLogger(__name__)

#: Input kinds, from the smallest to the largest.
KINDS = ("pandas", "polars", "duckdb", "spark")
#: Accepted values of ``engine=``.
ENGINES = ("auto", "duckdb", "spark")
RID = "_tml_rid"
_names = itertools.count()

ENGINE_ERROR = "engine must be one of {engines}, got {engine!r}"


def kind_of(obj: Any, *, name: str = "table") -> str:
    """The kind of a table: ``pandas``, ``polars``, ``duckdb`` (relation) or ``spark``."""
    if isinstance(obj, pd.DataFrame):
        return "pandas"
    if nwd.is_polars_dataframe(obj):
        return "polars"
    if nwd.is_polars_lazyframe(obj):
        raise TypeError(f"{name}: collect the polars LazyFrame first (pass a polars DataFrame)")
    if nwd.is_duckdb_relation(obj):
        return "duckdb"
    if nwd.is_pyspark_dataframe(obj):
        return "spark"
    raise TypeError(
        f"{name} must be a pandas, polars, DuckDB relation or PySpark DataFrame, "
        f"got {type(obj).__module__}.{type(obj).__name__}"
    )


def columns_of(obj: Any) -> list[str]:
    """Column names of a table of any kind."""
    return list(obj.columns)


def to_pandas_sample(obj: Any, kind: str, *, rows: int | None) -> pd.DataFrame | None:
    """A pandas copy of a pandas or polars table (``rows=0``: structure only); else None."""
    if kind == "pandas":
        return obj if rows is None else obj.iloc[:rows]
    if kind == "polars":
        part = obj if rows is None else obj.head(rows)
        return part.to_pandas()
    return None


class Session:
    """Where the SQL of one call runs: registered tables, execution, result conversion."""

    dialect: Dialect
    kind: str

    def __init__(self) -> None:
        self._views: list[str] = []

    def _name(self, logical: str) -> str:
        name = f"_tml_{next(_names)}_{logical}"
        self._views.append(name)
        return name

    # ---------------------------------------------------------------- to implement
    def register(self, logical: str, obj: Any, *, columns: list[str] | None = None) -> str:
        """Make ``obj`` a named table of the session; returns its SQL name."""
        raise NotImplementedError

    def register_sql(self, logical: str, sql: str) -> str:
        """Make the result of ``sql`` a named view of the session; returns its name."""
        raise NotImplementedError

    def rows(self, sql: str) -> list[tuple]:
        """Run a query with a small result and return its rows."""
        raise NotImplementedError

    def run(self, sql: str, *, eager: bool):
        """Run a query: an Arrow table (``eager``) or the engine's lazy result."""
        raise NotImplementedError

    def close(self) -> None:
        """Drop what this session registered."""


# ------------------------------------------------------------------------------ DuckDB
def _arrow(obj: Any, kind: str, columns: list[str] | None) -> pa.Table:
    if kind == "pandas":
        frame = obj if columns is None else obj[columns]
        return pa.Table.from_pandas(frame, preserve_index=False)
    if kind == "polars":
        frame = obj if columns is None else obj.select(columns)
        return frame.to_arrow()
    raise TypeError(kind)


class DuckDBSession(Session):
    """DuckDB: an in-process connection for pandas/polars, or the relations' own."""

    dialect = DIALECTS["duckdb"]

    def __init__(self, *, kind: str, anchor: Any = None, threads: int | None = None) -> None:
        super().__init__()
        import duckdb

        self.kind = kind
        self._anchor = anchor
        self._con = None
        self._keep: list[Any] = []
        if anchor is None:
            self._con = duckdb.connect(config={"threads": threads} if threads else {})

    def _execute(self, sql: str):
        if self._con is not None:
            return self._con.execute(sql)
        return self._anchor.query("_tml_anchor", sql)

    def register(self, logical: str, obj: Any, *, columns: list[str] | None = None) -> str:
        kind = kind_of(obj, name=logical)
        name = self._name(logical)
        if kind == "spark":
            raise TypeError(f"{logical}: a PySpark DataFrame cannot join a DuckDB computation")
        if kind == "duckdb":
            if self._con is not None:
                # A relation handed to a pandas/polars session: read it through Arrow.
                table = obj.to_arrow_table() if hasattr(obj, "to_arrow_table") else obj.arrow()
                self._keep.append(table)
                self._con.register(name, table)
            else:
                obj.create_view(name, replace=True)
            return name
        return self._register_arrow(name, _arrow(obj, kind, columns))

    def register_arrow(self, logical: str, table: pa.Table) -> str:
        return self._register_arrow(self._name(logical), table)

    def _register_arrow(self, name: str, table: pa.Table) -> str:
        if self._con is not None:
            self._keep.append(table)
            self._con.register(name, table)
        else:
            # Into the relations' connection: a temporary table, filled by a replacement
            # scan of the local variable below.
            _tml_arrow = table
            self._anchor.query(
                "_tml_anchor", f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _tml_arrow"
            ).fetchall()
        return name

    def register_sql(self, logical: str, sql: str) -> str:
        name = self._name(logical)
        self._execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        return name

    def materialize(self, logical: str, sql: str) -> str:
        name = self._name(logical)
        self._execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        return name

    def drop(self, name: str) -> None:
        self._execute(f"DROP TABLE IF EXISTS {name}")

    def rows(self, sql: str) -> list[tuple]:
        return self._execute(sql).fetchall()

    def run(self, sql: str, *, eager: bool):
        if eager:
            result = self._con.sql(sql) if self._con is not None else self._execute(sql)
            for method in ("to_arrow_table", "fetch_arrow_table", "arrow"):
                if hasattr(result, method):
                    return getattr(result, method)()
            raise RuntimeError("this DuckDB version cannot return Arrow tables")
        return self._execute(sql)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._keep.clear()


# ------------------------------------------------------------------------------- Spark
class SparkSQLSession(Session):
    """Spark SQL on temporary views of the session of the PySpark inputs."""

    dialect = DIALECTS["spark"]
    kind = "spark"

    def __init__(self, spark: Any) -> None:
        super().__init__()
        self.spark = spark

    def register(self, logical: str, obj: Any, *, columns: list[str] | None = None) -> str:
        kind = kind_of(obj, name=logical)
        name = self._name(logical)
        if kind == "spark":
            frame = obj
        elif kind in ("pandas", "polars"):
            frame = self._from_arrow(_arrow(obj, kind, columns))
        else:
            raise TypeError(f"{logical}: a DuckDB relation cannot join a Spark computation")
        frame.createOrReplaceTempView(name)
        return name

    def register_arrow(self, logical: str, table: pa.Table) -> str:
        name = self._name(logical)
        self._from_arrow(table).createOrReplaceTempView(name)
        return name

    def _from_arrow(self, table: pa.Table):
        # Plain pandas dtypes (object strings, numpy bools with nulls as None) convert
        # reliably; timestamps stay timezone-aware instants.
        frame = table.to_pandas(timestamp_as_object=False)
        for col in frame.columns:
            if isinstance(frame[col].dtype, pd.StringDtype) or frame[col].dtype == object:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        schema = _spark_schema(table.schema)
        return self.spark.createDataFrame(frame, schema=schema)

    def register_sql(self, logical: str, sql: str) -> str:
        name = self._name(logical)
        self.spark.sql(sql).createOrReplaceTempView(name)
        return name

    def materialize(self, logical: str, sql: str) -> str:
        return self.register_sql(logical, sql)

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def run(self, sql: str, *, eager: bool):
        if eager:
            raise ValueError("Spark results stay in Spark")
        return self.spark.sql(sql)

    def close(self) -> None:
        # Temporary views are kept: the lazy result still reads them. They are
        # session-scoped and named uniquely, and go away with the Spark session.
        return None


def _spark_schema(schema: pa.Schema):
    from pyspark.sql import types as T

    def convert(t: pa.DataType):
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return T.StringType()
        if pa.types.is_timestamp(t):
            return T.TimestampType()
        if pa.types.is_boolean(t):
            return T.BooleanType()
        if pa.types.is_integer(t):
            return T.LongType()
        if pa.types.is_floating(t):
            return T.DoubleType()
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return T.ArrayType(convert(t.value_type))
        if pa.types.is_null(t):
            return T.StringType()
        if pa.types.is_dictionary(t):
            return convert(t.value_type)
        raise TypeError(f"cannot pass a column of type {t} to Spark")

    return T.StructType([T.StructField(f.name, convert(f.type), True) for f in schema])


# ---------------------------------------------------------------------------- opening
def open_session(engine: str, tables: dict[str, Any], *, threads: int | None = None) -> Session:
    """The session for ``tables`` (name -> table or None) and ``engine``."""
    if engine not in ENGINES:
        raise ValueError(ENGINE_ERROR.format(engines=ENGINES, engine=engine))
    kinds = {name: kind_of(obj, name=name) for name, obj in tables.items() if obj is not None}
    top = max(kinds.values(), key=KINDS.index)
    if engine == "spark" and top != "spark":
        raise ValueError(
            "engine='spark' needs at least one PySpark DataFrame among the inputs "
            "(its Spark session runs the SQL); got only " + ", ".join(sorted(set(kinds.values())))
        )
    if engine == "duckdb" and top == "spark":
        raise ValueError("engine='duckdb' cannot read PySpark DataFrames: use engine='spark'")
    if top == "spark":
        spark_obj = next(obj for name, obj in tables.items() if kinds.get(name) == "spark")
        session: Session = SparkSQLSession(spark_obj.sparkSession)
    elif top == "duckdb":
        anchor = next(obj for name, obj in tables.items() if kinds.get(name) == "duckdb")
        session = DuckDBSession(kind="duckdb", anchor=anchor)
    else:
        session = DuckDBSession(kind=top, threads=threads)
    logger.debug("features run on %s, inputs %s", session.dialect.name, kinds)
    return session


# ---------------------------------------------------------------------------- results
def _pandas_types(t: pa.DataType):
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pd.StringDtype()
    return None


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with talentml's dtypes: strings as ``string``, UTC timestamps in ns."""
    frame = table.to_pandas(types_mapper=_pandas_types)
    for col in frame.columns:
        dtype = frame[col].dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame[col] = frame[col].dt.tz_convert("UTC").dt.as_unit("ns")
    return frame


def from_arrow(table: pa.Table, kind: str) -> Any:
    """An Arrow result as a pandas or polars DataFrame."""
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return arrow_to_pandas(table)


def with_rid(session: Session, spine: Any, columns: list[str]) -> tuple[str, Any]:
    """Register the spine with a row id column; returns the view name and a native handle."""
    kind = kind_of(spine, name="spine")
    if kind in ("pandas", "polars") and session.dialect.name == "duckdb":
        table = _arrow(spine, kind, columns)
        table = table.append_column(RID, pa.array(range(table.num_rows), type=pa.int64()))
        return session.register_arrow("spine", table), None  # type: ignore[attr-defined]
    if session.dialect.name == "spark":
        if kind == "spark":
            from pyspark.sql import functions as F

            frame = spine.withColumn(RID, F.monotonically_increasing_id())
        else:
            table = _arrow(spine, kind, None)
            table = table.append_column(RID, pa.array(range(table.num_rows), type=pa.int64()))
            frame = session._from_arrow(table)  # type: ignore[attr-defined]
        name = session._name("spine")
        frame.createOrReplaceTempView(name)
        return name, frame
    # DuckDB relation session: number the rows once, in a temporary table.
    src = session.register("spine_src", spine)
    name = session.materialize(  # type: ignore[attr-defined]
        "spine", f"SELECT *, CAST(ROW_NUMBER() OVER () - 1 AS BIGINT) AS {RID} FROM {src}"
    )
    return name, None


def assemble_eager(spine: Any, parts: list[pa.Table], n_rows: int) -> Any:
    """Spine columns then feature columns, one row per spine row in spine order."""
    import pyarrow.compute as pc

    tables = []
    for part in parts:
        order = pc.sort_indices(part, sort_keys=[("rid", "ascending")])
        part = part.take(order)
        if part.num_rows != n_rows:
            raise RuntimeError(
                f"internal error: {part.num_rows} feature rows for {n_rows} spine rows"
            )
        tables.append(part.drop_columns(["rid"]))
    arrays, names = [], []
    for table in tables:
        arrays.extend(table.columns)
        names.extend(table.column_names)
    features = pa.Table.from_arrays(arrays, names=names) if arrays else pa.table({})
    kind = kind_of(spine, name="spine")
    if kind == "polars":
        import polars as pl

        return pl.concat([spine, pl.from_arrow(features)], how="horizontal")
    frame = arrow_to_pandas(features) if arrays else pd.DataFrame(index=range(n_rows))
    frame.index = spine.index
    return pd.concat([spine, frame], axis=1)


def lazy_select(
    spine_name: str, spine_columns: list[str], parts: list[tuple[str, list[str]]]
) -> str:
    """The final SELECT of a lazy result: spine columns, then each part's features."""
    cols = [f"s.{c}" for c in spine_columns]
    joins = []
    for i, (name, feats) in enumerate(parts):
        cols += [f"f{i}.{c}" for c in feats]
        joins.append(f"LEFT JOIN {name} f{i} ON f{i}.rid = s.{RID}")
    return f"SELECT {', '.join(cols)} FROM {spine_name} s {' '.join(joins)} ORDER BY s.{RID}"
