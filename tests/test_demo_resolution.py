"""The demo resolves activities before features: the video platform's IRIs become the
catalog's activities, decided by the rule or, for a proposed merge, by the simulator's truth
(as a reviewer of the simulated organization would), deterministically."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.datasets import simulate_workforce
from talentml.demo._pipeline import _features, _ingest, _resolve, resolution_counts

VIDEO = "Acme Video"


@pytest.fixture(scope="module")
def world():
    org = simulate_workforce(
        n_employees=150, start="2024-01-01", end="2024-12-31", random_state=5, show_progress=False
    )
    return org, _ingest(org)


def test_every_video_statement_is_resolved_to_its_catalog_activity(world):
    org, ingested = world
    statements, resolver = _resolve(ingested, org)
    aliases = org.truth.activity_aliases
    video = aliases[aliases["platform"] == VIDEO]
    truth = dict(zip(video["object_id"], video["activity_id"], strict=True))
    assert resolver.mapping() == truth
    counts = resolution_counts(resolver)
    assert counts["statements"]["resolved"] == int(video["n_accepted"].sum())
    assert counts["merges"] == {"proposed": 0, "accepted": len(video), "rejected": 0}
    assert counts["decided_by"] == {"rule": len(video), "user": 0}
    # the statements keep their raw IRI; none is left on the video platform
    moved = statements["object_id_raw"] != statements["object_id"]
    assert int(moved.sum()) == int(video["n_accepted"].sum())
    assert not statements["object_id"].isin(list(truth)).any()


def test_resolution_is_deterministic(world):
    org, ingested = world
    _, first = _resolve(ingested, org)
    shuffled = ingested.statements.sample(frac=1.0, random_state=7).reset_index(drop=True)
    _, second = _resolve(shuffled, org)
    assert first.mapping() == second.mapping()
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame())


def test_proposed_merges_are_decided_by_the_simulator_truth(world):
    """A merge the rule only proposes is accepted when the truth says the two IRIs are one
    activity, rejected when not."""
    org, ingested = world
    st = ingested.statements.copy()
    aliases = org.truth.activity_aliases
    video = aliases[aliases["platform"] == VIDEO].iloc[0]
    # a true alias whose name differs a little: equal slug, similar name -> proposed
    on_video = (st["object_id"] == video["object_id"]).to_numpy()
    title = org.catalog.set_index("activity_id").loc[video["activity_id"], "title"]
    st["object_name"] = st["object_name"].astype(object)
    st.loc[on_video, "object_name"] = f"{title} (HD)"
    # an IRI elsewhere with the same slug and a similar name, that is not the same activity
    impostor = st[on_video].head(3).copy()
    slug = video["object_id"].rsplit("/", 1)[-1]
    impostor["object_id"] = f"https://other.example/watch/{slug}"
    impostor["object_name"] = f"{title} (Trailer)"
    impostor["statement_id"] = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(3)]
    st = pd.concat([st, impostor], ignore_index=True)
    fitted = tml.xapi.ActivityResolver().fit(st, course_catalog=org.catalog).to_frame()
    proposed = fitted[fitted["status"] == "proposed"]
    assert video["object_id"] in set(proposed["source_id"])
    assert impostor["object_id"].iloc[0] in set(proposed["source_id"]) | set(
        proposed["canonical_id"]
    )
    _, resolver = _resolve(st, org)
    table = resolver.to_frame()
    assert not (table["status"] == "proposed").any()
    mapping = resolver.mapping()
    assert mapping[video["object_id"]] == video["activity_id"]
    assert impostor["object_id"].iloc[0] not in mapping
    user = table[table["decided_by"] == "user"]
    assert set(user["status"]) == {"accepted", "rejected"}


def test_resolved_statements_count_as_voluntary_learning(world):
    org, ingested = world
    statements, _ = _resolve(ingested, org)
    spine = tml.features.make_spine(org.employees, start="2024-12-01", end="2024-12-01", freq="MS")
    before = _features(spine, ingested.statements, org)
    after = _features(spine, statements, org)
    col = "n_voluntary_completions_365d"
    gained = after[col].sum() - before[col].sum()
    # the video platform's completions ('experienced') now count: voluntary learning grows
    assert gained > 0.2 * before[col].sum()
    assert np.all(after[col].fillna(0) >= before[col].fillna(0))
