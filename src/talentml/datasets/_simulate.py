"""``simulate_workforce``: a synthetic organization with planted effects and ground truth."""

from __future__ import annotations

import contextlib
import gzip
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import schemas
from .._pseudonym import actor_ifi, actor_key, email_ifi
from .._validation import RandomStateLike, derive_seed
from ..config import configured_secret, show_progress
from ._catalog import FIRST_NAMES, LAST_NAMES, LMS_HOME, LOCATIONS, VIDEO_HOME, build_catalog
from ._effects import Effects
from ._hr import AGE_BANDS, RACES, SEXES, HRSimulator, _days
from ._learning import NS_DAY, Context, generate_block
from ._statements import People, StatementBlock, no_gc
from ._truth import Truth

logger = logging.getLogger(__name__)

__all__ = ["SIMULATION_SECRET", "Workforce", "simulate_workforce"]

#: Pseudonymization secret used for simulated organizations when none is configured.
#: Simulated people only: never use it for real data.
SIMULATION_SECRET = "talentml-simulated-organization"

CONTRACT_TABLES = (
    "employees",
    "job_events",
    "reviews",
    "competency_ratings",
    "catalog",
    "productivity",
    "sensitive",
    "identities",
)

METRICS = {
    "Software Engineering": ("story_points", 30.0),
    "Data Science": ("analyses_delivered", 6.0),
    "Sales": ("pipeline_kusd", 250.0),
    "Customer Support": ("tickets_resolved", 180.0),
    "Operations": ("orders_processed", 400.0),
    "Product Management": ("specs_shipped", 4.0),
    "Marketing": ("campaign_points", 20.0),
    "Finance": ("reports_closed", 40.0),
    "People Operations": ("cases_closed", 60.0),
}


@dataclass
class Workforce:
    """A simulated organization: every contract table, the raw xAPI statements and the truth.

    Attributes
    ----------
    employees, job_events, reviews, competency_ratings, catalog, productivity, sensitive, identities : pandas.DataFrame
        The contract tables (see :mod:`talentml.schemas`).
    raw_statements : list of dict or pathlib.Path
        The xAPI statements as an LMS would export them (defects included), or the path of the
        NDJSON file they were streamed to.
    hris_identities : pandas.DataFrame
        The HRIS directory extract the identities were built from (``employee_id``, ``email``,
        ``lms_homepage``, ``lms_user``): raw personal data, for ingestion tests.
    truth : Truth
        Latent traits, true hazards and productivity dates, planted statement defects.
    start, end : pandas.Timestamp
        The simulated window (UTC); learning records exist from ``start``.
    effects : Effects
        The effects the organization was simulated with.

    Examples
    --------
    >>> from talentml.datasets import simulate_workforce
    >>> org = simulate_workforce(n_employees=100, start="2024-01-01", end="2024-12-31",
    ...                          random_state=0, show_progress=False)
    >>> org.employees.columns[:3].tolist()
    ['employee_id', 'hire_date', 'termination_date']
    >>> org.truth.statement_counts["emitted"] == len(org.raw_statements)
    True
    """

    employees: pd.DataFrame
    job_events: pd.DataFrame
    reviews: pd.DataFrame
    competency_ratings: pd.DataFrame
    catalog: pd.DataFrame
    productivity: pd.DataFrame
    sensitive: pd.DataFrame
    identities: pd.DataFrame
    raw_statements: list[dict] | Path
    hris_identities: pd.DataFrame
    truth: Truth
    start: pd.Timestamp
    end: pd.Timestamp
    effects: Effects
    random_state: int | None = None
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The contract tables by name."""
        return {name: getattr(self, name) for name in CONTRACT_TABLES}

    def validate(self) -> None:
        """Validate every contract table (raises :class:`~talentml.ContractError`)."""
        for name, table in self.tables.items():
            schemas.validate(name, table)

    def summary(self) -> pd.Series:
        """Headline rates of the organization (turnover, promotions, caregivers, oracle AUC).

        Examples
        --------
        >>> from talentml.datasets import simulate_workforce
        >>> org = simulate_workforce(n_employees=300, random_state=1, show_progress=False)
        >>> s = org.summary()
        >>> bool(0.0 < s["voluntary_turnover_per_year"] < 0.3)
        True
        """
        emp = self.employees
        years = (self.end - self.start) / pd.Timedelta(days=365.25)
        months = self.truth.hazard.groupby("month").size()
        avg_headcount = float(months.mean())
        vol = (
            (emp["termination_type"] == "voluntary") & (emp["termination_date"] >= self.start)
        ).sum()
        inv = (
            (emp["termination_type"] == "involuntary") & (emp["termination_date"] >= self.start)
        ).sum()
        promos = (self.job_events["event"] == "promotion").sum()
        n_raw = self.truth.statement_counts["emitted"]
        return pd.Series(
            {
                "employees_ever": len(emp),
                "average_headcount": avg_headcount,
                "years": years,
                "voluntary_turnover_per_year": vol / avg_headcount / years,
                "involuntary_turnover_per_year": inv / avg_headcount / years,
                "promotions_per_year": promos / avg_headcount / years,
                "caregiver_share": float(self.sensitive["caregiver"].mean()),
                "female_share": float((self.sensitive["sex"] == "female").mean()),
                "raw_statements": n_raw,
                "statements_per_employee_month": n_raw / months.sum(),
                "oracle_auc_180d": self.truth.oracle_auc("180D"),
            }
        )

    def to_parquet(self, directory: str | Path) -> Path:
        """Write every contract table (``<name>.parquet``) into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            table.to_parquet(out / f"{name}.parquet", index=False)
        return out


