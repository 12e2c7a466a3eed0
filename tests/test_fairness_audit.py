"""talentml.fairness.audit: LL144 rates and ratios, significance, exclusions, reports.

Synthetic audited rows with known counts (the LL144 rule's own worked example among them),
checked against hand computations, scipy and fairlearn.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from scipy import stats

from talentml.exceptions import PurposeLimitationError
from talentml.fairness import AUDIT_JSON_SCHEMA, LL144_CHECKLIST, age_band, audit
from talentml.fairness._impact import p_value, rate_table
from talentml.models import HighPotential

ROOT = Path(__file__).resolve().parent.parent


def decisions(counts: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows with ``selected`` of ``n`` per category: (groups, selected)."""
    groups, selected = [], []
    for g, (n, k) in counts.items():
        groups += [g] * n
        selected += [1] * k + [0] * (n - k)
    return np.array(groups, dtype=object), np.array(selected, dtype=float)


def test_ll144_worked_example_impact_ratios():
    # 6 RCNY §5-301, example of a scoring AEDT: Male 92 applicants, scoring rate 54.3%;
    # Female 76, 44.7%; impact ratio 0.82.
    groups, selected = decisions({"Male": (92, 50), "Female": (76, 34)})
    result = audit(
        selected, pd.DataFrame(index=range(len(groups))), sensitive=pd.DataFrame({"sex": groups})
    )
    table = result.impact_ratios.loc[("sex", "selection")]
    assert table.loc["Male", "rate"] == pytest.approx(0.543, abs=5e-4)
    assert table.loc["Female", "rate"] == pytest.approx(0.447, abs=5e-4)
    assert table.loc["Female", "impact_ratio"] == pytest.approx(0.82, abs=5e-3)
    assert bool(table.loc["Male", "reference"]) and table.loc["Male", "impact_ratio"] == 1.0
    # Fisher's exact test of the two categories, as scipy computes it
    expected = stats.fisher_exact([[34, 42], [50, 42]]).pvalue
    assert table.loc["Female", "p_value"] == pytest.approx(expected, rel=1e-12)
    # binary decisions: no scoring rate
    assert "scoring" not in result.impact_ratios.index.get_level_values("kind")


def test_two_proportion_test_matches_hand_computation():
    k1, n1, k2, n2 = 30, 100, 45, 110
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert p_value(k1, n1, k2, n2, test="two-proportion") == pytest.approx(
        2 * stats.norm.sf(abs(z))
    )
    with pytest.raises(ValueError, match="test must be one of"):
        p_value(1, 2, 1, 2, test="chi2")


def test_scoring_rate_uses_the_full_sample_median():
    rng = np.random.default_rng(1)
    sex = rng.choice(["female", "male"], 1001)
    score = rng.normal(size=1001) + 0.4 * (sex == "male")
    result = audit(score, pd.DataFrame(index=range(1001)), sensitive=pd.DataFrame({"sex": sex}))
    median = np.median(score)
    assert result.meta["decision"]["median_score"] == pytest.approx(median)
    table = result.impact_ratios.loc[("sex", "scoring")]
    for g in ("female", "male"):
        assert table.loc[g, "rate"] == pytest.approx(np.mean(score[sex == g] > median))
    ratio = np.mean(score[sex == "female"] > median) / np.mean(score[sex == "male"] > median)
    assert table.loc["female", "impact_ratio"] == pytest.approx(ratio)
    # by_group agrees with fairlearn's own selection_rate on the same decisions
    mf = MetricFrame(
        metrics=selection_rate, y_true=score > median, y_pred=score > median, sensitive_features=sex
    )
    got = result.by_group.loc["sex", "scoring_rate"]
    assert got.to_dict() == pytest.approx(mf.by_group.to_dict())


