"""Issue 20: the audit measures; report metadata, proxies and mitigation come in as results.

``audit``'s seven metadata keywords are the report's defaults; ``BiasAudit.to_json`` /
``to_html(metadata=...)`` and ``with_metadata`` give the same bytes as passing them to
``audit``. ``proxy_analysis`` takes ``sensitive=`` and ``model=`` by keyword.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from talentml.fairness import AuditMetadata, audit, mitigate, proxy_analysis
from talentml.models import HighPotential

METADATA = {
    "purpose": "promotion shortlist",
    "audit_date": "2025-02-01",
    "distribution_date": "2025-03-01",
    "auditor": "Example Audit LLP",
    "data_source": "test",
    "data_description": "synthetic rows",
    "model_version": "hipo@3",
}


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(3)
    n = 800
    emp = np.array([f"E{i:04d}" for i in range(n)])
    care = rng.random(n) < 0.3
    X = pd.DataFrame({"employee_id": emp, "score": rng.random(n) - 0.15 * care})
    sens = pd.DataFrame({"employee_id": emp, "caregiver": care, "sex": rng.choice(["f", "m"], n)})
    return X, sens


def test_report_metadata_moves_to_the_report_with_the_same_bytes(rows):
    X, sens = rows
    given = audit("score", X, sensitive=sens, top_fraction=0.2, n_bootstrap=20, **METADATA)
    plain = audit("score", X, sensitive=sens, top_fraction=0.2, n_bootstrap=20)
    assert given.metadata == AuditMetadata(**METADATA)
    assert plain.metadata == AuditMetadata()
    assert plain.to_json(metadata=AuditMetadata(**METADATA)) == given.to_json()
    assert plain.to_json(metadata=METADATA) == given.to_json()
    assert plain.with_metadata(**METADATA).to_json() == given.to_json()
    assert plain.to_html(metadata=METADATA) == given.to_html()
    # the measurements are untouched, and the audit itself keeps its own metadata
    assert plain.to_json() != given.to_json()
    assert plain.with_metadata(METADATA).impact_ratios is plain.impact_ratios
    # a dict updates the fields it names; an AuditMetadata replaces them all
    one = given.with_metadata({"auditor": "Other LLP"}).metadata
    assert one.auditor == "Other LLP" and one.purpose == "promotion shortlist"
    assert given.with_metadata(AuditMetadata()).to_json() == plain.to_json()


def test_metadata_is_checked(rows):
    X, sens = rows
    with pytest.raises(ValueError, match="data_source must be 'historical' or 'test'"):
        audit("score", X, sensitive=sens, data_source="survey")
    result = audit("score", X, sensitive=sens, n_bootstrap=0)
    with pytest.raises(TypeError, match="metadata must be an AuditMetadata"):
        result.to_json(metadata={"purpos": "typo"})
    with pytest.raises(ValueError, match="data_source"):
        result.with_metadata(data_source="survey")


def test_audit_takes_mitigation_and_proxy_results():
    rng = np.random.default_rng(4)
    n = 1200
    emp = np.array([f"E{i:04d}" for i in range(n)])
    care = rng.random(n) < 0.3
    talent = rng.normal(size=n)
    X = pd.DataFrame(
        {
            "employee_id": emp,
            "agility_offhours_365d": np.exp(0.4 * talent) * np.where(care, 0.5, 2.0),
            "tenure_days": rng.uniform(30, 4000, n),
        }
    )
    y = (talent + rng.normal(size=n) > 1.0).astype(int)
    sens = pd.DataFrame({"employee_id": emp, "caregiver": care})
    model = HighPotential(
        n_estimators=30, max_depth=3, calibration_cv=None, random_state=0, n_jobs=1
    ).fit(X, y)
    common = {"sensitive": sens, "top_fraction": 0.1, "n_bootstrap": 0, "random_state": 0}
    inline = audit(model, X, y, mitigation="threshold_optimizer", **common)
    m = mitigate(
        model, X, y, sensitive=sens, attribute="caregiver", top_fraction=0.1, random_state=0
    )
    table = proxy_analysis(X, sensitive=sens, model=model)
    given = audit(model, X, y, mitigation=[m], proxies=table, **common)
    assert [r.to_dict() for r in given.mitigation] == [r.to_dict() for r in inline.mitigation]
    assert given.proxies is table
    # a result needs neither outcomes nor a model
    scores = model.predict_proba(X)[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        only = audit(scores, X, sensitive=sens, top_fraction=0.1, n_bootstrap=0, mitigation=m)
    assert only.mitigation == [m]
    # the positional form of proxy_analysis still works and agrees
    pd.testing.assert_frame_equal(proxy_analysis(X, sens, model=model), table)
    with pytest.raises(TypeError, match="needs the sensitive table"):
        proxy_analysis(X, model=model)
