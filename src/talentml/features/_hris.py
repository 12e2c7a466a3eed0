"""HRIS features, reconstructed as they were known at ``as_of``.

``employees`` is a snapshot taken at export time: its manager, department and level are
today's. Each attribute is rebuilt at ``as_of`` from the snapshot and ``job_events``
(:func:`pit_value`): the ``to_value`` of the latest event known at ``as_of`` (recorded before
it, :func:`~talentml.features._pit.visible`) and in effect (effective at or before it,
:func:`~talentml.features._pit.effective_at`); else the ``from_value`` of the earliest other
event (the value before the first change not known yet); else the snapshot. Levels come from
``hire`` and ``promotion`` events, departments from ``transfer``, managers from
``manager_change``. The job family has no event history: it is the snapshot's (masking it when
the department changed later would make its absence announce a future transfer).

A termination is known at ``as_of`` only once recorded (``termination`` events; an employee
with a ``termination_date`` but no such event is taken as recorded on that date). The team of
an employee is everyone with the same manager at ``as_of`` (the employee included) who is
hired and not known to have left; team exits are known voluntary terminations of people whose
manager, at their exit, was the employee's manager at ``as_of``.
"""

from __future__ import annotations

from ._catalog import FeatureSpec
from ._pit import Window, effective_at, visible
from ._sql import Dialect, days_between

__all__ = ["MANAGER_CHANGE_WINDOW", "TEAM_EXIT_WINDOWS", "hris_ctes", "hris_specs", "pit_value"]

#: Look-back of the manager-change count.
MANAGER_CHANGE_WINDOW = Window(365)
#: Look-backs of team voluntary exits (about 6 and 12 months).
TEAM_EXIT_WINDOWS = (Window(182), Window(365))
LEVEL_EVENTS = ("hire", "promotion")
#: What each HRIS feature cannot do without (by name, else by group; see ``INPUTS``).
_NEEDS = {
    "tenure_days": ("employees.hire_date",),
    "job_level": ("employees.job_level",),
    "job_family": ("employees.job_family",),
    "department": ("employees.department",),
    "team_size": ("employees.manager_id",),
}
_NEEDS_BY_GROUP = {
    "events": ("job_events",),
    "team": ("employees.manager_id", "employees.termination_type"),
}
ROLE_EVENTS = ("hire", "promotion", "transfer")