def _utc_days(days: np.ndarray) -> pd.Series:
    """UTC midnight timestamps for day numbers; negative days are missing (NaT).

    Integer arithmetic only: no float round trip, so no precision loss or spurious overflow.
    """
    days = np.asarray(days, dtype=np.int64)
    values = days.astype("datetime64[D]").astype("datetime64[ns]")
    values[days < 0] = np.datetime64("NaT", "ns")
    return pd.Series(values).dt.tz_localize("UTC")


def _utc_seconds(seconds: np.ndarray) -> pd.Series:
    """UTC timestamps for seconds since the epoch."""
    values = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[ns]")
    return pd.Series(values).dt.tz_localize("UTC")


def _eid(idx: np.ndarray) -> pd.Series:
    """Employee ids ``E000123`` for population indices."""
    digits = np.char.zfill(np.asarray(idx, dtype=np.int64).astype(str), 6)
    return pd.Series(np.char.add("E", digits), dtype="string")


def simulate_workforce(
    n_employees: int = 2_000,
    start: str | pd.Timestamp = "2023-01-01",
    end: str | pd.Timestamp = "2025-12-31",
    random_state: RandomStateLike = 0,
    effects: Effects | dict | None = None,
    *,
    secret: str | None = None,
    raw_path: str | Path | None = None,
    block_size: int = 2_000,
    show_progress: bool | None = None,
) -> Workforce:
    """Simulate an organization: people, HR events, reviews, learning records and the truth.

    Employees are hired and leave over time; they belong to departments and teams, change
    managers, get promoted, are reviewed twice a year and learn: compliance courses every year,
    an onboarding program when they join, voluntary electives and an Emerging Leaders track.
    Their learning is emitted as the xAPI 1.0.3 statements real LMSs send (account and mbox
    actors, cmi5/ADL verbs, ISO 8601 durations, scores, ``stored`` lagging ``timestamp``), with
    about 0.5% re-sent duplicates, 0.3% voided statements and 0.2% malformed ones. The
    planted effects (see :class:`Effects` and ``docs/simulator.md``) and every latent quantity
    are returned in :attr:`Workforce.truth`.

    Parameters
    ----------
    n_employees : int, default 2000
        Headcount at ``start``; leavers are replaced and the organization grows ~2% a year.
    start, end : str or Timestamp, default "2023-01-01" and "2025-12-31"
        The simulated window (UTC). Learning records and reviews exist inside it.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed; the same seed gives the same organization, tables and statements.
    effects : Effects, dict or None
        Effects to plant; a dict overrides the defaults, e.g. ``{"caregiver_hours": False}``.
    secret : str, optional
        Pseudonymization key for the ``identities`` table; defaults to the configured secret
        (:func:`talentml.set_config`, ``TALENTML_SECRET``), else :data:`SIMULATION_SECRET`.
    raw_path : str or Path, optional
        Stream the statements to this NDJSON file (``.gz`` to compress) in blocks of
        employees instead of returning them as dicts; ``raw_statements`` is then the path.
        Needed for large organizations (100,000 employees give ~15 million statements).
    block_size : int, default 2000
        Employees per statement block (memory use grows with it). Part of the seed: the same
        ``random_state`` and ``block_size`` give the same statements in memory or on disk.
    show_progress : bool, optional
        Progress bars; default from :func:`talentml.set_config`.

    Returns
    -------
    Workforce

    Examples
    --------
    >>> from talentml.datasets import simulate_workforce
    >>> org = simulate_workforce(n_employees=200, start="2024-01-01", end="2024-12-31",
    ...                          random_state=0, show_progress=False)
    >>> sorted(org.tables)[:3]
    ['catalog', 'competency_ratings', 'employees']
    >>> org.raw_statements[0]["verb"]["id"].startswith("http://adlnet.gov/expapi/verbs/")
    True
    >>> org.validate()  # every table keeps its contract
    """
    if not isinstance(n_employees, int | np.integer) or n_employees < 10:
        raise ValueError(f"n_employees must be an integer >= 10, got {n_employees!r}")
    start_ts = pd.Timestamp(start)
    end_ts = pd.Timestamp(end)
    start_ts = (
        start_ts.tz_localize("UTC") if start_ts.tzinfo is None else start_ts.tz_convert("UTC")
    )
    end_ts = end_ts.tz_localize("UTC") if end_ts.tzinfo is None else end_ts.tz_convert("UTC")
    if end_ts <= start_ts + pd.Timedelta(days=60):
        raise ValueError(
            f"end ({end_ts.date()}) must be at least 60 days after start ({start_ts.date()})"
        )
    fx = Effects.from_any(effects)
    progress = show_progress if show_progress is not None else _progress_default()
    key = secret or configured_secret() or SIMULATION_SECRET
    seq = np.random.SeedSequence(derive_seed(random_state, 0))
    hr_seq, cat_seq, people_seq, stmt_seq = seq.spawn(4)
    timings: dict[str, float] = {}

    t = time.perf_counter()
    start_day, end_day = _days(start_ts), _days(end_ts) + 1
    catalog = build_catalog(np.random.default_rng(cat_seq))
    sim = HRSimulator(int(n_employees), start_day, end_day, np.random.default_rng(hr_seq), fx)
    n_months = len(pd.period_range(start_ts.tz_localize(None), end_ts.tz_localize(None), freq="M"))
    with tqdm(total=n_months, desc="simulating HR", disable=not progress, leave=False) as bar:
        hr = sim.run(progress=bar)
    pop = hr.pop
    timings["hr"] = time.perf_counter() - t

    t = time.perf_counter()
    people = _people(pop.n, np.random.default_rng(people_seq))
    tables = _tables(
        hr, people, catalog, key, start_day, end_day, np.random.default_rng(hr_seq.spawn(1)[0])
    )
    timings["tables"] = time.perf_counter() - t

    t = time.perf_counter()
    timezones = np.array([LOCATIONS[x][0] for x in hr.locations])
    ctx = Context(start_day, end_day, catalog, timezones, fx)
    blocks = list(range(0, pop.n, block_size))
    block_seqs = stmt_seq.spawn(len(blocks))
    outcomes: list[dict] = []
    aliases: list[pd.DataFrame] = []
    emitted = 0
    collected: list[tuple[np.ndarray, list[dict]]] = []
    writer = _Writer(raw_path) if raw_path is not None else None
    blocks_bar = tqdm(
        list(zip(blocks, block_seqs, strict=True)),
        desc="emitting statements",
        disable=not progress,
        leave=False,
    )
    with contextlib.ExitStack() as stack:
        if writer is not None:
            stack.callback(writer.close)
        for b0, bseq in blocks_bar:
            rng = np.random.default_rng(bseq)
            idx = np.arange(b0, min(b0 + block_size, pop.n))
            cols = generate_block(idx, pop, ctx, rng)
            block = StatementBlock(cols, catalog, people, rng, end_day * NS_DAY)
            outcomes.extend(block.truth)
            aliases.append(block.alias_counts())
            emitted += len(block)
            if writer is not None:
                for part in block.slices():
                    writer.write(part)
            else:
                with no_gc():
                    built = [s for part in block.slices() for s in part]
                collected.append((block.stored_ns, built))
        if writer is None:
            all_ns = (
                np.concatenate([c[0] for c in collected])
                if collected
                else np.array([], dtype=np.int64)
            )
            flat = [s for c in collected for s in c[1]]
            order = np.argsort(all_ns, kind="stable")
            raw: list[dict] | Path = [flat[i] for i in order]
        else:
            raw = Path(raw_path)
    timings["statements"] = time.perf_counter() - t

    outcomes_df = pd.DataFrame(outcomes, columns=["statement_id", "outcome", "detail"]).astype(
        "string"
    )
    counts = {"emitted": emitted}
    counts.update(
        outcomes_df["outcome"]
        .value_counts()
        .reindex(["duplicate", "voided", "voiding", "malformed"], fill_value=0)
        .astype(int)
        .to_dict()
    )
    truth = _truth(hr, tables, fx, outcomes_df, counts, end_ts)
    truth.activity_aliases = _activity_aliases(aliases, catalog)
    truth.catalog = catalog
    logger.info(
        "simulated %d employees, %d raw statements (%s) in %.1f s",
        pop.n,
        emitted,
        ", ".join(f"{k}={v}" for k, v in counts.items() if k != "emitted"),
        sum(timings.values()),
    )
    return Workforce(
        raw_statements=raw,
        truth=truth,
        start=start_ts,
        end=end_ts,
        effects=fx,
        random_state=random_state,
        timings=timings,
        catalog=catalog,
        **tables,
    )