def test_top_fraction_threshold_and_favorable_low():
    scores = np.arange(100, dtype=float)
    groups = np.array(["a"] * 50 + ["b"] * 50, dtype=object)
    sens = pd.DataFrame({"team_kind": groups})
    X = pd.DataFrame(index=range(100))
    top = audit(scores, X, sensitive=sens, top_fraction=0.1, n_bootstrap=0)
    assert top.meta["decision"]["n_selected"] == 10
    sel = top.impact_ratios.loc[("team_kind", "selection")]
    assert sel.loc["b", "rate"] == 0.2 and sel.loc["a", "rate"] == 0.0
    low = audit(scores, X, sensitive=sens, top_fraction=0.1, favorable="low", n_bootstrap=0)
    assert low.impact_ratios.loc[("team_kind", "selection", "a"), "rate"] == 0.2
    for bad in (10, 0, 1.5):  # a share in (0, 1], not a count
        with pytest.raises(ValueError, match="top_fraction must be a fraction in"):
            audit(scores, X, sensitive=sens, top_fraction=bad, n_bootstrap=0)
    thr = audit(scores, X, sensitive=sens, threshold=90, n_bootstrap=0)
    assert thr.meta["decision"]["n_selected"] == 10
    with pytest.raises(ValueError, match="threshold or top_fraction, not both"):
        audit(scores, X, sensitive=sens, threshold=1, top_fraction=0.1)
    # ties at the cut (a calibrated probability has steps): exactly k are still selected
    steps = np.r_[np.full(30, 0.9), np.full(70, 0.1)]
    tied = audit(steps, X, sensitive=sens, top_fraction=0.1, n_bootstrap=0, random_state=3)
    assert tied.meta["decision"]["n_selected"] == 10
    assert tied.meta["decision"]["ties"] == "30 rows tied at the cut ordered at random"
    again = audit(steps, X, sensitive=sens, top_fraction=0.1, n_bootstrap=0, random_state=3)
    assert again.to_json() == tied.to_json()
    with pytest.raises(ValueError, match="favorable must be"):
        audit(scores, X, sensitive=sens, favorable="up")


def test_small_categories_excluded_with_count_rate_and_justification():
    groups, selected = decisions(
        {"White": (600, 300), "Asian": (300, 120), "Black": (85, 30), "Pacific": (15, 15)}
    )
    result = audit(
        selected, pd.DataFrame(index=range(len(groups))), sensitive=pd.DataFrame({"race": groups})
    )
    table = result.impact_ratios.loc[("race", "selection")]
    # Pacific (1.5% of the rows) has the highest rate but is excluded: White is the reference
    assert bool(table.loc["Pacific", "excluded"]) and np.isnan(table.loc["Pacific", "impact_ratio"])
    assert bool(table.loc["White", "reference"])
    assert table.loc["Asian", "impact_ratio"] == pytest.approx(0.4 / 0.5)
    excl = result.exclusions.set_index("group").loc["Pacific"]
    assert excl["n"] == 15 and excl["rate"] == 1.0 and excl["share"] == pytest.approx(0.015)
    assert "§5-301(d)" in excl["justification"]
    codes = set(result.flags["code"])
    assert "excluded_category" in codes
    # LL144 justification can be the auditor's own
    own = audit(
        selected,
        pd.DataFrame(index=range(len(groups))),
        sensitive=pd.DataFrame({"race": groups}),
        exclusion_justification="too few people in the category ({n})",
        n_bootstrap=0,
    )
    assert own.exclusions["justification"].iloc[0] == "too few people in the category (15)"
    # no exclusion at all when asked
    kept = audit(
        selected,
        pd.DataFrame(index=range(len(groups))),
        sensitive=pd.DataFrame({"race": groups}),
        exclude_below=None,
        n_bootstrap=0,
    )
    assert bool(kept.impact_ratios.loc[("race", "selection", "Pacific"), "reference"])


def test_unknown_categories_counted_never_compared_and_small_groups_flagged():
    sex = np.array(["female"] * 200 + ["male"] * 200 + [None] * 30 + ["Declined to state"] * 20)
    race = np.array(["A"] * 430 + ["B"] * 20, dtype=object)
    sel = np.r_[np.ones(60), np.zeros(140), np.ones(100), np.zeros(100), np.ones(50)]
    result = audit(
        sel,
        pd.DataFrame(index=range(450)),
        sensitive=pd.DataFrame({"sex": sex, "race_ethnicity": race}),
        n_bootstrap=0,
    )
    attrs = result.attributes.set_index("attribute")
    assert attrs.loc["sex", "n_unknown"] == 50
    assert "unknown" not in result.impact_ratios.loc[("sex", "selection")].index
    assert result.by_group.loc[("sex", "unknown"), "n"] == 50
    # the intersection of sex and race/ethnicity is audited automatically; unknown if either is
    assert "sex × race_ethnicity" in attrs.index
    assert attrs.loc["sex × race_ethnicity", "n_unknown"] == 50
    flags = result.flags
    unknown = flags[flags["code"] == "unknown_category"]
    assert set(unknown["attribute"]) == {"sex", "sex × race_ethnicity"}
    small = flags[flags["code"] == "small_group"]
    assert ("race_ethnicity", "B") in set(zip(small["attribute"], small["group"], strict=True))
    # female 30% vs male 50%: ratio 0.6, significant -> adverse impact, high severity first
    assert flags["severity"].iloc[0] == "high"
    top = flags[flags["attribute"] == "sex"].iloc[0]
    assert (top["code"], top["group"]) == ("adverse_impact", "female")
    assert "0.60" in top["message"]


