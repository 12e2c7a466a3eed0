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

from .._compat import pyarrow_from_pandas
from ._sql import DIALECTS, Dialect

__all__ = ["ENGINES", "KINDS", "EmployeeChunks", "Session", "kind_of", "open_session"]

logger = logging.getLogger(__name__)

#: Input kinds, from the smallest to the largest.
KINDS = ("pandas", "polars", "duckdb", "spark")
#: Accepted values of ``engine=``.
ENGINES = ("auto", "duckdb", "spark")
RID = "_tml_rid"
_names = itertools.count()

ENGINE_ERROR = "engine must be one of {engines}, got {engine!r}"
#: Arrow types of the columns :meth:`Session.register` adds, all missing, for absent
#: optional columns (``nulls=``), by logical type.
NULL_TYPES = {
    "STR": pa.string(),
    "TS": pa.timestamp("us", tz="UTC"),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
    "LIST": pa.list_(pa.string()),
}
_SQL_NULL_TYPES = {
    "duckdb": {
        "STR": "VARCHAR",
        "TS": "TIMESTAMPTZ",
        "BIGINT": "BIGINT",
        "BOOLEAN": "BOOLEAN",
        "DOUBLE": "DOUBLE",
        "LIST": "VARCHAR[]",
    },
    "spark": {
        "STR": "STRING",
        "TS": "TIMESTAMP",
        "BIGINT": "BIGINT",
        "BOOLEAN": "BOOLEAN",
        "DOUBLE": "DOUBLE",
        "LIST": "ARRAY<STRING>",
    },
}


def with_nulls(table: pa.Table, nulls: dict[str, str] | None) -> pa.Table:
    """``table`` with an all-missing column per ``nulls`` entry (name -> logical type)."""
    for name, kind in (nulls or {}).items():
        table = table.append_column(name, pa.nulls(table.num_rows, type=NULL_TYPES[kind]))
    return table


def null_columns(dialect: str, nulls: dict[str, str]) -> list[str]:
    """``CAST(NULL AS type) AS name`` for each of ``nulls`` (name -> logical type)."""
    types = _SQL_NULL_TYPES[dialect]
    return [f"CAST(NULL AS {types[kind]}) AS {name}" for name, kind in nulls.items()]


#: Settings of talentml's own DuckDB connections: give memory back to the system after each
#: step (statement-scale work runs in chunks; what one chunk used is not kept for the next).
_DUCKDB_CONFIG = {
    "allocator_flush_threshold": "16MB",
    "allocator_bulk_deallocation_flush_threshold": "16MB",
}


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
        # nullable integers and booleans keep their kind (polars' own to_pandas makes
        # integers with nulls float, which the contracts refuse)
        return part.to_arrow().to_pandas(types_mapper=_NULLABLE.get)
    return None


_NULLABLE = {
    **{t: pd.Int64Dtype() for t in (pa.int8(), pa.int16(), pa.int32(), pa.int64())},
    **{t: pd.Int64Dtype() for t in (pa.uint8(), pa.uint16(), pa.uint32())},
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype(),
    pa.large_string(): pd.StringDtype(),
}


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
    def register(
        self,
        logical: str,
        obj: Any,
        *,
        columns: list[str] | None = None,
        nulls: dict[str, str] | None = None,
    ) -> str:
        """Make ``obj`` a named table of the session; returns its SQL name.

        ``columns`` selects columns (pandas and polars); ``nulls`` adds all-missing columns
        (name -> logical type of :data:`NULL_TYPES`) for absent optional columns.
        """
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
        # column by column, without a pandas selection (which would copy the data)
        return pyarrow_from_pandas(obj, columns=columns, preserve_index=False)
    if kind == "polars":
        frame = obj if columns is None else obj.select(columns)
        return frame.to_arrow()
    raise TypeError(kind)