def _progress_default() -> bool:
    return show_progress()


class _Writer:
    """NDJSON (optionally gzip) writer for streamed statements."""

    def __init__(self, path: str | Path) -> None:
        import orjson

        self._dumps = orjson.dumps
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = (
            gzip.open(path, "wb", compresslevel=3) if path.suffix == ".gz" else open(path, "wb")
        )

    def write(self, statements: list[dict]) -> None:
        dumps = self._dumps
        self._fh.write(b"".join(dumps(s) + b"\n" for s in statements))

    def close(self) -> None:
        self._fh.close()


def _people(n: int, rng: np.random.Generator) -> People:
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    names = np.char.add(np.char.add(first, " "), last)
    emails = np.array(
        [
            f"{fn.lower()}.{ln.lower()}{i}@acme.example"
            for i, (fn, ln) in enumerate(zip(first, last, strict=True))
        ]
    )
    users = rng.choice(np.arange(1_000_000, 10_000_000), size=n, replace=False)
    return People(names=names.tolist(), emails=emails.tolist(), lms_users=[f"u{u}" for u in users])


def _tables(
    hr, people: People, catalog, key: str, start_day: int, end_day: int, rng
) -> dict[str, pd.DataFrame]:
    pop = hr.pop
    n = pop.n
    idx = np.arange(n)
    term = pop.view("term_day")
    ttype = pop.view("term_type")
    employees = pd.DataFrame(
        {
            "employee_id": _eid(idx),
            "hire_date": _utc_days(pop.view("hire_day")),
            "termination_date": _utc_days(np.where(term >= 0, term, -1)),
            "termination_type": pd.Series(
                np.where(ttype == 1, "voluntary", np.where(ttype == 2, "involuntary", None)),
                dtype="string",
            ),
            "job_family": pd.Series(np.array(hr.families)[pop.view("family")], dtype="string"),
            "job_level": pop.view("level").astype("int64"),
            "department": pd.Series(np.array(hr.departments)[pop.view("dept")], dtype="string"),
            "location": pd.Series(np.array(hr.locations)[pop.view("location")], dtype="string"),
            "timezone": pd.Series(
                [LOCATIONS[hr.locations[x]][0] for x in pop.view("location")], dtype="string"
            ),
            "manager_id": pd.Series(
                [None if m < 0 else f"E{int(m):06d}" for m in pop.view("manager")], dtype="string"
            ),
        }
    )
    ev = pd.DataFrame(
        hr.job_events, columns=["idx", "eff", "rec", "event", "from_value", "to_value"]
    )
    rec_s = ev["rec"].to_numpy(np.int64) * 86400 + rng.integers(8 * 3600, 19 * 3600, len(ev))
    job_events = (
        pd.DataFrame(
            {
                "employee_id": _eid(ev["idx"].to_numpy()),
                "effective_date": _utc_days(ev["eff"].to_numpy()),
                "recorded_at": _utc_seconds(rec_s),
                "event": ev["event"].astype("string"),
                "from_value": ev["from_value"].astype("string"),
                "to_value": ev["to_value"].astype("string"),
            }
        )
        .sort_values(["recorded_at", "employee_id"], kind="stable")
        .reset_index(drop=True)
    )
    rv = hr.reviews
    reviews = pd.DataFrame(
        {
            "employee_id": _eid(rv["idx"]),
            "cycle_id": pd.Series(rv["cycle_id"], dtype="string"),
            "period_end": _utc_days(rv["period_end"]),
            "submitted_at": _utc_seconds(rv["submitted_s"]),
            "overall_rating": rv["overall_rating"].astype(float),
            "potential_rating": rv["potential_rating"].astype(float),
            "goal_attainment": rv["goal_attainment"].astype(float),
        }
    )
    cr = hr.competencies
    competency_ratings = pd.DataFrame(
        {
            "employee_id": _eid(cr["idx"]),
            "cycle_id": pd.Series(cr["cycle_id"], dtype="string"),
            "competency": pd.Series(cr["competency"], dtype="string"),
            "rating": cr["rating"].astype(float),
            "submitted_at": _utc_seconds(cr["submitted_s"]),
        }
    )
    productivity = _productivity(hr, end_day, rng)
    sensitive = pd.DataFrame(
        {
            "employee_id": _eid(idx),
            "sex": pd.Series(SEXES[pop.view("sex")], dtype="string"),
            "race_ethnicity": pd.Series(RACES[pop.view("race")], dtype="string"),
            "age_band": pd.Series(AGE_BANDS[pop.view("age")], dtype="string"),
            "caregiver": pd.Series(pop.view("caregiver"), dtype="boolean"),
        }
    )
    hris = pd.DataFrame(
        {
            "employee_id": _eid(idx),
            "email": pd.Series(people.emails, dtype="string"),
            "lms_homepage": LMS_HOME,
            "lms_user": pd.Series(people.lms_users, dtype="string"),
        }
    )
    secret = key.encode()
    account_keys = [
        actor_key(actor_ifi({"account": {"homePage": LMS_HOME, "name": u}}), secret)
        for u in people.lms_users
    ]
    mail_keys = [actor_key(email_ifi(e), secret) for e in people.emails]
    identities = pd.DataFrame(
        {
            "actor_key": pd.Series(account_keys + mail_keys, dtype="string"),
            "employee_id": pd.concat([_eid(idx), _eid(idx)], ignore_index=True),
        }
    )
    return {
        "employees": employees,
        "job_events": job_events,
        "reviews": reviews,
        "competency_ratings": competency_ratings,
        "productivity": productivity,
        "sensitive": sensitive,
        "identities": identities,
        "hris_identities": hris,
    }


