"""The simulated organization: realistic rates, planted effects of documented size, determinism."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from talentml import schemas
from talentml.datasets import Effects, simulate_workforce


def sessions(org) -> pd.DataFrame:
    """One row per learning session start (launched / experienced) with local time facts."""
    hris = org.hris_identities
    by_user = dict(zip(hris["lms_user"], hris["employee_id"], strict=True))
    by_mail = dict(zip("mailto:" + hris["email"], hris["employee_id"], strict=True))
    rows = []
    for s in org.raw_statements:
        verb = s["verb"]["id"].rsplit("/", 1)[-1]
        if verb not in ("launched", "experienced"):
            continue
        actor = s["actor"]
        emp = by_user.get(actor.get("account", {}).get("name")) or by_mail.get(actor.get("mbox"))
        if emp is None:
            continue
        rows.append((emp, s["timestamp"], s["object"].get("id", "")))
    df = pd.DataFrame(rows, columns=["employee_id", "timestamp", "object_id"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601", errors="coerce")
    df = df.dropna(subset=["timestamp"]).reset_index(drop=True)
    emp = org.employees.set_index("employee_id")
    df["timezone"] = df["employee_id"].map(emp["timezone"])
    hour = pd.Series(0, index=df.index)
    weekday = pd.Series(0, index=df.index)
    for tz, g in df.groupby("timezone"):
        local = g["timestamp"].dt.tz_convert(tz)
        hour[g.index] = local.dt.hour
        weekday[g.index] = local.dt.day_of_week
    df["offhours"] = (weekday >= 5) | (hour < 8) | (hour >= 18)
    df["slug"] = df["object_id"].str.rsplit("/", n=1).str[-1]
    cat = org.catalog.assign(slug=org.catalog["activity_id"].str.rsplit("/", n=1).str[-1])
    df["program"] = df["slug"].map(cat.set_index("slug")["program"])
    df["voluntary"] = df["slug"].map(cat.set_index("slug")["voluntary"]).eq(True)
    return df


@pytest.fixture(scope="module")
def sess(org):
    return sessions(org)


@pytest.fixture(scope="module")
def sess_null(org_null):
    return sessions(org_null)


def test_contract_tables_are_valid(org):
    org.validate()
    assert set(org.tables) == {
        "employees",
        "job_events",
        "reviews",
        "competency_ratings",
        "catalog",
        "productivity",
        "sensitive",
        "identities",
    }
    assert set(org.sensitive.columns) >= {"sex", "race_ethnicity", "age_band", "caregiver"}


def test_realistic_rates(org):
    s = org.summary()
    assert 0.10 <= s["voluntary_turnover_per_year"] <= 0.15
    assert 0.08 <= s["promotions_per_year"] <= 0.12
    assert 0.25 <= s["caregiver_share"] <= 0.35
    assert 0.75 <= s["oracle_auc_180d"] <= 0.88
    assert 3 <= s["statements_per_employee_month"] <= 7
    # Ratings look like real ones: most people are rated 3, few get a 1 or a 5.
    share = org.reviews["overall_rating"].value_counts(normalize=True)
    assert share.idxmax() == 3.0
    assert share[1.0] < 0.06 and share[5.0] < 0.08


def test_caregivers_are_mostly_women(org):
    s = org.sensitive
    women = s.loc[s["caregiver"], "sex"].eq("female").mean()
    assert women > 0.6


def test_caregiver_hours_effect_has_documented_size(org, sess):
    """(a) Caregivers learn as much as others but far less off-hours: 0.09 vs 0.35 of sessions."""
    care = sess["employee_id"].map(org.sensitive.set_index("employee_id")["caregiver"])
    share = sess.groupby(care)["offhours"].mean()
    fx = org.effects
    assert share[True] == pytest.approx(fx.offhours_share_caregivers, abs=0.02)
    assert share[False] == pytest.approx(fx.offhours_share_others, abs=0.02)
    # ... with the same amount of learning (sessions per employee-month of tenure).
    exposure = org.truth.hazard.groupby("employee_id").size()
    per_month = (sess.groupby("employee_id").size() / exposure).dropna()
    flags = per_month.index.map(org.sensitive.set_index("employee_id")["caregiver"])
    ratio = per_month[flags.to_numpy(bool)].mean() / per_month[~flags.to_numpy(bool)].mean()
    assert ratio == pytest.approx(1.0, abs=0.06)
    # ... and the same latent potential.
    lat = org.truth.latent
    assert (
        abs(
            lat.loc[lat["caregiver"], "potential"].mean()
            - lat.loc[~lat["caregiver"], "potential"].mean()
        )
        < 0.1
    )


def test_caregiver_hours_effect_switched_off(org_null, sess_null):
    care = sess_null["employee_id"].map(org_null.sensitive.set_index("employee_id")["caregiver"])
    share = sess_null.groupby(care)["offhours"].mean()
    assert abs(share[True] - share[False]) < 0.02


def _voluntary_drop(org, sess):
    emp = org.employees.set_index("employee_id")
    leavers = emp[
        (emp["termination_type"] == "voluntary")
        & (emp["termination_date"] > org.start + pd.Timedelta(days=200))
    ]["termination_date"]
    v = sess[sess["voluntary"] & sess["employee_id"].isin(leavers.index)].copy()
    before = (v["employee_id"].map(leavers) - v["timestamp"]).dt.days
    recent = (
        v[(before >= 0) & (before < 90)]
        .groupby("employee_id")
        .size()
        .reindex(leavers.index, fill_value=0)
    )
    prior = (
        v[(before >= 90) & (before < 180)]
        .groupby("employee_id")
        .size()
        .reindex(leavers.index, fill_value=0)
    )
    return recent.mean() / prior.mean()


def test_disengagement_drop_before_exit(org, sess, org_null, sess_null):
    """(b) Voluntary learning in the 90 days before a voluntary exit falls well below the 90 days before."""
    assert _voluntary_drop(org, sess) < 0.75
    assert _voluntary_drop(org_null, sess_null) > 0.9


def test_disengaged_learning_multiplier(org, sess):
    """Inside the disengaged state, voluntary sessions run at ~20% of the engaged rate."""
    lat = org.truth.latent.set_index("employee_id")
    dis = lat["disengaged_at"].dropna()
    v = sess[sess["voluntary"] & sess["employee_id"].isin(dis.index)].copy()
    v["after"] = v["timestamp"] >= v["employee_id"].map(dis)
    emp = org.employees.set_index("employee_id")
    end = emp["termination_date"].fillna(org.end)
    start = emp["hire_date"].clip(lower=org.start)
    days_after = (end[dis.index] - dis).dt.days.clip(lower=0).sum()
    days_before = (dis - start[dis.index]).dt.days.clip(lower=0).sum()
    rate_after = v["after"].sum() / days_after
    rate_before = (~v["after"]).sum() / days_before
    assert rate_after / rate_before == pytest.approx(org.effects.disengaged_learning, abs=0.08)


def test_exit_hazard_rises_with_low_ratings(org):
    """The monthly hazard of disengaging is higher after a low rating than after a high one."""
    h = org.truth.hazard.sort_values("month")
    r = org.reviews.sort_values("submitted_at")[["employee_id", "submitted_at", "overall_rating"]]
    m = pd.merge_asof(
        h, r, left_on="month", right_on="submitted_at", by="employee_id", allow_exact_matches=False
    )
    low = m.loc[m["overall_rating"] <= 2, "q"].mean()
    high = m.loc[m["overall_rating"] >= 4, "q"].mean()
    assert low > 1.8 * high


def test_onboarding_effect(org, org_null):
    """(c) More onboarding modules in the first 30 days, shorter time to productivity."""

    def corr(o):
        s = sessions(o)
        truth = o.truth.productivity.set_index("employee_id")
        onb = s[
            s["program"].isin(["onboarding", "product"]) & s["employee_id"].isin(truth.index)
        ].copy()
        days = (onb["timestamp"] - onb["employee_id"].map(truth["hire_date"])).dt.days
        early = onb[days < 30].groupby("employee_id").size().reindex(truth.index, fill_value=0)
        return np.corrcoef(early, np.log(truth["days_to_productivity"]))[0, 1]

    assert corr(org) < -0.4
    assert abs(corr(org_null)) < 0.1


def test_productivity_reaches_target_near_true_date(org):
    prod = org.productivity.merge(org.truth.productivity, on="employee_id")
    t = (prod["period_end"] - prod["hire_date"]).dt.days
    ratio = prod["value"] / prod["target"]
    before = ratio[t < 0.5 * prod["days_to_productivity"]]
    after = ratio[t > prod["days_to_productivity"] + 10]
    assert before.mean() < 0.45
    assert after.mean() == pytest.approx(1.0, abs=0.02)


def test_potential_drives_scores_ratings_and_promotions(org, org_null):
    """(d) Latent potential: higher scores, better later ratings, more promotions."""
    for o, strong in ((org, True), (org_null, False)):
        lat = o.truth.latent.set_index("employee_id")["potential"]
        promoted = o.job_events.loc[o.job_events["event"] == "promotion", "employee_id"].unique()
        gap = lat[lat.index.isin(promoted)].mean() - lat[~lat.index.isin(promoted)].mean()
        last = o.reviews.sort_values("period_end").groupby("employee_id")["overall_rating"].last()
        r = np.corrcoef(lat.reindex(last.index), last)[0, 1]
        if strong:
            assert gap > 0.8
            assert r > 0.2
        else:
            assert abs(gap) < 0.2
            assert abs(r) < 0.08


def test_rater_bias_is_optional():
    """(e) Rater bias lowers women's potential ratings at equal latent potential, only when on."""
    gaps = {}
    for on in (False, True):
        o = simulate_workforce(
            1_500, "2023-01-01", "2024-12-31", random_state=3, effects={"rater_bias": on}
        )
        r = o.reviews.merge(o.sensitive, on="employee_id").merge(o.truth.latent, on="employee_id")
        resid = r["potential_rating"] - np.polyval(
            np.polyfit(r["potential"], r["potential_rating"], 1), r["potential"]
        )
        gaps[on] = resid[r["sex"] == "female"].mean() - resid[r["sex"] == "male"].mean()
    assert abs(gaps[False]) < 0.05
    assert gaps[True] < -0.15