def test_outcome_metrics_by_group_match_hand_computation():
    rng = np.random.default_rng(3)
    n = 2000
    g = rng.choice(["x", "y"], n)
    y = (rng.random(n) < np.where(g == "x", 0.3, 0.2)).astype(int)
    score = np.clip(0.25 + 0.3 * (y - 0.25) + rng.normal(0, 0.15, n), 0, 1)
    result = audit(
        score, pd.DataFrame(index=range(n)), y, sensitive=pd.DataFrame({"grp": g}), threshold=0.4
    )
    by = result.by_group.loc["grp"]
    d = score >= 0.4
    for grp in ("x", "y"):
        m = g == grp
        assert by.loc[grp, "tpr"] == pytest.approx(d[m & (y == 1)].mean())
        assert by.loc[grp, "fpr"] == pytest.approx(d[m & (y == 0)].mean())
        assert by.loc[grp, "precision"] == pytest.approx(y[m & d].mean())
        assert by.loc[grp, "base_rate"] == pytest.approx(y[m].mean())
        assert by.loc[grp, "n_labeled"] == m.sum()
    # an array of scores is not known to be a probability: no calibration columns
    assert "calibration_gap" not in by.columns


def test_bootstrap_intervals_cover_and_resample_employees():
    rng = np.random.default_rng(4)
    n_emp = 400
    emp = np.array([f"E{i:04d}" for i in range(n_emp)])
    sex = rng.choice(["female", "male"], n_emp)
    propensity = rng.random(n_emp) < np.where(sex == "female", 0.3, 0.45)
    # ten identical rows per employee: rows are not independent
    X = pd.DataFrame({"employee_id": np.repeat(emp, 10)})
    sel = np.repeat(propensity, 10).astype(float)
    sens = pd.DataFrame({"employee_id": emp, "sex": sex})
    result = audit(sel, X, sensitive=sens, n_bootstrap=400, random_state=0)
    row = result.impact_ratios.loc[("sex", "selection", "female")]
    assert row["ci_low"] < row["impact_ratio"] < row["ci_high"]
    assert result.meta["settings"]["bootstrap_unit"] == "employee"
    assert "repeated_rows" in set(result.flags["code"])
    # the same data, one row per employee, gives about the same interval: resampling employees
    # is not fooled by the ten copies
    once = audit(
        propensity.astype(float),
        pd.DataFrame({"employee_id": emp}),
        sensitive=sens,
        n_bootstrap=400,
        random_state=0,
    ).impact_ratios.loc[("sex", "selection", "female")]
    width, width_once = row["ci_high"] - row["ci_low"], once["ci_high"] - once["ci_low"]
    assert width == pytest.approx(width_once, rel=0.25)
    # rows-as-independent intervals would be about sqrt(10) times narrower
    naive = rate_table(sel.astype(bool), np.repeat(sex, 10), n_bootstrap=400, random_state=0)
    assert naive.loc["female", "ci_high"] - naive.loc["female", "ci_low"] < 0.5 * width


def test_sensitive_joined_by_employee_id_or_index_and_errors():
    X = pd.DataFrame({"employee_id": ["E1", "E2", "E3", "E9"], "score": [0.1, 0.9, 0.5, 0.7]})
    sens = pd.DataFrame({"employee_id": ["E3", "E1", "E2"], "sex": ["male", "female", "male"]})
    result = audit("score", X, sensitive=sens, n_bootstrap=0, min_n=1)
    assert result.meta["data"]["rows_without_sensitive_record"] == 1
    assert result.by_group.loc[("sex", "unknown"), "n"] == 1
    assert result.by_group.loc[("sex", "male"), "mean_score"] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="employee_id must be unique"):
        audit("score", X, sensitive=pd.concat([sens, sens.iloc[[0]]]))
    with pytest.raises(ValueError, match="aligned with X by index"):
        audit([0.1, 0.2], pd.DataFrame(index=[5, 6]), sensitive=pd.DataFrame({"sex": ["a", "b"]}))
    with pytest.raises(ValueError, match="band it into categories"):
        audit(
            np.linspace(0, 1, 40),
            pd.DataFrame(index=range(40)),
            sensitive=pd.DataFrame({"Age": np.arange(20, 60)}),
        )
    with pytest.raises(ValueError, match="sensitive has no column"):
        audit("score", X, sensitive=sens, attributes=["caregiver"])
    with pytest.raises(TypeError, match="sensitive must be a DataFrame"):
        audit("score", X, sensitive={"sex": ["a"]})
    with pytest.raises(ValueError, match="scores Series is not aligned"):
        audit(pd.Series([1.0, 2.0]), X, sensitive=sens)


