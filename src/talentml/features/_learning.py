"""Learning features from xAPI statements: volume, scores, compliance, timing, skills, agility.

Statement-scale work is one SQL plan (:func:`learning_ctes`). Every additive quantity is a
*series*: a weight per fact (a statement, or a derived fact such as "first time this skill was
acquired") at an available time ``t``. The running sums of all series are read at *probe*
times per spine row (``as_of``, ``as_of - window``, the hire date, ...), following the rule of
:mod:`talentml.features._pit`; a feature is an arithmetic expression over those readings,
written with ``{series@probe}`` placeholders. Distinct counts (activities, active weeks) are
turned into additive series too, exactly (see :func:`_distinct_events`).

Definitions used throughout (documented in docs/features.md):

* verb families, from the statement's ``verb`` (short name): launched (launched, initialized,
  attempted), completed, passed, failed, experienced (experienced, played, watched, viewed,
  read), other;
* a *completion* is a ``completed`` statement, or an experienced item with
  ``completion = true``; *minutes* are the durations of completions (passed/failed repeat the
  duration of the attempt and are not added again);
* voluntary / mandatory / onboarding come from the learning catalog (``voluntary``,
  ``mandatory``, ``program``); statements on activities not in the catalog are
  *uncatalogued*: counted in volume, never voluntary; an activity in the catalog with a
  missing value is *unknown* for that column: left out of the counts and shares of the
  features it feeds, which are NULL for a row whose window has only unknown ones
  (:func:`~talentml.features._learning_specs.effective_expr`; with a complete catalog the
  SQL is exactly that of before);
* the *start* of the learning is ``timestamp - duration`` (capped at one day), and off-hours
  means a start on Saturday or Sunday, or on a weekday before 08:00 or at or after 18:00, in
  the employee's own time zone (``employees.timezone``);
* a mandatory course is *current* if passed (verb ``passed`` or ``success = true``) within the
  last 365 days; otherwise it is overdue from 365 days after the last pass, or, if never
  passed, from ``max(hire date, learning records start) + grace`` (60 days by default), where
  the records start at ``learning_since`` or, by default, at the first statement known at
  ``as_of`` (none known yet: not overdue, there is no evidence).
"""

from __future__ import annotations

import re

from . import _learning_baseline as _lb
from ._catalog import FeatureSpec
from ._learning_specs import (
    _DISTINCT_KEYS,
    _ONE,
    _SOURCE_COLUMNS,
    _STATEMENT_COLUMNS,
    _TOKEN,
    _ZERO,
    MANDATORY_VALID,
    MAX_SESSION,
    SKILL_LEVELS,
    VERB_FAMILIES,
    WORKDAY_HOURS,
    Series,
    _flag,
    _probes,
    _series,
    _split_args,
    effective_expr,
    guard_condition,
    learning_specs,
)
from ._pit import (
    DAY_US,
    FACT,
    PROBE,
    RunningReader,
    Window,
    cumulative_window,
    sort_order,
    visible,
)
from ._sql import HOUR_US, Dialect, weekdays

__all__ = ["MANDATORY_VALID", "VERB_FAMILIES", "LearningPlan", "learning_specs"]


# ------------------------------------------------------------------------------- SQL
def _needed(exprs) -> set[tuple[str, str]]:
    pairs = set()
    for expr in exprs:
        pairs.update(_TOKEN.findall(expr))
    return pairs


def _resolve(expr: str, d: Dialect, series: dict[str, Series]) -> str:
    """Replace ``{series@probe}`` by pivoted columns and the dialect markers by SQL."""

    def reading(m: re.Match) -> str:
        col = f"lp.p_{m.group(2)}__{m.group(1)}"
        return col if series[m.group(1)].agg == "MAX" else f"COALESCE({col}, {_ZERO})"

    out = _TOKEN.sub(reading, expr)
    for marker, render in (
        ("__IDIV__(", lambda a: d.idiv(a[0], a[1])),
        ("__WEEKDAYS__(", lambda a: weekdays(d, a[0], a[1])),
    ):
        while marker in out:
            i = out.index(marker)
            args, j = _split_args(out, i + len(marker))
            out = out[:i] + render(args) + out[j:]
    return out