def test_learning_impact_is_planted(org):
    """Completing Emerging Leaders raises later Leadership ratings (and nomination is confounded)."""
    lat = org.truth.latent.set_index("employee_id")
    cr = org.competency_ratings[org.competency_ratings["competency"] == "Leadership"]
    cr = cr.merge(
        org.reviews[["employee_id", "cycle_id", "period_end"]], on=["employee_id", "cycle_id"]
    )
    done = cr["employee_id"].map(lat["track_end"])
    cr["after"] = done.notna() & (done < cr["period_end"])
    grads = cr[cr["employee_id"].isin(lat["track_end"].dropna().index)]
    diff = grads.groupby("after")["rating"].mean()
    assert diff[True] - diff[False] > 0.3
    nominated = lat["track_start"].notna()
    assert lat.loc[nominated, "potential"].mean() > lat.loc[~nominated, "potential"].mean() + 0.3


def test_statements_look_like_real_lms_statements(org):
    raw = org.raw_statements
    counts = org.truth.statement_counts
    assert counts["emitted"] == len(raw)
    malformed = set(org.truth.statement_outcomes.query("outcome == 'malformed'")["statement_id"])
    verbs, actors, versions = set(), set(), set()
    for s in raw[:20_000]:
        verbs.add(s["verb"]["id"])
        actors.add(
            next(k for k in ("account", "mbox") if k in s["actor"])
            if s["id"] not in malformed
            else "bad"
        )
        versions.add(s.get("version"))
        assert s["stored"] >= s["timestamp"][:19] or s["id"] in malformed
    assert "http://adlnet.gov/expapi/verbs/launched" in verbs
    assert "http://adlnet.gov/expapi/verbs/voided" in verbs
    assert {"account", "mbox"} <= actors
    assert versions == {"1.0.3"}
    durations = [
        s["result"]["duration"] for s in raw[:5_000] if "result" in s and "duration" in s["result"]
    ]
    assert any(d.startswith("PT0") for d in durations)  # zero-padded, as some LMSs write
    late = [
        s
        for s in raw
        if "T" in s["timestamp"]
        and pd.Timestamp(s["stored"]) - pd.Timestamp(s["timestamp"]) > pd.Timedelta(days=1)
    ][:5]
    assert late, "some statements reach the LRS days late (offline sync)"


