"""The simulator's raw statements ingest with every planted defect reconciled exactly."""

from __future__ import annotations

import pytest

from talentml import schemas, xapi
from talentml.datasets import SIMULATION_SECRET


@pytest.fixture(scope="module")
def ingested(org):
    return xapi.ingest(org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET)


def test_reconciles_exactly_with_the_planted_defects(org, ingested):
    truth = org.truth.statement_counts
    report = ingested.report
    assert report.read == truth["emitted"]
    assert report.duplicates == truth["duplicate"]
    assert report.voided == truth["voided"] + truth["voiding"]
    assert report.quarantined == truth["malformed"]
    assert (
        report.accepted
        == truth["emitted"]
        - truth["duplicate"]
        - truth["voided"]
        - truth["voiding"]
        - truth["malformed"]
    )
    assert report.read == report.accepted + report.duplicates + report.voided + report.quarantined


def test_quarantine_is_exactly_the_malformed_statements(org, ingested):
    out = org.truth.statement_outcomes
    malformed = out[out["outcome"] == "malformed"].set_index("statement_id")["detail"]
    q = ingested.quarantine.set_index("statement_id")
    assert set(q.index) == set(malformed.index)
    # Each defect is explained by a reason about the part of the statement that is broken.
    expected_prefix = {
        "actor_without_ifi": ("actor",),
        "timestamp_not_iso8601": ("timestamp",),
        "timestamp_negative_zero_offset": ("timestamp",),
        "verb_id_not_iri": ("verb",),
        "score_scaled_out_of_range": ("result",),
        "duration_not_iso8601": ("result",),
        "object_without_id": ("object", "activity"),
    }
    for sid, defect in malformed.items():
        assert str(q.loc[sid, "reason"]).startswith(expected_prefix[defect]), (
            defect,
            q.loc[sid, "reason"],
        )


def test_voided_statements_are_gone(org, ingested):
    out = org.truth.statement_outcomes
    gone = set(out.loc[out["outcome"].isin(["voided", "voiding"]), "statement_id"])
    assert gone.isdisjoint(set(ingested.statements["statement_id"]))


def test_statements_table_keeps_its_contract_and_maps_every_actor(ingested):
    st = ingested.statements
    schemas.validate("statements", st)
    assert st["employee_id"].notna().all()
    assert st["statement_id"].is_unique
    # No raw e-mail or display name reaches the table.
    text = st.astype(str).to_csv()
    assert "@acme.example" not in text and "mailto:" not in text