def test_age_band_makes_contract_bands():
    ages = pd.Series([18, 24, 25, 34, 35, 54, 55, 80])
    assert age_band(ages).tolist() == [
        "under 25",
        "under 25",
        "25-34",
        "25-34",
        "35-44",
        "45-54",
        "55 and over",
        "55 and over",
    ]
    with pytest.raises(ValueError, match="increasing"):
        age_band(ages, edges=(40, 30))


def test_purpose_limitation():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"score": rng.random(50), "sex": rng.choice(["f", "m"], 50)})
    sens = pd.DataFrame({"sex": rng.choice(["f", "m"], 50)})
    with pytest.raises(PurposeLimitationError, match="sensitive column"):
        audit("score", X, sensitive=sens)
    # a column named like a column of the sensitive table passed in is refused too
    X2 = pd.DataFrame({"score": rng.random(50), "MaritalStatus": rng.choice(["a", "b"], 50)})
    with pytest.raises(PurposeLimitationError):
        audit("score", X2, sensitive=pd.DataFrame({"MaritalStatus": X2["MaritalStatus"]}))

    class Fitted:  # a third-party model that used a protected attribute as an input
        feature_names_in_ = np.array(["tenure", "gender"], dtype=object)

        def predict_proba(self, X):
            return np.column_stack([np.zeros(len(X)), np.ones(len(X))])

    with pytest.raises(PurposeLimitationError, match="the model holds sensitive"):
        audit(
            Fitted(),
            pd.DataFrame({"tenure": [1.0, 2.0]}),
            sensitive=pd.DataFrame({"gender": ["f", "m"]}),
        )


@pytest.fixture(scope="module")
def model_audit():
    rng = np.random.default_rng(6)
    n = 3000
    emp = np.array([f"E{i:05d}" for i in range(n)])
    care = rng.random(n) < 0.3
    sex = np.where(rng.random(n) < 0.5, "female", "male")
    race = rng.choice(
        ["White", "Asian", "Black", "Hispanic", "Other"], n, p=[0.5, 0.2, 0.14, 0.145, 0.015]
    )
    talent = rng.normal(size=n)
    X = pd.DataFrame(
        {
            "employee_id": emp,
            "as_of": pd.Timestamp("2025-01-01", tz="UTC"),
            "agility_offhours_365d": np.exp(0.4 * talent) * np.where(care, 0.5, 2.0),
            "tenure_days": rng.uniform(30, 4000, n),
            "rating_latest": np.clip(np.round(3 + talent + rng.normal(0, 0.7, n)), 1, 5),
            "department": rng.choice(["Sales", "Ops", "R&D"], n),
        }
    )
    y = (talent + rng.normal(size=n) > 1.3).astype(int)
    sens = pd.DataFrame({"employee_id": emp, "sex": sex, "race_ethnicity": race, "caregiver": care})
    # the settings the audit was written against (depth 4, held-out calibration): the tests
    # below are about the audit, not about which depth "auto" picks on this toy table
    model = HighPotential(
        n_estimators=60, max_depth=4, calibration_cv=None, random_state=0, n_jobs=1
    ).fit(X, y)
    result = audit(
        model,
        X,
        y,
        sensitive=sens,
        top_fraction=0.1,
        n_bootstrap=200,
        purpose="high-potential shortlist",
        audit_date="2025-02-01",
        distribution_date="2025-03-01",
        auditor="Example Audit LLP",
        model_version="hipo@3",
        random_state=0,
    )
    return model, X, y, sens, result


