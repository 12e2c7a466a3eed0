"""Audits on real third-party data: the IBM attrition table (../shared/data/hr).

The loader splits Gender, Age and MaritalStatus out of the features; the audit joins them by
index. ``experiments/audit_public.py`` runs the full audits (5-fold out-of-fold scores).
"""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

from talentml.exceptions import PurposeLimitationError
from talentml.fairness import AUDIT_JSON_SCHEMA, age_band, audit
from talentml.models import FlightRisk

try:  # public names once the datasets package exports them
    from talentml.datasets import load_ibm_attrition
except ImportError:  # until then, the loaders' module
    from talentml.datasets._public import load_ibm_attrition


@pytest.fixture(scope="module")
def ibm(shared_data):
    bunch = load_ibm_attrition(data_home=shared_data)
    sens = bunch.sensitive
    sensitive = pd.DataFrame(
        {
            "Gender": sens["Gender"].astype("string"),
            "MaritalStatus": sens["MaritalStatus"].astype("string"),
            "age_band": age_band(sens["Age"]),
        },
        index=sens.index,
    )
    rng = np.random.default_rng(0)
    train = rng.random(len(bunch.data)) < 0.6
    model = FlightRisk(n_estimators=150, random_state=0, n_jobs=2).fit(
        bunch.data[train], bunch.target[train]
    )
    X, y = bunch.data[~train], bunch.target[~train]
    result = audit(
        model, X, y, sensitive=sensitive, top_fraction=0.2, n_bootstrap=300, random_state=0
    )
    return bunch, sensitive, model, X, y, result


def test_ibm_audit_counts_match_the_table(ibm):
    bunch, sensitive, _, X, _, result = ibm
    held_out = sensitive.loc[X.index]
    for attribute in ("Gender", "MaritalStatus", "age_band"):
        counts = held_out[attribute].value_counts()
        got = result.by_group.loc[attribute, "n"]
        assert got.to_dict() == counts.to_dict()
    assert result.attributes.set_index("attribute")["n_unknown"].sum() == 0
    # the held-out rows, each employee once: exact tests, no repeated-rows note
    assert "repeated_rows" not in set(result.flags["code"])
    assert result.meta["settings"]["bootstrap_unit"] == "row"
    # exactly 20%; the calibration is strictly increasing, so no two scores tie at the cut
    # (a step-function isotonic fit left ties there, ordered by the booster margin)
    assert result.meta["decision"]["n_selected"] == int(np.ceil(0.2 * len(X)))
    assert result.meta["decision"]["ties"] == "no ties at the cut"


def test_ibm_audit_finds_the_age_and_marital_status_gaps(ibm):
    _, _, _, _, _, result = ibm
    # younger and single employees leave more: the flight-risk list over-selects them, so
    # the oldest bands and married employees are selected far less (four-fifths, significant)
    worst = result.worst("scoring")
    assert worst.loc[("age_band", "scoring"), "impact_ratio"] < 0.8
    assert worst.loc[("MaritalStatus", "scoring"), "group"] in {"Married", "Divorced"}
    assert worst.loc[("MaritalStatus", "scoring"), "p_value"] < 0.01
    # ... through proxies the model learned: StockOptionLevel is 0 for every single employee
    proxies = result.proxies.loc["MaritalStatus"]
    assert proxies.index[0] == "StockOptionLevel" and proxies["auc"].iloc[0] > 0.75
    age = result.proxies.loc["age_band"]
    assert {"TotalWorkingYears", "JobLevel"} & set(age.index[:3])
    doc = json.loads(result.to_json())
    jsonschema.validate(doc, AUDIT_JSON_SCHEMA)
    statuses = {item["id"]: item["status"] for item in doc["ll144"]}
    # the IBM table has no race/ethnicity: the checklist says so instead of hiding it
    assert statuses["race_ethnicity_categories"] == "missing"
    assert statuses["sex_categories"] == "covered"


def test_ibm_sensitive_columns_back_in_the_features_are_refused(ibm, shared_data):
    _, sensitive, model, _, _, _ = ibm
    full = load_ibm_attrition(data_home=shared_data, include_sensitive=True)
    with pytest.raises(PurposeLimitationError, match="Gender"):
        audit(model, full.data, full.target, sensitive=sensitive)
