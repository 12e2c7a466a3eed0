"""The observable oracle: the disengaged state inferred from what the learning records show.

The simulator's full oracle (:meth:`Truth.exit_probability`) knows whether each employee is
disengaged; no model can. The *observable* oracle replaces the state by its posterior given
the employee's voluntary learning sessions so far, from a forward (Bayes) filter over months
run with the simulator's own process and parameters:

* an engaged employee starts voluntary sessions as a Poisson process at the personal rate
  ``lambda = VOLUNTARY_RATE x exp(learning_propensity + 0.3 potential)`` a day (the potential
  term only with the ``potential`` effect); a disengaged one at ``disengaged_learning x
  lambda`` (0.2 by default; 1 with the ``disengagement`` effect off: then the records say
  nothing about the state);
* an engaged employee disengages during a month with probability ``q`` (that month's
  hazard), on a uniform day of the month; and staying employed through the month has
  probability ``1 - h_engaged`` or ``1 - h_disengaged``;
* an employee who arrives (hire or start of the simulation) starts engaged.

It knows each person's true learning rate and the true hazards, which no model does: its
AUC bounds what any model of the learning records can reach, between the state-free oracle
(every employee engaged) and the full one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._learning import VOLUNTARY_RATE

if TYPE_CHECKING:
    from ._truth import Truth

logger = logging.getLogger(__name__)

__all__ = ["MSG_NO_CATALOG", "MSG_STATEMENTS", "SESSION_VERBS"]

NS_DAY = 86_400 * 10**9

#: The verbs that start a learning session in the simulator's statements (one per session).
SESSION_VERBS = ("launched", "experienced")

MSG_STATEMENTS = (
    "Truth.disengagement_posterior: statements lack the column(s) {missing}; pass the "
    "statements table of talentml.xapi.ingest (employee_id, verb, object_id, timestamp), "
    "resolved or not"
)
MSG_NO_CATALOG = (
    "Truth.disengagement_posterior: this Truth has no catalog (which activities are "
    "voluntary); use the Truth of talentml.datasets.simulate_workforce, or set "
    "truth.catalog = org.catalog"
)


def voluntary_sessions(truth: Truth, statements: pd.DataFrame) -> pd.DataFrame:
    """The voluntary learning sessions of ``statements``: ``employee_id`` and ``day``.

    A session is a ``launched`` (course) or ``experienced`` (video) statement on a voluntary
    activity outside the leadership track. Object IRIs are resolved to catalog activities
    by the simulator's own alias table (``truth.activity_aliases``: the video platform's
    ``/watch/<slug>`` IRIs stand for the catalog's media); an IRI it does not know is taken
    as it is, so statements already resolved by :class:`talentml.xapi.ActivityResolver`
    count the same. ``day`` is the UTC day number (days since 1970-01-01) of ``timestamp``.
    """
    if not isinstance(statements, pd.DataFrame):
        statements = getattr(statements, "statements", statements)
    if not isinstance(statements, pd.DataFrame):
        raise TypeError(
            "Truth.disengagement_posterior: statements must be a DataFrame (or an Ingest), got "
            f"{type(statements).__name__}"
        )
    need = ["employee_id", "verb", "object_id", "timestamp"]
    missing = [c for c in need if c not in statements.columns]
    if missing:
        raise ValueError(MSG_STATEMENTS.format(missing=missing))
    catalog = truth.catalog
    if catalog is None or len(catalog) == 0:
        raise ValueError(MSG_NO_CATALOG)
    voluntary = catalog["voluntary"].astype(bool) & (catalog["program"].astype(str) != "leadership")
    wanted = set(catalog.loc[voluntary.to_numpy(bool), "activity_id"].astype(str))
    aliases = truth.activity_aliases
    alias = dict(
        zip(
            aliases["object_id"].astype(str).tolist(),
            aliases["activity_id"].astype(str).tolist(),
            strict=True,
        )
    )
    objects = statements["object_id"].astype(object)
    activity = objects.map(lambda x: alias.get(x, x) if isinstance(x, str) else None)
    keep = (
        statements["verb"].astype(object).isin(SESSION_VERBS).to_numpy(bool)
        & activity.isin(wanted).to_numpy(bool)
        & statements["employee_id"].notna().to_numpy(bool)
    )
    rows = statements.loc[keep]
    stamps = pd.DatetimeIndex(pd.to_datetime(rows["timestamp"], utc=True)).as_unit("ns")
    return pd.DataFrame(
        {
            "employee_id": rows["employee_id"].astype(str).to_numpy(),
            "day": stamps.asi8 // NS_DAY,
        }
    )


def disengagement_posterior(truth: Truth, statements: pd.DataFrame) -> pd.DataFrame:
    """P(disengaged at each month start | voluntary sessions before it, still employed).

    One row per row of ``truth.hazard`` (active employee and month): ``employee_id``,
    ``month`` and ``p_disengaged``. See the module docstring for the model.
    """
    hz = truth.hazard.reset_index(drop=True)
    fx = truth.effects
    sessions = voluntary_sessions(truth, statements)
    posterior = np.full(len(hz), np.nan)
    if hz.empty:
        return _frame(hz, posterior)
    ids = hz["employee_id"].astype(str)
    emps = pd.Index(ids.unique())
    months = pd.DatetimeIndex(pd.to_datetime(hz["month"], utc=True)).as_unit("ns")
    day0 = int(months.min().value // NS_DAY)
    day1 = int((months.max() + pd.offsets.MonthBegin(1)).value // NS_DAY)
    code = emps.get_indexer(sessions["employee_id"])
    day = sessions["day"].to_numpy(np.int64) - day0
    ok = (code >= 0) & (day >= 0) & (day < day1 - day0)
    counts = np.zeros((len(emps), day1 - day0), dtype=np.int32)
    np.add.at(counts, (code[ok], day[ok]), 1)
    logger.info(
        "disengagement_posterior: %d voluntary sessions of %d employees over %d days",
        int(ok.sum()),
        len(emps),
        day1 - day0,
    )

    latent = truth.latent.set_index(truth.latent["employee_id"].astype(str)).reindex(emps)
    potential = latent["potential"].to_numpy(float) if fx.potential else 0.0
    rate = VOLUNTARY_RATE * np.exp(latent["learning_propensity"].to_numpy(float) + 0.3 * potential)
    mult = fx.disengaged_learning if fx.disengagement else 1.0
    log_mult = np.log(mult)
    q_all = hz["q"].to_numpy(float)
    he_all = hz["h_engaged"].to_numpy(float)
    hd_all = hz["h_disengaged"].to_numpy(float)
    emp_code = emps.get_indexer(ids)

    pi = np.zeros(len(emps))
    present = np.zeros(len(emps), dtype=bool)
    for ms, pos in pd.Series(np.arange(len(hz))).groupby(months.asi8, sort=True):
        pos = pos.to_numpy()
        idx = emp_code[pos]
        now = np.zeros(len(emps), dtype=bool)
        now[idx] = True
        pi = np.where(present & now, pi, 0.0)  # arrivals start engaged
        posterior[pos] = pi[idx]
        a = int(ms // NS_DAY) - day0
        b = int((pd.Timestamp(ms, tz="UTC") + pd.offsets.MonthBegin(1)).value // NS_DAY) - day0
        n_days = b - a
        c = counts[idx, a:b].astype(float)
        after = np.cumsum(c[:, ::-1], axis=1)[:, ::-1]  # sessions on day u or later
        lam = rate[idx]
        remaining = n_days - np.arange(n_days)
        # log likelihood ratios of the month's sessions against "engaged all month":
        # disengaged from day u on (u uniform in the month), and disengaged all month
        switch = after * log_mult + (1 - mult) * lam[:, None] * remaining[None, :]
        top = switch.max(axis=1)
        switch = top + np.log(np.exp(switch - top[:, None]).mean(axis=1))
        stay_dis = after[:, 0] * log_mult + (1 - mult) * lam * n_days
        q, he, hd = q_all[pos], he_all[pos], hd_all[pos]
        p = np.clip(pi[idx], 0.0, 1.0 - 1e-15)
        log_e = np.log1p(-p) + np.log1p(-he) + np.log1p(-q)
        with np.errstate(divide="ignore"):
            log_d = np.logaddexp(
                np.log(p) + np.log1p(-hd) + stay_dis,
                np.log1p(-p) + np.log1p(-he) + np.log(q) + switch,
            )
        pi = np.zeros(len(emps))
        pi[idx] = 1.0 / (1.0 + np.exp(log_e - log_d))
        present = now
    return _frame(hz, posterior)


def _frame(hz: pd.DataFrame, posterior: np.ndarray) -> pd.DataFrame:
    """``employee_id``, ``month`` (UTC, ns) and ``p_disengaged`` in the order of ``hz``."""
    return pd.DataFrame(
        {
            "employee_id": pd.array(hz["employee_id"].astype(str).tolist(), dtype="string"),
            "month": pd.DatetimeIndex(pd.to_datetime(hz["month"], utc=True)).as_unit("ns"),
            "p_disengaged": posterior,
        }
    )
