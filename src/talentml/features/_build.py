"""``build``: every feature family for every spine row, on the engine where the data lives."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import partial
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from .._validation import renamed_parameters
from ..config import show_progress as _show_progress
from . import _frame
from . import _learning_baseline as _lb
from ._catalog import FAMILIES, INPUTS, LEARNING_FAMILIES, FeatureSpec, catalog_frame
from ._hris import hris_ctes, hris_specs
from ._inputs import REPORT_ATTR, attrs_report, input_status, log_report, report_frame
from ._learning import LearningPlan, learning_specs
from ._pit import parse_window, parse_windows, to_utc
from ._reviews import review_ctes, review_specs
from ._sql import Dialect, Query
from ._tables import (
    _TABLES,
    _check_columns,
    _check_spine_pandas,
    _count_unused,
    _register_tables,
    _spine_problems,
    _status,
    _validate_pandas,
)

__all__ = ["DEFAULT_WINDOWS", "REPORT_ATTR", "build", "build_report", "catalog", "feature_specs"]

logger = logging.getLogger(__name__)

#: Look-back windows of the learning features unless ``windows=`` says otherwise.
DEFAULT_WINDOWS = ("30D", "90D", "365D")
#: Statements per chunk when DuckDB computes learning features in pieces (bounded memory).
CHUNK_STATEMENTS = 1_500_000
#: Eager parts (chunks of learning features, review and HRIS features) computed side by
#: side, each in a thread with its own DuckDB cursor. With more than one, chunks shrink in
#: proportion so that the memory in flight stays that of one chunk; float sums (minutes,
#: scores) are taken in extended precision per chunk, so other chunk bounds can change
#: their last bits (about 1e-13). Default 1: the chunks one after the other.
PARALLEL_TASKS = 1


def feature_specs(windows: Sequence[str] = DEFAULT_WINDOWS) -> list[FeatureSpec]:
    """Every feature ``build`` can emit for ``windows``, in output order."""
    wins = parse_windows(windows)
    return (
        learning_specs(wins)
        + _lb.extra_learning_specs(wins)
        + _lb.baseline_specs()
        + review_specs()
        + hris_specs()
    )


def catalog(*, windows: Sequence[str] = DEFAULT_WINDOWS) -> pd.DataFrame:
    """The feature catalog: one row per feature column :func:`build` can emit.

    Parameters
    ----------
    windows : sequence of str, default ("30D", "90D", "365D")
        The look-back windows of the learning features, as given to :func:`build`.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``description``, ``unit``, ``family`` (learning, learning_baseline,
        reviews, hris), ``window``, ``actionable`` (can the employee or organization act
        on it), ``direction`` (``higher_is_better``, ``lower_is_better`` or ``neutral``),
        ``sensitive_proxy``
        (a known proxy of a protected attribute: audit it, do not judge people by it),
        ``template`` (a plain-language sentence for reason codes, formatted with
        ``value=``), ``dtype`` (with every input present; an integer feature that is
        missing on some rows comes back as float64 with NaN) and ``inputs`` (what it
        needs: tables, or ``table.column``, separated by ``"; "``; without one of them
        the feature is missing, see :func:`build_report`).

    Examples
    --------
    >>> import talentml as tml
    >>> cat = tml.features.catalog()
    >>> row = cat.set_index("name").loc["voluntary_dropoff_30d_vs_prior_90d"]
    >>> row["template"].format(value=0.42)
    'voluntary learning dropped 42% in the last 30 days compared with the prior 90'
    >>> cat.loc[cat["sensitive_proxy"], "name"].head(3).tolist()
    ['offhours_share_30d', 'weekend_share_30d', 'agility_offhours_30d']
    >>> cat.set_index("name").loc["n_voluntary_completions_30d", "inputs"]
    'statements; catalog.voluntary'
    """
    return catalog_frame(feature_specs(windows))


def _select(specs: list[FeatureSpec], features: Sequence[str] | str | None) -> list[FeatureSpec]:
    if features is None:
        return specs
    if isinstance(features, str):
        features = [features]
    by_name = {s.name: s for s in specs}
    wanted: set[str] = set()
    unknown = []
    for f in features:
        if f in FAMILIES:
            wanted.update(s.name for s in specs if s.family == f)
        elif f in by_name:
            wanted.add(f)
        else:
            unknown.append(f)
    if unknown:
        import difflib

        hints = {u: difflib.get_close_matches(u, list(by_name), n=2) for u in unknown}
        raise ValueError(
            f"unknown feature(s) {unknown}: give feature names from catalog() or families "
            f"{FAMILIES}; close matches: {hints}"
        )
    return [s for s in specs if s.name in wanted]


@renamed_parameters(catalog="course_catalog")
def build_report(
    *,
    statements: Any = None,
    employees: Any = None,
    reviews: Any = None,
    competency_ratings: Any = None,
    job_events: Any = None,
    course_catalog: Any = None,
    windows: Sequence[str] = DEFAULT_WINDOWS,
    features: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """What :func:`build` can compute from these inputs, feature by feature.

    A feature needs the inputs listed in :func:`catalog`'s ``inputs`` column: tables, or
    columns of them (``catalog.voluntary``, ``employees.timezone``). When one of them is
    absent (no table, no column) or empty (every value missing), :func:`build` does not
    compute the feature: it is missing (NaN) on every row, never 0. When an input is partly
    missing, the feature is computed where the value is known and missing where it is not
    (the rule of each family is in docs/features.md). :func:`build` logs the same report
    once as a warning and keeps its non-computed rows in
    ``X.attrs["talentml_build_report"]`` (pandas results).

    Parameters
    ----------
    statements, employees, reviews, competency_ratings, job_events, course_catalog : DataFrame, optional
        The tables you would pass to :func:`build` (any kind it accepts).
    windows : sequence of str, default ("30D", "90D", "365D")
        Look-back windows, as for :func:`build`.
    features : sequence of str or str, optional
        Only these features or families, as for :func:`build`.

    Returns
    -------
    pandas.DataFrame
        One row per feature, in catalog order: ``name``, ``family``, ``inputs``,
        ``status`` (``computed``, ``partial`` or ``missing``) and ``reason`` (which input is
        absent, empty or partly missing).

    Examples
    --------
    >>> import pandas as pd
    >>> import talentml as tml
    >>> employees = pd.DataFrame({
    ...     "employee_id": pd.array(["e1", "e2"], dtype="string"),
    ...     "hire_date": pd.to_datetime(["2023-05-10", "2024-02-15"], utc=True),
    ... })
    >>> report = tml.features.build_report(employees=employees,
    ...                                    statements=tml.schemas.empty("statements"))
    >>> report["status"].value_counts().to_dict()
    {'missing': 78, 'computed': 39}
    >>> report.set_index("name").loc["voluntary_share_30d", "reason"]
    'no catalog table'
    """
    specs = _select(feature_specs(windows), features)
    inputs = {
        "statements": statements,
        "employees": employees,
        "reviews": reviews,
        "competency_ratings": competency_ratings,
        "job_events": job_events,
        "catalog": course_catalog,
    }
    given = {name: obj for name, obj in inputs.items() if obj is not None}
    columns = {name: set(_frame.columns_of(obj)) for name, obj in given.items()}
    if not given:
        from ._inputs import InputStatus

        status = InputStatus({n: ("no_table", 0, 0) for n in INPUTS})
        return report_frame(specs, status)
    session = _frame.open_session("auto", given)
    try:
        t = {}
        for name, obj in given.items():
            # only the columns whose values are counted: cheap on every engine
            prefix = name + "."
            select = [
                n[len(prefix) :]
                for n in INPUTS
                if n.startswith(prefix) and n[len(prefix) :] in columns[name]
            ]
            if session.kind in ("pandas", "polars") and not select:
                continue
            kind = _frame.kind_of(obj, name=name)
            t[name] = session.register(
                name, obj, columns=select if kind in ("pandas", "polars") else None
            )
        status = input_status(session, t, {n: n in given for n in _TABLES}, columns, INPUTS)
    finally:
        if session.kind in ("pandas", "polars"):
            session.close()
    return report_frame(specs, status)


def common_ctes(d: Dialect, t: dict[str, str]) -> list[tuple[str, str]]:
    """``emp`` (employees with an integer key) and ``sp`` (spine rows with times in us)."""
    ep = d.epoch_us
    return [
        (
            "emp",
            f"""SELECT employee_id AS eid, {d.employee_key()} AS k,
              {ep("hire_date")} AS hire_us, {ep("termination_date")} AS term_us,
              termination_type AS term_type, job_family, job_level, department, manager_id,
              timezone AS tz, {d.timezone_key()} AS tz_id
            FROM {t["employees"]}""",
        ),
        (
            "sp",
            f"""SELECT CAST(s.{_frame.RID} AS BIGINT) AS rid, e.k, e.eid,
              {ep("s.as_of")} AS a, e.hire_us, e.tz
            FROM {t["spine"]} s JOIN emp e ON e.eid = s.employee_id""",
        ),
    ]


@renamed_parameters(catalog="course_catalog")
def build(
    spine: Any,
    *,
    statements: Any,
    employees: Any,
    reviews: Any = None,
    competency_ratings: Any = None,
    job_events: Any = None,
    course_catalog: Any = None,
    windows: Sequence[str] = DEFAULT_WINDOWS,
    features: Sequence[str] | str | None = None,
    engine: str = "auto",
    mandatory_grace: str = "60D",
    learning_since: Any = None,
    show_progress: bool | None = None,
) -> Any:
    """Point-in-time features for every row of a spine.

    Every feature of a row ``(employee_id, as_of)`` uses only facts available strictly
    before ``as_of``: statements by ``stored``, reviews and competency ratings by
    ``submitted_at``, HR events by ``recorded_at`` (see docs/features.md for the rule and
    every definition).

    Parameters
    ----------
    spine : DataFrame
        One row per ``(employee_id, as_of)`` (``as_of`` timezone-aware UTC), e.g. from
        :func:`make_spine`; any other columns (labels, cutoff metadata) are passed through.
    statements : DataFrame
        The ``statements`` contract table (:func:`talentml.xapi.ingest`); statements
        without a mapped employee are not used (counted in the log). Activity aliases are
        not resolved here: apply :class:`talentml.xapi.ActivityResolver` first, or the same
        course under another IRI (a video platform's) counts as an uncatalogued activity.
    employees : DataFrame
        The ``employees`` contract table: a snapshot at export time; its manager,
        department and level are rebuilt at each ``as_of`` from ``job_events``. Only
        ``employee_id`` and ``hire_date`` are required (:func:`talentml.schemas.coerce`
        adapts an HRIS export); features that need an absent column are missing.
    reviews, competency_ratings, job_events, course_catalog : DataFrame, optional
        The contract tables of the same names. Features that need a table or a column
        that is not given (``catalog.voluntary``, ``employees.timezone``; see the
        ``inputs`` column of :func:`catalog`) are missing (NaN) on every row, never 0;
        features of a partly known input (a catalog with unknown values) are missing
        where it is unknown. A table given with no rows is known to be empty (counts 0).
    windows : sequence of str, default ("30D", "90D", "365D")
        Look-back windows of the learning features (whole days or weeks, e.g. ``"30D"``,
        ``"12W"``); "since hire" features are always built.
    features : sequence of str or str, optional
        Compute only these features (names from :func:`catalog`) or families
        (``"learning"``, ``"learning_baseline"``, ``"reviews"``, ``"hris"``). Default: all.
    engine : {"auto", "duckdb", "spark"}, default "auto"
        Where the SQL runs: ``"auto"`` picks by input kind (PySpark inputs run on Spark,
        everything else on DuckDB).
    mandatory_grace : str, default "60D"
        How long after ``max(hire date, learning_since)`` a never-passed mandatory course
        becomes overdue.
    learning_since : str or Timestamp, optional
        When the learning records start being complete (e.g. the LRS go-live); before it,
        no record is no evidence. Default: the earliest ``stored`` known at ``as_of``.
    show_progress : bool, optional
        Progress bar over the computation steps (default: :func:`talentml.get_config`).

    Returns
    -------
    DataFrame
        One row per spine row, in spine order: the spine's columns, then one column per
        feature in catalog order. Same kind as the inputs: pandas (default), polars, a
        DuckDB relation or a PySpark DataFrame. The features that are missing because of
        their inputs are logged once as a warning, listed by :func:`build_report`, and,
        in a pandas result, kept in ``X.attrs["talentml_build_report"]``
        (``{"missing": {feature: reason}, "partial": {...}}``; absent when every feature
        was computed).

    Raises
    ------
    ContractError
        An input breaks its contract, or spine rows name unknown employees or come before
        the hire date (the error names the table, column and rows).
    ValueError
        Unknown features, windows or engine.

    Examples
    --------
    >>> import pandas as pd
    >>> import talentml as tml
    >>> from talentml.datasets import SIMULATION_SECRET, simulate_workforce
    >>> org = simulate_workforce(n_employees=60, start="2024-01-01", end="2024-12-31",
    ...                          random_state=0, show_progress=False)
    >>> stmts = tml.xapi.ingest(org.raw_statements, identities=org.identities,
    ...                         secret=SIMULATION_SECRET).statements
    >>> spine = tml.features.make_spine(org.employees, start="2024-07-01",
    ...                                 end="2024-12-01", freq="MS")
    >>> X = tml.features.build(spine, statements=stmts, employees=org.employees,
    ...                        reviews=org.reviews, job_events=org.job_events,
    ...                        course_catalog=org.catalog, show_progress=False)
    >>> len(X) == len(spine), list(X.columns[:3])
    (True, ['employee_id', 'as_of', 'n_statements_30d'])
    >>> X.columns[2:].tolist() == tml.features.catalog()["name"].tolist()
    True
    """
    started = time.perf_counter()
    wins = parse_windows(windows)
    grace = parse_window(mandatory_grace)
    since_us = None
    if learning_since is not None:
        since_us = int(to_utc(learning_since, name="learning_since").value // 1000)
    specs = _select(feature_specs([w.text for w in wins]), features)
    by_family = {f: [s for s in specs if s.family == f] for f in FAMILIES}

    inputs = {
        "spine": spine,
        "statements": statements,
        "employees": employees,
        "reviews": reviews,
        "competency_ratings": competency_ratings,
        "job_events": job_events,
        "catalog": course_catalog,
    }
    for name in ("spine", "statements", "employees"):
        if inputs[name] is None:
            raise ValueError(f"{name} is required")
    columns = {name: _check_columns(name, obj) for name, obj in inputs.items() if obj is not None}
    spine_cols = _frame.columns_of(spine)
    clash = sorted(set(spine_cols) & ({s.name for s in specs} | {_frame.RID}))
    if clash:
        raise ValueError(f"spine columns {clash} clash with feature names: rename them")
    if by_family["learning"] and _frame.kind_of(statements, name="statements") in (
        "pandas",
        "polars",
    ):
        # the compiled readers load while the inputs are validated
        threading.Thread(target=_warm_kernels, name="talentml-kernels", daemon=True).start()
    _validate_pandas(inputs)
    spine_kind = _frame.kind_of(spine, name="spine")
    if spine_kind == "pandas":
        _check_spine_pandas(spine)

    session = _frame.open_session(engine, inputs)
    d = session.dialect
    try:
        t = _register_tables(session, inputs, columns)
        keep = ["employee_id", "as_of"]
        t["spine"], _ = _frame.with_rid(session, spine, keep)
        _spine_problems(session, t, d.epoch_us)
        _count_unused(session, t, {n for n, o in inputs.items() if o is not None})
        # what the inputs allow: features whose input is absent are missing, not computed
        status = _status(session, t, inputs, columns)
        report = report_frame(specs, status)
        log_report(report)
        missing = set(report.loc[report["status"] == "missing", "name"].tolist())
        computed = [s for s in specs if s.name not in missing]
        by_family = {f: [s for s in computed if s.family == f] for f in FAMILIES}
        # the learning families are one plan over the statements
        learn = [s for s in computed if s.family in LEARNING_FAMILIES]
        partly = frozenset(n for n in INPUTS if n in status and status.status(n) == "partial")

        eager = session.kind in ("pandas", "polars")
        n_spine = len(spine) if spine_kind in ("pandas", "polars") else None
        n_stmt = len(statements) if _frame.kind_of(statements) in ("pandas", "polars") else 0
        # with parts computed side by side, chunks are smaller: the memory in flight stays
        # that of one chunk of CHUNK_STATEMENTS
        per_chunk = max(1, CHUNK_STATEMENTS // max(1, PARALLEL_TASKS))
        n_chunks = max(1, math.ceil(n_stmt / per_chunk)) if eager else 1
        opts = {"grace": grace, "learning_since_us": since_us, "partial": partly}
        steps = n_chunks * bool(learn) + bool(by_family["reviews"]) + bool(by_family["hris"])
        progress = _show_progress() if show_progress is None else show_progress
        with tqdm(total=steps, desc="features", unit="step", disable=not progress) as bar:
            if eager:
                out = _frame.EagerResult(spine, [(s.name, s.dtype) for s in specs])
                out.missing([s.name for s in specs if s.name in missing])
                tasks: list[tuple[str, Callable[[Any], Any]]] = []
                for family, make in (("reviews", _reviews_part), ("hris", _hris_part)):
                    if by_family[family]:
                        q = Query()
                        q.extend(common_ctes(d, t))
                        ctes, select = make(d, t, columns, by_family[family])
                        q.extend(ctes)
                        tasks.append((f"{family} features", partial(_run_eager, q.render(select))))
                if learn:
                    groups = {s.group for s in learn}
                    if since_us is None and _lb.SINCE_GROUPS & groups:
                        # when the learning records start (see final_ctes): once, not per chunk
                        first = session.rows(
                            f"SELECT MIN({d.epoch_us('stored')}) FROM {t['statements']}"
                        )[0][0]
                        opts = {**opts, "first_stored_us": (first,)}
                    # the organization's rates and cohorts: once, over every statement
                    t = {**t, **_org_tables(session, t, groups, since_us)}
                    # chunks of employees bound the memory of statement-scale work
                    chunks = (
                        session.split_by_employee(
                            {"statements": t["statements"], "spine": t["spine"]},
                            t["employees"],
                            n_chunks,
                        )
                        if n_chunks > 1
                        else None
                    )
                    for i in range(n_chunks):
                        learning = partial(
                            _learning_chunk,
                            chunks=chunks,
                            i=i,
                            t=t,
                            specs=learn,
                            windows=wins,
                            opts=opts,
                        )
                        tasks.append((f"learning features, chunk {i + 1} of {n_chunks}", learning))
                _run_tasks(session, tasks, out, bar)
                result = out.finish()
            else:
                result = _build_lazy(
                    session,
                    t,
                    columns,
                    specs=specs,
                    learn=learn,
                    by_family=by_family,
                    missing=missing,
                    spine_cols=spine_cols,
                    windows=wins,
                    opts=opts,
                    bar=bar,
                )
    finally:
        if session.kind in ("pandas", "polars"):
            session.close()
    compact = attrs_report(report)
    if compact is not None and isinstance(result, pd.DataFrame):
        result.attrs[REPORT_ATTR] = compact
    logger.info(
        "built %d features for %s spine rows on %s in %.2f s",
        len(specs),
        f"{n_spine:,}" if n_spine is not None else "the",
        d.name,
        time.perf_counter() - started,
    )
    return result


def _build_lazy(
    session: Any,
    t: dict[str, str],
    columns: dict[str, Any],
    *,
    specs: list[FeatureSpec],
    learn: list[FeatureSpec],
    by_family: dict[str, list[FeatureSpec]],
    missing: set[str],
    spine_cols: list[str],
    windows: Any,
    opts: dict[str, Any],
    bar: Any,
) -> Any:
    """The features of a lazy session (a DuckDB relation, Spark): one query, run lazily."""
    d = session.dialect
    q = Query()
    q.extend(common_ctes(d, t))
    lazy_parts = []
    for family in FAMILIES:
        fam_specs = learn if family == "learning" else by_family[family]
        if not fam_specs or family == "learning_baseline":
            continue
        if family == "learning":
            plan = LearningPlan(d, t, fam_specs, windows, **opts)
            ctes = (
                plan.statement_ctes() + plan.event_ctes() + plan.window_ctes() + plan.final_ctes()
            )
            select = plan.select
        elif family == "reviews":
            ctes, select = _reviews_part(d, t, columns, fam_specs)
        else:
            ctes, select = _hris_part(d, t, columns, fam_specs)
        q.extend(ctes)
        q.add(f"part_{family}", select)
        lazy_parts.append((f"part_{family}", [s.name for s in fam_specs]))
        bar.update()
    final = _frame.lazy_select(
        t["spine"],
        spine_cols,
        lazy_parts,
        order=[s.name for s in specs],
        missing={
            s.name: d.string if s.dtype == "string" else "DOUBLE"
            for s in specs
            if s.name in missing
        },
    )
    return session.run(q.render(final), eager=False)


def _warm_kernels() -> None:
    try:
        from . import _kernels

        _kernels.warm()
    except Exception:  # the readers compile on first use instead, and report any error there
        logger.debug("warming the compiled readers failed", exc_info=True)


def _run_eager(sql: str, session) -> Any:
    return session.run(sql, eager=True)


def _learning_chunk(session, *, chunks, i: int, t, specs, windows, opts) -> Any:
    """Learning features of chunk ``i`` of the employees (all of them without chunks)."""
    piece = {}
    if chunks is not None:
        for logical, part in chunks.tables(i).items():
            piece[logical] = session.register_arrow(f"{logical}_{i}", part)
    t_chunk = {**t, **piece, "statements_all": t["statements"]}
    plan = LearningPlan(session.dialect, t_chunk, specs, windows, **opts)
    try:
        return _learning_eager(session, plan, t_chunk)
    finally:
        for name in piece.values():
            session.drop(name)


def _run_tasks(session, tasks: list[tuple[str, Callable[[Any], Any]]], out, bar) -> None:
    """Run the eager parts (each returns an Arrow table of features by ``rid``) into ``out``.

    Up to :data:`PARALLEL_TASKS` parts run at once, each in a thread with its own cursor
    (:meth:`~talentml.features._frame.DuckDBSession.fork`): while one part's SQL runs in
    DuckDB, another's readings run in compiled kernels (both release the GIL), so the
    cores stay busy through the serial stretches of each. Parts are independent and are
    scattered into ``out`` by row id, so the result does not depend on their order.
    """

    def timed(label, task, on):
        step = time.perf_counter()
        result = task(on)
        logger.debug("%s: %.2f s", label, time.perf_counter() - step)
        return result

    workers = min(PARALLEL_TASKS, len(tasks))
    if workers <= 1:
        for label, task in tasks:
            out.add(timed(label, task, session))
            bar.update()
        return

    def work(label, task):
        fork = session.fork()
        try:
            return timed(label, task, fork)
        finally:
            fork.close()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="talentml-features") as pool:
        futures = [pool.submit(work, label, task) for label, task in tasks]
        try:
            for future in as_completed(futures):
                out.add(future.result())
                bar.update()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _learning_eager(session, plan: LearningPlan, t: dict[str, str]):
    """Learning features of one chunk of employees, computed eagerly on DuckDB.

    DuckDB prepares the statements and their weights; the ordered work (running sums at the
    probes, distinct keys) runs on the Arrow results in numpy
    (:meth:`LearningPlan.readings`), which DuckDB's window functions do far more slowly; the
    feature expressions then run as SQL again.
    """
    d = session.dialect
    common = common_ctes(d, t)
    stmt = plan.statement_ctes()
    queries = plan.eager_queries()
    readers = [q for q in queries if q != "probes"] + sorted(
        {"mandatory", "onboarding", "cohort"} & plan.groups
    )
    temp = []
    if len(readers) > 1:
        # several queries read the statements: prepare them once
        name = session.materialize("l_st", Query(common + stmt).render("SELECT * FROM l_st"))
        temp.append(name)
        stmt = [("l_st", f"SELECT * FROM {name}")]
    extra = list(stmt)
    if queries:
        ctes = common + stmt + plan.skill_ctes() + plan.pass_ctes() + plan.probe_ctes()
        tables = {
            src: session.run(Query(ctes).render(sql), eager=True) for src, sql in queries.items()
        }
        piv = session.register_arrow("l_piv", plan.readings(tables))
        temp.append(piv)
        extra.append(("l_piv", f"SELECT * FROM {piv}"))
        del tables
    result = session.run(Query(common + extra + plan.final_ctes()).render(plan.select), eager=True)
    for name in temp:
        session.drop(name)
    return result


def _org_tables(session, t: dict[str, str], groups: set[str], since_us: int | None) -> dict:
    """The organization-level tables of the baseline and cohort features, computed once over
    every statement and registered (``t["@lbp_rates"]``, ``t["@lbc"]``)."""
    out = {}
    for group, name in (("baseline", "lbp_rates"), ("cohort", "lbc")):
        if group not in groups:
            continue
        q = Query(common_ctes(session.dialect, t))
        q.extend(_lb.org_ctes(session.dialect, t, {group}, learning_since_us=since_us))
        table = session.run(q.render(f"SELECT * FROM {name}"), eager=True)
        out[f"@{name}"] = session.register_arrow(name, table)
    return out


def _reviews_part(d, t, columns, specs):
    return review_ctes(d, t, columns, specs)


def _hris_part(d, t, columns, specs):
    return hris_ctes(d, t, specs)
