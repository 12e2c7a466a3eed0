"""Ground truth of a simulated organization: latent traits, true hazards, planted defects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from ._catalog import DEPARTMENTS
from ._effects import Effects

__all__ = ["Truth"]

logger = logging.getLogger(__name__)

# The promotion process and the productivity draw of ``_hr.py`` (``HRSimulator._perf``,
# ``_promotions`` and ``_new_people``), mirrored for the oracles. The oracles check themselves
# against the recorded promotion probabilities (``Truth._promotion_logits``): a change in
# ``_hr.py`` that is not mirrored here shows as a spread of the recovered intercepts.
PROMOTION_MONTHS = (3, 9)  # promotion cycles at the start of March and September
PROMOTION_PERF_WEIGHT = 0.7  # promotion logit per unit of latent performance
PERF_GROWTH_PER_YEAR = 0.12  # performance growth per year of tenure and SD of potential
PERF_GROWTH_CAP_YEARS = 6.0  # tenure beyond which performance stops growing
DISENGAGED_PERF_DROP = 0.35  # performance lost once disengaged
RAMP_UP_LOG_SD = 0.25  # SD of the log time to productivity given the latent traits
RAMP_UP_POTENTIAL = 0.10  # log-change of the time to productivity per SD of potential
_MONTH = pd.Timedelta(days=30.44)


@dataclass
class Truth:
    """What the simulator knows and a model can only estimate.

    Attributes
    ----------
    latent : pandas.DataFrame
        One row per employee: ``potential`` and ``performance`` (standard normal latent
        traits), ``onboarding_engagement``, ``learning_propensity``, ``caregiver``,
        ``disengaged_at`` (when the employee disengaged, if ever), ``track_start`` and
        ``track_end`` (Emerging Leaders nomination and completion).
    hazard : pandas.DataFrame
        One row per active employee and month: ``disengaged`` at the start of the month,
        ``q`` (monthly hazard of disengaging), ``h_engaged`` and ``h_disengaged`` (monthly
        voluntary exit hazards in each state) and ``hazard`` (the one that applies).
    productivity : pandas.DataFrame
        True productivity date of every hire made during the simulation.
    promotions : pandas.DataFrame
        Every promotion decision: eligible employee, effective date, true probability.
    statement_outcomes : pandas.DataFrame
        Planted defects in the raw statements: ``statement_id``, ``outcome`` (``duplicate``,
        ``voided``, ``voiding``, ``malformed``) and ``detail`` (the defect or the linked id).
    statement_counts : dict
        ``emitted`` (raw statements, defects included), and the count of each outcome.
    effects : Effects
        The effects the organization was simulated with.
    activity_aliases : pandas.DataFrame
        Every object IRI the raw statements use and the catalog activity it stands for:
        ``object_id``, ``activity_id``, ``platform`` (``Acme LMS`` uses the catalog's ids,
        ``Acme Video`` plays the catalog's media under
        ``https://video.acme.example/watch/<slug>``), ``n_statements`` (statements
        generated, malformed and voided ones included, re-sent copies and voiding statements
        not) and ``n_accepted`` (those an ingest accepts). The truth against which
        :class:`talentml.xapi.ActivityResolver` is measured.
    catalog : pandas.DataFrame
        The simulated catalog (``org.catalog``): which activities are voluntary, for
        :meth:`disengagement_posterior`.

    Examples
    --------
    >>> from talentml.datasets import simulate_workforce
    >>> org = simulate_workforce(n_employees=300, random_state=0, show_progress=False)
    >>> oracle = org.truth.flight_risk_oracle("180D")
    >>> list(oracle.columns)
    ['employee_id', 'as_of', 'p_exit', 'label']
    >>> 0.5 < org.truth.oracle_auc("180D") < 1.0
    True

    Three oracles of flight risk, from the least to the most informed: every employee taken
    as engaged, the state inferred from the learning records, the true state:

    >>> from sklearn.metrics import roc_auc_score
    >>> from talentml.xapi import ingest
    >>> from talentml.datasets import SIMULATION_SECRET
    >>> statements = ingest(org.raw_statements, identities=org.identities,
    ...                     secret=SIMULATION_SECRET, show_progress=False).statements
    >>> table = org.truth.flight_risk_oracle("180D")
    >>> rows = table[["employee_id", "as_of"]]
    >>> aucs = [roc_auc_score(table["label"], p) for p in (
    ...     org.truth.exit_probability(rows, p_disengaged=0.0),
    ...     org.truth.observable_exit_probability(rows, statements),
    ...     table["p_exit"])]
    >>> bool(aucs[0] < aucs[1] < aucs[2])
    True
    """

    latent: pd.DataFrame
    hazard: pd.DataFrame
    productivity: pd.DataFrame
    promotions: pd.DataFrame
    statement_outcomes: pd.DataFrame
    statement_counts: dict[str, int]
    effects: Effects
    employees: pd.DataFrame = field(repr=False)
    end: pd.Timestamp = field(repr=False)
    activity_aliases: pd.DataFrame = field(default_factory=lambda: _no_aliases(), repr=False)
    catalog: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def exit_probability(
        self,
        spine: pd.DataFrame,
        horizon: str | pd.Timedelta = "180D",
        *,
        p_disengaged: float | np.ndarray | pd.Series | None = None,
    ) -> pd.Series:
        """True probability of a voluntary exit within ``horizon`` after each ``as_of``.

        Computed from the state at the start of the ``as_of`` month (engaged or disengaged)
        and that month's hazards, held constant over the horizon, by forward recursion over
        months (``round(horizon / 30.44 days)`` of them).

        Parameters
        ----------
        spine : pandas.DataFrame
            ``employee_id`` and ``as_of`` (UTC timestamps, month starts for exact values).
        horizon : str or Timedelta, default "180D"
            Length of the window after ``as_of``.
        p_disengaged : float or array-like, optional
            The probability that each row's employee is disengaged at the start of the
            ``as_of`` month, instead of the true state: ``0.0`` gives the state-free oracle
            (everyone engaged: the hazards' covariates only), a posterior gives
            :meth:`observable_exit_probability`. A number, or values aligned with ``spine``.

        Returns
        -------
        pandas.Series
            ``p_exit``, aligned with ``spine``; NaN where the employee was not active in that
            month.

        Raises
        ------
        ValueError
            If ``p_disengaged`` is not aligned with ``spine`` or not in [0, 1].

        See Also
        --------
        observable_exit_probability : The state inferred from the learning records.

        Examples
        --------
        >>> from talentml.datasets import simulate_workforce
        >>> org = simulate_workforce(n_employees=200, start="2024-01-01", end="2024-12-31",
        ...                          random_state=0, show_progress=False)
        >>> rows = org.truth.flight_risk_oracle("180D")[["employee_id", "as_of"]]
        >>> full = org.truth.exit_probability(rows)
        >>> engaged = org.truth.exit_probability(rows, p_disengaged=0.0)
        >>> bool((engaged <= full + 1e-12).all())  # disengaged people leave more
        True
        """
        months = max(1, int(round(pd.Timedelta(horizon) / pd.Timedelta(days=30.44))))
        key = spine[["employee_id"]].copy()
        key["month"] = (
            spine["as_of"]
            .dt.tz_convert("UTC")
            .dt.tz_localize(None)
            .dt.to_period("M")
            .dt.to_timestamp()
            .dt.tz_localize("UTC")
        )
        h = self.hazard[["employee_id", "month", "disengaged", "q", "h_engaged", "h_disengaged"]]
        m = key.merge(h, on=["employee_id", "month"], how="left")
        q = m["q"].to_numpy(float)
        he = m["h_engaged"].to_numpy(float)
        hd = m["h_disengaged"].to_numpy(float)
        if p_disengaged is None:
            p_d = np.where(m["disengaged"].eq(True).to_numpy(bool), 1.0, 0.0)
        else:
            p_d = _state_probability(p_disengaged, len(m))
        gone = _forward_exit(q, he, hd, p_d, months)
        return pd.Series(gone, index=spine.index, name="p_exit")

    def program_retention(self, horizon: str | pd.Timedelta = "365D") -> dict[str, float]:
        """The planted retention effect of the Emerging Leaders track, and what it implies.

        The planted hazard ratio of a voluntary exit (1 when the effect is off) and its
        implied effect on the completers, computed as :meth:`exit_probability` does from
        their state and hazards in the first month after completion, with and without the
        ratio: what a retention estimate (voluntary exits, matched comparison) recovers.

        Parameters
        ----------
        horizon : str or Timedelta, default "365D"
            The window after completion.

        Returns
        -------
        dict
            ``hazard_ratio``, ``n_completers`` (active at the start of the month after
            completion), ``p_exit_completed``, ``p_exit_without`` (their mean exit
            probabilities within the horizon with and without the effect) and
            ``difference`` (completed minus without; 0 when the effect is off).

        Examples
        --------
        >>> from talentml.datasets import simulate_workforce
        >>> org = simulate_workforce(n_employees=300, start="2024-01-01", end="2025-06-30",
        ...     random_state=0, effects={"program_retention": True}, show_progress=False)
        >>> truth = org.truth.program_retention("365D")
        >>> truth["hazard_ratio"], bool(truth["difference"] < 0)
        (0.6, True)
        """
        fx = self.effects
        ratio = float(fx.program_retention_hazard_ratio) if fx.program_retention else 1.0
        months = max(1, int(round(pd.Timedelta(horizon) / _MONTH)))
        done = self.latent.dropna(subset=["track_end"])
        index = (
            (done["track_end"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M") + 1)
            .dt.to_timestamp()
            .dt.tz_localize("UTC")
        )
        key = pd.DataFrame({"employee_id": done["employee_id"], "month": index})
        m = key.merge(self.hazard, on=["employee_id", "month"], how="inner")
        q = m["q"].to_numpy(float)
        he = m["h_engaged"].to_numpy(float)
        hd = m["h_disengaged"].to_numpy(float)
        p_d = m["disengaged"].to_numpy(bool).astype(float)
        with_effect = _forward_exit(q, he, hd, p_d, months)
        without = _forward_exit(
            q, np.minimum(he / ratio, 1.0), np.minimum(hd / ratio, 1.0), p_d, months
        )
        p1 = float(np.mean(with_effect)) if len(m) else float("nan")
        p0 = float(np.mean(without)) if len(m) else float("nan")
        return {
            "hazard_ratio": ratio,
            "n_completers": int(len(m)),
            "p_exit_completed": p1,
            "p_exit_without": p0,
            "difference": p1 - p0,
        }

    def disengagement_posterior(self, statements: pd.DataFrame) -> pd.DataFrame:
        """P(disengaged at each month start | the voluntary learning records so far).

        The state the full oracle knows, inferred instead from what the records show: a
        forward (Bayes) filter over months with the simulator's own process. An engaged
        employee starts voluntary learning sessions (``launched`` or ``experienced`` on a
        voluntary activity outside the leadership track) at their personal daily rate
        ``lambda = VOLUNTARY_RATE x exp(learning_propensity + 0.3 potential)``, a disengaged
        one at ``effects.disengaged_learning x lambda``; an engaged employee disengages
        during a month with that month's probability ``q``, on a uniform day; staying
        employed through the month has probability ``1 - h_engaged`` or ``1 - h_disengaged``;
        arrivals start engaged.

        What it knows that no model can: each person's true learning rate (latent
        propensity and potential) and the true monthly hazards ``q``, ``h_engaged``,
        ``h_disengaged`` (their covariates: rating, time since promotion, manager change,
        team exits). What it does not know: the state, and the day it changed. Sessions are
        counted on the UTC day of their ``timestamp``, before the start of the month.
        With the ``disengagement`` effect off, learning does not change with the state:
        the records carry no information and the posterior is the prior (the same for
        everyone with the same hazards and months of presence).

        Parameters
        ----------
        statements : pandas.DataFrame or Ingest
            The ingested statements (``employee_id``, ``verb``, ``object_id``,
            ``timestamp``), before or after activity resolution: the video platform's
            ``/watch/<slug>`` IRIs are mapped to the catalog's activities by
            ``activity_aliases`` (the simulator's own table), and IRIs already resolved by
            :class:`talentml.xapi.ActivityResolver` are the catalog's ids.

        Returns
        -------
        pandas.DataFrame
            One row per row of ``hazard`` (active employee and month, same order):
            ``employee_id``, ``month`` and ``p_disengaged``.

        Raises
        ------
        ValueError
            If ``statements`` lacks a column, or this Truth has no ``catalog``.

        See Also
        --------
        observable_exit_probability : The exit probability mixed by this posterior.

        Examples
        --------
        >>> from sklearn.metrics import roc_auc_score
        >>> from talentml.datasets import SIMULATION_SECRET, simulate_workforce
        >>> from talentml.xapi import ingest
        >>> org = simulate_workforce(n_employees=300, random_state=0, show_progress=False)
        >>> statements = ingest(org.raw_statements, identities=org.identities,
        ...                     secret=SIMULATION_SECRET, show_progress=False).statements
        >>> post = org.truth.disengagement_posterior(statements)
        >>> bool(roc_auc_score(org.truth.hazard["disengaged"], post["p_disengaged"]) > 0.8)
        True
        """
        from ._observable import disengagement_posterior

        return disengagement_posterior(self, statements)

    def observable_exit_probability(
        self,
        spine: pd.DataFrame,
        statements: pd.DataFrame,
        horizon: str | pd.Timedelta = "180D",
    ) -> pd.Series:
        """Probability of a voluntary exit within ``horizon``, the state inferred from the records.

        The *observable oracle*: :meth:`exit_probability` with the engaged and disengaged
        cases mixed by :meth:`disengagement_posterior` instead of the true state. It knows
        the true learning rates and hazards but not the state: its ROC AUC lies between the
        state-free oracle (``exit_probability(spine, p_disengaged=0.0)``) and the full one
        (``exit_probability(spine)``), and bounds what any model of the learning records
        can reach.

        Parameters
        ----------
        spine : pandas.DataFrame
            ``employee_id`` and ``as_of`` (UTC; month starts for exact values).
        statements : pandas.DataFrame or Ingest
            The ingested statements, resolved or not (see :meth:`disengagement_posterior`).
        horizon : str or Timedelta, default "180D"
            Length of the window after ``as_of``.

        Returns
        -------
        pandas.Series
            ``p_exit``, aligned with ``spine``; NaN where the employee was not active at the
            start of the ``as_of`` month.

        See Also
        --------
        exit_probability : The full oracle (and the state-free one).
        disengagement_posterior : The filter.

        Examples
        --------
        >>> from talentml.datasets import SIMULATION_SECRET, simulate_workforce
        >>> from talentml.xapi import ingest
        >>> org = simulate_workforce(n_employees=200, start="2024-01-01", end="2024-12-31",
        ...                          random_state=0, show_progress=False)
        >>> statements = ingest(org.raw_statements, identities=org.identities,
        ...                     secret=SIMULATION_SECRET, show_progress=False).statements
        >>> rows = org.truth.flight_risk_oracle("180D")[["employee_id", "as_of"]]
        >>> p = org.truth.observable_exit_probability(rows, statements)
        >>> bool(p.between(0, 1).all())
        True
        """
        posterior = self.disengagement_posterior(statements)
        key = pd.DataFrame(
            {
                "employee_id": spine["employee_id"].astype(str).to_numpy(),
                "month": _month(pd.Series(pd.to_datetime(spine["as_of"], utc=True))).to_numpy(),
            }
        )
        posterior = posterior.assign(employee_id=posterior["employee_id"].astype(str))
        p = key.merge(posterior, on=["employee_id", "month"], how="left")["p_disengaged"]
        return self.exit_probability(spine, horizon, p_disengaged=p.to_numpy(float))

    def flight_risk_oracle(self, horizon: str | pd.Timedelta = "180D") -> pd.DataFrame:
        """Monthly oracle table: the truth's exit probability and the observed label.

        Rows are employees active at each month start whose horizon ends by the simulation end;
        the label is a voluntary exit in ``(as_of, as_of + horizon]``; employees who leave
        involuntarily inside the horizon are dropped (censored).

        Returns
        -------
        pandas.DataFrame
            ``employee_id``, ``as_of``, ``p_exit`` and ``label``.
        """
        h = pd.Timedelta(horizon)
        spine = self.hazard[["employee_id", "month"]].rename(columns={"month": "as_of"})
        spine = spine[spine["as_of"] + h <= self.end].reset_index(drop=True)
        emp = self.employees.set_index("employee_id")
        term = spine["employee_id"].map(emp["termination_date"])
        ttype = spine["employee_id"].map(emp["termination_type"])
        # termination_date is the last day worked: the exit takes effect at the end of it.
        exit_at = term + pd.Timedelta(days=1)
        inside = term.notna() & (exit_at > spine["as_of"]) & (exit_at <= spine["as_of"] + h)
        keep = ~(inside & (ttype == "involuntary"))
        spine = spine[keep.to_numpy()].reset_index(drop=True)
        inside = inside[keep.to_numpy()].reset_index(drop=True)
        ttype = ttype[keep.to_numpy()].reset_index(drop=True)
        out = spine.copy()
        out["p_exit"] = self.exit_probability(spine, h).to_numpy()
        out["label"] = (inside & (ttype == "voluntary")).astype(int).to_numpy()
        return out

    def oracle_auc(self, horizon: str | pd.Timedelta = "180D") -> float:
        """ROC AUC of the true exit probabilities: the best any flight-risk model can do."""
        from sklearn.metrics import roc_auc_score

        table = self.flight_risk_oracle(horizon)
        return float(roc_auc_score(table["label"], table["p_exit"]))

    # ------------------------------------------------------------------ high potential
    def _promotion_logits(self) -> tuple[pd.DataFrame, pd.Series]:
        """Recorded promotion decisions as static logits, and each cycle's relative intercept.

        The simulator promotes an eligible employee at cycle ``c`` with probability
        ``expit(a_c + 0.7 perf_c - 0.15 (level - 3) + potential)``, where ``perf_c`` is the
        latent performance at ``c``: ``performance + 0.12 potential min(years, 6)``, minus
        0.35 once disengaged, plus the Emerging Leaders impact once the track is completed.
        ``static`` is the recorded logit without the time-varying part of ``0.7 perf_c``:
        ``a_c + 0.7 performance - 0.15 (level - 3) + potential``. Between two consecutive
        cycles an employee recorded at both was not promoted at the first (a promotion resets
        the year of eligibility), so the level is the same and the difference of ``static`` is
        the difference of the intercepts, exactly: that is how ``intercept`` is recovered and
        how the mirror of the simulator is checked.

        Returns
        -------
        records : pandas.DataFrame
            ``employee_id``, ``cycle`` and ``static``, one row per recorded decision.
        intercept : pandas.Series
            Indexed by every simulated cycle: ``a_c - a_first`` (NaN after a cycle that no
            employee shares with the one before it).

        Raises
        ------
        RuntimeError
            If the recovered intercepts disagree between employees (the mirror of the
            promotion process no longer matches ``datasets/_hr.py``).
        """
        fx = self.effects
        pr = self.promotions
        lat = self.latent.set_index("employee_id")
        hire = pr["employee_id"].map(self.employees.set_index("employee_id")["hire_date"])
        cycle = pr["effective_date"]
        dis = pr["employee_id"].map(lat["disengaged_at"])
        track_end = pr["employee_id"].map(lat["track_end"])
        pot = pr["employee_id"].map(lat["potential"]).to_numpy(float)
        dynamic = -DISENGAGED_PERF_DROP * (dis.notna() & (dis < cycle)).to_numpy(float)
        if fx.learning_impact:
            done = (track_end.notna() & (track_end < cycle)).to_numpy(float)
            dynamic = dynamic + fx.learning_impact_size * done
        if fx.potential:
            dynamic = dynamic + PERF_GROWTH_PER_YEAR * pot * _years(cycle - hire)
        with np.errstate(divide="ignore"):
            static = logit(pr["probability"].to_numpy(float)) - PROMOTION_PERF_WEIGHT * dynamic
        records = pd.DataFrame(
            {"employee_id": pr["employee_id"].to_numpy(), "cycle": cycle, "static": static}
        )
        records = records[np.isfinite(static)].reset_index(drop=True)

        cycles = self._simulated_cycles()
        steps = np.full(len(cycles), np.nan)
        if len(cycles):
            steps[0] = 0.0
        by_cycle = {c: g.set_index("employee_id")["static"] for c, g in records.groupby("cycle")}
        for k in range(1, len(cycles)):
            prev, cur = by_cycle.get(cycles[k - 1]), by_cycle.get(cycles[k])
            if prev is None or cur is None:
                continue
            diff = (cur - prev).dropna()
            if diff.empty:
                continue
            step = float(diff.median())
            spread = float((diff - step).abs().max())
            if spread > 1e-6:
                raise RuntimeError(
                    f"the promotion oracle no longer mirrors the simulator: the intercept of "
                    f"cycle {cycles[k].date()} differs by up to {spread:.3g} between employees "
                    "(datasets/_truth.py mirrors HRSimulator._perf and _promotions)"
                )
            steps[k] = step
        intercept = pd.Series(np.cumsum(steps), index=pd.DatetimeIndex(cycles), name="intercept")
        return records, intercept

    def _simulated_cycles(self) -> list[pd.Timestamp]:
        """Promotion cycles (March and September month starts) inside the simulated months."""
        months = self.hazard["month"]
        if months.empty:
            return []
        span = pd.date_range(months.min(), months.max(), freq="MS")
        return [m for m in span if m.month in PROMOTION_MONTHS]

    def high_potential_probability(
        self, spine: pd.DataFrame, horizon: str | pd.Timedelta = "365D"
    ) -> pd.Series:
        """True probability of a promotion within ``horizon`` after each ``as_of``.

        The oracle of :func:`talentml.labels.high_potential` (with its default
        ``events=("promotion",)``): the probability that the employee is promoted at a
        promotion cycle (every 1 March and 1 September) in ``(as_of, as_of + horizon]``,
        given that the row gets a label (promoted before any exit, or still employed at the
        end of the horizon), computed from the state at the start of the ``as_of`` month:

        * the promotion logit of each cycle is the simulator's own, recovered from the
          recorded decisions (``promotions``): intercept of the cycle, latent performance and
          potential, level, tenure growth of performance; the employee is eligible at the
          cycles where the simulator found them eligible (a year in the level; after the first
          eligible cycle in the window, every later one, as if not promoted yet);
        * disengagement lowers performance (and the promotion logit by 0.7 x 0.35); an
          employee engaged at ``as_of`` may disengage before a cycle, with that month's
          hazards held constant (as in :meth:`exit_probability`), and a disengaged one leaves
          at 20% a month; the Emerging Leaders track counts once completed, if the
          nomination was made by ``as_of``;
        * involuntary exits are ignored (they censor the label whatever the probability).

        Parameters
        ----------
        spine : pandas.DataFrame
            ``employee_id`` and ``as_of`` (UTC timestamps; month starts for exact values).
        horizon : str or Timedelta, default "365D"
            Length of the window after ``as_of``, as in the label.

        Returns
        -------
        pandas.Series
            ``p_promotion``, aligned with ``spine``; NaN where the employee was not active at
            the start of the ``as_of`` month, where the horizon reaches a promotion cycle
            outside the simulated window, or where the employee left before a cycle of the
            window without having been eligible (their eligibility there is unknown: such
            rows are censored by the label anyway).

        See Also
        --------
        exit_probability : The same for voluntary exits.
        talentml.labels.high_potential : The label this probability is the oracle of.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.datasets import simulate_workforce
        >>> org = simulate_workforce(n_employees=200, start="2024-01-01", end="2025-06-30",
        ...                          random_state=0, show_progress=False)
        >>> april = org.truth.hazard["month"] == pd.Timestamp("2024-04-01", tz="UTC")
        >>> spine = org.truth.hazard.loc[april, ["employee_id", "month"]]
        >>> spine = spine.rename(columns={"month": "as_of"})
        >>> p = org.truth.high_potential_probability(spine, "365D")
        >>> bool(p.dropna().between(0, 1).all())
        True
        """
        h = pd.Timedelta(horizon)
        fx = self.effects
        n = len(spine)
        months = max(1, int(round(h / _MONTH)))
        as_of = spine["as_of"].dt.tz_convert("UTC").reset_index(drop=True)
        key = pd.DataFrame({"employee_id": spine["employee_id"].to_numpy(), "month": _month(as_of)})
        cols = ["employee_id", "month", "disengaged", "q", "h_engaged", "h_disengaged"]
        m = key.merge(self.hazard[cols], on=["employee_id", "month"], how="left")
        q = m["q"].to_numpy(float)
        he = m["h_engaged"].to_numpy(float)
        hd = m["h_disengaged"].to_numpy(float)
        out = np.full(n, np.nan)
        if n == 0:
            return pd.Series(out, index=spine.index, name="p_promotion")

        records, intercept = self._promotion_logits()
        simulated = set(intercept.index)
        lat = self.latent.set_index("employee_id")
        emp = self.employees.set_index("employee_id")
        ids = key["employee_id"]
        pot = ids.map(lat["potential"]).to_numpy(float)
        hire = ids.map(emp["hire_date"])
        term = ids.map(emp["termination_date"])
        track_start = ids.map(lat["track_start"])
        track_end = ids.map(lat["track_end"])
        nominated = (track_start.notna() & (_month(track_start) <= key["month"])).to_numpy(bool)

        # Every cycle a window can reach, simulated or not.
        lo, hi = key["month"].min(), (as_of + h).max()
        grid = [c for c in pd.date_range(lo, hi, freq="MS") if c.month in PROMOTION_MONTHS]
        grid_ns = np.array([c.value for c in grid], dtype=np.int64)
        as_of_ns = as_of.dt.as_unit("ns").astype("int64").to_numpy()
        end_ns = (as_of + h).dt.as_unit("ns").astype("int64").to_numpy()
        first = np.searchsorted(grid_ns, as_of_ns, side="right")
        count = np.searchsorted(grid_ns, end_ns, side="right") - first
        n_slots = int(count.max()) if len(count) else 0

        static = records.set_index(["employee_id", "cycle"])["static"]
        slot_cycle, slot_static, slot_offset = [], [], []
        unknown = np.zeros(n, dtype=bool)
        for j in range(n_slots):
            valid = j < count
            c = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
            c[valid] = [grid[i] for i in (first + j)[valid]]
            unknown |= valid & ~c.isin(list(simulated)).to_numpy(bool)
            looked = pd.MultiIndex.from_arrays([ids.to_numpy(), c])
            slot_static.append(static.reindex(looked).to_numpy(float))
            slot_cycle.append(c)
            offset = (c.dt.year - key["month"].dt.year) * 12 + c.dt.month - key["month"].dt.month
            slot_offset.append(offset.to_numpy(float))

        # The first window cycle with a recorded decision anchors the chain of logits.
        anchor_static = np.full(n, np.nan)
        anchor_cycle = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
        for j in range(n_slots - 1, -1, -1):
            hit = ~np.isnan(slot_static[j])
            anchor_static[hit] = slot_static[j][hit]
            anchor_cycle[hit] = slot_cycle[j][hit]
        anchored = ~np.isnan(anchor_static)
        last_cycle = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
        for j in range(n_slots):
            valid = j < count
            last_cycle[valid] = slot_cycle[j][valid]
        stayed = (term.isna() | (term >= last_cycle)).to_numpy(bool)
        unknown |= ~anchored & (count > 0) & ~stayed
        anchor_a = anchor_cycle.map(intercept).to_numpy(float)

        u_e = np.where(m["disengaged"].eq(True).to_numpy(bool), 0.0, 1.0)
        u_d = 1.0 - u_e
        promoted = np.zeros(n)
        drop = PROMOTION_PERF_WEIGHT * DISENGAGED_PERF_DROP
        steps = max([months] + [int(np.nanmax(o)) for o in slot_offset if np.isfinite(o).any()])
        for k in range(1, steps + 1):
            u_e, u_d = u_e * (1 - he) * (1 - q), u_d * (1 - hd) + u_e * (1 - he) * q
            for j in range(n_slots):
                c = slot_cycle[j]
                at = (slot_offset[j] == k) & anchored & (c >= anchor_cycle).to_numpy(bool)
                if not at.any():
                    continue
                dynamic = np.zeros(n)
                if fx.potential:
                    dynamic += PERF_GROWTH_PER_YEAR * pot * _years(c - hire)
                if fx.learning_impact:
                    done = nominated & (track_end < c).to_numpy(bool)
                    dynamic += fx.learning_impact_size * done
                z = (
                    anchor_static
                    + c.map(intercept).to_numpy(float)
                    - anchor_a
                    + PROMOTION_PERF_WEIGHT * dynamic
                )
                p_e = np.where(at, expit(z), 0.0)
                p_d = np.where(at, expit(z - drop), 0.0)
                promoted = promoted + u_e * p_e + u_d * p_d
                u_e, u_d = u_e * (1 - p_e), u_d * (1 - p_d)
        with np.errstate(invalid="ignore"):
            out = promoted / (promoted + u_e + u_d)
        out[np.isnan(q) | unknown] = np.nan
        return pd.Series(out, index=spine.index, name="p_promotion")

    # ------------------------------------------------------------------------ ramp-up
    def ramp_up_oracle(
        self, *, job_events: pd.DataFrame | None = None, days_after_hire: int = 0
    ) -> pd.DataFrame:
        """True distribution of the days to productivity of every hire, given its latent traits.

        The simulator draws each hire's days to productivity as
        ``base x exp(-0.3 x onboarding engagement - 0.1 x potential + 0.25 x noise)``
        (``base``: 60 to 120 days by department; the engagement and potential terms follow
        the ``onboarding`` and ``potential`` effects and their sizes). Given the latent
        traits the time is log-normal: the oracle's median, mean and quantiles are its best
        predictions, and its C-index on the ramp-up labels is the ceiling of any model
        (the noise and the monthly productivity records keep it below 1).

        Parameters
        ----------
        job_events : pandas.DataFrame, optional
            The organization's ``job_events``: the department at hire of an employee who
            transferred later is the ``from_value`` of their first transfer. Without it the
            department of ``employees`` (the one at the end) is used, exact for everyone who
            never transferred (the count of hires that might differ is logged).
        days_after_hire : int, default 0
            Condition on not being productive yet that many days after hire (the rows of
            :func:`talentml.labels.ramp_up_spine` with the same ``days_after_hire``).

        Returns
        -------
        pandas.DataFrame
            One row per hire made during the simulation (``productivity`` order):
            ``employee_id``, ``hire_date``, ``department`` (at hire), ``log_median``,
            ``log_sd``, ``median_days`` and ``mean_days`` (conditional on
            ``days_after_hire``) and ``days_to_productivity`` (the simulator's draw: the
            outcome, not a prediction).

        See Also
        --------
        talentml.labels.ramp_up : The interval-censored labels this is the oracle of.

        Examples
        --------
        >>> from talentml.datasets import simulate_workforce
        >>> org = simulate_workforce(n_employees=200, start="2024-01-01", end="2024-12-31",
        ...                          random_state=0, show_progress=False)
        >>> oracle = org.truth.ramp_up_oracle(job_events=org.job_events, days_after_hire=30)
        >>> oracle.columns[:4].tolist()
        ['employee_id', 'hire_date', 'department', 'log_median']
        >>> bool((oracle["median_days"] > 30).all())
        True
        """
        from scipy.stats import norm

        if not isinstance(days_after_hire, int | np.integer) or isinstance(days_after_hire, bool):
            raise ValueError(f"days_after_hire must be an integer, got {days_after_hire!r}")
        if days_after_hire < 0:
            raise ValueError(f"days_after_hire must be >= 0, got {days_after_hire}")
        fx = self.effects
        prod = self.productivity
        ids = prod["employee_id"]
        lat = self.latent.set_index("employee_id")
        dept = ids.map(self.employees.set_index("employee_id")["department"]).astype("string")
        if job_events is not None:
            moves = job_events[job_events["event"] == "transfer"].sort_values(
                "effective_date", kind="stable"
            )
            at_hire = moves.drop_duplicates("employee_id").set_index("employee_id")["from_value"]
            moved = ids.map(at_hire)
            dept = dept.where(moved.isna(), moved.astype("string"))
        else:
            logger.info(
                "ramp_up_oracle: department at hire taken from employees for %d hires; pass "
                "job_events for those who transferred after hire",
                len(prod),
            )
        base = dept.map({d: spec[2] for d, spec in DEPARTMENTS.items()}).astype(float)
        log_median = np.log(base.to_numpy(float))
        if fx.onboarding:
            log_median -= fx.onboarding_effect * ids.map(lat["onboarding_engagement"]).to_numpy(
                float
            )
        if fx.potential:
            log_median -= RAMP_UP_POTENTIAL * ids.map(lat["potential"]).to_numpy(float)
        sd = RAMP_UP_LOG_SD
        if days_after_hire > 0:
            z = (np.log(days_after_hire) - log_median) / sd
            below = norm.cdf(z)
            median = np.exp(log_median + sd * norm.ppf(below + (1 - below) / 2))
            mean = np.exp(log_median + sd**2 / 2) * norm.sf(z - sd) / norm.sf(z)
        else:
            median = np.exp(log_median)
            mean = np.exp(log_median + sd**2 / 2)
        return pd.DataFrame(
            {
                "employee_id": ids.reset_index(drop=True),
                "hire_date": prod["hire_date"].reset_index(drop=True),
                "department": dept.reset_index(drop=True),
                "log_median": log_median,
                "log_sd": np.full(len(prod), sd),
                "median_days": median,
                "mean_days": mean,
                "days_to_productivity": prod["days_to_productivity"].to_numpy(float),
            }
        ).astype({"employee_id": "string", "department": "string"})


def _no_aliases() -> pd.DataFrame:
    """An empty ``activity_aliases`` table."""
    strings = {c: pd.array([], dtype="string") for c in ("object_id", "activity_id", "platform")}
    counts = {c: np.array([], dtype=np.int64) for c in ("n_statements", "n_accepted")}
    return pd.DataFrame({**strings, **counts})


def _forward_exit(q, he, hd, p_d, months: int) -> np.ndarray:
    """Probability of a voluntary exit within ``months`` (engaged/disengaged Markov chain)."""
    p_d = np.asarray(p_d, dtype=float)
    p_e = 1.0 - p_d
    gone = np.zeros(len(p_d))
    for _ in range(months):
        gone = gone + p_e * he + p_d * hd
        p_d, p_e = p_d * (1 - hd) + p_e * (1 - he) * q, p_e * (1 - he) * (1 - q)
    gone[np.isnan(q)] = np.nan
    return gone


def _state_probability(value: float | np.ndarray | pd.Series, n: int) -> np.ndarray:
    """``p_disengaged`` as ``n`` floats in [0, 1] (NaN allowed: the result is NaN there)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(
            f"exit_probability: p_disengaged has {arr.size} values for {n} spine rows; give "
            "one number or one value per row"
        )
    bad = np.isfinite(arr) & ((arr < 0) | (arr > 1))
    if bad.any():
        raise ValueError(
            f"exit_probability: p_disengaged must be in [0, 1]; {int(bad.sum())} values are "
            f"not, e.g. rows {np.flatnonzero(bad)[:5].tolist()}"
        )
    return arr


def _years(delta: pd.Series) -> np.ndarray:
    """Tenure in years (days / 365.25), capped where performance stops growing."""
    days = (delta / pd.Timedelta(days=1)).to_numpy(float)
    return np.minimum(days / 365.25, PERF_GROWTH_CAP_YEARS)


def _month(values: pd.Series) -> pd.Series:
    """Start of the UTC month of each timestamp (timezone-aware UTC)."""
    return (
        values.dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .dt.to_period("M")
        .dt.to_timestamp()
        .dt.tz_localize("UTC")
    )
