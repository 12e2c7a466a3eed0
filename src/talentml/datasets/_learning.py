"""Learning behaviour of the simulated organization, as columnar statement arrays.

Each employee's learning sessions are drawn as Poisson processes over their employment, placed
in their own working or off-hours local time, and turned into the statements a cmi5/SCORM
launcher and a video platform would emit (launched, completed, passed/failed, experienced).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from ._effects import Effects

NS_DAY = 86_400 * 10**9
NS_S = 10**9

VERBS = ("launched", "completed", "passed", "failed", "experienced")
V_LAUNCHED, V_COMPLETED, V_PASSED, V_FAILED, V_EXPERIENCED = range(5)
VOLUNTARY_RATE = 1.45 / 30.44  # attempts per day at average propensity


@dataclass
class Context:
    """What the learning generator needs to know about the organization."""

    start_day: int
    end_day: int
    catalog: pd.DataFrame
    timezones: np.ndarray  # per location index
    effects: Effects


class _Attempts:
    """Accumulates learning attempts (one per course launch or video view)."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("emp", "act", "day", "completed", "score", "disengaged", "p_off", "end")
        }

    def add(self, emp, act, day, completed, score, disengaged, p_off, end) -> None:
        values = (emp, act, day, completed, score, disengaged, p_off, end)
        for key, val in zip(self.parts, values, strict=True):
            self.parts[key].append(np.asarray(val))

    def frame(self) -> dict[str, np.ndarray]:
        return {k: (np.concatenate(v) if v else np.array([])) for k, v in self.parts.items()}


