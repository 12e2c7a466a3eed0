"""Serving without MLflow: scores, bands, reasons (one employee and batch), inputs, persistence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.datasets import SIMULATION_SECRET
from talentml.explain import Explainer
from talentml.serving import Bands, Scorer, ServedModel, load, predict, score_batch
from talentml.tracking import PredictionLog, read_prediction_log


@pytest.fixture(scope="module")
def world():
    org = tml.datasets.simulate_workforce(
        n_employees=250, start="2023-01-01", end="2025-03-31", random_state=3, show_progress=False
    )
    stmts = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    spine = tml.features.make_spine(org.employees, start="2023-07-01", end="2025-01-01", freq="QS")
    X = tml.features.build(
        spine,
        statements=stmts,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
        show_progress=False,
    )
    y = tml.labels.flight_risk(spine, org.employees, horizon="180D")
    model = tml.FlightRisk(
        n_estimators=60, max_depth=4, survival=False, n_jobs=1, random_state=0
    ).fit(X, y)
    scorer = Scorer(model, model_name="flight-risk", reference=X)
    return X, y, model, scorer


def test_single_employee_reasons_equal_the_explainer(world):
    X, _, model, scorer = world
    rows = X.sample(120, random_state=0)
    # the same model and reference: the same words, peer medians included
    expected = Explainer(model, reference=X).explain(rows).top_reasons(3, direction="both")
    assert (expected["peer_scope"] == "job family median").mean() > 0.5
    assert scorer.coder.peer_name_ == "job_family"
    for i in range(len(rows)):
        one = rows.iloc[[i]]
        got = json.loads(scorer.predict(one, direction="both")["reasons"].item())
        want = expected[
            (expected["employee_id"] == one["employee_id"].item())
            & (expected["as_of"] == one["as_of"].item())
        ]
        assert [(r["direction"], r["rank"], r["code"], r["text"]) for r in got] == list(
            zip(want["direction"], want["rank"], want["code"], want["text"], strict=True)
        )
        assert [r["contribution"] for r in got] == pytest.approx(
            want["contribution"].tolist(), abs=1e-9
        )


def test_batch_and_single_paths_agree_and_match_the_model(world):
    X, _, model, scorer = world
    rows = X.sample(200, random_state=1)
    batch = scorer.predict(rows)
    single = pd.concat([scorer.predict(rows.iloc[[i]]) for i in range(len(rows))])
    assert (batch["reasons"].to_numpy() == single["reasons"].to_numpy()).all()
    proba = model.predict_proba(rows)[:, 1]
    assert np.array_equal(batch["score"].to_numpy(), proba)
    assert np.allclose(single["score"].to_numpy(), proba, atol=1e-5, rtol=0)
    assert (batch["band"].to_numpy() == single["band"].to_numpy()).all()
    assert batch["employee_id"].tolist() == rows["employee_id"].tolist()
    assert batch.index.equals(rows.index)
    assert set(batch["model_name"]) == {"flight-risk"}
    assert pd.concat([batch, single])["prediction_id"].is_unique


def test_a_mapping_answers_like_a_frame(world):
    X, _, _, scorer = world
    served = ServedModel(scorer, log=PredictionLog(enabled=False))
    one = X.iloc[[5]]
    record = {c: (None if pd.isna(v) else v) for c, v in one.iloc[0].items()}
    a, b = served.predict(one), served.predict(record)
    cols = ["employee_id", "score", "band", "reasons", "model_name", "model_version"]
    assert a[cols].to_dict("records") == b[cols].to_dict("records")


def test_default_bands_follow_the_base_rate(world):
    X, _, model, scorer = world
    base = model.predict_proba(X)[:, 1].mean()
    assert scorer.bands.thresholds.tolist() == pytest.approx([base, 2 * base])
    assert scorer.bands.labels == ["low", "medium", "high"]
    out = scorer.predict(X)
    high = out["score"] >= 2 * base
    assert (out.loc[high, "band"] == "high").all()
    assert (out.loc[out["score"] < base, "band"] == "low").all()


def test_bands_are_checked():
    with pytest.raises(ValueError, match="one more label than thresholds"):
        Bands([0.1, 0.2], ["low", "high"])
    with pytest.raises(ValueError, match="ascending"):
        Bands([0.3, 0.2], ["a", "b", "c"])
    bands = Bands([0.2, 0.5], ["low", "medium", "high"])
    assert bands.assign([0.0, 0.2, 0.49, 0.5, 1.0]).tolist() == [
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]
    assert Bands.from_dict(bands.to_dict()).thresholds.tolist() == [0.2, 0.5]


def test_bad_inputs_name_the_column_and_rows(world):
    X, _, _, scorer = world
    one = X.iloc[[3]]
    with pytest.raises(ValueError, match=r"lacks 1 model column\(s\).*'tenure_days'"):
        scorer.predict(one.drop(columns="tenure_days"))
    bad = one.astype({"tenure_days": object})
    bad.loc[bad.index[0], "tenure_days"] = "ten years"
    with pytest.raises(
        ValueError, match=rf"column 'tenure_days' must be numeric; rows \[{one.index[0]}\]"
    ):
        scorer.predict(bad)
    inf = one.copy()
    inf.loc[inf.index[0], "tenure_days"] = np.inf
    with pytest.raises(ValueError, match="'tenure_days' holds infinite values"):
        scorer.predict(inf)
    with pytest.raises(ValueError, match="k .* must be an integer"):
        scorer.predict(one, k=0)
    with pytest.raises(ValueError, match="direction must be one of"):
        scorer.predict(one, direction="sideways")
    with pytest.raises(TypeError, match="DataFrame"):
        scorer.predict([1, 2, 3])


def test_unseen_category_and_missing_values_still_answer(world):
    X, _, _, scorer = world
    one = X.iloc[[0]].copy()
    one["department"] = "A department created yesterday"
    numeric = [c for c in scorer.features if c not in scorer.categorical]
    one[numeric] = np.nan
    out = scorer.predict(one)
    assert np.isfinite(out["score"].item())
    assert isinstance(json.loads(out["reasons"].item()), list)


def test_save_and_load_round_trip_without_pickle(world, tmp_path):
    X, _, _, scorer = world
    path = scorer.save(tmp_path / "scorer")
    files = sorted(p.name for p in path.rglob("*") if p.is_file())
    assert files == [
        "booster.ubj",
        "catalog.json",
        "manifest.json",
        "model.json",
        "profile.json",
        "reasons.json",
        "serving.json",
    ]
    again = Scorer.load(path)
    rows = X.sample(40, random_state=2)
    a, b = scorer.predict(rows), again.predict(rows)
    assert a["score"].tolist() == b["score"].tolist()
    assert a["reasons"].tolist() == b["reasons"].tolist()
    assert again.bands.thresholds.tolist() == scorer.bands.thresholds.tolist()
    # the reason coder travels as JSON: descriptions and peer medians, no row of data
    doc = json.loads((path / "reasons.json").read_text())
    assert doc["reference"]["name"] == "job_family" and doc["features"] == scorer.features
    assert not set(X["employee_id"]) & set(json.dumps(doc).split('"'))
    # a scorer saved before the reason coder (and the manifest) still loads: the same
    # reasons without peers
    (path / "reasons.json").unlink()
    (path / "manifest.json").unlink()
    old = Scorer.load(path).predict(rows)
    expected = Explainer(scorer.model, peers=None).explain(rows).top_reasons(3, direction="up")
    first = json.loads(old["reasons"].iloc[0])
    want = expected[
        (expected["employee_id"] == rows["employee_id"].iloc[0])
        & (expected["as_of"] == rows["as_of"].iloc[0])
    ]
    assert [r["text"] for r in first] == want["text"].tolist()
    assert not any("median" in r["text"] for r in first)
    scorer.save(path)
    served = load(path, log=tmp_path / "log.jsonl")
    served.predict(rows.head(3))
    log = read_prediction_log(tmp_path / "log.jsonl")
    assert len(log) == 3 and log["model_name"].eq("flight-risk").all()


def test_score_batch_in_chunks(world, tmp_path):
    X, _, _, scorer = world
    whole = score_batch(scorer, X, chunk_size=len(X) + 1, show_progress=False)
    chunked = score_batch(scorer, X, chunk_size=157, show_progress=True)
    assert len(chunked) == len(X) and chunked.index.equals(X.index)
    assert chunked["score"].tolist() == whole["score"].tolist()
    assert chunked["reasons"].tolist() == whole["reasons"].tolist()
    assert chunked["prediction_id"].is_unique
    bare = score_batch(scorer, X, reasons=False, log=tmp_path / "batch.jsonl")
    assert (bare["reasons"] == "[]").all()
    assert bare["score"].tolist() == whole["score"].tolist()
    assert len(read_prediction_log(tmp_path / "batch.jsonl")) == len(X)
    with pytest.raises(ValueError, match="chunk_size"):
        score_batch(scorer, X, chunk_size=0)


def test_ramp_up_and_high_potential_are_served():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "onboarding_completions_first_30d": rng.poisson(3, 400).astype(float),
            "job_family": rng.choice(["Engineering", "Sales"], 400),
        }
    )
    days = np.exp(4.5 - 0.2 * X.iloc[:, 0] + 0.2 * rng.normal(size=400))
    ramp = tml.RampUp(n_estimators=30, random_state=0).fit(X, days)
    out = predict(Scorer(ramp, reference=X), X.head(50), log=None)
    assert np.allclose(out["score"], ramp.predict(X.head(50)), rtol=1e-5)
    assert set(out["band"]) <= {"fast", "typical", "slow"}
    codes = {r["code"] for rs in out["reasons"] for r in json.loads(rs)}
    assert codes and all(c.startswith("RU-") for c in codes)
    hp = tml.HighPotential(n_estimators=20, random_state=0).fit(X, X.iloc[:, 0] > 3)
    out = predict(Scorer(hp, reference=X, bands={"thresholds": [0.3, 0.6]}), X.head(5), log=None)
    assert np.allclose(out["score"], hp.predict_proba(X.head(5))[:, 1], atol=1e-5)
    with pytest.raises(ValueError, match="needs bands or a reference"):
        Scorer(hp)
