"""Calibration flags on the simulator, checked row by row against plain Python."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from talentml.loop import FLAGS, calibration_flags, failed_mandatory
from test_loop_world import small_world


@pytest.fixture(scope="module")
def world():
    return small_world()


@pytest.fixture(scope="module")
def model_view(world) -> pd.Series:
    """An oracle 'model': the latent potential of each employee."""
    lat = world.org.truth.latent.set_index("employee_id")["potential"]
    return world.X["employee_id"].map(lat).rename("model_potential")


def _pct(values: list[float], v: float) -> float:
    """Percentile rank with ties averaged (pandas' rank(pct=True, method='average'))."""
    less = sum(x < v for x in values)
    equal = sum(x == v for x in values)
    return (less + (equal + 1) / 2) / len(values)


def _flagged(flags: pd.DataFrame, name: str) -> set[tuple[str, pd.Timestamp]]:
    f = flags[flags["flag"] == name]
    return set(zip(f["employee_id"], f["as_of"], strict=True))


def test_failed_mandatory_matches_a_brute_force(world) -> None:
    X, st, cat = world.X, world.statements, world.org.catalog
    got = failed_mandatory(X, st, cat)
    mand = set(cat.loc[cat["mandatory"], "activity_id"])
    rows = st[st["object_id"].isin(mand)]
    events: dict[tuple[str, str], list] = {}
    for rec in rows.itertuples(index=False):
        success = None if pd.isna(rec.success) else bool(rec.success)
        fail = rec.verb == "failed" or success is False
        ok = (rec.verb in ("passed", "completed") or success is True) and not fail
        if fail or ok:
            events.setdefault((rec.employee_id, rec.object_id), []).append((rec.stored, fail))
    expected = []
    for rec in X[["employee_id", "as_of"]].itertuples(index=False):
        n = 0
        for act in mand:
            seen = [(t, f) for t, f in events.get((rec.employee_id, act), []) if t < rec.as_of]
            fails = [t for t, f in seen if f]
            passes = [t for t, f in seen if not f]
            if fails and max(fails) >= rec.as_of - pd.Timedelta(days=365):
                if not passes or max(passes) < max(fails):
                    n += 1
        expected.append(n)
    assert got.tolist() == expected
    assert 0 < got.sum() and (got == 0).mean() > 0.5


def test_flags_match_their_definitions_row_by_row(world, model_view) -> None:
    X = world.X
    flags = calibration_flags(
        X,
        model_score=model_view,
        statements=world.statements,
        course_catalog=world.org.catalog,
        employees=world.org.employees,
    )
    assert set(flags["flag"]) <= set(FLAGS)
    failed = failed_mandatory(X, world.statements, world.org.catalog)
    top, gems, gaps = set(), set(), {}
    for t, g in X.groupby("as_of"):
        ag = g["agility_standard_365d"].tolist()
        sp = g["skills_per_quarter_365d"].tolist()
        both = g[g["potential_latest"].notna() & model_view[g.index].notna()]
        pr_vals = both["potential_latest"].tolist()
        pm_vals = model_view[both.index].tolist()
        for i, row in g.iterrows():
            r = row["rating_latest"]
            if not pd.isna(r) and r >= 4 and (row["mandatory_compliant"] == 0 or failed[i] > 0):
                top.add((row["employee_id"], t))
            a, s = row["agility_standard_365d"], row["skills_per_quarter_365d"]
            if (
                not pd.isna(r)
                and r == 3
                and a > 0
                and s > 0
                and _pct(ag, a) >= 0.8
                and _pct(sp, s) >= 0.8
            ):
                gems.add((row["employee_id"], t))
            if i in both.index:
                gap = _pct(pm_vals, model_view[i]) - _pct(pr_vals, row["potential_latest"])
                if abs(gap) >= 0.5:
                    gaps[(row["employee_id"], t)] = gap
    assert _flagged(flags, "top_rating_noncompliant") == top and top
    assert _flagged(flags, "hidden_gem") == gems and gems
    assert _flagged(flags, "rating_model_gap") == set(gaps) and gaps
    for rec in flags[flags["flag"] == "rating_model_gap"].itertuples(index=False):
        gap = gaps[(rec.employee_id, rec.as_of)]
        assert rec.score == pytest.approx(gap)
        assert rec.direction == ("model_higher" if gap > 0 else "model_lower")
        assert json.loads(rec.details)["gap"] == pytest.approx(gap, abs=1e-4)


def test_evidence_quotes_the_facts(world) -> None:
    X = world.X
    flags = calibration_flags(X, statements=world.statements, course_catalog=world.org.catalog)
    rows = X.set_index(["employee_id", "as_of"])
    for rec in flags.itertuples(index=False):
        row = rows.loc[(rec.employee_id, rec.as_of)]
        details = json.loads(rec.details)
        if rec.flag == "top_rating_noncompliant":
            assert rec.evidence.startswith(f"rated {row['rating_latest']:g} (")
            if row["mandatory_compliant"] == 0:
                n = int(row["mandatory_overdue_count"])
                assert f"{n} mandatory course(s) are overdue" in rec.evidence
                assert f"the oldest by {row['mandatory_days_overdue']:.0f} days" in rec.evidence
            else:
                assert "failed and not passed since" in rec.evidence
        elif rec.flag == "hidden_gem":
            assert f"learning agility {row['agility_standard_365d']:.1f}" in rec.evidence
            assert details["rating_latest"] == 3.0
            assert "average rating of 3 (Meets)" in rec.evidence


def test_manager_level_gap_is_flagged_with_a_test() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for m, bias in (("M1", 0.0), ("M2", -1.5), ("M3", 0.0), ("M4", 0.0), ("M5", 0.0)):
        for k in range(10):
            model = rng.normal()
            rating = np.clip(np.round(3 + model + bias + rng.normal(0, 0.4)), 1, 5)
            rows.append((f"{m}-{k}", m, model, rating))
    X = pd.DataFrame(rows, columns=["employee_id", "manager_id", "model", "potential_latest"])
    X["as_of"] = pd.Timestamp("2025-03-01", tz="UTC")
    flags = calibration_flags(X, model_score="model", min_team=5)
    managers = flags[flags["flag"] == "manager_rating_gap"]
    assert managers["employee_id"].tolist() == ["M2"]
    assert managers["direction"].tolist() == ["model_higher"]
    details = json.loads(managers["details"].iloc[0])
    assert details["n_reports"] == 10 and details["p_value"] < 0.05
    assert "percentile points below the model's view" in managers["evidence"].iloc[0]
    # too small a team is not judged
    assert not (
        calibration_flags(X, model_score="model", min_team=11)["flag"] == "manager_rating_gap"
    ).any()


def test_missing_inputs_skip_flags_and_bad_inputs_fail() -> None:
    X = pd.DataFrame(
        {"employee_id": ["a"], "as_of": pd.to_datetime(["2025-01-01"], utc=True), "x": [1.0]}
    )
    out = calibration_flags(X)
    assert out.empty and list(out.columns) == [
        "employee_id",
        "as_of",
        "flag",
        "direction",
        "score",
        "evidence",
        "details",
    ]
    with pytest.raises(ValueError, match="timezone-aware"):
        calibration_flags(X.assign(as_of=pd.Timestamp("2025-01-01")))
    with pytest.raises(ValueError, match="gem_quantile"):
        calibration_flags(X, gem_quantile=1.5)
    with pytest.raises(ValueError, match="not aligned"):
        calibration_flags(X.assign(potential_latest=2.0), model_score=pd.Series([0.1], index=[5]))
