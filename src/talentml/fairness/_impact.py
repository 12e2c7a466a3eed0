"""Impact ratios as NYC Local Law 144 defines them, with significance and bootstrap intervals.

* **Selection rate** of a category: selected / assessed (a binary decision, a threshold or the
  top-k). **Scoring rate**: share of the category scoring above the *full sample's* median
  (continuous scores). **Impact ratio**: a category's rate divided by the highest rate among
  the compared categories (6 RCNY §5-300, §5-301).
* **Four-fifths rule** (EEOC Uniform Guidelines, 29 CFR 1607.4(D)): a ratio under 0.8 is
  evidence of adverse impact. Each category is also tested against the reference category
  (Fisher's exact test, or the pooled two-proportion z-test) and gets a percentile bootstrap
  interval of its ratio; the bootstrap resamples *employees* when the audited rows repeat
  people (several ``as_of`` per employee), so repeated rows do not narrow the interval.
* **Exclusions** (6 RCNY §5-301(d)): a category under ``exclude_below`` (2%) of the audited
  rows may be left out of the ratios; it stays in the table with its count and rate, and the
  justification is stated. The **unknown** category is never compared; its count is reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import RandomStateLike, bootstrap_clusters, rng_from
from ._groups import UNKNOWN

__all__ = ["DEFAULT_JUSTIFICATION", "FOUR_FIFTHS", "TESTS", "p_value", "rate_table"]

#: The EEOC four-fifths threshold on impact ratios.
FOUR_FIFTHS = 0.8

#: Significance tests available for a category against the reference category.
TESTS = ("fisher", "two-proportion")

#: Justification stated for categories excluded under 6 RCNY §5-301(d).
DEFAULT_JUSTIFICATION = (
    "represents less than {limit:.0%} of the audited rows ({share:.2%}, n={n}); an impact ratio "
    "on so few people is too unstable to interpret, so it is excluded from the impact-ratio "
    "calculations as 6 RCNY §5-301(d) permits; its count and rate are reported"
)

RATE_COLUMNS = (
    "n",
    "share",
    "n_selected",
    "rate",
    "impact_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "reference",
    "excluded",
    "small",
    "four_fifths",
    "significant",
)


def p_value(k1: int, n1: int, k2: int, n2: int, *, test: str = "fisher") -> float:
    """Two-sided p-value for equal rates ``k1/n1`` and ``k2/n2``.

    ``"fisher"``: Fisher's exact test on the 2x2 table; ``"two-proportion"``: the pooled
    two-proportion z-test. NaN when a side is empty.
    """
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    if n1 <= 0 or n2 <= 0:
        return float("nan")
    if test == "fisher":
        table = [[k1, n1 - k1], [k2, n2 - k2]]
        return float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if var <= 0.0:
        return 1.0
    z = (k1 / n1 - k2 / n2) / math.sqrt(var)
    return float(2.0 * stats.norm.sf(abs(z)))


def _bootstrap_rates(
    selected: np.ndarray,
    group_codes: np.ndarray,
    n_groups: int,
    clusters: np.ndarray | None,
    *,
    n_bootstrap: int,
    rng: np.random.Generator,
    chunk: int = 100,
) -> np.ndarray:
    """Bootstrap rates per group, shape (n_bootstrap, n_groups); clusters resampled whole."""
    n = len(selected)
    codes, n_clusters = bootstrap_clusters(clusters, n)
    flat = codes * n_groups + group_codes
    size = n_clusters * n_groups
    count = np.bincount(flat, minlength=size).reshape(n_clusters, n_groups).astype(np.float64)
    hits = (
        np.bincount(flat, weights=selected.astype(np.float64), minlength=size)
        .reshape(n_clusters, n_groups)
        .astype(np.float64)
    )
    out = np.empty((n_bootstrap, n_groups))
    p = np.full(n_clusters, 1.0 / n_clusters)
    done = 0
    while done < n_bootstrap:
        b = min(chunk, n_bootstrap - done)
        w = rng.multinomial(n_clusters, p, size=b).astype(np.float64)
        tot = w @ count
        sel = w @ hits
        with np.errstate(invalid="ignore", divide="ignore"):
            out[done : done + b] = np.where(tot > 0, sel / np.where(tot > 0, tot, 1.0), np.nan)
        done += b
    return out


def rate_table(
    selected: np.ndarray,
    groups: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
    exclude_below: float | None = 0.02,
    min_n: int = 30,
    alpha: float = 0.05,
    test: str = "fisher",
    n_bootstrap: int = 1000,
    ci: float = 0.95,
    random_state: RandomStateLike = 0,
) -> pd.DataFrame:
    """Rates, impact ratios, p-values and bootstrap intervals per category.

    Parameters
    ----------
    selected : numpy.ndarray of bool
        The favourable outcome per row (selected, or scored above the median).
    groups : numpy.ndarray of str
        Category label per row (:data:`~talentml.fairness._groups.UNKNOWN` for unknown).
    clusters : numpy.ndarray, optional
        Person identifier per row: the bootstrap resamples people, not rows.
    exclude_below, min_n, alpha, test, n_bootstrap, ci, random_state
        See :func:`talentml.fairness.audit`.

    Returns
    -------
    pandas.DataFrame
        Indexed by category (known categories only), columns :data:`RATE_COLUMNS`.
    """
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    selected = np.asarray(selected, dtype=bool)
    groups = np.asarray(groups, dtype=object)
    n_total = len(groups)
    known = groups != UNKNOWN
    cats = sorted({str(g) for g in groups[known].tolist()})
    if not cats:
        return pd.DataFrame(columns=list(RATE_COLUMNS), index=pd.Index([], name="group"))
    index = {c: i for i, c in enumerate(cats)}
    codes = np.array([index.get(str(g), -1) for g in groups], dtype=np.int64)
    n = np.bincount(codes[known], minlength=len(cats))
    k = np.bincount(codes[known], weights=selected[known].astype(float), minlength=len(cats))
    k = np.round(k).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    share = n / n_total if n_total else np.zeros(len(cats))
    excluded = (
        share < exclude_below if exclude_below is not None else np.zeros(len(cats), dtype=bool)
    )
    compared = ~excluded
    ratio = np.full(len(cats), np.nan)
    pvals = np.full(len(cats), np.nan)
    lo = np.full(len(cats), np.nan)
    hi = np.full(len(cats), np.nan)
    reference = np.zeros(len(cats), dtype=bool)
    if compared.any():
        ref = int(np.flatnonzero(compared)[np.argmax(rate[compared])])
        reference[ref] = True
        if rate[ref] > 0:
            ratio[compared] = rate[compared] / rate[ref]
            for i in np.flatnonzero(compared):
                if i != ref:
                    pvals[i] = p_value(int(k[i]), int(n[i]), int(k[ref]), int(n[ref]), test=test)
            if n_bootstrap:
                rng = rng_from(random_state)
                boot = _bootstrap_rates(
                    selected[known],
                    codes[known],
                    len(cats),
                    None if clusters is None else np.asarray(clusters, dtype=object)[known],
                    n_bootstrap=n_bootstrap,
                    rng=rng,
                )
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratios = boot / boot[:, [ref]]
                ratios[~np.isfinite(ratios)] = np.nan
                q = (1.0 - ci) / 2.0
                for i in np.flatnonzero(compared):
                    col = ratios[:, i]
                    col = col[~np.isnan(col)]
                    if len(col) >= max(10, n_bootstrap // 2):
                        lo[i], hi[i] = np.quantile(col, [q, 1.0 - q])
    out = pd.DataFrame(
        {
            "n": n.astype(np.int64),
            "share": share,
            "n_selected": k,
            "rate": rate,
            "impact_ratio": ratio,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": pvals,
            "reference": reference,
            "excluded": excluded,
            "small": n < min_n,
            "four_fifths": np.where(np.isnan(ratio), False, ratio < FOUR_FIFTHS),
            "significant": np.where(np.isnan(pvals), False, pvals < alpha),
        },
        index=pd.Index(cats, name="group"),
    )
    return out


def scoring_selection(scores: np.ndarray, *, favorable: str = "high") -> tuple[np.ndarray, float]:
    """Rows scoring above the full sample's median (below it when lower is favourable)."""
    s = np.asarray(scores, dtype=np.float64)
    ok = ~np.isnan(s)
    median = float(np.median(s[ok])) if ok.any() else float("nan")
    if favorable == "high":
        return ok & (s > median), median
    return ok & (s < median), median


