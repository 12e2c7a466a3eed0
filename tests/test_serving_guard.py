"""The input guard, the training profile, tamper checks and drift, in process (no server)."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.serving import (
    LOW_CONFIDENCE,
    REFUSED,
    InputRefusedError,
    ModelIntegrityError,
    Scorer,
    ServedModel,
    TrainingProfile,
    drift,
    load,
    score_batch,
)
from talentml.serving.artifact import MANIFEST
from talentml.tracking import PredictionLog, read_prediction_log


def warnings_of(out: pd.DataFrame) -> list[list[tuple[str, str | None]]]:
    return [[(w["kind"], w["column"]) for w in json.loads(t)] for t in out["input_warnings"]]


@pytest.fixture(scope="module")
def fitted():
    """A model whose ``tenure_days`` and ``department`` were never missing in training."""
    rng = np.random.default_rng(7)
    n = 3000
    X = pd.DataFrame(
        {
            "employee_id": [f"E{i:05d}" for i in range(n)],
            "tenure_days": rng.integers(30, 3000, n),  # an integer column, never missing
            "n_completed_90d": rng.poisson(4, n).astype(float),
            "rating_latest": rng.integers(1, 6, n).astype(float),
            "department": rng.choice(["Sales", "Engineering", "Finance"], n),
        }
    )
    X.loc[rng.random(n) < 0.1, "rating_latest"] = np.nan  # sometimes missing in training
    logit = -1.5 - X["tenure_days"] / 600 + 0.4 * (X["department"] == "Sales")
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    model = tml.FlightRisk(n_estimators=60, max_depth=3, survival=False, random_state=0)
    model.fit(X, y)
    scorer = Scorer(model, model_name="flight-risk", reference=X)
    return X, scorer


def test_a_profile_from_a_frame_reads_string_columns_as_categories(fitted):
    """A training frame straight from a spreadsheet: strings need no ``categorical=``."""
    X, _ = fitted
    profile = TrainingProfile.from_frame(X.drop(columns="employee_id"))
    dept = profile.columns["department"]
    assert dept["kind"] == "categorical"
    assert dept["levels"] == sorted(X["department"].unique())
    assert profile.columns["tenure_days"]["kind"] == "numeric"


def high_row(X: pd.DataFrame, scorer: Scorer) -> pd.DataFrame:
    """The training row with the highest score (band high)."""
    scores = scorer.scores(X)
    row = X.iloc[[int(np.argmax(scores))]]
    assert scorer.predict(row)["band"].item() == "high"
    return row


def test_the_profile_is_json_and_holds_no_row(fitted, tmp_path):
    X, scorer = fitted
    profile = scorer.profile
    tenure = profile.columns["tenure_days"]
    assert tenure["kind"] == "numeric" and tenure["integer"] is True
    assert tenure["min"] == X["tenure_days"].min() and tenure["max"] == X["tenure_days"].max()
    assert tenure["missing_share"] == 0.0
    assert profile.columns["rating_latest"]["missing_share"] == pytest.approx(
        X["rating_latest"].isna().mean()
    )
    dept = profile.columns["department"]
    assert dept["kind"] == "categorical" and set(dept["levels"]) == set(X["department"])
    assert sum(dept["categories"].values()) == pytest.approx(1.0)
    assert sum(tenure["bins"]["shares"]) == pytest.approx(1.0)
    assert profile.score["n"] == len(X) and profile.n_rows == len(X)
    # the feature catalog entry travels with the column
    assert "description" in profile.columns["tenure_days"]["catalog"]
    path = scorer.save(tmp_path / "scorer")
    text = (path / "profile.json").read_text()
    assert not set(X["employee_id"]) & set(text.split('"'))
    again = Scorer.load(path)
    assert again.profile.to_dict() == json.loads(text) == profile.to_dict()
    table = profile.table()
    assert table.set_index("column").loc["tenure_days", "missing_share"] == 0.0
    with pytest.raises(ValueError, match="unknown training profile format"):
        TrainingProfile.from_dict({"format": "x"})


def test_missing_where_training_never_was_is_flagged_not_high(fitted):
    """The issue's case: a never-missing column sent empty gave score 1.000, band "high"."""
    X, scorer = fitted
    row = high_row(X, scorer)
    served = ServedModel(scorer, log=PredictionLog(enabled=False))
    for empty in (np.nan, None):
        gap = row.astype({"tenure_days": object})
        gap["tenure_days"] = empty
        out = served.predict(gap)
        assert out["band"].item() == LOW_CONFIDENCE != "high"
        assert math.isfinite(out["score"].item())
        assert warnings_of(out) == [[("missing", "tenure_days")]]
        message = json.loads(out["input_warnings"].item())[0]["message"]
        assert "3,000 training rows" in message
    record = {c: row.iloc[0][c] for c in row.columns} | {"tenure_days": None}
    assert served.predict(record)["band"].item() == LOW_CONFIDENCE
    # missing where training was sometimes missing: no warning
    usual = row.assign(rating_latest=np.nan)
    assert warnings_of(served.predict(usual)) == [[]]
    # the policy "refuse": no score, an error naming the column and the row
    with pytest.raises(InputRefusedError, match=r"column 'tenure_days' has no value .* rows \["):
        served.predict(gap, on_missing="refuse")
    refusing = Scorer(scorer.model, reference=X, on_missing="refuse")
    with pytest.raises(InputRefusedError, match="on_missing='flag'"):
        refusing.predict(gap)
    assert refusing.predict(row)["band"].item() == "high"
    with pytest.raises(ValueError, match="on_missing must be one of"):
        scorer.predict(row, on_missing="ignore")