def _productivity(hr, end_day: int, rng) -> pd.DataFrame:
    """Monthly productivity of new hires for their first year: value / target rises to 1.

    value / target = 0.85 x (t / T)^1.3 before the true productivity date T, then 1.0, plus
    noise (sd 0.05).
    """
    pop = hr.pop
    new = np.flatnonzero(pop.view("in_sim_hire"))
    hire = pop["hire_day"][new]
    term = pop["term_day"][new]
    last = np.minimum(np.minimum(hire + 365, np.where(term >= 0, term, end_day)), end_day)
    first_month = hire.astype("datetime64[D]").astype("datetime64[M]") + np.timedelta64(1, "M")
    rows = np.repeat(np.arange(len(new)), 13)
    k = np.tile(np.arange(13), len(new))
    period_end = (first_month[rows] + k).astype("datetime64[D]").astype(np.int64) - 1
    keep = period_end < last[rows]
    rows, period_end = rows[keep], period_end[keep]
    t = (period_end - hire[rows]).astype(float)
    t_prod = pop["prod_days"][new][rows]
    # Below 85% of target until the true productivity date, at target (1.0) from then on, so
    # "sustained >= 90% of target" happens at the true date up to the monthly noise (sd 5%).
    ratio = np.where(t < t_prod, 0.85 * np.clip(t / t_prod, 0, 1) ** 1.3, 1.0)
    ratio = np.maximum(0.0, ratio + rng.normal(0, 0.05, len(rows)))
    metric = np.array([METRICS[f][0] for f in hr.families])[pop["family"][new][rows]]
    target = np.array([METRICS[f][1] for f in hr.families])[pop["family"][new][rows]]
    recorded = (
        period_end * 86400
        + rng.integers(3, 15, len(rows)) * 86400
        + rng.integers(8 * 3600, 19 * 3600, len(rows))
    )
    return pd.DataFrame(
        {
            "employee_id": _eid(new[rows]),
            "period_end": _utc_days(period_end),
            "recorded_at": _utc_seconds(recorded),
            "metric": pd.Series(metric, dtype="string"),
            "value": np.round(ratio * target, 2),
            "target": target.astype(float),
        }
    )