def test_planted_dirt_rates(org):
    c = org.truth.statement_counts
    n = c["emitted"]
    assert c["duplicate"] / n == pytest.approx(0.005, rel=0.2)
    assert c["voided"] / n == pytest.approx(0.003, rel=0.25)
    assert c["voiding"] == c["voided"]
    assert c["malformed"] / n == pytest.approx(0.002, rel=0.25)
    ids = pd.Series([s["id"] for s in org.raw_statements])
    assert ids.duplicated().sum() == c["duplicate"]
    out = org.truth.statement_outcomes
    voided = set(out.loc[out["outcome"] == "voided", "statement_id"])
    targets = {s["object"]["id"] for s in org.raw_statements if s["verb"]["id"].endswith("/voided")}
    assert targets == voided
    assert set(out["outcome"]) == {"duplicate", "voided", "voiding", "malformed"}


def test_identities_resolve_every_actor(org):
    from talentml._pseudonym import actor_ifi, actor_key
    from talentml.datasets import SIMULATION_SECRET

    keys = set(org.identities["actor_key"])
    malformed = set(org.truth.statement_outcomes.query("outcome == 'malformed'")["statement_id"])
    for s in org.raw_statements[:3_000]:
        if s["id"] in malformed or s["verb"]["id"].endswith("/voided"):
            continue
        assert actor_key(actor_ifi(s["actor"]), SIMULATION_SECRET) in keys
    assert not any("@" in k for k in keys)


