"""Ground truth of a simulated organization: latent traits, true hazards, planted defects."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._effects import Effects

__all__ = ["Truth"]


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

    Examples
    --------
    >>> from talentml.datasets import simulate_workforce
    >>> org = simulate_workforce(n_employees=300, random_state=0, show_progress=False)
    >>> oracle = org.truth.flight_risk_oracle("180D")
    >>> list(oracle.columns)
    ['employee_id', 'as_of', 'p_exit', 'label']
    >>> 0.5 < org.truth.oracle_auc("180D") < 1.0
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

    def exit_probability(
        self, spine: pd.DataFrame, horizon: str | pd.Timedelta = "180D"
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

        Returns
        -------
        pandas.Series
            Aligned with ``spine``; NaN where the employee was not active in that month.
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
        p_e = np.where(m["disengaged"].eq(True).to_numpy(bool), 0.0, 1.0)
        p_d = 1.0 - p_e
        gone = np.zeros(len(m))
        for _ in range(months):
            gone = gone + p_e * he + p_d * hd
            p_d, p_e = p_d * (1 - hd) + p_e * (1 - he) * q, p_e * (1 - he) * (1 - q)
        gone[np.isnan(q)] = np.nan
        return pd.Series(gone, index=spine.index, name="p_exit")

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
