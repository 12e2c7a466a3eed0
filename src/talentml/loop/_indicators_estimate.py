"""Early behaviours and the adjusted estimates behind :func:`talentml.loop.leading_indicators`.

:func:`_behaviours` counts each hire's learning in ``[hire, hire + window)`` from the
statements (only what was stored before the window closed), per catalog program, per activity
type and overall; :func:`_dichotomize` turns a count into "did at least t" at the sample's
median; :func:`_design` one-hot encodes the covariates known at hire; :func:`_aipw` and
:func:`_matched` estimate one contrast on rows ``idx`` (the bootstrap passes resampled rows);
:func:`_adjust` gives Benjamini-Hochberg or Holm adjusted p-values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from .._validation import bootstrap_clusters, rng_from
from ._impact_estimate import _fit_logit
from ._tables import _ns, _require, _utc

__all__: list[str] = []

_DAY_NS = 86_400 * 10**9
#: Verbs that mark the completion of an activity (unless failed).
DONE_VERBS = frozenset({"completed", "passed", "mastered"})
#: Verbs that mark a learning session.
SESSION_VERBS = frozenset({"launched", "initialized", "experienced", "attempted", "resumed"})
#: Propensity scores are clipped to this range (positivity).
_CLIP = 0.01


def _window_days(window: str | pd.Timedelta | int) -> int:
    """A window as whole days (``"30D"``, ``30`` or a Timedelta)."""
    if isinstance(window, bool):
        raise ValueError(f"window must be a duration like '30D', got {window!r}")
    td = pd.Timedelta(days=int(window)) if isinstance(window, int | np.integer) else None
    if td is None:
        try:
            td = pd.Timedelta(window)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"window must be a duration like '30D', got {window!r}") from exc
    days = td / pd.Timedelta(days=1)
    if days <= 0 or days != int(days):
        raise ValueError(f"window must be a positive number of whole days, got {window!r}")
    return int(days)


def _short_type(iri: str) -> str:
    """``https://w3id.org/xapi/cmi5/activitytype/course`` -> ``course``."""
    return str(iri).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower()