# size: a data table (the HRIS feature catalog), one FeatureSpec per feature
def hris_specs() -> list[FeatureSpec]:
    """The HRIS features, in output order."""

    def spec(name, description, unit, window, actionable, direction, template, dtype, expr, group):
        return FeatureSpec(
            needs=_NEEDS.get(name, _NEEDS_BY_GROUP.get(group, ())),
            name=name,
            description=description,
            unit=unit,
            family="hris",
            window=window,
            actionable=actionable,
            direction=direction,
            template=template,
            dtype=dtype,
            expr=expr,
            group=group,
        )

    now = "at as_of"
    mc = MANAGER_CHANGE_WINDOW
    specs = [
        spec(
            "tenure_days",
            "Days from the hire date to as_of.",
            "days",
            now,
            False,
            "neutral",
            "{value:.0f} days with the organization",
            "float64",
            days_between("sp.a", "sp.hire_us"),
            "base",
        ),
        spec(
            "job_level",
            "Job level at as_of (1 = entry), from hire and promotion events.",
            "level",
            now,
            False,
            "neutral",
            "job level {value:.0f}",
            "float64",
            "CAST(hl.val AS DOUBLE)",
            "level",
        ),
        spec(
            "job_family",
            "Job family from the employees export: job_events keep no history of it, so after "
            "a later change the export's family shows (see docs/features.md).",
            "category",
            now,
            False,
            "neutral",
            "works in the {value} job family",
            "string",
            "e.job_family",
            "base",
        ),
        spec(
            "department",
            "Department at as_of, from transfer events.",
            "category",
            now,
            False,
            "neutral",
            "works in the {value} department",
            "string",
            "hd.val",
            "department",
        ),
        spec(
            "days_in_role",
            "Days since the last hire, promotion or transfer in effect at as_of.",
            "days",
            now,
            False,
            "neutral",
            "{value:.0f} days in the current role",
            "float64",
            days_between("sp.a", "COALESCE(ha.role_eff, sp.hire_us)"),
            "events",
        ),
        spec(
            "days_since_promotion",
            "Days since the last promotion in effect at as_of; missing if never promoted.",
            "days",
            now,
            False,
            "lower_is_better",
            "{value:.0f} days since the last promotion",
            "float64",
            days_between("sp.a", "ha.promo_eff"),
            "events",
        ),
        spec(
            "n_promotions",
            "Promotions in effect at as_of, since the hire date.",
            "promotions",
            "since hire",
            False,
            "higher_is_better",
            "{value:.0f} promotions since joining",
            "int64",
            "COALESCE(ha.n_promo, 0)",
            "events",
        ),
        spec(
            f"manager_changes_{mc.label}",
            f"Changes of manager in effect in the last {mc.days} days.",
            "changes",
            mc.text,
            False,
            "lower_is_better",
            f"{{value:.0f}} changes of manager in the last {mc.days} days",
            "int64",
            "COALESCE(ha.mc_w, 0)",
            "events",
        ),
        spec(
            "manager_changes_since_hire",
            "Changes of manager in effect since the hire date.",
            "changes",
            "since hire",
            False,
            "lower_is_better",
            "{value:.0f} changes of manager since joining",
            "int64",
            "COALESCE(ha.mc_hire, 0)",
            "events",
        ),
        spec(
            "team_size",
            "People reporting to the employee's manager at as_of, the employee included; "
            "missing without a manager.",
            "people",
            now,
            False,
            "neutral",
            "a team of {value:.0f} people",
            "float64",
            "CASE WHEN hm.val IS NOT NULL THEN CAST(COALESCE(ts.size, 0) AS DOUBLE) END",
            "team",
        ),
    ]
    for w in TEAM_EXIT_WINDOWS:
        specs.append(
            spec(
                f"team_voluntary_exits_{w.label}",
                f"Voluntary exits in the last {w.days} days of people reporting to the "
                "employee's current manager when they left; missing without a manager.",
                "exits",
                w.text,
                False,
                "lower_is_better",
                f"{{value:.0f}} colleagues in the team left voluntarily in the last {w.days} days",
                "float64",
                f"CASE WHEN hm.val IS NOT NULL THEN CAST(COALESCE(tx.x_{w.label}, 0) AS DOUBLE) END",
                "team",
            )
        )
    return specs


def pit_value(
    name: str,
    probes: str,
    keys: tuple[str, ...],
    events: tuple[str, ...],
    snapshot: str,
) -> list[tuple[str, str]]:
    """CTEs rebuilding an attribute at probe times from ``job_events`` and the snapshot.

    ``probes`` has ``keys``, ``k`` (employee), ``teff`` (the time the value is wanted for) and
    ``tvis`` (what is known: events recorded before it). The last CTE, ``name``, has ``keys``
    and ``val``: the ``to_value`` of the latest known event in effect at ``teff``; else the
    ``from_value`` of the earliest other event; else ``snapshot`` (an expression over the
    employee row ``e``).
    """
    kl = ", ".join(keys)
    pk = ", ".join(f"p.{k}" for k in keys)
    on = " AND ".join(f"z.{k} = p.{k}" for k in keys)
    ev = ", ".join(f"'{e}'" for e in events)
    known = f"{visible('ev.rec', 'p.tvis')} AND {effective_at('ev.eff', 'p.teff')}"
    return [
        (
            f"{name}_x",
            f"""SELECT {pk}, ev.eff, ev.rec, ev.fv, ev.tv,
              CASE WHEN {known} THEN 1 ELSE 0 END AS known
            FROM {probes} p JOIN h_ev ev ON ev.k = p.k WHERE ev.event IN ({ev})""",
        ),
        (
            f"{name}_r",
            f"""SELECT {kl}, known, fv, tv, ROW_NUMBER() OVER (PARTITION BY {kl}, known ORDER BY
              CASE WHEN known = 1 THEN -eff ELSE eff END,
              CASE WHEN known = 1 THEN -rec ELSE rec END,
              fv NULLS LAST, tv NULLS LAST) AS rn
            FROM {name}_x""",
        ),
        (
            f"{name}_z",
            f"""SELECT {kl}, MAX(known) AS has_known,
              MAX(CASE WHEN known = 1 AND rn = 1 THEN tv END) AS kv,
              MAX(CASE WHEN known = 0 AND rn = 1 THEN fv END) AS lv
            FROM {name}_r GROUP BY {kl}""",
        ),
        (
            name,
            f"""SELECT {pk}, CASE WHEN z.has_known = 1 THEN z.kv WHEN z.has_known = 0 THEN z.lv
              ELSE {snapshot} END AS val
            FROM {probes} p JOIN emp e ON e.k = p.k LEFT JOIN {name}_z z ON {on}""",
        ),
    ]


