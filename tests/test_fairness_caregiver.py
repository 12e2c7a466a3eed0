"""The caregiver-hours check on the simulator: the issue's goals at a small scale.

A 2,000-employee organization simulated over three years: a HighPotential model is trained
on the monthly cutoffs of 2023 H2 from HR records plus the naive off-hours agility, and
audited at the 2024-06-01 snapshot (one row per employee, promotions in the next 365 days).
``experiments/audit_caregiver.py`` runs the same at full scale (figures in docs/fairness.md).
Sensitive attributes are read here only through the ``sensitive`` table given to the audit.
"""

from __future__ import annotations

import json
import re

import jsonschema
import pandas as pd
import pytest

import talentml.features as tf
import talentml.labels as tl
from talentml.datasets import SIMULATION_SECRET, Effects, simulate_workforce
from talentml.exceptions import PurposeLimitationError
from talentml.fairness import CAREGIVER_JSON_SCHEMA, caregiver_hours
from talentml.models import HighPotential
from talentml.xapi import ingest

WINDOWS = ("30d", "90d", "365d")
NAIVE = [f"agility_offhours_{w}" for w in WINDOWS]
NORMALIZED = [f"agility_per_workday_{w}" for w in WINDOWS]
SNAPSHOT = "2024-06-01"


def build_world(*, caregiver_effect: bool, n_employees: int = 2_000, seed: int = 0) -> dict:
    org = simulate_workforce(
        n_employees=n_employees,
        start="2022-07-01",
        end="2025-06-30",
        random_state=seed,
        effects=Effects(caregiver_hours=caregiver_effect),
        show_progress=False,
    )
    statements = ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    spine = pd.concat(
        [
            tf.make_spine(org.employees, start="2023-07-01", end="2023-12-01", freq="MS"),
            tf.make_spine(org.employees, start=SNAPSHOT, end=SNAPSHOT, freq="MS"),
        ],
        ignore_index=True,
    )
    cat = tf.catalog()
    hris = cat.loc[cat["family"] == "hris", "name"].tolist()
    X = tf.build(
        spine,
        statements=statements,
        employees=org.employees,
        job_events=org.job_events,
        course_catalog=org.catalog,
        features=hris + NAIVE + NORMALIZED,
        show_progress=False,
    )
    y = tl.high_potential(spine, org.job_events, horizon="365D", employees=org.employees)
    train = (X["as_of"] < pd.Timestamp(SNAPSHOT, tz="UTC")).to_numpy()
    features = ["employee_id", "as_of"] + [c for c in X.columns if c in hris] + NAIVE
    model = HighPotential(n_estimators=200, random_state=seed, n_jobs=2).fit(
        X.loc[train, features], y[train]
    )
    return {
        "model": model,
        "X_train": X[train].reset_index(drop=True),
        "y_train": y[train].reset_index(drop=True),
        "X_test": X[~train].reset_index(drop=True),
        "y_test": y[~train].reset_index(drop=True),
        "sensitive": org.sensitive,
    }


def check(world: dict, **kwargs):
    return caregiver_hours(
        world["model"],
        world["X_test"],
        world["y_test"],
        sensitive=world["sensitive"],
        X_train=world["X_train"],
        y_train=world["y_train"],
        n_bootstrap=200,
        random_state=0,
        **kwargs,
    )


@pytest.fixture(scope="module")
def effect():
    world = build_world(caregiver_effect=True)
    return world, check(world, top_fraction=0.1, audit_date="2024-06-15")


