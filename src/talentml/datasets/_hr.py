"""Monthly HR dynamics of the simulated organization: hires, exits, teams, reviews, promotions.

Everything is vectorized over employees; the month loop is the only Python loop. Times are
integer days since 1970-01-01 (UTC midnight) until the tables are assembled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from ._catalog import COMPETENCIES, DEPARTMENTS, LOCATIONS
from ._effects import Effects

SEXES = np.array(["female", "male", "nonbinary"])
SEX_P = np.array([0.47, 0.52, 0.01])
RACES = np.array(
    [
        "White",
        "Asian",
        "Hispanic or Latino",
        "Black or African American",
        "Two or More Races",
        "Native Hawaiian or Pacific Islander",
        "American Indian or Alaska Native",
        "Declined to state",
    ]
)
RACE_P = np.array([0.45, 0.24, 0.12, 0.10, 0.04, 0.008, 0.007, 0.035])
AGE_BANDS = np.array(["under 25", "25-34", "35-44", "45-54", "55 and over"])
AGE_P = np.array([0.10, 0.36, 0.29, 0.17, 0.08])
# P(caregiver | sex, age band): women 25-54 carry most care work.
CARE_P = {
    "female": np.array([0.06, 0.42, 0.55, 0.45, 0.20]),
    "male": np.array([0.03, 0.17, 0.28, 0.22, 0.10]),
    "nonbinary": np.array([0.05, 0.25, 0.35, 0.30, 0.15]),
}
LEVEL_P_START = np.array([0.16, 0.24, 0.22, 0.16, 0.10, 0.07, 0.04, 0.01])
LEVEL_P_HIRE = np.array([0.34, 0.30, 0.18, 0.09, 0.05, 0.03, 0.01, 0.0])
MAX_LEVEL = 8
MANAGER_MIN_LEVEL = 4

# Hazards (monthly). Calibrated for ~12% annual voluntary turnover, ~3% involuntary.
H_ENGAGED = 0.0018  # voluntary exit without prior disengagement ("impulsive" exits)
Q_BASE = 0.0052  # monthly hazard of disengaging at average covariates
Q_FLAT = 0.0095  # the same when the disengagement effect is off (no covariates)
B_RATING = 0.55  # per rating point below 3
B_STALL = 0.30  # per year since promotion beyond 2 years
B_MANAGER = 0.75  # manager changed in the last 6 months
B_TEAM = 0.35  # per voluntary exit in the team in the last 6 months
B_NEW = 0.45  # first year of tenure
B_POT = 0.25  # high potentials are poached more
H_INVOLUNTARY = 0.0022
PROMOTION_RATE_PER_CYCLE = 0.052  # twice a year: ~10% a year
TRACK_RATE_PER_CYCLE = 0.03


def _days(ts: str | pd.Timestamp) -> int:
    t = pd.Timestamp(ts)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return int(t.normalize().value // 86_400_000_000_000)


def month_starts(start_day: int, end_day: int) -> np.ndarray:
    """Month-start days covering [start_day, end_day)."""
    first = np.datetime64(int(start_day), "D").astype("datetime64[M]")
    last = np.datetime64(int(end_day) - 1, "D").astype("datetime64[M]")
    months = np.arange(first, last + np.timedelta64(1, "M"))
    return months.astype("datetime64[D]").astype(np.int64)


@dataclass
class Population:
    """Growable column store of employees (index = row)."""

    cap: int
    n: int = 0
    cols: dict[str, np.ndarray] = field(default_factory=dict)

    SPEC = {
        "hire_day": (np.int64, 0),
        "term_day": (np.int64, -1),
        "term_type": (np.int8, 0),
        "dept": (np.int16, 0),
        "family": (np.int16, 0),
        "level": (np.int8, 1),
        "location": (np.int16, 0),
        "manager": (np.int64, -1),
        "pot": (np.float64, 0.0),
        "perf0": (np.float64, 0.0),
        "eng": (np.float64, 0.0),
        "learn": (np.float64, 0.0),
        "sex": (np.int8, 0),
        "race": (np.int8, 0),
        "age": (np.int8, 0),
        "caregiver": (np.bool_, False),
        "disengaged": (np.bool_, False),
        "dis_day": (np.int64, -1),
        "promo_day": (np.int64, -1),
        "mgr_change_day": (np.int64, -100_000),
        "rating": (np.float64, np.nan),
        "track_start": (np.int64, -1),
        "track_end": (np.int64, -1),
        "prod_days": (np.float64, np.nan),
        "in_sim_hire": (np.bool_, False),
    }

    def __post_init__(self) -> None:
        for name, (dtype, fill) in self.SPEC.items():
            self.cols[name] = np.full(self.cap, fill, dtype=dtype)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def add(self, k: int) -> np.ndarray:
        if self.n + k > self.cap:
            new_cap = max(self.cap * 2, self.n + k)
            for name, (dtype, fill) in self.SPEC.items():
                grown = np.full(new_cap, fill, dtype=dtype)
                grown[: self.n] = self.cols[name][: self.n]
                self.cols[name] = grown
            self.cap = new_cap
        idx = np.arange(self.n, self.n + k)
        self.n += k
        return idx

    def view(self, name: str) -> np.ndarray:
        return self.cols[name][: self.n]


@dataclass
class HRResult:
    pop: Population
    job_events: list[tuple]
    reviews: dict[str, np.ndarray]
    competencies: dict[str, np.ndarray]
    hazard: dict[str, np.ndarray]
    promotions: dict[str, np.ndarray]
    families: list[str]
    departments: list[str]
    locations: list[str]
    months: np.ndarray


class HRSimulator:
    """Runs the monthly HR process."""

    def __init__(
        self,
        n_employees: int,
        start_day: int,
        end_day: int,
        rng: np.random.Generator,
        effects: Effects,
    ):
        self.n0 = n_employees
        self.start_day = start_day
        self.end_day = end_day
        self.rng = rng
        self.fx = effects
        self.departments = list(DEPARTMENTS)
        self.dept_share = np.array([DEPARTMENTS[d][0] for d in self.departments])
        self.dept_share = self.dept_share / self.dept_share.sum()
        self.families: list[str] = []
        self.dept_families: list[np.ndarray] = []
        for d in self.departments:
            fams = DEPARTMENTS[d][1]
            idx = []
            for f in fams:
                if f not in self.families:
                    self.families.append(f)
                idx.append(self.families.index(f))
            self.dept_families.append(np.array(idx))
        self.locations = list(LOCATIONS)
        self.loc_p = np.array([LOCATIONS[x][1] for x in self.locations])
        self.loc_p /= self.loc_p.sum()
        years = max((end_day - start_day) / 365.25, 0.1)
        self.pop = Population(cap=int(n_employees * (1.25 + 0.35 * years)) + 64)
        self.events: list[tuple] = []  # (idx, effective_day, recorded_day, event, from, to)
        self.reviews: list[dict] = []
        self.competencies: list[dict] = []
        self.promotions: list[dict] = []
        self.exits_log: list[tuple[int, int]] = []  # (day, manager) of voluntary exits
        self.pending_ratings: list[tuple[int, np.ndarray, np.ndarray]] = []

    # ----------------------------------------------------------------- people
    def _new_people(
        self, k: int, hire_days: np.ndarray, *, depts=None, levels=None, in_sim: bool
    ) -> np.ndarray:
        rng, p = self.rng, self.pop
        idx = p.add(k)
        if depts is None:
            depts = rng.choice(len(self.departments), size=k, p=self.dept_share)
        p["dept"][idx] = depts
        p["family"][idx] = [rng.choice(self.dept_families[d]) for d in depts]
        if levels is None:
            levels = rng.choice(
                np.arange(1, MAX_LEVEL + 1), size=k, p=LEVEL_P_HIRE if in_sim else LEVEL_P_START
            )
        p["level"][idx] = levels
        p["location"][idx] = rng.choice(len(self.locations), size=k, p=self.loc_p)
        p["hire_day"][idx] = hire_days
        pot = rng.standard_normal(k)
        p["pot"][idx] = pot
        if self.fx.potential:
            p["perf0"][idx] = 0.5 * pot + np.sqrt(0.75) * rng.standard_normal(k)
        else:
            p["perf0"][idx] = rng.standard_normal(k)
        p["eng"][idx] = rng.standard_normal(k)
        p["learn"][idx] = rng.normal(-0.15, 0.55, k)
        sex = rng.choice(len(SEXES), size=k, p=SEX_P)
        age = rng.choice(len(AGE_BANDS), size=k, p=AGE_P)
        p["sex"][idx] = sex
        p["age"][idx] = age
        p["race"][idx] = rng.choice(len(RACES), size=k, p=RACE_P)
        care_p = np.array([CARE_P[SEXES[s]][a] for s, a in zip(sex, age, strict=True)])
        p["caregiver"][idx] = rng.random(k) < care_p
        # Last promotion: somewhere in the past for existing staff, the hire day for new hires.
        since = rng.exponential(2.0 * 365, k).astype(np.int64)
        p["promo_day"][idx] = np.where(
            in_sim, hire_days, np.maximum(hire_days, self.start_day - since)
        )
        p["in_sim_hire"][idx] = in_sim
        if in_sim:
            base = np.array([DEPARTMENTS[self.departments[d]][2] for d in depts], dtype=float)
            logt = np.log(base) + 0.25 * rng.standard_normal(k)
            if self.fx.onboarding:
                logt -= self.fx.onboarding_effect * p["eng"][idx]
            if self.fx.potential:
                logt -= 0.10 * pot
            p["prod_days"][idx] = np.exp(logt)
        return idx

    def _assign_initial_teams(self, idx: np.ndarray) -> None:
        p, rng = self.pop, self.rng
        for d in range(len(self.departments)):
            members = idx[p["dept"][idx] == d]
            if len(members) == 0:
                continue
            order = members[np.argsort(-p["level"][members] - rng.random(len(members)) * 0.5)]
            n_mgr = max(1, int(round(len(members) / 8)))
            managers = order[:n_mgr]
            p["level"][managers] = np.maximum(p["level"][managers], MANAGER_MIN_LEVEL)
            head = managers[0]
            p["manager"][managers[1:]] = head
            rest = order[n_mgr:]
            if len(rest):
                p["manager"][rest] = rng.choice(managers, size=len(rest))

    def _refresh_managers(self) -> None:
        """Cache the current managers of each department (people with active reports)."""
        p = self.pop
        n = p.n
        active = np.flatnonzero(p.view("term_day")[:n] < 0)
        mgr = p.view("manager")[active]
        is_mgr = np.zeros(n, dtype=bool)
        is_mgr[mgr[mgr >= 0]] = True
        is_mgr &= p.view("term_day")[:n] < 0
        managers = np.flatnonzero(is_mgr)
        dept = p.view("dept")[managers]
        self._mgr_cache = [managers[dept == d] for d in range(len(self.departments))]
        self._is_mgr = is_mgr

    def _managers_in(self, d: int) -> np.ndarray:
        return self._mgr_cache[d]

    # ----------------------------------------------------------------- events
    def _event(self, idx, eff_day, event, frm, to, lag_lo=0, lag_hi=15, late_p=0.08) -> None:
        idx = np.atleast_1d(idx)
        k = len(idx)
        if k == 0:
            return
        lag = self.rng.integers(lag_lo, lag_hi + 1, k)
        late = self.rng.random(k) < late_p
        lag = np.where(late, lag + self.rng.integers(15, 60, k), lag)
        eff = np.broadcast_to(np.asarray(eff_day), (k,))
        frm = np.broadcast_to(np.asarray(frm, dtype=object), (k,))
        to = np.broadcast_to(np.asarray(to, dtype=object), (k,))
        for i in range(k):
            self.events.append(
                (int(idx[i]), int(eff[i]), int(eff[i] + lag[i]), event, frm[i], to[i])
            )

    def _hire(self, k: int, day_lo: int, day_hi: int, *, depts=None, levels=None) -> np.ndarray:
        if k <= 0:
            return np.array([], dtype=np.int64)
        days = self.rng.integers(day_lo, max(day_hi, day_lo + 1), k)
        idx = self._new_people(k, days, depts=depts, levels=levels, in_sim=True)
        p = self.pop
        for i in idx:
            self.events.append(
                (
                    int(i),
                    int(p["hire_day"][i]),
                    int(p["hire_day"][i] - self.rng.integers(5, 30)),
                    "hire",
                    None,
                    str(int(p["level"][i])),
                )
            )
        return idx

    # ------------------------------------------------------------------- run
    def run(self, progress=None) -> HRResult:
        rng, p = self.rng, self.pop
        tenure_days = np.minimum(rng.exponential(3.6 * 365, self.n0), 25 * 365).astype(np.int64)
        idx0 = self._new_people(self.n0, self.start_day - tenure_days - 1, in_sim=False)
        self._assign_initial_teams(idx0)
        for i in idx0:
            self.events.append(
                (
                    int(i),
                    int(p["hire_day"][i]),
                    int(p["hire_day"][i]),
                    "hire",
                    None,
                    str(int(p["level"][i])),
                )
            )
        months = month_starts(self.start_day, self.end_day)
        hz = {
            k: []
            for k in ("idx", "month", "disengaged", "q", "h_engaged", "h_disengaged", "hazard")
        }
        for ms in months:
            me = _next_month(int(ms))
            me_eff = min(me, self.end_day)
            ms = int(ms)
            if ms >= self.end_day:
                break
            self._apply_ratings(ms)
            self._refresh_managers()
            n = p.n
            active = np.flatnonzero((p.view("hire_day") <= ms) & (p.view("term_day")[:n] < 0))
            # Cycle events at the start of the month.
            month_of_year = int(np.datetime64(ms, "D").astype("datetime64[M]").astype(int) % 12) + 1
            if month_of_year in (3, 9):
                self._promotions(active, ms)
                self._leadership_track(active, ms)
            q, h_e, h_d = self._hazards(active, ms)
            h_e = np.full(len(active), h_e)
            h_d = np.full(len(active), h_d)
            if self.fx.program_retention:  # no random draw: off, the world is unchanged
                done = (p["track_end"][active] >= 0) & (p["track_end"][active] < ms)
                ratio = np.where(done, self.fx.program_retention_hazard_ratio, 1.0)
                h_e = np.minimum(h_e * ratio, 1.0)
                h_d = np.minimum(h_d * ratio, 1.0)
            dis = p["disengaged"][active].copy()
            hazard = np.where(dis, h_d, h_e)
            hz["idx"].append(active)
            hz["month"].append(np.full(len(active), ms, dtype=np.int64))
            hz["disengaged"].append(dis)
            hz["q"].append(q)
            hz["h_engaged"].append(h_e)
            hz["h_disengaged"].append(h_d)
            hz["hazard"].append(hazard)
            ndays = me - ms
            # Exits.
            vol = rng.random(len(active)) < hazard
            perf = self._perf(active, ms)
            inv = (~vol) & (rng.random(len(active)) < H_INVOLUNTARY * np.exp(-0.7 * perf))
            exit_day = ms + rng.integers(0, ndays, len(active))
            leaving = vol | inv
            self._exits(active[leaving], exit_day[leaving], np.where(vol[leaving], 1, 2), me_eff)
            self._refresh_managers()
            # New disengagement among those staying.
            stay = active[~leaving]
            new_dis = (~p["disengaged"][stay]) & (rng.random(len(stay)) < q[~leaving])
            nd = stay[new_dis]
            p["disengaged"][nd] = True
            p["dis_day"][nd] = ms + rng.integers(0, ndays, len(nd))
            # Reorganizations and transfers.
            self._moves(stay, ms, ndays)
            # Growth hires.
            growth = rng.binomial(len(active), 0.0015)
            if growth and ms < self.end_day:
                new = self._hire(growth, ms, me_eff)
                self._place_new(new)
            # Reviews at the end of June and December.
            if month_of_year in (6, 12):
                self._review(me - 1)
            if progress is not None:
                progress.update(1)
        hazard = {k: np.concatenate(v) if v else np.array([]) for k, v in hz.items()}
        return HRResult(
            pop=p,
            job_events=self.events,
            reviews=_concat(self.reviews),
            competencies=_concat(self.competencies),
            hazard=hazard,
            promotions={
                k: np.concatenate([t[j] for t in self.promotions])
                if self.promotions
                else np.array([])
                for j, k in enumerate(("idx", "day", "probability"))
            },
            families=self.families,
            departments=self.departments,
            locations=self.locations,
            months=months,
        )

    def _perf(self, idx: np.ndarray, day: int) -> np.ndarray:
        p = self.pop
        years = np.minimum((day - p["hire_day"][idx]) / 365.25, 6.0)
        perf = p["perf0"][idx].copy()
        if self.fx.potential:
            perf += 0.12 * p["pot"][idx] * years
        perf -= 0.35 * (p["disengaged"][idx] & (p["dis_day"][idx] < day))
        if self.fx.learning_impact:
            done = (p["track_end"][idx] >= 0) & (p["track_end"][idx] < day)
            perf += self.fx.learning_impact_size * done
        return perf

    def _hazards(self, idx: np.ndarray, day: int):
        p, fx = self.pop, self.fx
        h_e = H_ENGAGED
        h_d = fx.disengaged_exit_hazard
        if not fx.disengagement:
            return np.full(len(idx), Q_FLAT), h_e, h_d
        rating = np.nan_to_num(p["rating"][idx], nan=3.0)
        stall = np.maximum((day - p["promo_day"][idx]) / 365.25 - 2.0, 0.0)
        recent_mgr = (day - p["mgr_change_day"][idx]) <= 182
        team = self._team_exits(idx, day)
        new = (day - p["hire_day"][idx]) < 365
        logq = (
            np.log(Q_BASE)
            + B_RATING * np.maximum(3.0 - rating, 0.0)
            - 0.25 * np.maximum(rating - 3.0, 0.0)
            + B_STALL * np.minimum(stall, 4.0)
            + B_MANAGER * recent_mgr
            + B_TEAM * np.minimum(team, 4)
            + B_NEW * new
            + B_POT * p["pot"][idx] * fx.potential
        )
        return np.minimum(np.exp(logq), 0.25), h_e, h_d

    def _team_exits(self, idx: np.ndarray, day: int) -> np.ndarray:
        if not self.exits_log:
            return np.zeros(len(idx))
        log = np.array(self.exits_log)
        recent = log[(log[:, 0] >= day - 182) & (log[:, 0] < day) & (log[:, 1] >= 0)]
        if len(recent) == 0:
            return np.zeros(len(idx))
        counts = np.bincount(recent[:, 1], minlength=self.pop.n)
        mgr = self.pop["manager"][idx]
        return np.where(mgr >= 0, counts[np.maximum(mgr, 0)], 0)

    def _exits(
        self, leavers: np.ndarray, days: np.ndarray, types: np.ndarray, month_end: int
    ) -> None:
        p, rng = self.pop, self.rng
        if len(leavers) == 0:
            return
        p["term_day"][leavers] = days
        p["term_type"][leavers] = types
        for i, d, t in zip(leavers, days, types, strict=True):
            self._event(
                int(i),
                int(d),
                "termination",
                "voluntary" if t == 1 else "involuntary",
                None,
                0,
                10,
                0.10,
            )
            if t == 1:
                self.exits_log.append((int(d), int(p["manager"][i])))
        # Replace every leaver; a manager's replacement inherits the team.
        n = p.n
        mgr = p.view("manager")[:n]
        term_all = p.view("term_day")[:n]
        has_reports = np.isin(mgr, leavers)
        report_idx = np.flatnonzero(has_reports)
        report_mgr = mgr[report_idx]
        order = np.argsort(report_mgr, kind="stable")
        report_idx, report_mgr = report_idx[order], report_mgr[order]
        bounds = (
            np.searchsorted(report_mgr, leavers, side="left"),
            np.searchsorted(report_mgr, leavers, side="right"),
        )
        for k, (i, d) in enumerate(zip(leavers, days, strict=True)):
            reports = report_idx[bounds[0][k] : bounds[1][k]]
            lo = int(d) + int(rng.integers(7, 45))
            if lo >= self.end_day:
                # No replacement before the end: the reports move up to the leaver's manager.
                reports = reports[term_all[reports] < 0]
                if len(reports):
                    boss = p["manager"][i]
                    p["manager"][reports] = boss if boss >= 0 and boss not in leavers else -1
                continue
            reports = reports[(term_all[reports] < 0) | (term_all[reports] > lo)]
            if len(reports):
                new = self._hire(
                    1,
                    lo,
                    lo + 1,
                    depts=[p["dept"][i]],
                    levels=[max(p["level"][i], MANAGER_MIN_LEVEL)],
                )
                p["manager"][new] = p["manager"][i]
                p["manager"][reports] = new[0]
                p["mgr_change_day"][reports] = lo
                self._event(reports, lo, "manager_change", _eid(i), _eid(new[0]), 0, 14, 0.05)
            else:
                new = self._hire(1, lo, lo + 1, depts=[p["dept"][i]])
                self._place_new(new, boss_hint=p["manager"][i])

    def _place_new(self, new: np.ndarray, boss_hint: int | None = None) -> None:
        p = self.pop
        for i in new:
            if boss_hint is not None and boss_hint >= 0 and p["term_day"][boss_hint] < 0:
                p["manager"][i] = boss_hint
                continue
            cands = self._managers_in(int(p["dept"][i]))
            cands = cands[cands != i]
            p["manager"][i] = self.rng.choice(cands) if len(cands) else -1

    def _moves(self, stay: np.ndarray, ms: int, ndays: int) -> None:
        p, rng = self.pop, self.rng
        workers = stay[~self._is_mgr[stay]]
        reorg = workers[rng.random(len(workers)) < 0.006]
        transfer = workers[rng.random(len(workers)) < 0.002]
        transfer = np.setdiff1d(transfer, reorg)
        for i in reorg:
            cands = self._managers_in(int(p["dept"][i]))
            cands = cands[(cands != i) & (cands != p["manager"][i])]
            if not len(cands):
                continue
            day = ms + int(rng.integers(0, ndays))
            new = int(rng.choice(cands))
            self._event(
                int(i), day, "manager_change", _eid(p["manager"][i]), _eid(new), 0, 14, 0.05
            )
            p["manager"][i] = new
            p["mgr_change_day"][i] = day
        for i in transfer:
            d_old = int(p["dept"][i])
            d_new = int(rng.choice([d for d in range(len(self.departments)) if d != d_old]))
            cands = self._managers_in(d_new)
            if not len(cands):
                continue
            day = ms + int(rng.integers(0, ndays))
            new = int(rng.choice(cands))
            self._event(
                int(i),
                day,
                "transfer",
                self.departments[d_old],
                self.departments[d_new],
                0,
                20,
                0.08,
            )
            self._event(
                int(i), day, "manager_change", _eid(p["manager"][i]), _eid(new), 0, 20, 0.08
            )
            p["dept"][i] = d_new
            p["family"][i] = int(rng.choice(self.dept_families[d_new]))
            p["manager"][i] = new
            p["mgr_change_day"][i] = day

    def _promotions(self, active: np.ndarray, ms: int) -> None:
        p, rng, fx = self.pop, self.rng, self.fx
        eligible = active[((ms - p["promo_day"][active]) >= 365) & (p["level"][active] < MAX_LEVEL)]
        if len(eligible) == 0:
            return
        perf = self._perf(eligible, ms)
        score = 0.7 * perf - 0.15 * (p["level"][eligible] - 3)
        if fx.potential:
            score = score + 1.0 * p["pot"][eligible]
        target = PROMOTION_RATE_PER_CYCLE * len(active)
        a = _calibrate_intercept(score, target)
        prob = expit(a + score)
        hit = rng.random(len(eligible)) < prob
        self.promotions.append((eligible.copy(), np.full(len(eligible), ms), prob))
        promoted = eligible[hit]
        self._event(
            promoted,
            ms,
            "promotion",
            p["level"][promoted].astype(str),
            (p["level"][promoted] + 1).astype(str),
            0,
            20,
            0.12,
        )
        p["level"][promoted] += 1
        p["promo_day"][promoted] = ms

    def _leadership_track(self, active: np.ndarray, ms: int) -> None:
        """Nominate employees to the Emerging Leaders track (confounded by potential and performance)."""
        p, rng = self.pop, self.rng
        cand = active[
            (p["track_start"][active] < 0) & (p["level"][active] >= 2) & (p["level"][active] <= 6)
        ]
        if len(cand) == 0:
            return
        score = 0.6 * self._perf(cand, ms) + 0.6 * p["pot"][cand] + 0.4 * p["learn"][cand]
        a = _calibrate_intercept(score, TRACK_RATE_PER_CYCLE * len(active))
        chosen = cand[rng.random(len(cand)) < expit(a + score)]
        p["track_start"][chosen] = ms + rng.integers(0, 20, len(chosen))
        finish = rng.random(len(chosen)) < 0.8
        p["track_end"][chosen] = np.where(
            finish, p["track_start"][chosen] + rng.integers(90, 160, len(chosen)), -1
        )

    def _review(self, period_end: int) -> None:
        p, rng, fx = self.pop, self.rng, self.fx
        n = p.n
        ids = np.flatnonzero(
            (p.view("hire_day") <= period_end - 90)
            & ((p.view("term_day")[:n] < 0) | (p.view("term_day")[:n] > period_end))
        )
        if len(ids) == 0:
            return
        year = int(np.datetime64(period_end, "D").astype("datetime64[Y]").astype(int)) + 1970
        half = (
            1
            if int(np.datetime64(period_end, "D").astype("datetime64[M]").astype(int) % 12) < 6
            else 2
        )
        cycle = f"{year}H{half}"
        perf = self._perf(ids, period_end)
        rating = np.clip(np.round(3.0 + 0.5 * perf + rng.normal(0, 0.45, len(ids))), 1, 5)
        pot_seen = p["pot"][ids] * (0.8 if fx.potential else 0.0)
        if fx.rater_bias:
            pot_seen = pot_seen - fx.rater_bias_size * (p["sex"][ids] == 0)
        pot_latent = pot_seen + rng.normal(0, 0.6, len(ids))
        potential = np.where(pot_latent > 0.9, 3.0, np.where(pot_latent > -0.5, 2.0, 1.0))
        goals = np.clip(np.round(1.0 + 0.15 * perf + rng.normal(0, 0.12, len(ids)), 2), 0, 2)
        lag = rng.integers(7, 40, len(ids))
        late = rng.random(len(ids)) < 0.05
        lag = np.where(late, lag + rng.integers(30, 60, len(ids)), lag)
        submit = period_end + lag
        submit_s = submit * 86_400 + rng.integers(8 * 3600, 19 * 3600, len(ids))
        self.reviews.append(
            {
                "idx": ids,
                "cycle_id": np.full(len(ids), cycle),
                "period_end": np.full(len(ids), period_end),
                "submitted_s": submit_s,
                "overall_rating": rating,
                "potential_rating": potential,
                "goal_attainment": goals,
            }
        )
        track_done = (p["track_end"][ids] >= 0) & (p["track_end"][ids] < period_end)
        for c, comp in enumerate(COMPETENCIES):
            base = 3.0 + 0.6 * perf + rng.normal(0, 0.7, len(ids))
            if fx.potential:
                base += 0.15 * p["pot"][ids]
            if comp == "Leadership" and fx.learning_impact:
                base += 2 * fx.learning_impact_size * track_done
            self.competencies.append(
                {
                    "idx": ids,
                    "cycle_id": np.full(len(ids), cycle),
                    "competency": np.full(len(ids), comp),
                    "rating": np.clip(np.round(base), 1, 5),
                    "submitted_s": submit_s + c,
                }
            )
        self.pending_ratings.append((0, submit, np.stack([ids, rating])))

    def _apply_ratings(self, day: int) -> None:
        """Make ratings submitted before ``day`` the employees' latest known rating."""
        keep = []
        for entry in self.pending_ratings:
            _, submit, data = entry
            ids, rating = data[0].astype(np.int64), data[1]
            due = submit < day
            self.pop["rating"][ids[due]] = rating[due]
            if (~due).any():
                keep.append((0, submit[~due], np.stack([ids[~due], rating[~due]])))
        self.pending_ratings = keep


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not parts:
        return {}
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


def _next_month(day: int) -> int:
    m = np.datetime64(day, "D").astype("datetime64[M]") + np.timedelta64(1, "M")
    return int(m.astype("datetime64[D]").astype(np.int64))


def _eid(i) -> str | None:
    return None if int(i) < 0 else f"E{int(i):06d}"


def _calibrate_intercept(score: np.ndarray, target: float) -> float:
    """Intercept ``a`` with ``sum(expit(a + score)) == target`` (bisection)."""
    lo, hi = -20.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if expit(mid + score).sum() > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2