def _verb_family(col: str) -> str:
    whens = " ".join(
        f"WHEN {col} IN ({', '.join(repr(v) for v in verbs)}) THEN '{fam}'"
        for fam, verbs in VERB_FAMILIES.items()
    )
    return f"CASE {whens} ELSE 'other' END"


def _integral(values) -> bool:
    """Whether a weight series holds only whole numbers (summed exactly as int64)."""
    import numpy as np

    if np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_:
        return True
    if values.dtype != np.float64 or not len(values):
        return False
    with np.errstate(invalid="ignore"):
        return bool(
            np.isfinite(values).all()
            and (np.abs(values) < 2**52).all()
            and (values == np.floor(values)).all()
        )


def _key_codes(column) -> object:
    """Integer codes ``0 .. n - 1`` of a key column (strings or integers; missing values
    are one key of their own, as in SQL's PARTITION BY)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_integer(col.type) and col.null_count == 0:
        values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.int64)
        if not len(values):
            return values
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 4 * len(values) + 1024:
            return values - lo
        return np.unique(values, return_inverse=True)[1].astype(np.int64)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    codes = pc.dictionary_encode(col, null_encoding="encode").indices
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)


def _as_int(values):
    import numpy as np

    return values if np.issubdtype(values.dtype, np.integer) else values.astype(np.int64)


def _distinct_kind(expr: str) -> tuple[str, int]:
    """``"first"`` / ``"a:90"`` / ``"b:90"`` -> (kind, window days)."""
    if expr == "first":
        return "first", 0
    kind, days = expr.split(":")
    return kind, int(days)


def distinct_day_facts(k, key, d, t0, t1, kinds: dict) -> dict:
    """Facts whose running counts count distinct keys in windows (numpy twin of the SQL).

    For the records of one employee and key in time order, and a window of ``w``: the keys
    with a record in ``[x - w, x)`` number ``F(x) - A(x - w) + B(x - w)``, where ``F``
    counts first records (before ``x``), ``A`` counts records with no next record or a next
    record more than ``w`` later, and ``B`` counts, for those with a next record, the times
    ``next - w``. (A key seen before ``x`` is missing from the window exactly when its last
    record before ``x - w`` is followed by a gap reaching past ``x``.) The SQL of
    :meth:`LearningPlan.event_ctes` makes the same facts with LAG/LEAD over the records.

    Here the records come grouped by (employee, key, UTC day), with ``t0``/``t1`` the
    first and last record time of the key on day ``d``. Returns ``{series: (k, t)}``, every
    fact of weight 1; ``kinds`` maps series to ``("first", 0)``, ``("a", days)`` or
    ``("b", days)``.

    Within a day, consecutive records are less than a day apart, never more than a window
    (whole days), so they make no ``A``/``B`` facts: only the first record of the first day,
    the last record of each day and the first record of the next day matter. So the facts
    come from far fewer rows, sorted on a compact key.

    The eager build counts the same facts without storing them, in one pass over the
    records sorted by ``(k, t)`` (:func:`talentml.features._kernels.distinct_counts`); this
    function states them in plain NumPy, for reference and tests.
    """
    import numpy as np

    n = len(d)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return {name: (empty, empty) for name in kinds}
    k_lo = int(k.min())
    n_keys = int(key.max()) + 1
    d_lo = int(d.min())
    days = int(d.max()) - d_lo + 1
    group = (k - k_lo) * n_keys + key
    order = (
        sort_order(group, d - d_lo) if int(group.max()) < 2**62 // days else np.lexsort((d, group))
    )
    k, group, t0, t1 = k[order], group[order], t0[order], t1[order]
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = group[1:] == group[:-1]
    same_prev = np.zeros(n, dtype=bool)
    same_prev[1:] = same_next[:-1]
    nt = np.zeros(n, dtype=np.int64)
    nt[:-1] = t0[1:]
    facts = {}
    for name, (kind, days_w) in kinds.items():
        w_us = days_w * DAY_US
        if kind == "first":
            mask, times = ~same_prev, t0
        elif kind == "a":
            mask, times = ~same_next | (nt - t1 > w_us), t1
        else:
            mask, times = same_next & (nt - t1 > w_us), nt - w_us
        facts[name] = (k[mask], times[mask])
    return facts


def _nan_null(expr: str) -> str:
    return f"CASE WHEN isnan({expr}) THEN NULL ELSE {expr} END"


class LearningPlan:
    """The SQL of the learning features for one selection, in stages.

    * :meth:`statement_ctes`: usable statements of the spine's employees with their flags
      (``l_st``);
    * :meth:`event_ctes`: the facts of every series (``l_ev``: ``k``, ``t``, one column per
      series) and the probes (``l_pr``: ``rid``, ``k``, ``t``, ``pno``);
    * :meth:`window_ctes`: the running sums at the probes, as SQL window functions
      (``l_piv``: ``rid`` and ``p_<probe>__<series>``). The eager DuckDB path computes the
      same table with :func:`talentml.features._pit.running_at_probes` instead;
    * :meth:`final_ctes` and :attr:`select`: mandatory compliance and the feature columns.

    ``t`` maps logical table names to SQL names; the CTEs ``emp`` and ``sp`` (see
    :func:`talentml.features._build.common_ctes`) come first.
    """

    def __init__(
        self,
        d: Dialect,
        t: dict[str, str],
        specs: list[FeatureSpec],
        windows: tuple[Window, ...],
        *,
        grace: Window,
        learning_since_us: int | None,
        first_stored_us: tuple[int | None] | None = None,
        partial: frozenset[str] = frozenset(),
    ) -> None:
        self.d, self.t, self.specs, self.windows = d, t, specs, windows
        #: inputs that are partly missing: their guards apply (see ``effective_expr``)
        self.partial = frozenset(partial)
        self.exprs = {s.name: effective_expr(s, self.partial) for s in specs}
        # features over the stage columns of the baseline (see ``select``)
        self.staged = [s for s in specs if s.group == "baseline"]
        self.stage = _lb.stage_columns() if self.staged else ({}, {})
        self.stage_guards = {s.name: guard_condition(s, self.partial) for s in self.staged}
        self.grace, self.learning_since_us = grace, learning_since_us
        #: ``(MIN(stored) in us,)`` over every statement when already known (eager chunks)
        self.first_stored_us = first_stored_us
        self.series = {**_series(windows), **_lb.baseline_series()}
        self.probes = {**_lb.baseline_probes(), **_probes(windows)}
        hidden = [*self.stage[0].values(), *(g for g in self.stage_guards.values() if g)]
        staged = {s.name for s in self.staged}
        self.pairs = sorted(_needed([e for n, e in self.exprs.items() if n not in staged] + hidden))
        self.used_series = sorted({s for s, _ in self.pairs})
        self.used_probes = [p for p in self.probes if any(pp == p for _, pp in self.pairs)]
        self.probe_no = {p: i for i, p in enumerate(self.used_probes)}
        self.sources = {self.series[s].source for s in self.used_series}
        self.groups = {s.group for s in specs}
        self.aggs = {s: self.series[s].agg for s in self.used_series}

    @property
    def needs_statements(self) -> bool:
        return bool(self.used_series) or bool({"mandatory", "onboarding", "cohort"} & self.groups)

    @property
    def has_series(self) -> bool:
        return bool(self.used_series)

    # ------------------------------------------------------------------ statements
    @property
    def statement_columns(self) -> list[str]:
        """The columns of ``l_st`` this selection reads."""
        cols: set[str] = set()
        for s in self.used_series:
            cols.update(_STATEMENT_COLUMNS.get(s, _lb.STATEMENT_COLUMNS.get(s, ())))
            source = self.series[s].source
            cols.update(_lb.PASS_COLUMNS if source == "pass" else _SOURCE_COLUMNS.get(source, ()))
        if "mandatory" in self.groups:
            cols.update(("object_id", "mand", "pass_c"))
        if {"onboarding", "cohort"} & self.groups:
            cols.update(_lb.ONBOARDING_COLUMNS)
        order = (
            "object_id",
            "vf",
            "score",
            "compl",
            "pass_c",
            "minutes",
            "vol",
            "mand",
            "onb",
            "volu",
            "sku",
            "lvu",
            "onbu",
            "wkend",
            "off",
            "week",
        )
        return [c for c in order if c in cols]

    def statement_ctes(self) -> list[tuple[str, str]]:
        """CTEs up to ``l_st``: one row per usable statement with the flags this selection reads."""
        if not self.needs_statements:
            return []
        d, t, ep = self.d, self.t, self.d.epoch_us
        cols = self.statement_columns
        need_local = bool({"wkend", "off", "week"} & set(cols))
        # catalog flags: a value (1/0), or "unknown" (1 when the activity is in the catalog
        # with that value missing); an activity not in the catalog is known: none of these
        flags = {
            "vol": "MAX(CASE WHEN voluntary THEN 1 ELSE 0 END)",
            "mand": "MAX(CASE WHEN mandatory THEN 1 ELSE 0 END)",
            "onb": "MAX(CASE WHEN program = 'onboarding' THEN 1 ELSE 0 END)",
            "volu": "MIN(CASE WHEN voluntary IS NULL THEN 1 ELSE 0 END)",
            "sku": "MIN(CASE WHEN skills IS NULL THEN 1 ELSE 0 END)",
            "lvu": "MIN(CASE WHEN level IS NULL AND skills IS NOT NULL "
            f"AND {d.list_size('skills')} > 0 THEN 1 ELSE 0 END)",
            "onbu": "MIN(CASE WHEN program IS NULL THEN 1 ELSE 0 END)",
        }
        cat_cols = [c for c in flags if c in cols]
        need_cat = bool(cat_cols)
        ctes = []
        if need_cat:
            select_flags = ", ".join(f"{flags[c]} AS {c}" for c in cat_cols)
            ctes.append(
                (
                    "l_cat",
                    f"""SELECT activity_id, {select_flags}
                    FROM {t["catalog"]} GROUP BY activity_id""",
                )
            )
        where = "x.stored IS NOT NULL AND x.timestamp IS NOT NULL"
        dur = _nan_null("x.duration_s")
        start = (
            f"{ep('x.timestamp')} - LEAST(CAST(floor(COALESCE(GREATEST({dur}, {_ZERO}), {_ZERO})"
            f" * 1000000) AS BIGINT), {MAX_SESSION.us})"
        )
        local_in = f", e.tz, e.tz_id, {start} AS s_us" if need_local else ""
        ctes.append(
            (
                "l_raw",
                f"""SELECT e.k, {ep("x.stored")} AS t{local_in},
                  {_verb_family("lower(x.verb)")} AS vf, x.object_id, x.completion, x.success,
                  {_nan_null("x.score_scaled")} AS score, {dur} AS duration_s
                FROM {t["statements"]} x JOIN emp e ON x.employee_id = e.eid
                WHERE {where}""",
            )
        )
        src = "l_raw"
        if need_local:
            ctes.extend(
                d.local_time_ctes(
                    "l_raw", "l_loc", days=(t["statements"], "timestamp", MAX_SESSION.us)
                )
            )
            src = "l_loc"
        hour = d.idiv(f"(r.local_us % {DAY_US})", HOUR_US)
        lday = d.idiv("r.local_us", DAY_US)
        dow = f"(({lday} + 3) % 7)"
        lo_h, hi_h = WORKDAY_HOURS
        exprs = {
            "object_id": "r.object_id",
            "vf": "r.vf",
            "score": "r.score",
            "compl": "CASE WHEN r.vf = 'completed' OR (r.vf = 'experienced' "
            "AND COALESCE(r.completion, FALSE)) THEN 1 ELSE 0 END",
            "pass_c": "CASE WHEN r.vf = 'passed' OR (r.vf <> 'failed' "
            "AND COALESCE(r.success, FALSE)) THEN 1 ELSE 0 END",
            "minutes": f"CASE WHEN r.vf IN ('completed', 'experienced') THEN "
            f"COALESCE(r.duration_s, {_ZERO}) / CAST(60 AS DOUBLE) ELSE {_ZERO} END",
            "vol": "COALESCE(c.vol, 0)",
            "mand": "COALESCE(c.mand, 0)",
            "onb": "COALESCE(c.onb, 0)",
            "volu": "COALESCE(c.volu, 0)",
            "sku": "COALESCE(c.sku, 0)",
            "lvu": "COALESCE(c.lvu, 0)",
            "onbu": "COALESCE(c.onbu, 0)",
            "wkend": f"CASE WHEN {dow} >= 5 THEN 1 ELSE 0 END",
            "off": f"CASE WHEN {dow} >= 5 OR {hour} < {lo_h} OR {hour} >= {hi_h} THEN 1 ELSE 0 END",
            "week": d.idiv(f"{lday} + 3", 7),
        }
        select = ", ".join(["r.k", "r.t"] + [f"{exprs[c]} AS {c}" for c in cols])
        join = " LEFT JOIN l_cat c ON c.activity_id = r.object_id" if need_cat else ""
        ctes.append(("l_st", f"SELECT {select} FROM {src} r{join}"))
        return ctes

    # ---------------------------------------------------------------------- events
    def _series_of(self, source: str) -> list[str]:
        return [s for s in self.used_series if self.series[s].source == source]

    def statement_weights(self) -> str:
        """SELECT over ``l_st``: ``k``, ``t``, the weight of every statement series (counts as
        TINYINT: compact and exact when read back) and the keys of distinct counts."""
        exprs = ["k", "t"]
        for s in self._series_of("statement"):
            spec = self.series[s]
            exprs.append(f"{spec.int_expr or spec.expr} AS {s}")
        for source, keycol in _DISTINCT_KEYS.items():
            if self._series_of(source):
                exprs.append(f"{keycol} AS key_{source}")
        return f"SELECT {', '.join(exprs)} FROM l_st"

    def skill_ctes(self) -> list[tuple[str, str]]:
        """``l_skv``: skill facts. Per employee and skill, the first time a completed (or
        passed) catalog activity teaching it was recorded (the acquisition, ``t0``) and the
        first time one of level >= L was, for L = 1..4: the highest level reached before
        ``x`` is the number of those times before ``x`` (so level gains are additive facts,
        with no window function). An activity of unknown level teaches its skills but adds
        no level."""
        if "skill" not in self.sources:
            return []
        firsts = ", ".join(
            f"MIN(CASE WHEN c.level >= {lv} THEN s.t END) AS t{lv}" for lv in SKILL_LEVELS
        )
        rows = "\nUNION ALL\n".join(
            [f"SELECT k, t0 AS t, {_ONE} AS skill_new, {_ZERO} AS skill_gain FROM l_skf"]
            + [
                f"SELECT k, t{lv} AS t, {_ZERO} AS skill_new, "
                f"{_ONE} AS skill_gain FROM l_skf WHERE t{lv} IS NOT NULL"
                for lv in SKILL_LEVELS
            ]
        )
        return [
            (
                "l_sk",
                f"""SELECT activity_id, skill, MAX(level) AS level FROM (
                  SELECT activity_id, CAST(level AS BIGINT) AS level,
                         {self.d.explode("skills")} AS skill
                  FROM {self.t["catalog"]}) x
                WHERE skill IS NOT NULL GROUP BY activity_id, skill""",
            ),
            (
                "l_skf",
                f"""SELECT s.k, c.skill, MIN(s.t) AS t0, {firsts}
                FROM l_st s JOIN l_sk c ON c.activity_id = s.object_id
                WHERE s.compl = 1 OR s.vf = 'passed' GROUP BY s.k, c.skill""",
            ),
            ("l_skv", rows),
        ]

    def pass_ctes(self) -> list[tuple[str, str]]:
        """``l_tpv``: time-to-pass facts (see :func:`talentml.features._learning_baseline.pass_ctes`)."""
        return _lb.pass_ctes() if "pass" in self.sources else []

    def probe_ctes(self) -> list[tuple[str, str]]:
        """``l_pr``: the probes (``rid``, ``k``, ``t``, ``pno``)."""
        if not self.has_series:
            return []
        return [
            (
                "l_pr",
                "\nUNION ALL\n".join(
                    f"SELECT rid, k, {self.probes[p]} AS t, {self.probe_no[p]} AS pno FROM sp"
                    for p in self.used_probes
                ),
            )
        ]

    def event_ctes(self) -> list[tuple[str, str]]:
        """``l_ev`` (facts of every used series, for SQL windows) and ``l_pr`` (probes)."""
        if not self.has_series:
            return []
        series, cols = self.series, self.used_series
        ctes: list[tuple[str, str]] = []
        union: list[str] = []

        def row(values: dict[str, str], time: str, src: str, where: str | None = None) -> str:
            exprs = []
            for s in cols:
                null = "CAST(NULL AS BIGINT)" if series[s].agg == "MAX" else _ZERO
                exprs.append(values.get(s, null) + f" AS {s}")
            sql = f"SELECT k, {time} AS t, {', '.join(exprs)} FROM {src}"
            return sql + (f" WHERE {where}" if where else "")

        stmt = self._series_of("statement")
        if stmt:
            union.append(row({s: series[s].expr for s in stmt}, "t", "l_st"))
        for key, source, keycol in (("act", "activity", "object_id"), ("wk", "week", "week")):
            mine = self._series_of(source)
            if not mine:
                continue
            # the previous and next record of the same key (ties: the rows of a tie see each
            # other at distance 0, which is never a gap, so no de-duplication is needed)
            ctes.append(
                (
                    f"l_n{key}",
                    f"""SELECT k, t,
                      LAG(t) OVER (PARTITION BY k, {keycol} ORDER BY t) AS pt,
                      LEAD(t) OVER (PARTITION BY k, {keycol} ORDER BY t) AS nt
                    FROM l_st""",
                )
            )
            at_t: dict[str, str] = {}
            conds = []
            for s in mine:
                kind, w_days = _distinct_kind(series[s].expr)
                if kind == "first":
                    at_t[s] = _flag("pt IS NULL")
                    conds.append("pt IS NULL")
                elif kind == "a":
                    w_us = w_days * DAY_US
                    at_t[s] = _flag(f"nt IS NULL OR nt - t > {w_us}")
                    conds.append(f"(nt IS NULL OR nt - t > {w_us})")
            if at_t:
                union.append(row(at_t, "t", f"l_n{key}", " OR ".join(conds)))
            for s in mine:
                kind, w_days = _distinct_kind(series[s].expr)
                if kind == "b":
                    w_us = w_days * DAY_US
                    union.append(
                        row(
                            {s: _ONE},
                            f"nt - {w_us}",
                            f"l_n{key}",
                            f"nt IS NOT NULL AND nt - t > {w_us}",
                        )
                    )
        skill = self._series_of("skill")
        if skill:
            ctes.extend(self.skill_ctes())
            union.append(row({s: s for s in skill}, "t", "l_skv"))
        passes = self._series_of("pass")
        if passes:
            ctes.extend(self.pass_ctes())
            union.append(row({s: s for s in passes}, "t", "l_tpv"))
        ctes.append(("l_ev", "\nUNION ALL\n".join(union)))
        ctes.extend(self.probe_ctes())
        return ctes

    @property
    def pivot_columns(self) -> list[tuple[str, str, str]]:
        """``(column, series, probe)`` of the readings table ``l_piv``."""
        return [(f"p_{p}__{s}", s, p) for s, p in self.pairs]

    def window_ctes(self) -> list[tuple[str, str]]:
        """``l_piv`` from ``l_ev`` and ``l_pr`` with SQL window functions (Spark, relations)."""
        if not self.has_series:
            return []
        cols, series = self.used_series, self.series
        zeros = ", ".join(
            ("CAST(NULL AS BIGINT)" if series[s].agg == "MAX" else _ZERO) + f" AS {s}" for s in cols
        )
        facts = ", ".join(cols)
        running = ", ".join(f"{series[s].agg}({s}) OVER cw AS {s}" for s in cols)
        piv = ", ".join(
            f"MAX(CASE WHEN pno = {self.probe_no[p]} THEN {s} END) AS {c}"
            for c, s, p in self.pivot_columns
        )
        return [
            (
                "l_u",
                f"""SELECT k, t, {FACT} AS kind, CAST(NULL AS BIGINT) AS rid,
                  CAST(NULL AS INT) AS pno, {facts} FROM l_ev
                UNION ALL
                SELECT k, t, {PROBE} AS kind, CAST(rid AS BIGINT) AS rid,
                  CAST(pno AS INT) AS pno, {zeros} FROM l_pr""",
            ),
            (
                "l_cum",
                f"SELECT rid, pno, kind, {running} FROM l_u "
                f"WINDOW cw AS ({cumulative_window('k')})",
            ),
            ("l_piv", f"SELECT rid, {piv} FROM l_cum WHERE kind = {PROBE} GROUP BY rid"),
        ]

    # ------------------------------------------------------------ the eager twin
    def eager_queries(self) -> dict[str, str]:
        """SELECTs whose Arrow results :meth:`readings` turns into ``l_piv`` (eager DuckDB)."""
        out = {}
        if any(self._series_of(source) for source in ("statement", *_DISTINCT_KEYS)):
            out["statement"] = self.statement_weights()
        if self._series_of("skill"):
            out["skill"] = "SELECT * FROM l_skv"
        if self._series_of("pass"):
            out["pass"] = "SELECT * FROM l_tpv"
        if self.has_series:
            out["probes"] = "SELECT rid, k, t, pno FROM l_pr ORDER BY pno, k, t"
        return out

    def readings(self, tables: dict) -> object:
        """``l_piv`` (Arrow) from the results of :meth:`eager_queries`.

        The same numbers as :meth:`window_ctes`: the facts of each source are sorted by
        ``(k, t)`` and read at the probes by :class:`~talentml.features._pit.RunningReader`
        (only the series each probe needs); distinct keys are counted in the same sorted
        pass by :func:`~talentml.features._kernels.distinct_counts`, whose facts are those
        of :func:`distinct_day_facts` and of the LAG/LEAD SQL of :meth:`event_ctes`.
        """
        import numpy as np
        import pyarrow as pa

        from . import _kernels

        def arr(table, name, dtype=None):
            values = table.column(name).to_numpy(zero_copy_only=False)
            return values if dtype is None else np.asarray(values, dtype=dtype)

        probes = tables["probes"]  # ordered by pno, then k, then t
        pk, pt = arr(probes, "k", np.int64), arr(probes, "t", np.int64)
        pno, prid = arr(probes, "pno", np.int64), arr(probes, "rid", np.int64)
        bounds = np.searchsorted(pno, np.arange(len(self.used_probes) + 1))
        rids = np.sort(prid[bounds[0] : bounds[1]])  # each spine row once per probe kind
        rows = {
            p: np.searchsorted(rids, prid[bounds[j] : bounds[j + 1]])
            for p, j in self.probe_no.items()
        }
        wide = {c: np.full(len(rids), np.nan) for c, _, _ in self.pivot_columns}
        wanted: dict[str, list[tuple[str, str]]] = {}
        for column, s, p in self.pivot_columns:
            wanted.setdefault(s, []).append((column, p))

        def block_of(p):
            return slice(int(bounds[self.probe_no[p]]), int(bounds[self.probe_no[p] + 1]))

        def run(tb, series):
            # sorted by (k, t) with compiled kernels: a counting sort on the (dense)
            # employee keys, then each employee's rows by time; the weights are read
            # through the permutation, never copied in sorted order
            k, t = arr(tb, "k", np.int64), arr(tb, "t", np.int64)
            order = _kernels.order_by_k_then(k, t)
            if order is not None:
                k, t = k[order], t[order]
            reader = RunningReader(k, t, pk, pt, check=False)
            for s in series:
                targets = wanted.get(s, [])
                if not targets:
                    continue
                blocks = [block_of(p) for _, p in targets]
                spec = self.series[s]
                if spec.agg == "MAX" and spec.expr == "t":
                    # the last time itself: the reader's own sorted times
                    for (column, p), b in zip(targets, blocks, strict=True):
                        pos, start = reader.positions(b)
                        _kernels.last_at(reader.event_t, pos, start, rows[p], wide[column])
                    continue
                w = arr(tb, s) if spec.source == "statement" else arr(tb, s, np.float64)
                if spec.agg == "SUM" and _integral(w):
                    running = _kernels.prefix_sum_int(_as_int(w), order)
                    for (column, p), b in zip(targets, blocks, strict=True):
                        pos, start = reader.positions(b)
                        _kernels.sum_at(running, pos, start, rows[p], wide[column])
                    continue
                got = reader.read(w, spec.agg, blocks, order=order)
                for (column, p), values in zip(targets, got, strict=True):
                    wide[column][rows[p]] = values
            return k, t, order

        if "statement" in tables:
            tb = tables["statement"]
            k, t, order = run(tb, self._series_of("statement"))
            for source in _DISTINCT_KEYS:
                pairs, targets = [], []
                for s in self._series_of(source):
                    kind, days = _distinct_kind(self.series[s].expr)
                    for column, p in wanted.get(s, []):
                        b = block_of(p)
                        pairs.append((kind, days, b.start, b.stop))
                        targets.append((column, p))
                if not pairs:
                    continue
                keys = _key_codes(tb.column(f"key_{source}"))
                if order is not None:
                    keys = keys[order]
                got = _kernels.distinct_counts(k, t, keys, pairs, pk, pt)
                for (column, p), values in zip(targets, got, strict=True):
                    wide[column][rows[p]] = values
        for source in ("skill", "pass"):
            if source in tables:
                run(tables[source], self._series_of(source))
        arrays = {"rid": pa.array(rids, type=pa.int64())}
        for column, _, _ in self.pivot_columns:
            arrays[column] = pa.array(wide[column], type=pa.float64(), from_pandas=True)
        return pa.table(arrays)

    # ----------------------------------------------------------------------- final
    def final_ctes(self) -> list[tuple[str, str]]:
        """Mandatory-compliance, baseline and onboarding CTEs (when selected)."""
        t = self.t
        ctes: list[tuple[str, str]] = []
        if _lb.SINCE_GROUPS & self.groups:
            # When the learning records start: given, or the first record known at as_of
            # (with none known yet, a course never passed is not overdue: no evidence).
            hs = _lb.since_sql(
                t,
                self.d,
                learning_since_us=self.learning_since_us,
                first_stored_us=self.first_stored_us,
            )
            ctes.append(("l_hs", f"SELECT {hs} AS hs"))
        since_known = "TRUE" if self.learning_since_us is not None else visible("h.hs", "sp.a")
        if "mandatory" in self.groups:
            ctes += self._mandatory_ctes(since_known)
        return ctes + _lb.final_ctes(
            self.d, t, self.groups, learning_since_us=self.learning_since_us
        )

    def _mandatory_ctes(self, since_known: str) -> list[tuple[str, str]]:
        t = self.t
        return [
            (
                "l_mcat",
                f"SELECT DISTINCT activity_id FROM {t['catalog']} WHERE COALESCE(mandatory, FALSE)",
            ),
            ("l_mpass", "SELECT k, object_id, t FROM l_st WHERE mand = 1 AND pass_c = 1"),
            (
                "l_mlast",
                f"""SELECT sp.rid, m.activity_id, MAX(p.t) AS lp
                FROM sp CROSS JOIN l_mcat m
                LEFT JOIN l_mpass p ON p.k = sp.k AND p.object_id = m.activity_id
                  AND {visible("p.t", "sp.a")}
                GROUP BY sp.rid, m.activity_id""",
            ),
            (
                "l_mdue",
                f"""SELECT l.rid, sp.a, CASE WHEN l.lp IS NOT NULL
                    THEN l.lp + {MANDATORY_VALID.us}
                  WHEN {since_known} THEN GREATEST(sp.hire_us, h.hs) + {self.grace.us}
                  END AS due
                FROM l_mlast l JOIN sp ON sp.rid = l.rid CROSS JOIN l_hs h""",
            ),
            (
                "l_mand",
                """SELECT rid, SUM(CASE WHEN a > due THEN 1 ELSE 0 END) AS overdue_n,
                  MAX(GREATEST(a - COALESCE(due, a), 0)) AS overdue_us
                FROM l_mdue GROUP BY rid""",
            ),
        ]

    @property
    def select(self) -> str:
        """The final SELECT: ``rid`` and one column per feature."""
        joins = []
        if self.has_series:
            joins.append("LEFT JOIN l_piv lp ON lp.rid = sp.rid")
        if "mandatory" in self.groups:
            joins.append("LEFT JOIN l_mand lm ON lm.rid = sp.rid")
        joins += _lb.final_joins(self.groups)
        d = self.d
        resolve = lambda expr: _resolve(expr, d, self.series)  # noqa: E731
        staged = {s.name for s in self.staged}
        cols = [
            _lb.typed(d, resolve(self.exprs[s.name]), s) for s in self.specs if s.name not in staged
        ]
        level1 = f"SELECT sp.rid, {{}} FROM sp {' '.join(joins)}"
        if not staged:
            return level1.format(", ".join(cols))
        return _lb.staged_select(d, level1, cols, self.specs, self.stage_guards, resolve)