def test_naive_agility_model_flags_caregivers_and_the_fix_restores_parity(effect):
    world, result = effect
    scoring = result.variants.xs("scoring", level="kind")
    original = scoring.loc[("original", "caregiver", "True")]
    # (a) the model built on the naive agility: scoring-rate impact ratio below 0.8, p < 0.01
    assert original["impact_ratio"] < 0.8 and original["p_value"] < 0.01
    flags = result.audit.flags
    assert ((flags["code"] == "adverse_impact") & (flags["attribute"] == "caregiver")).any()
    # ... and the measure itself
    measures = result.measures
    assert measures.loc[("agility_offhours_365d", "caregiver", "True"), "impact_ratio"] < 0.6
    assert measures.loc[("agility_per_workday_365d", "caregiver", "True"), "impact_ratio"] > 0.85
    # (b) at least half of the model's gap is carried by the off-hours features
    summary = result.summary.loc[("caregiver", "True")]
    assert summary["offhours_share"] >= 0.5
    assert result.attribution.loc[("caregiver", "True"), "top_offhours_feature"] in NAIVE
    # (c, d) re-trained with the opportunity-normalized agility: the gap closes (>= 0.9 at
    # full scale, see the experiment). About 620 caregivers among 2,040 rows here put a ratio
    # within about +-0.06 (one standard error); at 800 employees (230 caregivers) the
    # neutralized ratio read 0.97 with XGBoost 3.2 (Python 3.11) and 0.76 with 3.4 (3.12+).
    # When caregivers end up scored higher they are the reference group (ratio 1, no test):
    # parity is restored then too.
    normalized = scoring.loc[("normalized", "caregiver", "True")]
    neutralized = scoring.loc[("neutralized", "caregiver", "True")]
    for restored in (normalized, neutralized):
        assert restored["impact_ratio"] >= 0.85
        assert restored["reference"] or restored["p_value"] > 0.05
    assert normalized["impact_ratio"] > original["impact_ratio"] + 0.25
    # the AUC does not collapse (the strict 0.01 bound is checked at full scale, see the
    # experiment; here ~2,000 rows give an AUC standard error of ~0.02)
    assert summary["normalized_auc"] >= summary["model_auc"] - 0.05
    assert summary["normalized_auc_change_ci_low"] <= summary["normalized_auc_change"]
    assert summary["normalized_auc_change"] <= summary["normalized_auc_change_ci_high"]
    # the swap that was made is on record
    assert result.meta["retrained_swap"] == dict(zip(NAIVE, NORMALIZED, strict=True))


def test_caregiver_report_json_and_html(effect, tmp_path):
    _, result = effect
    doc = json.loads(result.to_json(tmp_path / "caregiver.json"))
    jsonschema.validate(doc, CAREGIVER_JSON_SCHEMA)
    assert doc["audit"]["audit"]["audit_date"] == "2024-06-15"
    html = result.to_html(tmp_path / "caregiver.html")
    assert "Caregiver-hours analysis" in html and html.count("<svg") >= 2
    assert not re.search(r"E\d{6}", html + json.dumps(doc))  # no employee ids


def test_without_training_rows_only_the_neutralized_variant(effect):
    world, _ = effect
    result = caregiver_hours(
        world["model"], world["X_test"], sensitive=world["sensitive"], n_bootstrap=0
    )
    assert set(result.audits) == {"original", "neutralized"}
    assert result.meta["retrained_swap"] is None
    assert result.summary["model_auc"].isna().all()  # no outcomes given
    assert result.offhours_features == NAIVE


def test_caregiver_check_refuses_bad_inputs(effect):
    world, _ = effect
    X = world["X_test"]
    with pytest.raises(PurposeLimitationError):
        caregiver_hours(
            world["model"],
            X.assign(caregiver=True),
            world["y_test"],
            sensitive=world["sensitive"],
        )
    with pytest.raises(ValueError, match="both X_train and y_train"):
        caregiver_hours(world["model"], X, world["y_test"], sensitive=world["sensitive"], X_train=X)
    with pytest.raises(ValueError, match="offhours names features"):
        caregiver_hours(world["model"], X, sensitive=world["sensitive"], offhours=["minutes_30d"])
    with pytest.raises(TypeError, match="booster_"):
        caregiver_hours(object(), X, sensitive=world["sensitive"])


@pytest.mark.statistical
@pytest.mark.slow
def test_without_the_effect_nothing_is_flagged():
    world = build_world(caregiver_effect=False)
    result = check(world)
    scoring = result.variants.xs("scoring", level="kind")
    # ~620 caregivers: the ratio scatters around 1 (0.97 at full scale, see the experiment);
    # what matters is that the four-fifths rule is not breached and nothing is flagged
    original = scoring.loc[("original", "caregiver", "True")]
    assert original["impact_ratio"] >= 0.8 or original["p_value"] > 0.01
    flags = result.audit.flags
    assert not ((flags["code"] == "adverse_impact") & (flags["attribute"] == "caregiver")).any()
    # the naive measure no longer differs either
    measure = result.measures.loc[("agility_offhours_365d", "caregiver", "True")]
    assert measure["impact_ratio"] >= 0.85