def test_determinism():
    kw = dict(n_employees=150, start="2024-01-01", end="2024-12-31", show_progress=False)
    a = simulate_workforce(random_state=7, **kw)
    b = simulate_workforce(random_state=7, **kw)
    c = simulate_workforce(random_state=8, **kw)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert a.raw_statements == b.raw_statements
    pd.testing.assert_frame_equal(a.truth.hazard, b.truth.hazard)
    assert a.raw_statements != c.raw_statements
    assert not a.employees.equals(c.employees)


def test_streaming_matches_memory(tmp_path):
    kw = dict(
        n_employees=300,
        start="2024-01-01",
        end="2024-12-31",
        random_state=5,
        block_size=100,
        show_progress=False,
    )
    mem = simulate_workforce(**kw)
    path = tmp_path / "raw.ndjson.gz"
    disk = simulate_workforce(raw_path=path, **kw)
    assert disk.raw_statements == path
    with gzip.open(path, "rt") as fh:
        streamed = [json.loads(line) for line in fh]
    key = lambda s: (s["stored"], s["id"], json.dumps(s, sort_keys=True))  # noqa: E731
    assert sorted(streamed, key=key) == sorted(mem.raw_statements, key=key)
    assert disk.truth.statement_counts == mem.truth.statement_counts
    pd.testing.assert_frame_equal(disk.employees, mem.employees)


def test_effects_argument():
    assert Effects.from_any({"caregiver_hours": False}).offhours_share("caregiver") == 0.35
    with pytest.raises(ValueError, match="unknown effect"):
        Effects.from_any({"caregiver_hour": False})
    with pytest.raises(TypeError):
        Effects.from_any(3)
    with pytest.raises(ValueError, match="n_employees"):
        simulate_workforce(n_employees=0)
    with pytest.raises(ValueError, match="at least 60 days"):
        simulate_workforce(n_employees=50, start="2024-01-01", end="2024-01-31")


def test_oracle_table(org):
    table = org.truth.flight_risk_oracle("180D")
    assert set(table.columns) == {"employee_id", "as_of", "p_exit", "label"}
    assert table["p_exit"].between(0, 1).all()
    assert (table["as_of"] + pd.Timedelta("180D") <= org.end).all()
    # Calibrated by construction: mean predicted close to the observed rate.
    assert table["p_exit"].mean() == pytest.approx(table["label"].mean(), rel=0.15)


def test_tables_are_point_in_time_ready(org):
    """Every fact carries its available time, and some become known late."""
    rv = org.reviews
    lag = (rv["submitted_at"] - rv["period_end"]).dt.days
    assert lag.min() >= 7 and (lag > 45).any()
    ev = org.job_events[org.job_events["event"] != "hire"]
    elag = (ev["recorded_at"] - ev["effective_date"]).dt.days
    assert (elag >= 0).all() and (elag > 14).mean() > 0.03
    schemas.validate("job_events", org.job_events)
