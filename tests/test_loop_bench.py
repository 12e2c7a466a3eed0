"""Succession bench strength and the skills ontology, on the simulator."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from talentml.loop import (
    READINESS,
    Role,
    SkillOntology,
    assignment_statements,
    bench_strength,
    skill_profile,
)
from talentml.xapi import validate_statement
from test_loop_world import small_world

AS_OF = pd.Timestamp("2025-03-01", tz="UTC")
TEAM_LEAD = Role(
    "Team Lead",
    {"People Management": 4, "Coaching": 3, "Strategic Thinking": 3},
    min_job_level=2,
)


@pytest.fixture(scope="module")
def world():
    return small_world()


@pytest.fixture(scope="module")
def X(world) -> pd.DataFrame:
    return world.X[world.X["as_of"] == AS_OF].reset_index(drop=True)


@pytest.fixture(scope="module")
def profile(world) -> pd.DataFrame:
    return skill_profile(world.statements, world.org.catalog, as_of=AS_OF)


def test_skill_profile_matches_a_brute_force(world, profile) -> None:
    cat = world.org.catalog
    teaches = {
        a: (list(s), int(lv))
        for a, s, lv in zip(cat["activity_id"], cat["skills"], cat["level"], strict=True)
    }
    best: dict[tuple[str, str], int] = {}
    for rec in world.statements.itertuples(index=False):
        if rec.employee_id is None or pd.isna(rec.employee_id) or not rec.stored < AS_OF:
            continue
        success = None if pd.isna(rec.success) else bool(rec.success)
        completion = False if pd.isna(rec.completion) else bool(rec.completion)
        done = rec.verb in ("completed", "passed", "mastered") or completion
        if not done or rec.verb == "failed" or success is False or rec.object_id not in teaches:
            continue
        skills, level = teaches[rec.object_id]
        for s in skills:
            key = (rec.employee_id, s)
            best[key] = max(best.get(key, 0), level)
    got = {(r.employee_id, r.skill): r.level for r in profile.itertuples(index=False)}
    assert got == best
    assert len(got) > 1000
    # point in time: nothing learned after as_of counts
    later = skill_profile(world.statements, cat, as_of="2025-06-30")
    merged = profile.merge(later, on=["employee_id", "skill"], suffixes=("", "_later"))
    assert len(merged) == len(profile) and (merged["level_later"] >= merged["level"]).all()
    assert (profile["last_at"] < AS_OF).all()


def test_bench_ranks_by_readiness_with_gaps(X, profile) -> None:
    bench = bench_strength(TEAM_LEAD, X, profile, potential="potential_latest")
    c = bench.candidates
    levels = profile.set_index(["employee_id", "skill"])["level"]
    eligible = X[(X["rating_latest"] >= 3) & (X["job_level"] >= 2)]
    assert set(c["employee_id"]) == set(eligible["employee_id"])
    assert len(bench.excluded) == len(X) - len(eligible)
    assert set(bench.excluded["reason"].str.split(" ").str[0]) <= {"rating", "unrated", "job"}
    gain = eligible.set_index("employee_id")["skill_level_gain_365d"]
    for rec in c.itertuples(index=False):
        gap = sum(
            max(0, req - int(levels.get((rec.employee_id, s), 0)))
            for s, req in TEAM_LEAD.skills.items()
        )
        assert rec.skill_gap == gap
        g = gain[rec.employee_id]
        months = 0.0 if gap == 0 else (12 * gap / g if g > 0 else np.inf)
        assert rec.months_to_ready == pytest.approx(months)
        expected = READINESS[0] if gap == 0 else READINESS[1] if months <= 24 else READINESS[2]
        assert rec.readiness == expected
    # ranked: readiness first, then the gap
    order = c["readiness"].cat.codes.to_numpy().astype(int) * 100 + c["skill_gap"].to_numpy()
    assert (np.diff(order) >= 0).all() and c["rank"].tolist() == list(range(1, len(c) + 1))
    summary = bench.summary()
    assert summary.index.tolist() == list(READINESS) and summary.sum() == len(c)
    assert summary.min() > 0  # a real bench: some ready now, some in 1-2 years, some later
    # the gaps table spells out every candidate's gaps
    ready = c[c["readiness"] == "Ready in 1-2 years"].iloc[0]
    rows = bench.gaps[bench.gaps["employee_id"] == ready["employee_id"]]
    assert rows["gap"].sum() == ready["skill_gap"] and len(rows) == 3
    for r in rows[rows["gap"] > 0].itertuples(index=False):
        assert f"{r.skill} {r.current_level}->{r.required_level}" in ready["gaps"]


def test_learning_paths_close_the_gaps(world, X, profile) -> None:
    bench = bench_strength(TEAM_LEAD, X, profile)
    paths = bench.learning_paths(world.org.catalog, due_days=60)
    chosen = bench.candidates[bench.candidates["readiness"] == "Ready in 1-2 years"]
    assert set(paths["employee_id"]) == set(chosen["employee_id"])
    cat = world.org.catalog.set_index("activity_id")
    gaps = bench.gaps.set_index(["employee_id", "skill"])
    steps = 0
    for rec in paths.itertuples(index=False):
        facts = json.loads(rec.facts)
        g = gaps.loc[(rec.employee_id, facts["skill"])]
        assert facts["current_level"] == g["current_level"] < facts["required_level"]
        level = int(cat.at[rec.target, "level"])
        assert facts["current_level"] < level <= facts["required_level"]
        assert facts["skill"] in list(cat.at[rec.target, "skills"])
        assert cat.at[rec.target, "kind"] == "course"  # courses before short videos
        steps += 1
    expected = int(bench.gaps[bench.gaps["employee_id"].isin(chosen["employee_id"])]["gap"].sum())
    assert steps == expected
    assert paths["action"].eq("enroll").all() and paths["source"].eq("bench").all()
    assert (paths["due_date"] == AS_OF + pd.Timedelta(days=60)).all()
    assert paths["action_key"].is_unique
    # they travel like any action: valid xAPI assignments
    out = assignment_statements(paths.head(20), actors=world.org.hris_identities)
    assert out["status"].eq("ready").all()
    assert all(validate_statement(s, version="1.0.3") is None for s in out["statement"])


def test_bench_input_errors(X, profile) -> None:
    with pytest.raises(ValueError, match="one row per candidate"):
        bench_strength(TEAM_LEAD, pd.concat([X, X]), profile)
    with pytest.raises(ValueError, match="level of 'SQL' must be an int in 1-4"):
        Role("Analyst", {"SQL": 5})
    with pytest.raises(ValueError, match="unknown readiness"):
        bench_strength(TEAM_LEAD, X, profile).learning_paths(pd.DataFrame(), readiness=["soon"])
    bench = bench_strength({"name": "Lead", "skills": {"Coaching": 1}}, X, profile, min_rating=None)
    assert bench.excluded.empty and len(bench.candidates) == len(X)


# ------------------------------------------------------------------------ ontology


@pytest.fixture(scope="module")
def ontology(world) -> SkillOntology:
    onto = SkillOntology()
    onto.add_catalog(world.org.catalog)
    onto.add(world.org.competency_ratings["competency"].unique(), source="reviews")
    onto.add(
        [
            "People Mgmt",
            "client management",
            "Data Visualisation",
            "Stakeholder Mgmt",
            "Cyber Security",
        ],
        source="job profiles",
    )
    return onto


def test_spelling_variants_merge_and_synonyms_are_suggested(ontology) -> None:
    assert ontology.canonical("People Mgmt") == "People Management"
    assert ontology.canonical("data visualisation") == "Data Visualization"
    assert ontology.canonical("Stakeholder Mgmt") == "Stakeholder Management"
    sugg = ontology.suggestions()
    pairs = {frozenset((r.variant, r.canonical)): r for r in sugg.itertuples(index=False)}
    am = pairs[frozenset(("Account Management", "Client Management"))]
    assert am.status == "suggested" and am.reason.startswith("synonyms")
    cyber = pairs[frozenset(("Cyber Security", "Cybersecurity"))]
    assert cyber.canonical == "Cybersecurity" and cyber.reason.startswith("similar spelling")
    # nothing is merged before review
    assert ontology.canonical("Account Management") == "Account Management"


def test_review_accept_reject_and_override(world, ontology) -> None:
    onto = SkillOntology.from_dict(ontology.to_dict())
    table = onto.suggestions()
    table["status"] = np.where(
        table["variant"].isin(["Account Management", "Cyber Security"]), "accepted", "rejected"
    )
    onto.review(table)
    assert onto.canonical("Account Management") == "Client Management"
    assert onto.canonical("cyber security") == "Cybersecurity"
    assert (onto.suggestions()["status"] != "suggested").all()
    onto.override({"Negotiation": "Client Management"})
    assert onto.canonical("negotiations") == "Client Management"
    vocab = onto.vocabulary().set_index("skill")
    assert "Account Management" in vocab.at["Client Management", "variants"]
    # the profile and the bench use the merged vocabulary
    prof = skill_profile(world.statements, world.org.catalog, as_of=AS_OF, ontology=onto)
    assert "Account Management" not in set(prof["skill"])
    raw = skill_profile(world.statements, world.org.catalog, as_of=AS_OF)
    both = raw[raw["skill"].isin(["Account Management", "Client Management", "Negotiation"])]
    expected = both.groupby("employee_id")["level"].max()
    merged = prof[prof["skill"] == "Client Management"].set_index("employee_id")["level"]
    pd.testing.assert_series_equal(
        merged.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )
    role = Role("Account Lead", {"client mgmt": 2})
    X = world.X[world.X["as_of"] == AS_OF].reset_index(drop=True)
    bench = bench_strength(role, X, prof, ontology=onto)
    assert set(bench.gaps["skill"]) == {"Client Management"}


def test_activities_map_to_skills_and_levels(world, ontology) -> None:
    cat = world.org.catalog
    mapped = ontology.map_activities(cat)
    tagged = mapped[mapped["skill_source"] == "catalog"]
    assert len(tagged) == sum(len(s) for s in cat["skills"])
    assert tagged["level_source"].eq("catalog").all()
    # without skill tags or levels, titles give both for the skill courses
    bare = cat[["activity_id", "title"]]
    guessed = ontology.map_activities(bare)
    truth = cat.set_index("activity_id")
    electives = cat[cat["program"].isin(["elective", "technical"]) & (cat["kind"] == "course")]
    g = guessed[guessed["activity_id"].isin(electives["activity_id"])]
    right_skill = [
        s in list(truth.at[a, "skills"]) for a, s in zip(g["activity_id"], g["skill"], strict=True)
    ]
    assert np.mean(right_skill) > 0.95
    right_level = (
        g["level"].astype(float).to_numpy() == truth.loc[g["activity_id"], "level"].to_numpy()
    )
    assert np.mean(right_level) > 0.95
    # activities teaching no known skill are listed, not dropped
    welcome = guessed[guessed["title"] == "Welcome to Acme"]
    assert welcome["skill_source"].tolist() == ["none"] and welcome["skill"].isna().all()


def test_ontology_errors() -> None:
    onto = SkillOntology().add(["SQL"], source="catalog")
    with pytest.raises(ValueError, match="already the same skill"):
        onto.accept("sql", "SQL ")
    with pytest.raises(ValueError, match="status values"):
        onto.review(pd.DataFrame({"variant": ["a"], "canonical": ["b"], "status": ["maybe"]}))
    with pytest.raises(TypeError, match="must be a string"):
        onto.add([3], source="x")