def _activity_aliases(parts: list[pd.DataFrame], catalog: pd.DataFrame) -> pd.DataFrame:
    """Every object IRI the statements use, the catalog activity it stands for, and counts.

    The LMS uses the catalog's own ``activity_id``; the video platform ("Acme Video") plays
    the catalog's media under ``https://video.acme.example/watch/<slug>``.
    """
    counts = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if counts.empty:
        counts = pd.DataFrame(
            {c: np.array([], np.int64) for c in ("act", "video", "n_statements", "n_accepted")}
        )
    counts = counts.groupby(["act", "video"], sort=True)[["n_statements", "n_accepted"]].sum()
    counts = counts.reset_index()
    activity = catalog["activity_id"].to_numpy(object)[counts["act"].to_numpy(np.int64)]
    video = counts["video"].to_numpy(bool)
    slug = np.array([a.rsplit("/", 1)[-1] for a in activity], dtype=object)
    object_id = np.where(video, VIDEO_HOME + "/watch/" + slug, activity)
    return (
        pd.DataFrame(
            {
                "object_id": pd.array(object_id.tolist(), dtype="string"),
                "activity_id": pd.array(activity.tolist(), dtype="string"),
                "platform": pd.array(
                    np.where(video, "Acme Video", "Acme LMS").tolist(), dtype="string"
                ),
                "n_statements": counts["n_statements"].to_numpy(np.int64),
                "n_accepted": counts["n_accepted"].to_numpy(np.int64),
            }
        )
        .sort_values("object_id", kind="stable")
        .reset_index(drop=True)
    )