def _statement_events(
    statements: pd.DataFrame, course_catalog: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per statement: employee, activity, program, type, time known, done, session."""
    st = statements[statements["employee_id"].notna()]
    ts = _ns(_utc(st["timestamp"], "statements", "timestamp"))
    known = _ns(_utc(st["stored"], "statements", "stored")) if "stored" in st.columns else ts
    verb = st["verb"].astype("string").str.lower().fillna("")
    completion = (
        st["completion"].astype("boolean").fillna(False)
        if "completion" in st.columns
        else pd.Series(False, index=st.index)
    )
    failed = (verb == "failed") | (
        st["success"].astype("boolean").eq(False).fillna(False)
        if "success" in st.columns
        else False
    )
    done = (verb.isin(list(DONE_VERBS)) | completion) & ~failed
    obj = st["object_id"].astype(str).to_numpy()
    program = np.full(len(st), None, dtype=object)
    if course_catalog is not None:
        prog = dict(
            zip(
                course_catalog["activity_id"].astype(str),
                course_catalog["program"].astype("string").fillna(""),
                strict=True,
            )
        )
        program = np.array([prog.get(o) or None for o in obj], dtype=object)
    kind = (
        st["activity_type"].astype("string").fillna("").map(_short_type).to_numpy(object)
        if "activity_type" in st.columns
        else np.full(len(st), "", dtype=object)
    )
    return pd.DataFrame(
        {
            "employee_id": st["employee_id"].astype(str).to_numpy(),
            "object_id": obj,
            "program": program,
            "type": kind,
            "t": ts,
            "known": np.maximum(known, ts),
            "done": done.to_numpy(bool),
            "session": verb.isin(list(SESSION_VERBS)).to_numpy(bool),
        }
    )


def _behaviours(
    events: pd.DataFrame,
    hires: pd.Series,
    days: int,
    *,
    programs: Sequence[str],
    types: Sequence[str],
    until: pd.Series | None = None,
) -> pd.DataFrame:
    """Early-behaviour counts per hire in ``[hire, hire + days)`` (known before it closes).

    ``hires`` maps employee id -> hire time (UTC ns). ``until`` (optional, UTC ns per hire)
    cuts the window earlier (the behaviour so far, for nudges at ``as_of``). Returns one row
    per hire (index: employee id) and one column per behaviour; hires with no statement in the
    window have 0.
    """
    hire = events["employee_id"].map(hires)
    end = hire + days * _DAY_NS
    if until is not None:
        end = np.minimum(end, events["employee_id"].map(until))
    inside = hire.notna() & (events["t"] >= hire) & (events["t"] < end) & (events["known"] < end)
    ev = events[inside.to_numpy(bool)]
    out = pd.DataFrame(index=pd.Index(hires.index.astype(str), name="employee_id"))
    done = ev[ev["done"]].drop_duplicates(["employee_id", "object_id"])
    for p in programs:
        n = done[done["program"] == p].groupby("employee_id").size()
        out[f"completed_{p}"] = n
    for k in types:
        n = ev[ev["session"] & (ev["type"] == k)].groupby("employee_id").size()
        out[f"sessions_{k}"] = n
    out["sessions_all"] = ev[ev["session"]].groupby("employee_id").size()
    out["completed_all"] = done.groupby("employee_id").size()
    day = (ev["t"] - ev["employee_id"].map(hires)) // _DAY_NS
    out["active_days"] = day.groupby(ev["employee_id"]).nunique()
    return out.fillna(0.0).astype(float)


def _describe(name: str, program_sizes: dict[str, int]) -> str:
    """What a hire did, with ``{t}`` for the threshold, for a built-in behaviour."""
    if name.startswith("completed_") and name != "completed_all":
        p = name.removeprefix("completed_")
        return f"completed at least {{t}} of the {program_sizes.get(p, 0)} {p} activities"
    if name.startswith("sessions_") and name != "sessions_all":
        return f"started at least {{t}} {name.removeprefix('sessions_')} sessions"
    return {
        "sessions_all": "started at least {t} learning sessions",
        "completed_all": "completed at least {t} learning activities",
        "active_days": "learned on at least {t} different days",
    }.get(name, f"had {name} of at least {{t}}")


def _dichotomize(x: np.ndarray, *, min_share: float) -> tuple[np.ndarray | None, float, str]:
    """``x >= t`` at the sample median ``t`` (1 when the median is 0), or None with the reason.

    ``x > t`` is tried when ``x >= t`` leaves fewer than ``min_share`` on one side.
    """
    x = np.asarray(x, dtype=float)
    if len(x) == 0 or np.nanmax(x) == np.nanmin(x):
        return None, np.nan, "no variation"
    t = float(np.nanmedian(x))
    candidates = [t] if t > 0 else []
    candidates += [float(np.min(x[x > t]))] if (x > t).any() else []
    if t <= 0:
        candidates = [float(np.min(x[x > 0]))] if (x > 0).any() else []
    for c in candidates:
        a = x >= c
        share = float(a.mean())
        if min_share <= share <= 1 - min_share:
            return a, c, ""
    return None, np.nan, f"fewer than {min_share:.0%} of hires on one side of any threshold"


def _design(covariates: pd.DataFrame) -> np.ndarray:
    """One-hot columns (first level dropped) of the covariates, as strings."""
    if covariates.shape[1] == 0:
        return np.zeros((len(covariates), 0))
    cat = covariates.astype("string").fillna("(missing)")
    return pd.get_dummies(cat, drop_first=True, dtype=float).to_numpy(float)


def _lstsq(x: np.ndarray, y: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    """Least squares with an intercept (and a tiny ridge for rank-deficient resamples)."""
    xx = np.hstack([np.ones((len(x), 1)), x])
    pen = np.full(xx.shape[1], ridge * max(len(x), 1))
    pen[0] = 0.0
    return np.linalg.solve(xx.T @ xx + np.diag(pen), xx.T @ y)


def _aipw(x: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    """Augmented inverse-probability-weighted average effect of ``a`` on ``y``.

    Propensity: L2 logistic regression (scikit-learn's ``LogisticRegression(C=1)`` objective,
    solved by Newton's method); outcome: least squares in each arm. Propensities are clipped
    to [0.01, 0.99].
    """
    n1 = int(a.sum())
    if n1 < 2 or n1 > len(a) - 2:
        return np.nan
    w = _fit_logit(x, a.astype(float))
    e = np.clip(1.0 / (1.0 + np.exp(-(w[0] + x @ w[1:]))), _CLIP, 1 - _CLIP)
    xx = np.hstack([np.ones((len(x), 1)), x])
    m1 = xx @ _lstsq(x[a], y[a])
    m0 = xx @ _lstsq(x[~a], y[~a])
    psi = m1 - m0 + a * (y - m1) / e - (~a) * (y - m0) / (1 - e)
    return float(psi.mean())


def _matched(strata: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    """Exact matching on the covariate strata: within-stratum differences, weighted by size.

    Strata without hires on both sides are left out.
    """
    k = int(strata.max()) + 1 if len(strata) else 0
    n1 = np.bincount(strata, weights=a.astype(float), minlength=k)
    n0 = np.bincount(strata, weights=(~a).astype(float), minlength=k)
    s1 = np.bincount(strata, weights=np.where(a, y, 0.0), minlength=k)
    s0 = np.bincount(strata, weights=np.where(a, 0.0, y), minlength=k)
    ok = (n1 > 0) & (n0 > 0)
    if not ok.any():
        return np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = s1[ok] / n1[ok] - s0[ok] / n0[ok]
    size = n1[ok] + n0[ok]
    return float(np.sum(diff * size) / np.sum(size))


def _adjust(p: np.ndarray, correction: str) -> np.ndarray:
    """Benjamini-Hochberg (``"bh"``) q-values or Holm (``"holm"``) adjusted p-values."""
    p = np.asarray(p, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if correction == "bh":
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


@dataclass
class _Cell:
    behaviour: str
    days: int
    description: str
    threshold: float
    usable: np.ndarray  # sample rows where the behaviour and the outcome are usable (bool)
    a: np.ndarray  # did it (bool, over all sample rows)


def _user_behaviours(
    behaviours: pd.DataFrame, hire: pd.Series, days: int, ids: np.ndarray
) -> dict[str, pd.Series]:
    """Own behaviours of one window, refused when observed outside ``[hire, hire + window)``."""
    _require(
        behaviours,
        ("employee_id", "behaviour", "window", "value", "observed_at"),
        "behaviours",
    )
    b = behaviours[behaviours["window"].map(_window_days) == days]
    t = _ns(_utc(b["observed_at"], "behaviours", "observed_at"))
    h = b["employee_id"].astype(str).map(hire).to_numpy(float)
    bad = np.isnan(h) | (t < h) | (t >= h + days * _DAY_NS)
    if bad.any():
        rows = b.loc[bad, ["employee_id", "behaviour", "observed_at"]].head(5)
        raise ValueError(
            f"table 'behaviours': {int(bad.sum())} row(s) of window {days}D have an "
            f"observed_at outside [hire_date, hire_date + {days} days) (or an unknown "
            f"employee): a leading indicator may only use what was observed inside the "
            f"window. First rows:\n{rows.to_string(index=False)}"
        )
    out = {}
    for name, g in b.groupby(b["behaviour"].astype(str)):
        v = g.groupby(g["employee_id"].astype(str))["value"].sum().astype(float)
        out[str(name)] = v.reindex(ids).fillna(0.0)
    return out


def _estimate_one(method, x, strata, a, y, rows):
    if method == "doubly_robust":
        return _aipw(x[rows], a[rows], y[rows])
    return _matched(strata[rows], a[rows], y[rows])


def _run(cells, method, x, strata, y, ids, n_bootstrap, random_state, confidence):
    """Point estimates, bootstrap intervals, standard errors and p-values of every cell."""
    from threadpoolctl import threadpool_limits

    codes, k = bootstrap_clusters(ids)
    order = np.argsort(codes, kind="stable")
    groups = np.split(order, np.cumsum(np.bincount(codes, minlength=k))[:-1])
    rng = rng_from(random_state)
    est = np.array(
        [_estimate_one(method, x, strata, c.a, y, np.flatnonzero(c.usable)) for c in cells]
    )
    reps = np.full((n_bootstrap, len(cells)), np.nan)
    with threadpool_limits(limits=1, user_api="blas"):
        for b in range(n_bootstrap):
            idx = np.concatenate([groups[j] for j in rng.integers(0, k, k)])
            for i, c in enumerate(cells):
                rows = idx[c.usable[idx]]
                reps[b, i] = _estimate_one(method, x, strata, c.a, y, rows)
    q = (1 - confidence) / 2
    out = []
    for i in range(len(cells)):
        r = reps[:, i][np.isfinite(reps[:, i])]
        lo, hi = np.quantile(r, [q, 1 - q]) if len(r) > 1 else (np.nan, np.nan)
        se = float(r.std(ddof=1)) if len(r) > 1 else np.nan
        z = abs(est[i]) / se if se and np.isfinite(se) and se > 0 else np.nan
        p = float(2 * norm.sf(z)) if np.isfinite(z) else np.nan
        out.append((est[i], float(lo), float(hi), se, p))
    return out