class DuckDBSession(Session):
    """DuckDB: an in-process connection for pandas/polars, or the relations' own."""

    dialect = DIALECTS["duckdb"]

    def __init__(self, *, kind: str, anchor: Any = None) -> None:
        super().__init__()
        import duckdb

        self.kind = kind
        self._anchor = anchor
        self._con = None
        self._keep: list[Any] = []
        self._arrow: dict[str, pa.Table] = {}  # SQL name -> Arrow table (eager sessions)
        self._view_sql: dict[str, str] = {}  # SQL name -> query of a temporary view
        if anchor is None:
            self._con = duckdb.connect(config=_DUCKDB_CONFIG)
            # talentml's own bars (TALENTML_SHOW_PROGRESS) report the build; DuckDB's would
            # print on the caller's terminal for any query over two seconds. In Jupyter
            # without ipywidgets DuckDB refuses to touch the setting (and draws no bar)
            try:
                self._con.execute("SET enable_progress_bar = false")
            except duckdb.Error:
                pass

    def fork(self) -> DuckDBSession:
        """A session on a new cursor of the same in-process database, for another thread.

        A DuckDB connection runs one query at a time; a cursor is a connection of its own
        on the same database (same settings, same worker threads). Registered Arrow tables
        and temporary views are connection-local, so the fork registers the same tables
        (zero-copy) and views under the same names: SQL written for this session runs
        unchanged on the fork. Close the fork when done; this session is not affected.
        """
        if self._con is None:
            raise TypeError("only talentml's own DuckDB connection can be forked")
        child = DuckDBSession.__new__(DuckDBSession)
        Session.__init__(child)
        child.kind = self.kind
        child._anchor = None
        child._keep = []
        child._con = self._con.cursor()
        child._arrow = {}
        child._view_sql = dict(self._view_sql)
        for name, table in self._arrow.items():
            child._con.register(name, table)
            child._arrow[name] = table
        for name, sql in self._view_sql.items():
            child._con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        return child

    def _execute(self, sql: str):
        if self._con is not None:
            return self._con.execute(sql)
        return self._anchor.query("_tml_anchor", sql)

    def register(
        self,
        logical: str,
        obj: Any,
        *,
        columns: list[str] | None = None,
        nulls: dict[str, str] | None = None,
    ) -> str:
        kind = kind_of(obj, name=logical)
        name = self._name(logical)
        if kind == "spark":
            raise TypeError(f"{logical}: a PySpark DataFrame cannot join a DuckDB computation")
        if kind == "duckdb":
            if self._con is not None:
                # A relation handed to a pandas/polars session: read it through Arrow.
                table = obj.to_arrow_table() if hasattr(obj, "to_arrow_table") else obj.arrow()
                return self._register_arrow(name, with_nulls(table, nulls))
            obj.create_view(name, replace=True)
            if nulls:
                return self.register_sql(
                    logical, f"SELECT *, {', '.join(null_columns('duckdb', nulls))} FROM {name}"
                )
            return name
        return self._register_arrow(name, with_nulls(_arrow(obj, kind, columns), nulls))

    def register_arrow(self, logical: str, table: pa.Table) -> str:
        return self._register_arrow(self._name(logical), table)

    def _register_arrow(self, name: str, table: pa.Table) -> str:
        if self._con is not None:
            self._arrow[name] = table
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
        self._view_sql[name] = sql
        return name

    def materialize(self, logical: str, sql: str) -> str:
        name = self._name(logical)
        self._execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        return name

    def drop(self, name: str) -> None:
        if name in self._arrow:
            self._con.unregister(name)
            del self._arrow[name]
        else:
            self._execute(f"DROP TABLE IF EXISTS {name}")

    def split_by_employee(self, names: dict[str, str], employees: str, n: int) -> EmployeeChunks:
        """``n`` disjoint chunks of employees over the registered tables ``names``.

        ``names`` maps logical names to registered Arrow tables with an ``employee_id``
        column; chunk ``i`` holds the rows of a contiguous range of the sorted employee ids
        of ``employees``. The rows are copied only when a chunk is asked for
        (:meth:`EmployeeChunks.tables`).
        """
        import numpy as np
        import pyarrow.compute as pc

        ids = self._arrow[employees].column("employee_id").cast(pa.string())
        ids = np.sort(np.asarray(ids.drop_null().to_pylist(), dtype=object))
        bounds = ids[[len(ids) * i // n for i in range(1, n)]] if n > 1 else ids[:0]

        def chunk_of(table: pa.Table) -> np.ndarray:
            col = table.column("employee_id").combine_chunks()
            # a categorical column is already encoded: never decode millions of strings
            encoded = col if pa.types.is_dictionary(col.type) else pc.dictionary_encode(col)
            values = np.asarray(encoded.dictionary.cast(pa.string()).to_pylist(), dtype=object)
            per_value = np.searchsorted(bounds, values, side="right").astype(np.int32)
            idx = encoded.indices.to_numpy(zero_copy_only=False)
            out = np.full(len(idx), -1, dtype=np.int32)
            ok = ~np.isnan(idx) if idx.dtype.kind == "f" else np.ones(len(idx), dtype=bool)
            out[ok] = per_value[idx[ok].astype(np.int64)]
            return out

        return EmployeeChunks(
            n,
            {logical: self._arrow[name] for logical, name in names.items()},
            {logical: chunk_of(self._arrow[name]) for logical, name in names.items()},
        )

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
            self._arrow.clear()


class EmployeeChunks:
    """Disjoint chunks of employees over a few tables (:meth:`DuckDBSession.split_by_employee`)."""

    def __init__(self, n: int, tables: dict[str, pa.Table], chunk_of_row: dict[str, Any]) -> None:
        self.n = n
        self._tables = tables
        self._chunk = chunk_of_row

    def __len__(self) -> int:
        return self.n

    def tables(self, i: int) -> dict[str, pa.Table]:
        """The rows of chunk ``i`` of every table (a copy; safe to call from any thread)."""
        return {
            logical: table.filter(pa.array(self._chunk[logical] == i))
            for logical, table in self._tables.items()
        }


# ------------------------------------------------------------------------------- Spark
class SparkSQLSession(Session):
    """Spark SQL on temporary views of the session of the PySpark inputs."""

    dialect = DIALECTS["spark"]
    kind = "spark"

    def __init__(self, spark: Any) -> None:
        super().__init__()
        self.spark = spark

    def register(
        self,
        logical: str,
        obj: Any,
        *,
        columns: list[str] | None = None,
        nulls: dict[str, str] | None = None,
    ) -> str:
        kind = kind_of(obj, name=logical)
        name = self._name(logical)
        if kind == "spark":
            frame = obj
            if nulls:
                frame = frame.selectExpr("*", *null_columns("spark", nulls))
        elif kind in ("pandas", "polars"):
            frame = self._from_arrow(with_nulls(_arrow(obj, kind, columns), nulls))
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
def open_session(engine: str, tables: dict[str, Any]) -> Session:
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
        session = DuckDBSession(kind=top)
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


class EagerResult:
    """The features of an eager build, filled part by part, in spine order.

    Every part (an Arrow table with ``rid``, the spine row number, and feature columns) is
    scattered into one preallocated array per feature as soon as it is computed, and
    released: no sort, no concatenation, and the features exist once in memory. The float
    features are the rows of one 2D array and the integer ones of another, so that a pandas
    3 result holds a few consolidated blocks (over a hundred single-column blocks make pandas
    warn on every column added later), without a copy.
    """

    def __init__(self, spine: Any, columns: list[tuple[str, str]]) -> None:
        import numpy as np

        self.spine = spine
        self.kind = kind_of(spine, name="spine")
        self.n = len(spine)
        self.columns = columns  # (name, dtype: int64 | float64 | string), in output order
        self.values: dict[str, Any] = {}
        by_dtype = {d: [name for name, dt in columns if dt == d] for d in ("int64", "float64")}
        #: the 2D arrays whose rows are the int64 and float64 features (as allocated)
        self.blocks = {
            "int64": np.zeros((len(by_dtype["int64"]), self.n), dtype=np.int64),
            "float64": np.full((len(by_dtype["float64"]), self.n), np.nan),
        }
        self.block_names = by_dtype
        for dtype, names in by_dtype.items():
            for j, name in enumerate(names):
                self.values[name] = self.blocks[dtype][j]
        for name, dtype in columns:
            if dtype not in by_dtype:
                self.values[name] = np.full(self.n, None, dtype=object)
        self.filled = {name: 0 for name, _ in columns}

    def missing(self, names: list[str]) -> None:
        """Features that are missing on every row (an input is absent): NaN, or NA text."""
        import numpy as np

        for name in names:
            if self.values[name].dtype == object:
                self.values[name] = np.full(self.n, None, dtype=object)
            elif self.values[name].dtype == np.float64:
                self.values[name][:] = np.nan  # in place: it stays a row of its block
            else:
                self.values[name] = np.full(self.n, np.nan)
            self.filled[name] = self.n

    def add(self, part: pa.Table) -> None:
        import numpy as np

        rid = np.asarray(part.column("rid").to_numpy(zero_copy_only=False), dtype=np.int64)
        for name in part.column_names:
            if name == "rid":
                continue
            col = part.column(name)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                values = np.asarray(col.to_pylist(), dtype=object)
            else:
                values = col.to_numpy(zero_copy_only=False)
                target = self.values[name]
                if target.dtype == np.int64 and col.null_count:
                    # an integer feature unknown on some rows: it becomes float, with NaN
                    self.values[name] = target.astype(np.float64)
            self.values[name][rid] = values
            self.filled[name] += len(rid)

    def finish(self) -> Any:
        missing = [name for name, count in self.filled.items() if count != self.n]
        if missing:
            raise RuntimeError(f"internal error: features {missing[:3]} not computed for every row")
        if self.kind == "polars":
            import polars as pl

            return pl.concat(
                [self.spine, pl.DataFrame({name: self.values[name] for name, _ in self.columns})],
                how="horizontal",
            )
        from .._compat import PANDAS_3

        if PANDAS_3:
            return self._consolidated()
        data = {c: self.spine[c] for c in self.spine.columns}
        for name, dtype in self.columns:
            values = self.values.pop(name)
            data[name] = pd.array(values, dtype="string") if dtype == "string" else values
        return pd.DataFrame(data, index=self.spine.index, copy=False)

    def _consolidated(self) -> pd.DataFrame:
        """The pandas result as one block per dtype (the 2D arrays themselves, not copied)."""

        index = self.spine.index
        parts = [self.spine]
        others = {}
        for dtype, names in self.block_names.items():
            block = self.blocks[dtype]
            # rows still inside their block (an integer feature with NaN was replaced)
            kept = [j for j, n in enumerate(names) if self.values[n].base is block]
            if kept:
                rows = block if len(kept) == len(names) else block[kept]
                parts.append(
                    pd.DataFrame(rows.T, columns=[names[j] for j in kept], index=index, copy=False)
                )
            others.update({n: self.values[n] for j, n in enumerate(names) if j not in kept})
        for name, dtype in self.columns:
            if dtype == "string":
                others[name] = pd.array(self.values[name], dtype="string")
        if others:
            parts.append(pd.DataFrame(others, index=index, copy=False))
        self.values.clear()
        out = pd.concat(parts, axis=1)
        return out[[*self.spine.columns, *(name for name, _ in self.columns)]]


def lazy_select(
    spine_name: str,
    spine_columns: list[str],
    parts: list[tuple[str, list[str]]],
    *,
    order: list[str] | None = None,
    missing: dict[str, str] | None = None,
) -> str:
    """The final SELECT of a lazy result: spine columns, then each part's features.

    ``order`` is the order of the feature columns (default: part by part); ``missing`` maps
    features that are missing on every row to their SQL type (a ``NULL`` column).
    """
    cols = [f"s.{c}" for c in spine_columns]
    joins = []
    where: dict[str, str] = {}
    for i, (name, feats) in enumerate(parts):
        where.update({c: f"f{i}.{c}" for c in feats})
        joins.append(f"LEFT JOIN {name} f{i} ON f{i}.rid = s.{RID}")
    for c, sql_type in (missing or {}).items():
        where[c] = f"CAST(NULL AS {sql_type}) AS {c}"
    names = order if order is not None else [c for _, feats in parts for c in feats]
    cols += [where[c] for c in names]
    return f"SELECT {', '.join(cols)} FROM {spine_name} s {' '.join(joins)} ORDER BY s.{RID}"
