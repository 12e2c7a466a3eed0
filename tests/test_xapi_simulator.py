"""The simulator's raw statements ingest with every planted defect reconciled exactly."""

from __future__ import annotations

import pandas as pd
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


# -- mapping people, the catalog and activity resolution on the simulator ------------------------
def test_report_maps_every_statement_and_actor(org, ingested) -> None:
    report = ingested.report
    assert report.mapped_statements == report.accepted and report.unmapped_statements == 0
    assert report.unmapped_actors == 0 and report.stored_from_timestamp == 0
    assert report.notes == ()
    # LMS actors are accounts, video-platform actors e-mail addresses: org.identities holds
    # both keys of every employee, so both map, to the same people
    actors = ingested.actors()
    assert set(actors["kind"]) == {"account", "mbox"}
    assert actors["employee_id"].notna().all() and actors["value"].isna().all()
    by_kind = actors.groupby("kind")
    assert set(by_kind.get_group("account")["homepage"]) == {"https://lms.acme.example"}
    assert set(by_kind.get_group("mbox")["domain"]) == {"acme.example"}
    assert all(p == ["Acme Video"] for p in by_kind.get_group("mbox")["platforms"])
    video_people = set(by_kind.get_group("mbox")["employee_id"])
    lms_people = set(by_kind.get_group("account")["employee_id"])
    assert len(video_people & lms_people) > 0.9 * len(video_people)
    assert actors["actor_key"].is_unique and actors["n_statements"].sum() == report.accepted
    assert set(actors["actor_key"]) <= set(org.identities["actor_key"])


def test_alias_truth_matches_what_ingest_accepts(org, ingested) -> None:
    truth = org.truth.activity_aliases
    assert truth["object_id"].is_unique
    assert set(truth["activity_id"]) <= set(org.catalog["activity_id"])
    seen = ingested.statements["object_id"].value_counts()
    activity = ingested.statements["object_type"] == "Activity"
    assert truth["n_accepted"].sum() == int(activity.sum())
    assert (seen.reindex(truth["object_id"]).fillna(0).to_numpy() == truth["n_accepted"]).all()
    video = truth[truth["platform"] == "Acme Video"]
    assert video["object_id"].str.startswith("https://video.acme.example/watch/").all()
    assert (video["object_id"] != video["activity_id"]).all()
    lms = truth[truth["platform"] == "Acme LMS"]
    assert (lms["object_id"] == lms["activity_id"]).all()


@pytest.fixture(scope="module")
def resolver(org, ingested):
    return xapi.ActivityResolver().fit(ingested, course_catalog=org.catalog)


def test_resolution_recovers_the_video_platform(org, ingested, resolver) -> None:
    truth = org.truth.activity_aliases
    video = truth[truth["platform"] == "Acme Video"]
    mapping = resolver.mapping()
    correct = [
        o
        for o, a in zip(video["object_id"], video["activity_id"], strict=True)
        if mapping.get(o) == a
    ]
    wrong = {
        o: c for o, c in mapping.items() if truth.set_index("object_id")["activity_id"].get(o) != c
    }
    assert wrong == {}  # zero wrong merges (precision 1.0)
    recovered = video.set_index("object_id").loc[correct, "n_accepted"].sum()
    assert recovered / video["n_accepted"].sum() >= 0.95  # measured: 100% (36 of 36 IRIs)
    table = resolver.to_frame()
    assert set(table["status"]) == {"accepted"} and set(table["decided_by"]) == {"rule"}
    assert table["canonical_in_catalog"].all()
    # the counts of every step reconcile
    summary = resolver.summary().set_index("outcome")
    assert summary.loc["total", "n_statements"] == ingested.report.accepted
    assert summary.loc["resolved", "n_statements"] == recovered
    assert summary.loc["resolved", "n_activities"] == len(video)
    assert summary.loc["catalog", "n_activities"] == len(org.catalog)
    assert summary.loc["unchanged", "n_statements"] == summary.loc["merged", "n_statements"] == 0
    applied = resolver.apply(ingested)
    assert len(applied) == ingested.report.accepted
    assert applied["object_id"].isin(org.catalog["activity_id"]).all()
    moved = applied["object_id"] != applied["object_id_raw"]
    assert int(moved.sum()) == recovered
    assert (applied.loc[moved, "platform"] == "Acme Video").all()


def test_resolution_closes_the_voluntary_learning_gap(org, ingested, resolver) -> None:
    """After resolution, voluntary completions grow by the video platform's completions."""
    from talentml import features

    spine = features.make_spine(org.employees, start="2025-06-01", end="2025-06-01", freq="MS")
    name = "n_voluntary_completions_365d"
    kwargs = dict(employees=org.employees, course_catalog=org.catalog, features=[name])
    before = features.build(spine, statements=ingested.statements, **kwargs)[name]
    after = features.build(spine, statements=resolver.apply(ingested), **kwargs)[name]
    assert (after >= before).all()
    # the video statements in the window that complete an item (all on voluntary media)
    st = ingested.statements
    as_of = pd.Timestamp("2025-06-01", tz="UTC")
    window = (st["stored"] < as_of) & (st["stored"] >= as_of - pd.Timedelta(days=365))
    video = (st["platform"] == "Acme Video") & st["completion"].fillna(False)
    expected = int((window & video & st["employee_id"].isin(spine["employee_id"])).sum())
    growth = float(after.sum() - before.sum())
    assert abs(growth / expected - 1) < 0.02  # measured: exactly equal
    # uncatalogued before: about a third of voluntary completions were missing
    assert 0.25 < growth / float(after.sum()) < 0.45


def test_inferred_catalog_says_what_the_statements_say(org, ingested, resolver) -> None:
    cat = xapi.infer_catalog(ingested, resolver=resolver)
    truth = org.catalog.set_index("activity_id")
    assert set(cat["activity_id"]) == set(truth.index)  # aliases merged into catalog ids
    cat = cat.set_index("activity_id")
    true = truth.reindex(cat.index)
    # the program: from the statements' parent activity (https://lms.acme.example/program/<p>)
    assert (cat["program"].to_numpy(object) == true["program"].to_numpy(object)).all()
    # the level: from a level word in the title where there is one, and then right
    stated = cat["level"].notna().to_numpy(bool)
    assert stated.sum() == 66  # of 123 titles: the others state no level
    levels = cat["level"].to_numpy(object)[stated].astype(int)
    assert (levels == true["level"].to_numpy()[stated]).all()
    # expected minutes: the median of the completions' durations, near the catalog's
    ratio = cat["expected_minutes"].to_numpy(float) / true["expected_minutes"].to_numpy(float)
    assert ((ratio > 0.8) & (ratio < 1.25)).all()
    # no statement says voluntary, mandatory or skills: unknown, never guessed
    assert cat["voluntary"].isna().all() and cat["mandatory"].isna().all()
    assert cat["skills"].isna().all()
    assert (cat["title"].to_numpy(object) == true["title"].to_numpy(object)).all()
    assert cat["n_statements"].sum() == ingested.report.accepted
    schemas.validate("catalog", cat.reset_index())