MSG_TOP_FRACTION = (
    "top_fraction must be a fraction in (0, 1] (the share of rows selected), got {value!r}; "
    "for a count n of m rows pass n / m"
)


def check_top_fraction(top_fraction: Any) -> None:
    """Raise unless ``top_fraction`` is a number in (0, 1]."""
    if isinstance(top_fraction, bool) or not isinstance(
        top_fraction, int | float | np.integer | np.floating
    ):
        raise TypeError(MSG_TOP_FRACTION.format(value=top_fraction))
    if not 0.0 < float(top_fraction) <= 1.0:
        raise ValueError(MSG_TOP_FRACTION.format(value=top_fraction))


def top_fraction_selection(
    scores: np.ndarray,
    top_fraction: float,
    *,
    favorable: str = "high",
    tiebreak: np.ndarray | None = None,
    random_state: RandomStateLike = 0,
) -> tuple[np.ndarray, float, str]:
    """Exactly the top ``top_fraction`` of the scored rows (``ceil(top_fraction * n)``, >= 1).

    Rows tied on the score at the cut are ordered by ``tiebreak`` (e.g. the model's raw
    margin, of which a calibrated probability is a step function), then at random
    (``random_state``). Returns the selection, the score at the cut and how ties were broken.
    """
    check_top_fraction(top_fraction)
    s = np.asarray(scores, dtype=np.float64)
    ok = ~np.isnan(s)
    m = int(ok.sum())
    if m == 0:
        return np.zeros(len(s), dtype=bool), float("nan"), "none"
    k = min(m, max(1, int(math.ceil(float(top_fraction) * m))))
    sign = 1.0 if favorable == "high" else -1.0
    idx = np.flatnonzero(ok)
    rng = rng_from(random_state)
    keys = [rng.random(len(idx))]
    if tiebreak is not None:
        keys.append(sign * np.asarray(tiebreak, dtype=np.float64)[idx])
    keys.append(sign * s[idx])
    order = idx[np.lexsort(keys)[::-1]]  # best first
    selected = np.zeros(len(s), dtype=bool)
    selected[order[:k]] = True
    cut = float(s[order[k - 1]])
    tied = int(np.sum(s[ok] == cut))
    in_sel = int(np.sum(s[selected] == cut))
    if tied == in_sel:
        how = "no ties at the cut"
    elif tiebreak is not None:
        how = f"{tied} rows tied at the cut ordered by the model margin, then at random"
    else:
        how = f"{tied} rows tied at the cut ordered at random"
    return selected, cut, how


def threshold_selection(
    scores: np.ndarray, threshold: float, *, favorable: str = "high"
) -> np.ndarray:
    """Rows at or above ``threshold`` (at or below it when lower is favourable)."""
    s = np.asarray(scores, dtype=np.float64)
    ok = ~np.isnan(s)
    return ok & ((s >= threshold) if favorable == "high" else (s <= threshold))


def worst(table: pd.DataFrame, columns: Sequence[str] = ("impact_ratio",)) -> pd.Series | None:
    """The compared category with the lowest impact ratio (None when there is none)."""
    usable = table[~table["excluded"] & table["impact_ratio"].notna()]
    if usable.empty:
        return None
    return usable.sort_values(list(columns), kind="mergesort").iloc[0]