def test_model_audit_flags_caregivers_and_names_the_proxies(model_audit):
    model, X, y, sens, result = model_audit
    row = result.impact_ratios.loc[("caregiver", "selection", "True")]
    assert row["impact_ratio"] < 0.8 and row["p_value"] < 0.01
    flags = result.flags
    adverse = flags[(flags["code"] == "adverse_impact") & (flags["attribute"] == "caregiver")]
    assert adverse["kind"].tolist() == ["selection"]
    # the median split is far from the top-10% cut: a milder, non-significant scoring gap
    scoring = result.impact_ratios.loc[("caregiver", "scoring", "True")]
    assert 0.8 < scoring["impact_ratio"] < 1.0
    proxies = result.proxies.loc["caregiver"]
    assert proxies.loc["agility_offhours_365d", "auc"] > 0.9
    assert bool(proxies.loc["agility_offhours_365d", "catalog_proxy"])
    assert not proxies.loc["rating_latest", "proxy"]
    assert proxies.loc["tenure_days", "auc"] < 0.56
    assert proxies.loc["agility_offhours_365d", "gap_share"] > 0.5
    # the attribution is exact: the features' contributions add up to the margin gap
    gap = result.gaps.set_index(["attribute", "group"]).loc[("caregiver", "True"), "gap"]
    parts = result.gap_attribution
    total = parts[(parts["attribute"] == "caregiver") & (parts["group"] == "True")]["contribution"]
    assert total.sum() == pytest.approx(gap, abs=1e-6)
    assert "proxy_feature" in set(flags["code"])
    # calibrated probabilities: calibration within group is reported
    assert {"calibration_gap", "ece", "auc"} <= set(result.by_group.columns)
    # the model version is fingerprinted
    meta = result.meta["model"]
    assert meta["label"] == "hipo@3" and len(meta["booster_sha256"]) == 64


def test_json_report_follows_the_schema_and_holds_no_individuals(model_audit):
    _, X, _, _, result = model_audit
    text = result.to_json()
    doc = json.loads(text)
    jsonschema.validate(doc, AUDIT_JSON_SCHEMA)
    assert doc["schema_version"] == "1.0"
    assert "NaN" not in text and "Infinity" not in text
    # aggregates only: no employee id anywhere in the report
    assert not re.search(r"E\d{5}", text)
    assert doc["data"]["window"]["start"].startswith("2025-01-01")
    statuses = {item["id"]: item["status"] for item in doc["ll144"]}
    assert set(statuses) == {item["id"] for item in LL144_CHECKLIST}
    assert statuses["intersectional_categories"] == "covered"
    assert statuses["independent_auditor"] == "declared"
    assert statuses["candidate_notice"] == "employer"
    # excluded intersections (Other is 1.5%) are listed with their justification
    assert any(e["group"].endswith("Other") for e in doc["exclusions"])
    # deterministic: the same audit renders the same bytes
    assert result.to_json() == text


def test_html_report_is_self_contained(model_audit, tmp_path):
    _, _, _, _, result = model_audit
    path = tmp_path / "audit.html"
    html = result.to_html(path)
    assert path.read_text(encoding="utf-8") == html
    assert html.count("<svg") >= 3
    assert not re.search(r"<(script|img|link)[^>]+(src|href)=\"?https?:", html)
    for needle in (
        "high-potential shortlist",
        "Local Law 144",
        "adverse_impact",
        "Proxies",
        "2025-02-01",
        "hipo@3",
        "Unknown categories and exclusions",
    ):
        assert needle in html
    assert not re.search(r"E\d{5}", html)
    assert result.to_html() == html


def test_audit_with_mitigation_reports_before_and_after(model_audit):
    model, X, y, sens, _ = model_audit
    before = model.predict_proba(X)
    result = audit(
        model,
        X,
        y,
        sensitive=sens,
        top_fraction=0.1,
        attributes=["caregiver"],
        n_bootstrap=0,
        proxies=False,
        mitigation="threshold_optimizer",
    )
    (m,) = result.mitigation
    assert m.attribute == "caregiver" and m.method == "threshold_optimizer"
    s = m.summary
    assert s.loc["min_impact_ratio", "after"] > s.loc["min_impact_ratio", "before"]
    assert (
        s.loc["demographic_parity_difference", "after"]
        < s.loc["demographic_parity_difference", "before"]
    )
    # never silently applied: the model and the audit's own numbers are unchanged
    assert np.array_equal(model.predict_proba(X), before)
    assert result.impact_ratios.loc[("caregiver", "selection", "True"), "impact_ratio"] < 0.8
    doc = json.loads(result.to_json())
    jsonschema.validate(doc, AUDIT_JSON_SCHEMA)
    assert doc["mitigation"][0]["notes"][0].startswith("ThresholdOptimizer")
    assert "Mitigation (reported, not applied)" in result.to_html()


def test_docs_checklist_lists_every_item_the_report_covers():
    text = (ROOT / "docs" / "ll144.md").read_text(encoding="utf-8")
    for item in LL144_CHECKLIST:
        assert f"`{item['id']}`" in text, item["id"]
        assert item["requirement"] in text, item["id"]
        assert item["rule"] in text, item["id"]