def hris_ctes(
    d: Dialect, t: dict[str, str], specs: list[FeatureSpec]
) -> tuple[list[tuple[str, str]], str]:
    """CTEs and final SELECT (``rid`` + one column per spec) of the HRIS features."""
    ep = d.epoch_us
    groups = {s.group for s in specs}
    if "team" in groups:
        groups.add("manager")
    ctes: list[tuple[str, str]] = []
    joins = ["JOIN emp e ON e.k = sp.k"]
    if groups - {"base"}:
        ctes.append(
            (
                "h_ev",
                f"""SELECT e.k, lower(x.event) AS event, {ep("x.effective_date")} AS eff,
                  {ep("x.recorded_at")} AS rec, x.from_value AS fv, x.to_value AS tv
                FROM {t["job_events"]} x JOIN emp e ON x.employee_id = e.eid
                WHERE x.effective_date IS NOT NULL AND x.recorded_at IS NOT NULL""",
            )
        )
        ctes.append(("h_p", "SELECT rid, k, a AS teff, a AS tvis FROM sp"))
    s = d.string
    if "level" in groups:
        ctes += pit_value("h_lvl", "h_p", ("rid",), LEVEL_EVENTS, f"CAST(e.job_level AS {s})")
        ctes.append(("h_lvlv", f"SELECT rid, {d.try_bigint('val')} AS val FROM h_lvl"))
        joins.append("LEFT JOIN h_lvlv hl ON hl.rid = sp.rid")
    if "department" in groups:
        ctes += pit_value("h_dep", "h_p", ("rid",), ("transfer",), "e.department")
        joins.append("LEFT JOIN h_dep hd ON hd.rid = sp.rid")
    if "events" in groups:
        mc = MANAGER_CHANGE_WINDOW
        role = ", ".join(f"'{e}'" for e in ROLE_EVENTS)
        ctes.append(
            (
                "h_agg",
                f"""SELECT p.rid,
                  MAX(CASE WHEN ev.event IN ({role}) THEN ev.eff END) AS role_eff,
                  MAX(CASE WHEN ev.event = 'promotion' THEN ev.eff END) AS promo_eff,
                  SUM(CASE WHEN ev.event = 'promotion' THEN 1 ELSE 0 END) AS n_promo,
                  SUM(CASE WHEN ev.event = 'manager_change' AND ev.eff >= p.a - {mc.us}
                      THEN 1 ELSE 0 END) AS mc_w,
                  SUM(CASE WHEN ev.event = 'manager_change' AND ev.eff >= p.hire_us
                      THEN 1 ELSE 0 END) AS mc_hire
                FROM sp p JOIN h_ev ev ON ev.k = p.k
                WHERE {visible("ev.rec", "p.a")} AND {effective_at("ev.eff", "p.a")}
                GROUP BY p.rid""",
            )
        )
        joins.append("LEFT JOIN h_agg ha ON ha.rid = sp.rid")
    if "manager" in groups:
        ctes += pit_value("h_mgr", "h_p", ("rid",), ("manager_change",), "e.manager_id")
        joins.append("LEFT JOIN h_mgr hm ON hm.rid = sp.rid")
    if "team" in groups:
        longest = max(TEAM_EXIT_WINDOWS, key=lambda w: w.days)
        ctes += [
            (
                "h_cand",
                """SELECT DISTINCT m, k FROM (
                  SELECT manager_id AS m, k FROM emp WHERE manager_id IS NOT NULL
                  UNION ALL SELECT fv AS m, k FROM h_ev
                    WHERE event = 'manager_change' AND fv IS NOT NULL
                  UNION ALL SELECT tv AS m, k FROM h_ev
                    WHERE event = 'manager_change' AND tv IS NOT NULL) z""",
            ),
            (
                "h_term",
                """SELECT ev.k, ev.eff, ev.rec,
                  CASE WHEN lower(COALESCE(ev.fv, '')) = 'voluntary'
                    OR lower(COALESCE(ev.tv, '')) = 'voluntary'
                    OR COALESCE(e.term_type, '') = 'voluntary' THEN 1 ELSE 0 END AS vol
                FROM h_ev ev JOIN emp e ON e.k = ev.k WHERE ev.event = 'termination'
                UNION ALL
                SELECT e.k, e.term_us AS eff, e.term_us AS rec,
                  CASE WHEN COALESCE(e.term_type, '') = 'voluntary' THEN 1 ELSE 0 END AS vol
                FROM emp e WHERE e.term_us IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM h_ev ev WHERE ev.k = e.k AND ev.event = 'termination')""",
            ),
            (
                "h_tp",
                "SELECT DISTINCT sp.a, hm.val AS m FROM sp JOIN h_mgr hm ON hm.rid = sp.rid "
                "WHERE hm.val IS NOT NULL",
            ),
            (
                "h_tj",
                "SELECT tp.a, tp.m, c.k, tp.a AS teff, tp.a AS tvis "
                "FROM h_tp tp JOIN h_cand c ON c.m = tp.m",
            ),
        ]
        ctes += pit_value("h_tjm", "h_tj", ("a", "m", "k"), ("manager_change",), "e.manager_id")
        ctes += [
            (
                "h_tact",
                f"""SELECT j.a, j.m, j.k FROM h_tj j JOIN emp e ON e.k = j.k
                WHERE e.hire_us <= j.a AND NOT EXISTS (
                  SELECT 1 FROM h_term x WHERE x.k = j.k AND {visible("x.rec", "j.a")}
                    AND x.eff < j.a)""",
            ),
            (
                "h_team",
                """SELECT z.a, z.m, COUNT(*) AS size FROM h_tjm z
                JOIN h_tact q ON q.a = z.a AND q.m = z.m AND q.k = z.k
                WHERE z.val = z.m GROUP BY z.a, z.m""",
            ),
            (
                "h_tx",
                f"""SELECT tp.a, tp.m, c.k, x.eff AS teff, tp.a AS tvis
                FROM h_tp tp JOIN h_cand c ON c.m = tp.m JOIN h_term x ON x.k = c.k
                WHERE x.vol = 1 AND {visible("x.rec", "tp.a")} AND x.eff < tp.a
                  AND x.eff >= tp.a - {longest.us}""",
            ),
        ]
        ctes += pit_value(
            "h_txm", "h_tx", ("a", "m", "k", "teff"), ("manager_change",), "e.manager_id"
        )
        sums = ", ".join(
            f"SUM(CASE WHEN teff >= a - {w.us} THEN 1 ELSE 0 END) AS x_{w.label}"
            for w in TEAM_EXIT_WINDOWS
        )
        ctes.append(("h_texit", f"SELECT a, m, {sums} FROM h_txm WHERE val = m GROUP BY a, m"))
        joins.append("LEFT JOIN h_team ts ON ts.a = sp.a AND ts.m = hm.val")
        joins.append("LEFT JOIN h_texit tx ON tx.a = sp.a AND tx.m = hm.val")
    cols = ", ".join(
        f"CAST({sp_.expr} AS {d.string if sp_.dtype == 'string' else sp_.sql_type}) AS {sp_.name}"
        for sp_ in specs
    )
    return ctes, f"SELECT sp.rid, {cols} FROM sp {' '.join(joins)}"