def generate_block(
    idx: np.ndarray, pop, ctx: Context, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Statements (columnar) for the employees ``idx`` of the population."""
    fx, cat = ctx.effects, ctx.catalog
    hire = pop["hire_day"][idx]
    term = pop["term_day"][idx]
    a = np.maximum(hire, ctx.start_day)
    b = np.where(term >= 0, term, ctx.end_day)
    b = np.minimum(b, ctx.end_day)
    ok = b > a
    idx, a, b, hire = idx[ok], a[ok], b[ok], hire[ok]
    pot = pop["pot"][idx] * (1.0 if fx.potential else 0.0)
    care = pop["caregiver"][idx]
    p_off = np.where(care, fx.offhours_share("caregiver"), fx.offhours_share("other"))
    dis_day = pop["dis_day"][idx]
    dis = (dis_day >= 0) & (dis_day < b)
    cut = np.where(dis, np.clip(dis_day, a, b), b)
    att = _Attempts()

    # Voluntary learning: engaged and disengaged segments.
    rate = VOLUNTARY_RATE * np.exp(pop["learn"][idx] + 0.3 * pot)
    mult = fx.disengaged_learning if fx.disengagement else 1.0
    for seg_a, seg_b, factor, flag in ((a, cut, 1.0, False), (cut, b, mult, True)):
        length = np.maximum(seg_b - seg_a, 0)
        counts = rng.poisson(rate * factor * length)
        rows = np.repeat(np.arange(len(idx)), counts)
        if len(rows) == 0:
            continue
        day = seg_a[rows] + np.floor(rng.random(len(rows)) * length[rows]).astype(np.int64)
        years = np.minimum((day - hire[rows]) / 365.25, 4.0)
        level = np.clip(
            np.round(1.2 + 0.7 * pot[rows] + 0.2 * years + rng.normal(0, 0.8, len(rows))), 1, 4
        )
        act = _pick_voluntary(cat, level.astype(int), rng)
        # disengaged sessions are completed less often (only when the effect is on)
        completed = rng.random(len(rows)) < (0.6 if flag and fx.disengagement else 0.82)
        lvl = cat["level"].to_numpy()[act]
        score = np.clip(
            0.74 + 0.07 * pot[rows] - 0.04 * (lvl - 2) + rng.normal(0, 0.09, len(rows)), 0.05, 1.0
        )
        att.add(
            idx[rows], act, day, completed, score, np.full(len(rows), flag), p_off[rows], b[rows]
        )

    # Mandatory compliance: assigned every January (or two weeks after hire), due in 60 days.
    comp = np.flatnonzero(cat["program"].to_numpy() == "compliance")
    years = range(
        int(np.datetime64(ctx.start_day, "D").astype("datetime64[Y]").astype(int)) + 1970,
        int(np.datetime64(ctx.end_day - 1, "D").astype("datetime64[Y]").astype(int)) + 1971,
    )
    for year in years:
        jan15 = int((np.datetime64(f"{year}-01-15", "D")).astype(np.int64))
        assign = np.maximum(jan15, hire + 14)
        in_year = (
            (assign < int(np.datetime64(f"{year}-11-01", "D").astype(np.int64)))
            & (assign >= a)
            & (assign < b)
        )
        rows = np.repeat(np.flatnonzero(in_year), len(comp))
        if len(rows) == 0:
            continue
        act = np.tile(comp, in_year.sum())
        u = rng.random(len(rows))
        day = np.where(
            u < 0.90,
            assign[rows] + rng.integers(1, 58, len(rows)),
            assign[rows] + 60 + 1 + rng.exponential(20, len(rows)).astype(np.int64),
        )
        take = (u < 0.97) & (day < b[rows])
        rows, act, day = rows[take], act[take], day[take]
        score = np.clip(0.87 + rng.normal(0, 0.07, len(rows)), 0.3, 1.0)
        att.add(
            idx[rows],
            act,
            day,
            np.ones(len(rows), bool),
            score,
            dis[rows] & (day >= cut[rows]),
            p_off[rows],
            b[rows],
        )
        retake = score < 0.8
        r2 = rows[retake]
        day2 = day[retake] + rng.integers(1, 10, len(r2))
        keep = day2 < b[r2]
        r2, day2 = r2[keep], day2[keep]
        score2 = np.clip(0.85 + rng.normal(0, 0.05, len(r2)), 0.3, 1.0)
        att.add(
            idx[r2],
            act[retake][keep],
            day2,
            np.ones(len(r2), bool),
            score2,
            np.zeros(len(r2), bool),
            p_off[r2],
            b[r2],
        )

    # Onboarding and product modules for hires made during the simulation.
    new = np.flatnonzero(pop["in_sim_hire"][idx])
    onboard = np.flatnonzero(np.isin(cat["program"].to_numpy(), ["onboarding", "product"]))
    if len(new):
        eng = pop["eng"][idx[new]]
        rows = np.repeat(new, len(onboard))
        act = np.tile(onboard, len(new))
        order = np.tile(np.arange(len(onboard)), len(new))
        e = np.repeat(eng, len(onboard))
        day = (
            hire[rows]
            + (order * 0.6).astype(np.int64)
            + rng.exponential(12.0 * np.exp(-0.7 * e)).astype(np.int64)
        )
        take = (rng.random(len(rows)) < expit(1.5 + e)) & (
            day < np.minimum(b[rows], hire[rows] + 150)
        )
        rows, act, day = rows[take], act[take], day[take]
        score = np.clip(0.78 + 0.05 * pot[rows] + rng.normal(0, 0.08, len(rows)), 0.05, 1.0)
        att.add(
            idx[rows],
            act,
            day,
            np.ones(len(rows), bool),
            score,
            np.zeros(len(rows), bool),
            p_off[rows],
            b[rows],
        )

    # Emerging Leaders track.
    track = np.flatnonzero(cat["program"].to_numpy() == "leadership")
    ts = pop["track_start"][idx]
    te = pop["track_end"][idx]
    members = np.flatnonzero((ts >= 0) & (ts < b))
    for j in members:
        finish = te[j] if te[j] >= 0 else ts[j] + 150
        n_done = len(track) if te[j] >= 0 else int(rng.integers(1, 4))
        days = np.linspace(ts[j] + 3, finish, len(track)).astype(np.int64)[:n_done]
        days = days[days < b[j]]
        if len(days) == 0:
            continue
        score = np.clip(0.8 + 0.05 * pot[j] + rng.normal(0, 0.06, len(days)), 0.3, 1.0)
        att.add(
            np.full(len(days), idx[j]),
            track[: len(days)],
            days,
            np.ones(len(days), bool),
            score,
            np.zeros(len(days), bool),
            np.full(len(days), p_off[j]),
            np.full(len(days), b[j]),
        )

    return _to_statements(att.frame(), pop, ctx, rng)


def _pick_voluntary(cat: pd.DataFrame, level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    vol = cat["voluntary"].to_numpy() & (cat["program"].to_numpy() != "leadership")
    out = np.empty(len(level), dtype=np.int64)
    for lv in range(1, 5):
        pool = np.flatnonzero(vol & (cat["level"].to_numpy() == lv))
        sel = level == lv
        out[sel] = rng.choice(pool, size=sel.sum())
    return out


def place_local(
    day: np.ndarray, p_off: np.ndarray, tz_of: np.ndarray, timezones: np.ndarray, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Local start times for sessions on (approximately) ``day``: working hours or off-hours.

    Returns UTC nanoseconds and whether the session was placed off-hours.
    """
    n = len(day)
    off = rng.random(n) < p_off
    weekend = off & (rng.random(n) < 0.4)
    wd = (day + 3) % 7  # Monday = 0
    # Working-hours and weekday-evening sessions happen Monday to Friday.
    shift_weekday = np.where(wd >= 5, 7 - wd, 0)
    day = np.where(~weekend, day + shift_weekday, day)
    wd = (day + 3) % 7
    shift_weekend = np.where(wd < 5, 5 - wd + (rng.random(n) < 0.5), 0)
    day = np.where(weekend, day + shift_weekend, day)
    sod = np.where(
        ~off,
        rng.uniform(9 * 3600, 17.5 * 3600, n),
        np.where(
            weekend, rng.uniform(9 * 3600, 21 * 3600, n), rng.uniform(19 * 3600, 22.75 * 3600, n)
        ),
    )
    local = day.astype(np.int64) * NS_DAY + (sod * NS_S).astype(np.int64)
    utc = np.empty(n, dtype=np.int64)
    for t, tz in enumerate(timezones):
        sel = np.flatnonzero(tz_of == t)
        if len(sel) == 0:
            continue
        idx = pd.DatetimeIndex(local[sel].astype("datetime64[ns]"))
        loc = idx.tz_localize(
            tz, ambiguous=np.zeros(len(sel), dtype=bool), nonexistent="shift_forward"
        )
        utc[sel] = loc.tz_convert("UTC").asi8
    return utc, off


def _to_statements(a: dict[str, np.ndarray], pop, ctx: Context, rng) -> dict[str, np.ndarray]:
    cat = ctx.catalog
    n = len(a["emp"])
    if n == 0:
        return {}
    emp = a["emp"].astype(np.int64)
    act = a["act"].astype(np.int64)
    t0, off = place_local(
        a["day"].astype(np.int64), a["p_off"], pop["location"][emp], ctx.timezones, rng
    )
    # Moving a session to a weekday or a weekend may push it past the last day: drop those.
    inside = t0 < a["end"].astype(np.int64) * NS_DAY
    if not inside.all():
        a = {k: v[inside] for k, v in a.items()}
        emp, act, t0, off = emp[inside], act[inside], t0[inside], off[inside]
        n = len(emp)
    kind = cat["kind"].to_numpy()[act]
    assessed = cat["assessed"].to_numpy()[act]
    minutes = cat["expected_minutes"].to_numpy()[act]
    dur_s = np.round(minutes * 60 * rng.lognormal(0, 0.35, n))
    media = kind == "media"
    completed = a["completed"].astype(bool) | media
    attempt = np.arange(n)
    score = a["score"].astype(float)
    success = score >= np.where(cat["program"].to_numpy()[act] == "compliance", 0.8, 0.7)
    # One launched per non-media attempt, one completed per completed attempt, one
    # passed/failed per completed assessed attempt; media gives one experienced.
    parts = []
    m = ~media
    parts.append((attempt[m], np.full(m.sum(), V_LAUNCHED), t0[m]))
    c = m & completed
    parts.append(
        (attempt[c], np.full(c.sum(), V_COMPLETED), t0[c] + (dur_s[c] * NS_S).astype(np.int64))
    )
    s = c & assessed
    verb = np.where(success[s], V_PASSED, V_FAILED)
    parts.append(
        (
            attempt[s],
            verb,
            t0[s] + ((dur_s[s] + rng.integers(1, 6, s.sum())) * NS_S).astype(np.int64),
        )
    )
    parts.append(
        (
            attempt[media],
            np.full(media.sum(), V_EXPERIENCED),
            t0[media] + (dur_s[media] * NS_S).astype(np.int64),
        )
    )
    att_i = np.concatenate([p[0] for p in parts])
    verb = np.concatenate([p[1] for p in parts])
    ts = np.concatenate([p[2] for p in parts])
    k = len(att_i)
    u = rng.random(k)
    lag_s = np.where(
        u < 0.96,
        rng.uniform(0.2, 20, k),
        np.where(u < 0.99, rng.uniform(3600, 72 * 3600, k), rng.uniform(3 * 86400, 14 * 86400, k)),
    )
    stored = ts + (lag_s * NS_S).astype(np.int64)
    keep = stored < ctx.end_day * NS_DAY
    att_i, verb, ts, stored = att_i[keep], verb[keep], ts[keep], stored[keep]
    has_result = verb != V_LAUNCHED
    scored = (verb == V_PASSED) | (verb == V_FAILED)
    return {
        "emp": emp[att_i],
        "act": act[att_i],
        "attempt": att_i,
        "verb": verb.astype(np.int8),
        "timestamp": ts,
        "stored": stored,
        "duration_s": np.where(has_result, dur_s[att_i], np.nan),
        "completion": np.where(has_result, 1, -1).astype(np.int8),
        "success": np.where(scored, success[att_i].astype(np.int8), -1).astype(np.int8),
        "score": np.where(scored, score[att_i], np.nan),
        "offhours": off[att_i],
        "video": media[att_i],
        "disengaged": a["disengaged"].astype(bool)[att_i],
    }
