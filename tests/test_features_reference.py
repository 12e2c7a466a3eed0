"""Every feature against an independent, row-by-row reference implementation.

The reference below is written from the definitions in docs/features.md, in plain Python over
one spine row at a time (slow, obvious), without the SQL, the cumulative-sum probes or the
distinct-count identity that ``talentml.features`` uses. Both must agree on every feature of
every spine row of a small simulated organization, and on hand-made edge cases.
"""

from __future__ import annotations

import math
import zoneinfo
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, simulate_workforce

DAY = 86_400_000_000
QUARTER = 365.25 / 4
VERBS = {
    "launched": "launched",
    "initialized": "launched",
    "attempted": "launched",
    "completed": "completed",
    "passed": "passed",
    "failed": "failed",
    "experienced": "experienced",
    "played": "experienced",
    "watched": "experienced",
    "viewed": "experienced",
    "read": "experienced",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(value) -> int | None:
    if value is None or pd.isna(value):
        return None
    return int(pd.Timestamp(value).value // 1000)


def _na(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _local_us(start_us: int, tz: str) -> int:
    instant = _EPOCH + timedelta(microseconds=start_us)
    wall = instant.astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=UTC)
    return (wall - _EPOCH) // timedelta(microseconds=1)


def _mean(values):
    return sum(values) / len(values) if values else math.nan


def _ratio(a, b):
    return a / b if b else math.nan


def _weekdays(d0: int, d1: int) -> int:
    return sum(1 for d in range(d0, d1) if (d + 3) % 7 < 5)


def _capped(a, b):
    return min(a / b, 1.0) if b else math.nan


def _llr(n: int, mu: float) -> float:
    """Poisson log-likelihood ratio of a rate fallen to its most likely fraction."""
    if mu <= 0 or n >= mu:
        return 0.0
    return mu if n == 0 else n * math.log(n / mu) + mu - n


def family_rates(a, hs, emp, stmts, terms):
    """Voluntary sessions per day employed in the baseline window of ``a`` (whole UTC days
    from 455 to 90 days before a's day, from the start of the records): by job family and
    for the organization, as docs/features.md defines them."""
    if hs is None or hs >= a:
        return {}, None
    d1 = a // DAY - 90
    d0 = max(a // DAY - 455, -(-hs // DAY))
    if d0 >= d1:
        return {}, None
    days: dict = {}
    sessions: dict = {}
    for eid, e in emp.items():
        fam = _na(e.job_family)
        ends = [eff for eff, rec, _ in terms.get(eid, []) if rec < a]
        end = min([d1 * DAY] + ends)
        h = _us(e.hire_date)
        if h < d1 * DAY:
            days[fam] = days.get(fam, 0.0) + max(0, min(d1 * DAY, end) - max(d0 * DAY, h)) / DAY
        for s in stmts.get(eid, []):
            if s["vol"] and s["vf"] in ("launched", "experienced") and d0 <= s["t"] // DAY < d1:
                sessions[fam] = sessions.get(fam, 0) + 1
    total = sum(days.values())
    org = sum(sessions.values()) / total if total > 0 else None
    fams = {f: sessions.get(f, 0) / x for f, x in days.items() if f is not None and x >= 365}
    return fams, org


# ------------------------------------------------------------------------ reference
def reference(spine, statements, employees, reviews, competency, job_events, catalog, windows):
    emp = {r.employee_id: r for r in employees.itertuples(index=False)}
    cat = {r.activity_id: r for r in catalog.itertuples(index=False)}
    hs = min(_us(v) for v in statements["stored"])
    stmts: dict[str, list[dict]] = {}
    for r in statements.itertuples(index=False):
        if _na(r.employee_id) is None or r.employee_id not in emp:
            continue
        vf = VERBS.get(str(r.verb).lower(), "other")
        dur = r.duration_s if not pd.isna(r.duration_s) else 0.0
        start = _us(r.timestamp) - min(int(math.floor(max(dur, 0.0) * 1e6)), DAY)
        local = _local_us(start, emp[r.employee_id].timezone)
        hour, lday = (local % DAY) // 3_600_000_000, local // DAY
        dow = (lday + 3) % 7
        c = cat.get(r.object_id)
        completion = _na(r.completion) is not None and bool(r.completion)
        success = _na(r.success) is not None and bool(r.success)
        compl = vf == "completed" or (vf == "experienced" and completion)
        stmts.setdefault(r.employee_id, []).append(
            {
                "t": _us(r.stored),
                "object_id": r.object_id,
                "vf": vf,
                "compl": compl,
                "pass_c": vf == "passed" or (vf != "failed" and success),
                "minutes": dur / 60 if vf in ("completed", "experienced") else 0.0,
                "score": None if pd.isna(r.score_scaled) else float(r.score_scaled),
                "vol": bool(c is not None and c.voluntary),
                "mand": bool(c is not None and c.mandatory),
                "onb": bool(c is not None and c.program == "onboarding"),
                "session": vf in ("launched", "experienced"),
                "skills": [(s, int(c.level)) for s in c.skills] if c is not None else [],
                "off": dow >= 5 or hour < 8 or hour >= 18,
                "wkend": dow >= 5,
                "week": (lday + 3) // 7,
            }
        )
    mandatory = [a for a, c in cat.items() if c.mandatory]
    revs: dict[str, list] = {}
    for r in reviews.itertuples(index=False):
        revs.setdefault(r.employee_id, []).append(r)
    comps: dict[str, list] = {}
    for r in competency.itertuples(index=False):
        comps.setdefault(r.employee_id, []).append(r)
    events: dict[str, list[dict]] = {}
    for r in job_events.itertuples(index=False):
        events.setdefault(r.employee_id, []).append(
            {
                "event": r.event.lower(),
                "eff": _us(r.effective_date),
                "rec": _us(r.recorded_at),
                "fv": _na(r.from_value),
                "tv": _na(r.to_value),
            }
        )
    terms: dict[str, list[tuple[int, int, bool]]] = {}
    for eid, e in emp.items():
        own = [x for x in events.get(eid, []) if x["event"] == "termination"]
        snap_vol = _na(e.termination_type) == "voluntary"
        for x in own:
            vol = snap_vol or "voluntary" in (
                str(x["fv"] or "").lower(),
                str(x["tv"] or "").lower(),
            )
            terms.setdefault(eid, []).append((x["eff"], x["rec"], vol))
        if not own and _na(e.termination_date) is not None:
            t = _us(e.termination_date)
            terms.setdefault(eid, []).append((t, t, snap_vol))

    def pit(eid, kinds, snapshot, teff, tvis):
        evs = [x for x in events.get(eid, []) if x["event"] in kinds]
        known = [x for x in evs if x["rec"] < tvis and x["eff"] <= teff]
        later = [x for x in evs if not (x["rec"] < tvis and x["eff"] <= teff)]
        nl = (1, "")  # NULLS LAST for ascending text

        def key(v):
            return nl if v is None else (0, v)

        if known:
            known.sort(key=lambda x: (-x["eff"], -x["rec"], key(x["fv"]), key(x["tv"])))
            return known[0]["tv"]
        if later:
            later.sort(key=lambda x: (x["eff"], x["rec"], key(x["fv"]), key(x["tv"])))
            return later[0]["fv"]
        return snapshot

    def manager(eid, teff, tvis):
        return pit(eid, ("manager_change",), _na(emp[eid].manager_id), teff, tvis)

    onboarding = {a for a, c in cat.items() if c.program == "onboarding"}
    # each employee's distinct onboarding activities completed in the first 30 days
    first30 = {
        eid: len(
            {
                s["object_id"]
                for s in stmts.get(eid, [])
                if s["onb"] and s["compl"] and h <= s["t"] < h + 30 * DAY
            }
        )
        for eid, h in ((eid, _us(e.hire_date)) for eid, e in emp.items())
    }
    rates_at: dict = {}
    rows = []
    w_list = [tml.features._pit.parse_window(w) for w in windows]
    for sp in spine.itertuples(index=False):
        eid, a = sp.employee_id, _us(sp.as_of)
        e = emp[eid]
        h = _us(e.hire_date)
        S = stmts.get(eid, [])
        vis = [s for s in S if s["t"] < a]
        acq = [
            (s["t"], sk, lv)
            for s in S
            if s["compl"] or s["vf"] == "passed"
            for sk, lv in s["skills"]
        ]
        first: dict[str, int] = {}
        for t, sk, _ in acq:
            first[sk] = min(first.get(sk, t), t)

        def max_levels(x, acq=acq):
            best: dict[str, int] = {}
            for t, sk, lv in acq:
                if t < x:
                    best[sk] = max(best.get(sk, 0), lv)
            return sum(best.values())

        def between(lo, hi, vis=vis):
            return [s for s in vis if lo <= s["t"] < hi]

        out = {}
        for w in w_list:
            lab, lo = w.label, a - w.us
            win = between(lo, a)
            prior = between(a - 2 * w.us, lo)
            n = len(win)
            out[f"n_statements_{lab}"] = n
            for fam in ("launched", "completed", "passed", "failed", "experienced"):
                out[f"n_{fam}_{lab}"] = sum(s["vf"] == fam for s in win)
            out[f"n_distinct_activities_{lab}"] = len({s["object_id"] for s in win})
            out[f"minutes_{lab}"] = sum(s["minutes"] for s in win)
            scores = [s["score"] for s in win if s["score"] is not None]
            prior_scores = [s["score"] for s in prior if s["score"] is not None]
            out[f"score_mean_{lab}"] = _mean(scores)
            out[f"score_trend_{lab}"] = _mean(scores) - _mean(prior_scores)
            passed = out[f"n_passed_{lab}"]
            failed = out[f"n_failed_{lab}"]
            out[f"pass_rate_{lab}"] = _ratio(passed, passed + failed)
            out[f"voluntary_share_{lab}"] = _ratio(sum(s["vol"] for s in win), n)
            vol_compl = sum(s["vol"] and s["compl"] for s in win)
            out[f"n_voluntary_completions_{lab}"] = vol_compl
            out[f"offhours_share_{lab}"] = _ratio(sum(s["off"] for s in win), n)
            out[f"weekend_share_{lab}"] = _ratio(sum(s["wkend"] for s in win), n)
            out[f"active_weeks_{lab}"] = len({s["week"] for s in win})
            out[f"skills_acquired_{lab}"] = sum(lo <= t < a for t in first.values())
            gain = max_levels(a) - max_levels(lo)
            out[f"skill_level_gain_{lab}"] = float(gain)
            out[f"agility_offhours_{lab}"] = sum(s["vol"] and s["compl"] and s["off"] for s in win)
            rate = _ratio(passed, passed + failed)
            out[f"agility_standard_{lab}"] = vol_compl * (1.0 if math.isnan(rate) else rate) + gain
            days = _weekdays(max(h, lo) // DAY, a // DAY)
            out[f"agility_per_workday_{lab}"] = _ratio(vol_compl + gain, days)
        longest = w_list[-1]
        out[f"skills_per_quarter_{longest.label}"] = out[f"skills_acquired_{longest.label}"] / (
            longest.days / QUARTER
        )
        lower = min(h, a)
        since = between(lower, a)
        out["n_statements_since_hire"] = len(since)
        out["n_completions_since_hire"] = sum(s["compl"] for s in since)
        out["minutes_since_hire"] = sum(s["minutes"] for s in since)
        out["n_voluntary_completions_since_hire"] = sum(s["vol"] and s["compl"] for s in since)
        acquired = sum(lower <= t < a for t in first.values())
        out["skills_acquired_since_hire"] = acquired
        out["skills_per_quarter_since_hire"] = _ratio(acquired, (a - lower) / DAY / QUARTER)
        out["onboarding_completions_first_30d"] = sum(
            s["onb"] and s["compl"] for s in between(lower, min(h + 30 * DAY, a))
        )
        out["days_since_last_activity"] = (a - max(s["t"] for s in vis)) / DAY if vis else math.nan
        recent, prior_w = w_list[0], (w_list[1] if len(w_list) > 1 else w_list[0])
        r_vol = sum(s["vol"] for s in between(a - recent.us, a)) / recent.days
        p_vol = (
            sum(s["vol"] for s in between(a - recent.us - prior_w.us, a - recent.us)) / prior_w.days
        )
        out[f"voluntary_dropoff_{recent.label}_vs_prior_{prior_w.label}"] = (
            1 - r_vol / p_vol if p_vol else math.nan
        )
        overdue_n, overdue = 0, []
        for m in mandatory:
            passes = [s["t"] for s in vis if s["object_id"] == m and s["pass_c"]]
            if passes:
                due = max(passes) + 365 * DAY
            else:
                due = max(h, hs) + 60 * DAY if hs < a else None
            overdue_n += due is not None and a > due
            overdue.append(max(a - due, 0) if due is not None else 0)
        out["mandatory_overdue_count"] = overdue_n
        out["mandatory_days_overdue"] = max(overdue) / DAY if overdue else math.nan
        out["mandatory_compliant"] = int(overdue_n == 0)

        # agility per opportunity
        lab, lo = longest.label, a - longest.us
        out[f"mastery_per_activity_{lab}"] = _ratio(
            out[f"skill_level_gain_{lab}"], out[f"n_distinct_activities_{lab}"]
        )
        tp = []
        for obj in {s["object_id"] for s in S}:
            mine = [s for s in S if s["object_id"] == obj]
            passes = [s["t"] for s in mine if s["pass_c"]]
            if passes and lo <= min(passes) < a:
                tp.append((min(passes) - min(s["t"] for s in mine)) / DAY)
        out[f"days_to_pass_{lab}"] = _mean(tp)
        # onboarding in the first 30 days, and against the cohort
        end30 = min(h + 30 * DAY, a)
        onb30 = [s for s in between(lower, end30) if s["onb"]]
        n_act = len({s["object_id"] for s in onb30 if s["compl"]})
        firsts = [s["t"] for s in onb30 if s["compl"]]
        out["onboarding_sessions_first_30d"] = sum(s["session"] for s in onb30)
        out["onboarding_share_first_30d"] = _ratio(n_act, len(onboarding))
        out["days_to_first_onboarding_completion"] = (min(firsts, default=end30) - h) / DAY
        out["onboarding_days_mean_first_30d"] = _mean([(t - h) / DAY for t in firsts])
        cohort = [
            first30[j]
            for j, ej in emp.items()
            if hs < a
            and _us(ej.hire_date) >= hs
            and a - 365 * DAY <= _us(ej.hire_date) + 30 * DAY < a
        ]
        out["onboarding_vs_cohort_first_30d"] = _ratio(n_act, _mean(cohort)) if cohort else math.nan
        if not (hs <= h and hs < a):  # the records do not cover the first 30 days
            for name in (
                "onboarding_sessions_first_30d",
                "onboarding_share_first_30d",
                "days_to_first_onboarding_completion",
                "onboarding_days_mean_first_30d",
                "onboarding_vs_cohort_first_30d",
            ):
                out[name] = math.nan

        # personal baseline
        if a not in rates_at:
            rates_at[a] = family_rates(a, hs, emp, stmts, terms)
        fams, org = rates_at[a]
        prior = fams.get(_na(e.job_family), org)
        s0 = max(h, hs) if hs < a else None
        bl_lo, bl_hi = max(lower, a - 455 * DAY), max(lower, a - 90 * DAY)
        sess = [s for s in vis if s["vol"] and s["session"]]
        n_base = sum(bl_lo <= s["t"] < bl_hi for s in sess)
        n_recent = sum(bl_hi <= s["t"] < a for s in sess)
        c_base = sum(s["vol"] and s["compl"] for s in between(bl_lo, bl_hi))
        c_recent = sum(s["vol"] and s["compl"] for s in between(bl_hi, a))
        if s0 is None:
            rate = math.nan
        else:
            e_base = max(0, bl_hi - max(bl_lo, s0)) / DAY
            rate = (
                _ratio(n_base, e_base) if prior is None else (n_base + 90 * prior) / (e_base + 90)
            )
        employed = max(0, a - s0) / DAY if s0 is not None else math.nan
        e_recent = max(0, a - max(bl_hi, s0)) / DAY if s0 is not None else math.nan
        out["voluntary_baseline_per_30d"] = 30 * rate
        out["voluntary_90d_vs_baseline"] = (
            _ratio(_ratio(n_recent, e_recent), rate) if e_recent == e_recent else math.nan
        )
        last_v = max((s["t"] for s in sess), default=None)
        since_v = (a - last_v) / DAY if last_v is not None else math.nan
        out["days_since_voluntary_session"] = since_v
        out["voluntary_sessions_missed"] = rate * (employed if math.isnan(since_v) else since_v)
        out["voluntary_drop_llr"] = (
            math.nan
            if math.isnan(rate)
            else max(
                _llr(sum(s["t"] >= a - d * DAY for s in sess), rate * min(d, employed))
                for d in (14, 30, 60, 90, 120, 180)
            )
        )
        out["voluntary_completion_share_change_90d"] = _capped(c_recent, n_recent) - _capped(
            c_base, n_base
        )

        # reviews
        rv = [r for r in revs.get(eid, []) if _us(r.submitted_at) < a]
        rv.sort(key=lambda r: (_us(r.period_end), _us(r.submitted_at), r.cycle_id), reverse=True)
        out["n_reviews"] = len(rv)
        out["rating_latest"] = rv[0].overall_rating if rv else math.nan
        out["rating_change"] = (
            rv[0].overall_rating - rv[1].overall_rating if len(rv) > 1 else math.nan
        )
        if len(rv) >= 2:
            top = rv[:3]
            out["rating_trajectory"] = float(
                np.polyfit([-i for i in range(len(top))], [r.overall_rating for r in top], 1)[0]
            )
        else:
            out["rating_trajectory"] = math.nan
        out["potential_latest"] = rv[0].potential_rating if rv else math.nan
        out["goal_attainment_latest"] = rv[0].goal_attainment if rv else math.nan
        out["days_since_last_review"] = (a - _us(rv[0].submitted_at)) / DAY if rv else math.nan
        later = {}
        later["rating_mean_all"] = _mean([r.overall_rating for r in rv])
        later["rating_trend_all"] = (
            float(np.polyfit([-i for i in range(len(rv))], [r.overall_rating for r in rv], 1)[0])
            if len(rv) >= 2
            else math.nan
        )
        pots = [r.potential_rating for r in rv if not pd.isna(r.potential_rating)]
        later["potential_mean_all"] = _mean(pots)
        later["potential_change"] = (
            rv[0].potential_rating - rv[1].potential_rating if len(rv) > 1 else math.nan
        )
        cv = [r for r in comps.get(eid, []) if _us(r.submitted_at) < a]
        if cv:
            last = {}
            for r in cv:
                last[r.cycle_id] = max(last.get(r.cycle_id, -(2**62)), _us(r.submitted_at))
            cycle = max(last, key=lambda c: (last[c], c))
            ratings = [r.rating for r in cv if r.cycle_id == cycle]
            out["competency_min"] = min(ratings)
            out["competency_mean"] = _mean(ratings)
            out["competencies_below_threshold"] = float(sum(x < 3 for x in ratings))
            later["competency_mean_all"] = _mean([r.rating for r in cv])
            order = sorted(last, key=lambda c: (last[c], c), reverse=True)
            later["competency_mean_change"] = (
                _mean(ratings) - _mean([r.rating for r in cv if r.cycle_id == order[1]])
                if len(order) > 1
                else math.nan
            )
            out.update(later)
        else:
            out["competency_min"] = out["competency_mean"] = math.nan
            out["competencies_below_threshold"] = math.nan
            later["competency_mean_all"] = later["competency_mean_change"] = math.nan
        out.update(later)

        # hris
        out["tenure_days"] = (a - h) / DAY
        lvl = pit(eid, ("hire", "promotion"), str(e.job_level), a, a)
        try:
            out["job_level"] = float(int(lvl))
        except (TypeError, ValueError):
            out["job_level"] = math.nan
        dept = pit(eid, ("transfer",), e.department, a, a)
        out["job_family"] = e.job_family
        out["department"] = dept
        known = [x for x in events.get(eid, []) if x["rec"] < a and x["eff"] <= a]
        role = [x["eff"] for x in known if x["event"] in ("hire", "promotion", "transfer")]
        out["days_in_role"] = (a - (max(role) if role else h)) / DAY
        promos = [x["eff"] for x in known if x["event"] == "promotion"]
        out["days_since_promotion"] = (a - max(promos)) / DAY if promos else math.nan
        out["n_promotions"] = len(promos)
        mcs = [x["eff"] for x in known if x["event"] == "manager_change"]
        out["manager_changes_365d"] = sum(t >= a - 365 * DAY for t in mcs)
        out["manager_changes_since_hire"] = sum(t >= h for t in mcs)
        m = manager(eid, a, a)
        if m is None:
            out["team_size"] = out["team_voluntary_exits_182d"] = math.nan
            out["team_voluntary_exits_365d"] = math.nan
        else:
            size = 0
            for j, ej in emp.items():
                gone = any(rec < a and eff < a for eff, rec, _ in terms.get(j, []))
                if _us(ej.hire_date) <= a and not gone and manager(j, a, a) == m:
                    size += 1
            out["team_size"] = float(size)
            for days in (182, 365):
                n_exit = 0
                for j, tl in terms.items():
                    for eff, rec, vol in tl:
                        if (
                            vol
                            and rec < a
                            and a - days * DAY <= eff < a
                            and manager(j, eff, a) == m
                        ):
                            n_exit += 1
                out[f"team_voluntary_exits_{days}d"] = float(n_exit)
        rows.append(out)
    return pd.DataFrame(rows)


def assert_matches(built: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(built.columns[2:]) == list(expected.columns)
    for col in expected.columns:
        got = built[col].reset_index(drop=True)
        exp = expected[col]
        if built[col].dtype == "string":
            pd.testing.assert_series_equal(
                got.astype(object).where(got.notna(), None),
                exp.astype(object).where(exp.notna(), None),
                check_names=False,
                obj=col,
            )
            continue
        g = got.to_numpy(dtype=float)
        x = exp.to_numpy(dtype=float)
        bad = ~(np.isclose(g, x, rtol=1e-9, atol=1e-9) | (np.isnan(g) & np.isnan(x)))
        assert not bad.any(), (
            f"{col}: {bad.sum()} row(s) differ, first rows {np.flatnonzero(bad)[:5].tolist()}: "
            f"built {g[bad][:5].tolist()} vs reference {x[bad][:5].tolist()}"
        )


@pytest.fixture(scope="module")
def small_org():
    org = simulate_workforce(
        n_employees=60, start="2023-01-01", end="2024-12-31", random_state=3, show_progress=False
    )
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    return org, statements


def test_every_feature_matches_the_reference(small_org):
    org, statements = small_org
    spine = tml.features.make_spine(org.employees, start="2024-03-01", end="2024-12-01", freq="QS")
    tables = dict(
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
    )
    built = tml.features.build(spine, statements=statements, employees=org.employees, **tables)
    expected = reference(
        spine,
        statements,
        org.employees,
        org.reviews,
        org.competency_ratings,
        org.job_events,
        org.catalog,
        tml.features.DEFAULT_WINDOWS,
    )
    # the data exercise the features (not all missing or zero)
    assert (built["n_statements_90d"] > 0).mean() > 0.5
    assert built["voluntary_drop_llr"].gt(0).mean() > 0.3
    assert built["voluntary_baseline_per_30d"].notna().all()
    assert built["onboarding_share_first_30d"].gt(0).sum() >= 5
    assert built["onboarding_vs_cohort_first_30d"].notna().sum() >= 5
    assert built["days_to_pass_365d"].notna().mean() > 0.5
    assert built["potential_change"].notna().mean() > 0.3
    assert built["team_size"].gt(1).mean() > 0.5
    assert built["rating_change"].notna().mean() > 0.3
    assert_matches(built, expected)


def test_other_windows_and_off_midnight_cutoffs(small_org):
    org, statements = small_org
    # cutoffs at odd times of day, windows in weeks and days
    spine = tml.features.make_spine(
        org.employees, start="2024-05-17 13:37:11", end="2024-11-30", freq="45D"
    )
    windows = ("2W", "45D")
    built = tml.features.build(
        spine,
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
        windows=windows,
    )
    expected = reference(
        spine,
        statements,
        org.employees,
        org.reviews,
        org.competency_ratings,
        org.job_events,
        org.catalog,
        windows,
    )
    assert_matches(built, expected)