def test_sensitive_attributes_and_labels_are_refused_at_the_door(fitted, tmp_path):
    X, scorer = fitted
    rows = X.head(3)
    log = PredictionLog(tmp_path / "log.jsonl")
    served = ServedModel(scorer, log=log)
    for extra in ({"gender": "f"}, {"Age": 41}, {"marital-status": "x"}, {"race_ethnicity": "y"}):
        with pytest.raises(tml.PurposeLimitationError, match=list(extra)[0]):
            served.predict(rows.assign(**extra))
    with pytest.raises(tml.PurposeLimitationError, match=r"label column\(s\) \['label'\]"):
        served.predict(rows.assign(label=1))
    with pytest.raises(tml.PurposeLimitationError, match=r"\['gender'\].*\['label'\]"):
        served.predict({**rows.iloc[0].to_dict(), "gender": "f", "label": 0})
    big = X.head(100).assign(sex="m")  # the batch path too
    with pytest.raises(tml.PurposeLimitationError, match="sex"):
        score_batch(scorer, big, show_progress=False)
    assert log.n_written == 0  # nothing refused was logged


def test_unknown_category_out_of_range_coerced_and_unused(fitted):
    X, scorer = fitted
    row = X.iloc[[0]]
    out = scorer.predict(row.assign(department="Legal"))
    assert out["band"].item() == LOW_CONFIDENCE
    assert warnings_of(out) == [[("unknown_category", "department")]]
    far = scorer.predict(row.assign(tenure_days=10**6))
    assert warnings_of(far) == [[("out_of_range", "tenure_days")]]
    assert far["band"].item() != LOW_CONFIDENCE  # the trees answer as at the edge
    edge = scorer.predict(row.assign(tenure_days=X["tenure_days"].max()))
    assert far["score"].item() == pytest.approx(edge["score"].item())
    # what a client naturally sends: text numbers, booleans, ints; converted and said so
    record = {
        "employee_id": "E1",
        "tenure_days": " 400 ",
        "n_completed_90d": True,
        "rating_latest": 3,
        "department": "Sales",
        "favourite_colour": "blue",
    }
    got = scorer._predict([record])[0]
    kinds = warnings_of(got)[0]
    assert ("coerced", "tenure_days") in kinds and ("coerced", "n_completed_90d") in kinds
    assert ("coerced", "rating_latest") not in kinds  # an int for a number is natural
    unused = [w for w in json.loads(got["input_warnings"].item()) if w["kind"] == "unused_columns"]
    assert unused[0]["columns"] == ["favourite_colour"]
    plain = scorer._predict([record | {"tenure_days": 400.0, "n_completed_90d": 1.0}])[0]
    assert got["score"].item() == plain["score"].item()
    with pytest.raises(ValueError, match=r"column 'tenure_days' must be numeric; rows \[0\]"):
        scorer._predict([record | {"tenure_days": "four hundred"}])
    with pytest.raises(ValueError, match="'department' must be one value"):
        scorer._predict([record | {"department": ["Sales", "Finance"]}])
    with pytest.raises(ValueError, match="'tenure_days' holds infinite values"):
        scorer._predict([record | {"tenure_days": "inf"}])


def test_batch_and_single_paths_warn_alike(fitted):
    X, scorer = fitted
    rows = X.sample(60, random_state=3).astype({"tenure_days": object, "department": object})
    rows.iloc[0, rows.columns.get_loc("tenure_days")] = None
    rows.iloc[1, rows.columns.get_loc("department")] = "Legal"
    rows.iloc[2, rows.columns.get_loc("tenure_days")] = "12"
    rows.iloc[3, rows.columns.get_loc("tenure_days")] = 10**7
    batch = scorer.predict(rows)  # more than 32 rows
    single = pd.concat([scorer.predict(rows.iloc[[i]]) for i in range(len(rows))])
    assert warnings_of(batch) == warnings_of(single)
    assert batch["band"].tolist() == single["band"].tolist()
    assert np.allclose(batch["score"], single["score"], atol=1e-5)
    assert warnings_of(batch)[:4] == [
        [("missing", "tenure_days")],
        [("unknown_category", "department")],
        [("out_of_range", "tenure_days"), ("coerced", "tenure_days")],
        [("out_of_range", "tenure_days")],
    ]
    assert (batch["band"].iloc[:2] == LOW_CONFIDENCE).all()


