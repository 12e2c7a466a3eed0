"""Results of the demo organization that must not depend on the pandas version.

Run as a script in an environment, it writes what talentml computes on the demo organization
(the 2,000-employee simulated organization ``make demo`` uses) to a folder: the features, the
three models' scores on the held-out rows, exact SHAP values and reason texts, and the bias
audit's figures. ``tests/test_pandas_parity.py`` runs it under pandas 2 and pandas 3 and
compares the folders with :func:`compare`.

    python tests/pandas_parity.py OUT_DIR [--n-employees N]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: Float tolerance of the comparison (relative and absolute).
RTOL, ATOL = 1e-9, 1e-9
#: SHAP values are float32 sums in the kernel: compare them at float32 precision.
SHAP_RTOL, SHAP_ATOL = 1e-5, 1e-6


def _table(df: pd.DataFrame) -> pa.Table:
    """An Arrow table whose types do not depend on pandas' defaults (strings, time units)."""
    arrays, names = [], []
    for name in df.columns:
        s = df[name]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            values = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
            arr = pa.array(values).cast(pa.timestamp("ns", tz="UTC"))
        elif pd.api.types.is_bool_dtype(s.dtype):
            arr = pa.array(s.astype("boolean").to_numpy(object, na_value=None), type=pa.bool_())
        elif pd.api.types.is_numeric_dtype(s.dtype):
            arr = pa.array(s.to_numpy(dtype=float, na_value=np.nan), type=pa.float64())
        else:
            values = s.astype(object).where(s.notna(), None).to_numpy(object)
            arr = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        arrays.append(arr)
        names.append(str(name))
    return pa.table(arrays, names=names)


def _dtype_kind(dtype) -> str:
    """The kind of a column that pandas 2 and 3 must agree on (not the exact dtype)."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return f"datetime[{dtype.tz}]"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_string_dtype(dtype):
        return "string"
    return str(dtype)


def _write(out: Path, name: str, df: pd.DataFrame) -> dict:
    pq.write_table(_table(df.reset_index(drop=True)), out / f"{name}.parquet")
    return {c: _dtype_kind(df[c].dtype) for c in df.columns}


def run(out: Path, *, n_employees: int = 2_000) -> None:
    """Compute the demo organization's results and write them to ``out``."""
    import talentml as tml
    from talentml.demo._pipeline import (
        TOP_FRACTION,
        _features,
        _ingest,
        _resolve,
        _snapshot,
        _split,
    )

    out.mkdir(parents=True, exist_ok=True)
    org = tml.datasets.simulate_workforce(
        n_employees=n_employees,
        start="2023-01-01",
        end="2025-12-31",
        random_state=0,
        show_progress=False,
    )
    ing = _ingest(org)
    statements, _ = _resolve(ing, org)  # as the demo: activities resolved before features
    first = (org.start + pd.DateOffset(months=6)).normalize()
    spine = tml.features.make_spine(org.employees, start=first, end=org.end, freq="MS")
    X = _features(spine, statements, org)
    ids = X[["employee_id", "as_of"]]
    y_exit = tml.labels.flight_risk(ids, org.employees, horizon="180D")
    y_hipo = tml.labels.high_potential(ids, org.job_events, horizon="365D", employees=org.employees)
    ramp = tml.labels.ramp_up(org.employees, org.productivity, hired_after=org.start)
    ramp_rows = tml.labels.ramp_up_spine(ramp, days_after_hire=30)
    ramp_rows = ramp_rows[ramp_rows["censored"].isna()].reset_index(drop=True)
    XR = _features(ramp_rows[["employee_id", "as_of"]], statements, org)

    dtypes = {
        "employees": _write(out, "employees", org.employees),
        "statements": _write(out, "statements", statements),
        "features": _write(out, "features", X),
        "labels_exit": _write(out, "labels_exit", y_exit),
        "labels_hipo": _write(out, "labels_hipo", y_hipo),
        "ramp_rows": _write(out, "ramp_rows", ramp_rows),
    }

    fr, hp, ru = _split(X, y_exit, "180D"), _split(X, y_hipo, "365D"), _split(XR, ramp_rows, "365D")
    kw = {"n_estimators": 60, "random_state": 0, "n_jobs": 1}
    flight = tml.FlightRisk(**kw).fit(fr.X_train, fr.y_train)
    hipo = tml.HighPotential(**kw).fit(hp.X_train, hp.y_train)
    ramp_model = tml.RampUp(**kw).fit(ru.X_train, ru.y_train)
    scores = {
        "flight_risk": flight.predict_proba(fr.X_test)[:, 1],
        "high_potential": hipo.predict_proba(hp.X_test)[:, 1],
        "ramp_up_days": np.asarray(ramp_model.predict(ru.X_test), dtype=float),
    }
    np.savez(out / "scores.npz", **scores)

    now = X[X["as_of"] == X["as_of"].max()].reset_index(drop=True)
    explanation = tml.explain.explain(flight, now, show_progress=False)
    np.savez(out / "shap.npz", values=np.asarray(explanation.values, dtype=float))
    reasons = explanation.top_reasons(3)
    dtypes["reasons"] = _write(out, "reasons", reasons)

    X_audit, y_audit = _snapshot(hp)
    audit = tml.fairness.audit(
        hipo,
        X_audit,
        y_audit,
        sensitive=org.sensitive,
        top_fraction=TOP_FRACTION,
        n_bootstrap=50,
        random_state=0,
        show_progress=False,
    )
    figures = audit.to_dict()
    (out / "audit.json").write_text(json.dumps(figures, sort_keys=True, default=str))
    meta = {
        "python": platform.python_version(),
        "versions": {m: sys.modules[m].__version__ for m in ("pandas", "numpy", "xgboost")},
        "dtypes": dtypes,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))