def _truth(
    hr, tables, fx: Effects, outcomes: pd.DataFrame, counts: dict, end: pd.Timestamp
) -> Truth:
    pop = hr.pop
    n = pop.n
    idx = np.arange(n)
    dis = pop.view("dis_day")
    latent = pd.DataFrame(
        {
            "employee_id": _eid(idx),
            "potential": pop.view("pot"),
            "performance": pop.view("perf0"),
            "onboarding_engagement": pop.view("eng"),
            "learning_propensity": pop.view("learn"),
            "caregiver": pop.view("caregiver"),
            "disengaged_at": _utc_days(np.where(dis >= 0, dis, -1)),
            "track_start": _utc_days(pop.view("track_start")),
            "track_end": _utc_days(pop.view("track_end")),
        }
    )
    hz = hr.hazard
    hazard = pd.DataFrame(
        {
            "employee_id": _eid(hz["idx"]),
            "month": _utc_days(hz["month"]),
            "disengaged": hz["disengaged"].astype(bool),
            "q": hz["q"],
            "h_engaged": hz["h_engaged"],
            "h_disengaged": hz["h_disengaged"],
            "hazard": hz["hazard"],
        }
    )
    new = np.flatnonzero(pop.view("in_sim_hire"))
    prod_days = pop.view("prod_days")[new]
    hire = pop.view("hire_day")[new]
    productivity = pd.DataFrame(
        {
            "employee_id": _eid(new),
            "hire_date": _utc_days(hire),
            "productivity_date": _utc_days(hire + np.round(prod_days).astype(np.int64)),
            "days_to_productivity": prod_days,
        }
    )
    pr = hr.promotions
    promotions = pd.DataFrame(
        {
            "employee_id": _eid(pr["idx"]),
            "effective_date": _utc_days(pr["day"]),
            "probability": np.asarray(pr["probability"], dtype=float),
        }
    )
    return Truth(
        latent=latent,
        hazard=hazard,
        productivity=productivity,
        promotions=promotions,
        statement_outcomes=outcomes,
        statement_counts=counts,
        effects=fx,
        employees=tables["employees"],
        end=end,
    )