def test_score_batch_refuses_rows_and_the_log_carries_warnings(fitted, tmp_path):
    X, scorer = fitted
    rows = X.head(200).astype({"tenure_days": "float64"})
    rows.loc[rows.index[:5], "tenure_days"] = np.nan
    out = score_batch(
        scorer, rows, on_missing="refuse", log=tmp_path / "batch.jsonl", show_progress=False
    )
    refused = out["band"] == REFUSED
    assert refused.sum() == 5 and refused.iloc[:5].all()
    assert out.loc[refused, "score"].isna().all() and (out.loc[refused, "reasons"] == "[]").all()
    assert out.loc[~refused, "score"].notna().all()
    flagged = score_batch(scorer, rows, show_progress=False)
    assert (flagged["band"].iloc[:5] == LOW_CONFIDENCE).all()
    log = read_prediction_log(tmp_path / "batch.jsonl")
    assert log["input_warnings"].iloc[0] == ["missing:tenure_days"]
    assert log["input_warnings"].iloc[10] == []


def test_a_tampered_model_is_refused(fitted, tmp_path):
    X, scorer = fitted
    path = scorer.save(tmp_path / "scorer")
    assert load(path, log=None).predict(X.head(2))["score"].notna().all()
    booster = next(path.rglob("booster.ubj"))
    original = booster.read_bytes()
    booster.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(ModelIntegrityError, match=r"changed since it was written: \['model/"):
        load(path, log=None)
    booster.write_bytes(original)
    (path / "model" / "extra.pkl").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(ModelIntegrityError, match=r"pickle file\(s\) \['model/extra.pkl'\]"):
        load(path, log=None)
    (path / "model" / "extra.pkl").unlink()
    # a pickle under an innocent name is recognized by its first bytes
    (path / "notes.json").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ModelIntegrityError, match="notes.json"):
        Scorer.load(path)
    (path / "notes.json").unlink()
    # a changed file with a rewritten manifest: only the digest recorded elsewhere tells
    digest = json.loads((path / MANIFEST).read_text())["sha256"]
    Scorer.load(path, expected_digest=digest)
    doc = json.loads((path / "serving.json").read_text())
    doc["bands"]["thresholds"] = [0.9, 0.95]
    (path / "serving.json").write_text(json.dumps(doc))
    from talentml.serving.artifact import write_manifest

    write_manifest(path)
    Scorer.load(path)  # consistent with itself ...
    with pytest.raises(ModelIntegrityError, match="not the ones recorded when it was logged"):
        Scorer.load(path, expected_digest=digest)  # ... but not with the record


def test_drift_from_a_table_and_from_the_log(fitted, tmp_path):
    X, scorer = fitted
    same = drift(X.sample(1500, random_state=2), reference=scorer)
    assert set(same.table["status"]) == {"ok"}
    assert (same.table["psi"] < 0.1).all()
    assert set(same.table["feature"]) == {*scorer.features, "score"}
    moved = X.sample(1500, random_state=2).copy()
    moved["tenure_days"] = moved["tenure_days"] * 0.3
    moved.loc[moved.index[:300], "department"] = "Legal"
    report = drift(moved, reference=scorer)
    status = report.table.set_index("feature")["status"]
    assert status["tenure_days"] == "drift" and status["department"] == "drift"
    assert status["n_completed_90d"] == "ok"
    assert report.table.set_index("feature").loc["tenure_days", "ks"] > 0.2
    assert "score" in report.drifted
    shares = report.warnings.set_index(["kind", "column"])["share"]
    assert shares[("unknown_category", "department")] == pytest.approx(0.2)
    # from the prediction log: the score and the warnings (inputs are never logged)
    served = ServedModel(scorer, log=PredictionLog(tmp_path / "p.jsonl"))
    for i in range(0, 400, 40):
        served.predict(moved.iloc[i : i + 40])
    from_log = drift(tmp_path / "p.jsonl", reference=served)
    assert from_log.source == "log" and from_log.table["feature"].tolist() == ["score"]
    assert from_log.n_rows == 400
    log_shares = from_log.warnings.set_index(["kind", "column"])["share"]
    assert log_shares[("unknown_category", "department")] == pytest.approx(300 / 400)
    metrics = report.metrics()
    assert metrics["drift.psi.tenure_days"] >= 0.25 and metrics["drift.n_drift"] >= 2
    assert report.plot().axes
    with pytest.raises(ValueError, match="nothing to compare"):
        drift(pd.DataFrame({"x": [1.0]}), reference=scorer)


# MLflow's SQLite store uses a loader strategy SQLAlchemy 2.1 deprecates (not talentml's)
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")
def test_drift_is_logged_to_mlflow(fitted, tmp_path):
    import mlflow

    X, scorer = fitted
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        exp = mlflow.create_experiment("drift", artifact_location=str(tmp_path / "artifacts"))
        with mlflow.start_run(experiment_id=exp) as run:
            drift(X.head(500).assign(tenure_days=5.0), reference=scorer, log_to_mlflow=True)
        got = mlflow.MlflowClient().get_run(run.info.run_id)
        assert got.data.metrics["drift.psi.tenure_days"] > 0.25
        names = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "drift")}
        assert names == {"drift/drift.json", "drift/drift.png"}
    finally:
        mlflow.set_tracking_uri(None)