# ------------------------------------------------------------------------------ comparison
def _compare_tables(a: pa.Table, b: pa.Table, name: str) -> list[str]:
    problems = []
    if a.column_names != b.column_names:
        return [f"{name}: columns differ: {a.column_names} vs {b.column_names}"]
    if a.num_rows != b.num_rows:
        return [f"{name}: {a.num_rows} vs {b.num_rows} rows"]
    for col in a.column_names:
        x, y = a.column(col), b.column(col)
        if x.type != y.type:
            problems.append(f"{name}.{col}: type {x.type} vs {y.type}")
        elif pa.types.is_floating(x.type):
            u, v = x.to_numpy(), y.to_numpy()
            if not np.allclose(u, v, rtol=RTOL, atol=ATOL, equal_nan=True):
                bad = ~np.isclose(u, v, rtol=RTOL, atol=ATOL, equal_nan=True)
                i = int(np.flatnonzero(bad)[0])
                problems.append(
                    f"{name}.{col}: {int(bad.sum())} values differ, first row {i}: {u[i]!r} vs "
                    f"{v[i]!r}"
                )
        elif not x.equals(y):
            u, v = x.to_pylist(), y.to_pylist()
            bad = [i for i, (p, q) in enumerate(zip(u, v, strict=True)) if p != q]
            problems.append(
                f"{name}.{col}: {len(bad)} values differ, first row {bad[0]}: {u[bad[0]]!r} vs "
                f"{v[bad[0]]!r}"
            )
    return problems


def _compare_json(a, b, path: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))} differ"]
        return [p for k in sorted(a) for p in _compare_json(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [
            p
            for i, (u, v) in enumerate(zip(a, b, strict=True))
            for p in _compare_json(u, v, f"{path}[{i}]")
        ]
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        if np.isclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True):
            return []
        return [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def compare(left: Path, right: Path) -> list[str]:
    """Every difference between two result folders (an empty list when they agree)."""
    problems: list[str] = []
    meta_l = json.loads((left / "meta.json").read_text())
    meta_r = json.loads((right / "meta.json").read_text())
    for table, kinds in meta_l["dtypes"].items():
        if kinds != meta_r["dtypes"].get(table):
            problems.append(f"{table}: column kinds {kinds} vs {meta_r['dtypes'].get(table)}")
    for path in sorted(left.glob("*.parquet")):
        problems += _compare_tables(
            pq.read_table(path), pq.read_table(right / path.name), path.stem
        )
    for name, (rtol, atol) in {"scores": (RTOL, ATOL), "shap": (SHAP_RTOL, SHAP_ATOL)}.items():
        a, b = np.load(left / f"{name}.npz"), np.load(right / f"{name}.npz")
        for key in sorted(set(a.files) | set(b.files)):
            if key not in a.files or key not in b.files:
                problems.append(f"{name}.{key}: present on one side only")
            elif a[key].shape != b[key].shape:
                problems.append(f"{name}.{key}: shape {a[key].shape} vs {b[key].shape}")
            elif not np.allclose(a[key], b[key], rtol=rtol, atol=atol, equal_nan=True):
                diff = np.nanmax(np.abs(a[key] - b[key]))
                problems.append(f"{name}.{key}: values differ (max |difference| {diff:.3g})")
    problems += _compare_json(
        json.loads((left / "audit.json").read_text()),
        json.loads((right / "audit.json").read_text()),
        "audit",
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n-employees", type=int, default=2_000)
    args = parser.parse_args(argv)
    run(args.out, n_employees=args.n_employees)
    return 0


if __name__ == "__main__":
    sys.exit(main())
